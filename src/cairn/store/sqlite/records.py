"""Record sets on SQLite: its tables, read and written generically (for dump and restore)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from cairn.core.errors import StoreError
from cairn.store.contract.records import NOT_RECORDS, parents_first

_SKIP = ("cairn_migrations", *NOT_RECORDS)


class SQLiteRecords:
    __slots__ = ("_c",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn

    def sets(self) -> list[str]:
        rows = self._c.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        ).fetchall()
        names = [r["name"] for r in rows if r["name"] not in _SKIP]
        refs = [
            (n, str(f["table"]))
            for n in names
            for f in self._c.execute(f"PRAGMA foreign_key_list({n})").fetchall()
        ]
        return parents_first(names, refs)

    def _known(self, name: str) -> str:
        # The name becomes SQL: only a table that exists.
        if name not in self.sets():
            raise StoreError(f"this store has no record set {name!r}")
        return name

    def fields(self, name: str) -> list[str]:
        table = self._known(name)
        return [r["name"] for r in self._c.execute(f"PRAGMA table_info({table})").fetchall()]

    def rows(self, name: str) -> Iterator[list[Any]]:
        table = self._known(name)
        cols = ", ".join(f'"{f}"' for f in self.fields(table))
        cur = self._c.execute(f"SELECT {cols} FROM {table} ORDER BY rowid")
        cur.row_factory = None
        for row in cur:
            yield list(row)

    def count(self, name: str) -> int:
        table = self._known(name)
        return int(self._c.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"])

    def load(self, name: str, fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        table = self._known(name)
        have = set(self.fields(table))
        unknown = [f for f in fields if f not in have]
        if unknown:
            raise StoreError(
                f"record set {name!r} has no field {unknown[0]!r} in this store (a dump from a "
                "newer cairn?); upgrade cairn and import again"
            )
        self._c.execute("PRAGMA defer_foreign_keys = ON")  # checked at commit, reset by it
        cols = ", ".join(f'"{f}"' for f in fields)
        marks = ", ".join("?" * len(fields))
        verb = "INSERT OR REPLACE" if table == "meta" else "INSERT"  # meta: the store's counters
        self._c.executemany(f"{verb} INTO {table} ({cols}) VALUES ({marks})", rows)

    def clear(self) -> None:
        # The append-only triggers refuse deletes: lift them for this transaction only.
        triggers = self._c.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_no_delete'"
        ).fetchall()
        for t in triggers:
            self._c.execute(f'DROP TRIGGER "{t["name"]}"')
        self._c.execute("PRAGMA defer_foreign_keys = ON")
        for table in self.sets():
            self._c.execute(f"DELETE FROM {table}")
        self._c.execute("DELETE FROM sqlite_sequence")
        for t in triggers:
            self._c.execute(t["sql"])

    def migrations(self) -> list[str]:
        rows = self._c.execute("SELECT name FROM cairn_migrations ORDER BY id").fetchall()
        return [r["name"] for r in rows]
