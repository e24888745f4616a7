"""SQLite's part of the areas whose SQL is shared with PostgreSQL (``store.sql.Dialect``)."""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # importing typing costs ~3 ms of start-up (meta is on the status path)
    from collections.abc import Iterator, Sequence
    from typing import Any

    from cairn.store.sql import Conn

# Under SQLite's limit on bound parameters (999 before 3.32).
_IN_CHUNK = 500


class SQLiteDialect:
    __slots__ = ("_c",)

    # The store's clock is this host's (an SQLite file has one host): bound as a parameter, and
    # read here for rows that are judged by it.
    clock = "?"
    clock_column = ""
    # The checkpoint count is the largest rowid (migration 0017), not a meta row to derive.
    without_row = (("meta", "checkpoint_versions"),)

    def __init__(self, conn: Conn) -> None:
        self._c = conn

    @staticmethod
    def clock_params() -> tuple[float]:
        return (time.time(),)

    @staticmethod
    def clock_plus(clock: tuple[Any, ...], seconds: float) -> tuple[str, tuple[Any, ...]]:
        return "?", (clock[0] + seconds,)  # added here: one parameter, not two and a sum

    @staticmethod
    def read_clock() -> float | None:
        return time.time()

    def store_wide(self, what: str) -> None:
        pass  # every write holds the whole file's lock (BEGIN IMMEDIATE)

    @staticmethod
    def any_of(column: str, values: Sequence[Any]) -> list[tuple[str, tuple[Any, ...]]]:
        out = []
        for i in range(0, len(values), _IN_CHUNK):
            part = tuple(values[i : i + _IN_CHUNK])
            out.append((f"{column} IN ({', '.join('?' * len(part))})", part))
        return out

    def update_held(
        self, set_sql: str, params: Sequence[Any], held: Sequence[tuple[str, str]]
    ) -> list[str]:
        # A statement per row: in-process, each costs microseconds.
        sql, execute = f"{set_sql} WHERE key = ? AND holder = ?", self._c.execute
        return [k for k, h in held if execute(sql, (*params, k, h)).rowcount]

    @staticmethod
    def creation_order(table: str) -> str:
        return "rowid"  # every table here has one, in insertion order

    def tables(self) -> list[str]:
        rows = self._c.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        ).fetchall()
        return [r["name"] for r in rows]

    def references(self, tables: Sequence[str]) -> list[tuple[str, str]]:
        return [
            (n, str(f["table"]))
            for n in tables
            for f in self._c.execute(f"PRAGMA foreign_key_list({n})").fetchall()
        ]

    def columns(self, table: str) -> list[str]:
        rows = self._c.execute(f"PRAGMA table_info({table})").fetchall()
        return [r["name"] for r in rows]

    @staticmethod
    def lists(cursor: Any, fields: Sequence[str]) -> Iterator[list[Any]]:
        cursor.row_factory = None  # plain tuples, in the order of ``fields``
        for row in cursor:
            yield list(row)

    def defer_references(self) -> None:
        self._c.execute("PRAGMA defer_foreign_keys = ON")  # reset by the commit

    def count_now(self) -> None:
        pass  # SQLite's triggers run at the insert

    def clear(self, tables: Sequence[str]) -> None:
        # The append-only triggers refuse deletes: lift them for this transaction only.
        triggers = self._c.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_no_delete'"
        ).fetchall()
        for t in triggers:
            self._c.execute(f'DROP TRIGGER "{t["name"]}"')
        self.defer_references()
        for table in tables:
            self._c.execute(f"DELETE FROM {table}")
        self._c.execute("DELETE FROM sqlite_sequence")
        for t in triggers:
            self._c.execute(t["sql"])
