"""PostgreSQL's part of the areas whose SQL is shared with SQLite (``store.sql.Dialect``), and
the connection those areas speak ``?`` over (:class:`Marks`).

These areas take their locks themselves, each where its PostgreSQL copy took it
(``store_wide``, ``locks.py``), so that reads and renewals by key still run in a write scoped to
a task or to rows (``conn.Qmark``, for areas that never run there, refuses every statement)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from cairn.store.postgres import locks
from cairn.store.postgres.conn import Conn, _to_format

# Sequence columns that stand in for SQLite's rowid (the creation order): not fields of a record,
# but the order its rows are read in, and given again by a load in that order.
_ORDER_ONLY = {"budget_contexts": "created"}


class Marks:
    """A transaction's connection seen as ``store.sql.Conn``: ``?`` placeholders become ``%s``
    (a literal ``%`` doubled), and ``executemany`` runs on a cursor after what is held back."""

    __slots__ = ("_c",)

    def __init__(self, conn: Conn) -> None:
        self._c = conn

    def execute(self, sql: str, parameters: Any = None, /) -> Any:
        if not parameters:
            return self._c.execute(sql)
        return self._c.execute(_to_format(sql), parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        raw: Any = self._c
        with raw.cursor() as cur:
            cur.executemany(_to_format(sql), [list(r) for r in parameters])


class PgDialect:
    __slots__ = ("_c",)

    # The server's clock, so that machines whose clocks disagree agree on expiry; a read gets it
    # in its rows, in the same round trip.
    clock = "extract(epoch from clock_timestamp())::double precision"
    clock_column = f", {clock} AS clock"
    without_row: tuple[tuple[str, str], ...] = ()

    def __init__(self, conn: Conn) -> None:
        self._c = conn

    @staticmethod
    def clock_params() -> tuple[()]:
        return ()

    def clock_plus(self, clock: tuple[Any, ...], seconds: float) -> tuple[str, tuple[Any, ...]]:
        return f"{self.clock} + ?", (seconds,)

    @staticmethod
    def read_clock() -> float | None:
        return None  # in each row (``clock_column``)

    def store_wide(self, what: str) -> None:
        locks.store_wide(self._c, what)

    @staticmethod
    def any_of(column: str, values: Sequence[Any]) -> list[tuple[str, tuple[Any, ...]]]:
        return [(f"{column} = ANY(?)", (list(values),))] if values else []

    def update_held(
        self, set_sql: str, params: Sequence[Any], held: Sequence[tuple[str, str]]
    ) -> list[str]:
        # One round trip for all of them (a keeper renews every lease of its process at once).
        rows = self._c.execute(
            _to_format(
                f"{set_sql} FROM unnest(?::text[], ?::text[]) AS mine(key, holder) "
                "WHERE leases.key = mine.key AND leases.holder = mine.holder RETURNING leases.key"
            ),
            (*params, [k for k, _ in held], [h for _, h in held]),
        ).fetchall()
        got = {r["key"] for r in rows}
        return [k for k, _ in held if k in got]

    def creation_order(self, table: str) -> str:
        if table in _ORDER_ONLY:
            return _ORDER_ONLY[table]
        rows = self._c.execute(
            "SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
            "i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND "
            "i.indisprimary ORDER BY array_position(i.indkey, a.attnum)",
            (table,),
        ).fetchall()
        return ", ".join(f'"{r["name"]}"' for r in rows) or "ctid"

    def tables(self) -> list[str]:
        rows = self._c.execute(
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE'"
        ).fetchall()
        return [r["name"] for r in rows]

    def references(self, tables: Sequence[str]) -> list[tuple[str, str]]:
        rows = self._c.execute(
            "SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent "
            "FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = "
            "current_schema()::regnamespace"
        ).fetchall()
        return [(r["child"], r["parent"]) for r in rows]

    def columns(self, table: str) -> list[str]:
        rows = self._c.execute(
            "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = %s ORDER BY ordinal_position",
            (table,),
        ).fetchall()
        skip = _ORDER_ONLY.get(table)  # (derived columns: contract/records.DERIVED)
        return [r["name"] for r in rows if r["name"] != skip]

    @staticmethod
    def lists(cursor: Any, fields: Sequence[str]) -> Iterator[list[Any]]:
        for r in cursor:
            yield [r[f] for f in fields]

    def defer_references(self) -> None:
        pass  # immediate here: a restore loads the sets parents first (records.sets)

    def count_now(self) -> None:
        # The count trigger runs at the commit (migration 0005): in a restore it would add the
        # loaded versions again after ``meta``, loaded last, had set the count. Immediate for
        # this transaction only, so a checkpoint write keeps its lock on the count's row short.
        self._c.execute("SET CONSTRAINTS checkpoints_count IMMEDIATE")

    def clear(self, tables: Sequence[str]) -> None:
        # TRUNCATE, not DELETE: the append-only triggers are row triggers on UPDATE and DELETE.
        self._c.execute(f"TRUNCATE {', '.join(tables)}")
