"""SQLite's record sets with the store-wide checkpoint count as the dump has always had it.

The count of checkpoint versions is derived here, not kept in a row every insert updates (one WAL
page and a trigger per write; migration 0017): versions are never deleted (only a restore clears
them all, and the rowids then start again from 1), so the largest rowid is their number. The dump
still holds it as the ``meta`` record ``checkpoint_versions``, made from the rowid when the dump
is read, and a load keeps no row of it: what a restore derives is what the check afterwards reads
back. A store whose count is derived on both sides (PostgreSQL's is a row its trigger keeps)
moves between them unchanged."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from cairn.store.sqlite.checkpoints import COUNT_SQL
from cairn.store.sqlite.records import SQLiteRecords

COUNT_KEY = "checkpoint_versions"


class SQLiteDerivedRecords(SQLiteRecords):
    __slots__ = ()

    def _count_row(self, fields: Sequence[str]) -> list[Any]:
        n = int(self._c.execute(COUNT_SQL).fetchone()["n"])
        return [COUNT_KEY if f == "key" else str(n) if f == "value" else None for f in fields]

    def rows(self, name: str) -> Iterator[list[Any]]:
        if name != "meta":
            yield from super().rows(name)
            return
        fields = self.fields(name)
        at = fields.index("key")
        yield from (r for r in super().rows(name) if r[at] != COUNT_KEY)
        yield self._count_row(fields)

    def count(self, name: str) -> int:
        if name != "meta":
            return super().count(name)
        kept = self._c.execute("SELECT count(*) AS n FROM meta WHERE key != ?", (COUNT_KEY,))
        return int(kept.fetchone()["n"]) + 1

    def load(self, name: str, fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if name == "meta" and "key" in fields:
            at = list(fields).index("key")
            rows = [r for r in rows if r[at] != COUNT_KEY]  # derived here, not taken from a dump
        super().load(name, fields, rows)
