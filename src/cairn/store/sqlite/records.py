"""Record sets on a SQL store (SQLite and PostgreSQL alike): its tables, read and written
generically for dump and restore, with the same names and fields on both so that a dump moves
between them. What differs (the catalogue, the creation order, clearing) is the dialect's."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from cairn.core.errors import StoreError
from cairn.store.contract.records import NOT_RECORDS, parents_first
from cairn.store.sql import Conn, Dialect
from cairn.store.sqlite.dialect import SQLITE

_SKIP = ("cairn_migrations", *NOT_RECORDS)


class SQLiteRecords:
    __slots__ = ("_c", "_d")

    def __init__(self, conn: Conn, dialect: Dialect = SQLITE) -> None:
        self._c = conn
        self._d = dialect

    def sets(self) -> list[str]:
        names = [n for n in self._d.tables(self._c) if n not in _SKIP]
        return parents_first(names, self._d.references(self._c, names))

    def _known(self, name: str) -> str:
        # The name becomes SQL: only a table that exists.
        if name not in self.sets():
            raise StoreError(f"this store has no record set {name!r}")
        return name

    def fields(self, name: str) -> list[str]:
        return self._d.columns(self._c, self._known(name))

    def rows(self, name: str) -> Iterator[list[Any]]:
        table = self._known(name)
        cols = ", ".join(f'"{f}"' for f in self.fields(table))
        order = self._d.creation_order(self._c, table)
        cur = self._c.execute(f"SELECT {cols} FROM {table} ORDER BY {order}")
        for row in self._d.tuples(cur):
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
        self._d.defer_references(self._c)
        cols = ", ".join(f'"{f}"' for f in fields)
        marks = ", ".join("?" * len(fields))
        sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"
        if table == "meta":  # the store's counters: the dump's replace them
            sql += " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        self._c.executemany(sql, [list(r) for r in rows])

    def clear(self) -> None:
        self._d.clear(self._c, self.sets())

    def migrations(self) -> list[str]:
        rows = self._c.execute("SELECT name FROM cairn_migrations ORDER BY id").fetchall()
        return [r["name"] for r in rows]
