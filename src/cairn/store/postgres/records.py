"""Record sets on PostgreSQL: its tables, read and written generically (for dump and restore), with
the same names and fields as on SQLite so that a dump moves between them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from cairn.core.errors import StoreError
from cairn.store.contract.records import NOT_RECORDS, parents_first
from cairn.store.postgres import locks
from cairn.store.postgres.conn import Conn

_SKIP = ("cairn_migrations", *NOT_RECORDS)
# Columns that stand in for SQLite's rowid (the creation order): not fields of the record, but the
# order its rows are read in, and given again by the load in that order.
_ORDER_ONLY = {"budget_contexts": "created"}


class PgRecords:
    __slots__ = ("_c",)

    def __init__(self, conn: Conn) -> None:
        self._c = conn

    def sets(self) -> list[str]:
        rows = self._c.execute(
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE'"
        ).fetchall()
        names = [r["name"] for r in rows if r["name"] not in _SKIP]
        refs = self._c.execute(
            "SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent "
            "FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = "
            "current_schema()::regnamespace"
        ).fetchall()
        return parents_first(names, [(r["child"], r["parent"]) for r in refs])

    def _known(self, name: str) -> str:
        if name not in self.sets():  # the name becomes SQL: only a table that exists
            raise StoreError(f"this store has no record set {name!r}")
        return name

    def fields(self, name: str) -> list[str]:
        table = self._known(name)
        rows = self._c.execute(
            "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = %s ORDER BY ordinal_position",
            (table,),
        ).fetchall()
        return [r["name"] for r in rows if r["name"] != _ORDER_ONLY.get(table)]

    def _key(self, table: str) -> str:
        if table in _ORDER_ONLY:
            return _ORDER_ONLY[table]
        rows = self._c.execute(
            "SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
            "i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND "
            "i.indisprimary ORDER BY array_position(i.indkey, a.attnum)",
            (table,),
        ).fetchall()
        return ", ".join(f'"{r["name"]}"' for r in rows) or "ctid"

    def rows(self, name: str) -> Iterator[list[Any]]:
        table = self._known(name)
        fields = self.fields(table)
        cols = ", ".join(f'"{f}"' for f in fields)
        for r in self._c.execute(f"SELECT {cols} FROM {table} ORDER BY {self._key(table)}"):
            yield [r[f] for f in fields]

    def count(self, name: str) -> int:
        table = self._known(name)
        return int(self._c.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"])

    def load(self, name: str, fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        locks.store_wide(self._c, "records.load")
        table = self._known(name)
        have = set(self.fields(table))
        unknown = [f for f in fields if f not in have]
        if unknown:
            raise StoreError(
                f"record set {name!r} has no field {unknown[0]!r} in this store (a dump from a "
                "newer cairn?); upgrade cairn and import again"
            )
        cols = ", ".join(f'"{f}"' for f in fields)
        marks = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"
        if table == "meta":  # the store's counters: the dump's replace them
            sql += " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        conn: Any = self._c
        with conn.cursor() as cur:
            cur.executemany(sql, [list(r) for r in rows])

    def clear(self) -> None:
        locks.store_wide(self._c, "records.clear")
        # TRUNCATE, not DELETE: the append-only triggers are row triggers on UPDATE and DELETE.
        self._c.execute(f"TRUNCATE {', '.join(self.sets())}")

    def migrations(self) -> list[str]:
        rows = self._c.execute("SELECT name FROM cairn_migrations ORDER BY id").fetchall()
        return [r["name"] for r in rows]
