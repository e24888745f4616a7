"""Record sets: the store's tables, read and written generically (for dump and restore), in SQL
shared by the SQLite and PostgreSQL stores, with the same names and fields on both so that a dump
moves between them. The catalogue is the dialect's."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from cairn.core.errors import StoreError
from cairn.store.contract.records import NOT_RECORDS, parents_first
from cairn.store.sqlite.dialect import SQLiteDialect

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cairn.store.sql import Conn, Dialect

_SKIP = ("cairn_migrations", *NOT_RECORDS)


class SQLiteRecords:
    __slots__ = ("_c", "_d")

    def __init__(self, conn: Conn, dialect: Dialect | None = None) -> None:
        self._c = conn
        self._d = dialect or SQLiteDialect(conn)

    def sets(self) -> list[str]:
        names = [n for n in self._d.tables() if n not in _SKIP]
        return parents_first(names, self._d.references(names))

    def _known(self, name: str) -> str:
        if name not in self.sets():  # the name becomes SQL: only a table that exists
            raise StoreError(f"this store has no record set {name!r}")
        return name

    def fields(self, name: str) -> list[str]:
        return self._d.columns(self._known(name))

    def rows(self, name: str) -> Iterator[list[Any]]:
        table = self._known(name)
        fields = self.fields(table)
        cols = ", ".join(f'"{f}"' for f in fields)
        order = self._d.creation_order(table)
        yield from self._d.lists(
            self._c.execute(f"SELECT {cols} FROM {table} ORDER BY {order}"), fields
        )

    def count(self, name: str) -> int:
        table = self._known(name)
        return int(self._c.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"])

    def load(self, name: str, fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self._d.store_wide("records.load")
        table = self._known(name)
        have = set(self.fields(table))
        unknown = [f for f in fields if f not in have]
        if unknown:
            raise StoreError(
                f"record set {name!r} has no field {unknown[0]!r} in this store (a dump from a "
                "newer cairn?); upgrade cairn and import again"
            )
        self._d.defer_references()
        self._d.count_now()
        cols = ", ".join(f'"{f}"' for f in fields)
        sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(fields))})"
        if table == "meta":  # the store's counters: the dump's replace them
            sql += " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        self._c.executemany(sql, rows)
        if table == "meta":
            # A count derived from the records is derived again, not taken on trust: a dump of a
            # store whose count went wrong is then refused by the check before the commit
            # instead of carrying the wrong count on.
            self._c.execute(
                "UPDATE meta SET value = CAST((SELECT count(*) FROM checkpoints) AS TEXT) "
                "WHERE key = 'checkpoint_versions'"
            )

    def clear(self) -> None:
        self._d.store_wide("records.clear")
        self._d.clear(self.sets())

    def migrations(self) -> list[str]:
        rows = self._c.execute("SELECT name FROM cairn_migrations ORDER BY id").fetchall()
        return [r["name"] for r in rows]
