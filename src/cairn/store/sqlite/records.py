"""Record sets: the store's tables, read and written generically (for dump and restore), in SQL
shared by the SQLite and PostgreSQL stores, with the same names and fields on both so that a dump
moves between them. The catalogue is the dialect's."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from cairn.core.errors import StoreError
from cairn.store.contract.records import (
    DERIVED,
    NOT_RECORDS,
    is_derived,
    parents_first,
    source_fields,
)
from cairn.store.sqlite.dialect import SQLiteDialect

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cairn.store.sql import Conn, Dialect

_SKIP = ("cairn_migrations", *NOT_RECORDS)

# How a restore derives each value of ``DERIVED`` again from what it loaded, after every set; the
# same SQL on both backends (tests/test_store_dump_derived.py checks that each has its statement).
# An upsert: a restore over a store clears its meta. (SQLite: an upsert's SELECT needs a WHERE.)
_DERIVE = {
    ("meta", "checkpoint_versions"): (
        "INSERT INTO meta (key, value) SELECT 'checkpoint_versions', "
        "CAST(count(*) AS TEXT) FROM checkpoints WHERE true "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
    ),
    ("tasks", "step_count"): (
        "UPDATE tasks SET step_count = (SELECT count(*) FROM steps s WHERE s.task_id = tasks.id)"
    ),
    ("tasks", "checkpoint_seq"): (
        "UPDATE tasks SET checkpoint_seq = "
        "coalesce((SELECT max(c.seq) FROM checkpoints c WHERE c.task_id = tasks.id), 0)"
    ),
}


def _only_source(name: str) -> tuple[str, tuple[str, ...]]:
    """A WHERE clause leaving out a set's derived records (``meta``'s counters), and its values."""
    if name != "meta":
        return "", ()
    keys = DERIVED["meta"]
    return f" WHERE key NOT IN ({', '.join('?' * len(keys))})", keys


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
        columns = self._d.columns(self._known(name))
        return [columns[i] for i in source_fields(name, columns)]

    def rows(self, name: str) -> Iterator[list[Any]]:
        table = self._known(name)
        fields = self.fields(table)
        cols = ", ".join(f'"{f}"' for f in fields)
        where, keys = _only_source(table)
        order = self._d.creation_order(table)
        yield from self._d.lists(
            self._c.execute(f"SELECT {cols} FROM {table}{where} ORDER BY {order}", keys), fields
        )

    def count(self, name: str) -> int:
        table = self._known(name)
        where, keys = _only_source(table)
        sql = f"SELECT count(*) AS n FROM {table}{where}"
        return int(self._c.execute(sql, keys).fetchone()["n"])

    def load(self, name: str, fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self._d.store_wide("records.load")
        table = self._known(name)
        have = set(self._d.columns(table))
        unknown = [f for f in fields if f not in have]
        if unknown:
            raise StoreError(
                f"record set {name!r} has no field {unknown[0]!r} in this store (a dump from a "
                "newer cairn?); upgrade cairn and import again"
            )
        # Derived values are not taken from the caller (a dump may be of a store whose count
        # went wrong): ``derive`` makes them from the records.
        keep = source_fields(table, fields)
        values = [[r[i] for i in keep] for r in rows if not is_derived(table, fields, r)]
        if not values:
            return
        self._d.defer_references()
        self._d.count_now()
        cols = ", ".join(f'"{fields[i]}"' for i in keep)
        sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(keep))})"
        if table == "meta":  # the store's own named values: the dump's replace them
            sql += " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        self._c.executemany(sql, values)

    def derive(self) -> None:
        self._d.store_wide("records.derive")
        self._d.count_now()  # (PostgreSQL: the count triggers held back run now, not after this)
        for (table, field), sql in _DERIVE.items():
            if (table, field) in self._d.without_row:
                continue
            if table != "meta" and field not in self._d.columns(table):
                continue  # a store whose schema keeps no such column (yet)
            self._c.execute(sql)

    def clear(self) -> None:
        self._d.store_wide("records.clear")
        self._d.clear(self.sets())

    def migrations(self) -> list[str]:
        rows = self._c.execute("SELECT name FROM cairn_migrations ORDER BY id").fetchall()
        return [r["name"] for r in rows]
