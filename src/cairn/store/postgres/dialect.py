"""PostgreSQL's part of the areas shared with SQLite (``store.sql.Dialect``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from cairn.store.sql import Conn

# Sequence columns that stand in for SQLite's rowid (the creation order): not fields of a record,
# but the order its rows are read in, and given again by a load in that order.
_ORDER_ONLY = {"budget_contexts": "created"}


class PgDialect:
    def creation_order(self, conn: Conn, table: str) -> str:
        if table in _ORDER_ONLY:
            return _ORDER_ONLY[table]
        rows = conn.execute(
            "SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = "
            "i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = ?::regclass AND "
            "i.indisprimary ORDER BY array_position(i.indkey, a.attnum)",
            (table,),
        ).fetchall()
        return ", ".join(f'"{r["name"]}"' for r in rows) or "ctid"

    def tuples(self, cursor: Any) -> Iterable[Sequence[Any]]:
        return (tuple(r.values()) for r in cursor)

    def tables(self, conn: Conn) -> list[str]:
        rows = conn.execute(
            "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        ).fetchall()
        return [r["name"] for r in rows]

    def references(self, conn: Conn, tables: Sequence[str]) -> list[tuple[str, str]]:
        rows = conn.execute(
            "SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent "
            "FROM pg_constraint c WHERE c.contype = 'f' AND c.connamespace = "
            "current_schema()::regnamespace"
        ).fetchall()
        return [(r["child"], r["parent"]) for r in rows]

    def columns(self, conn: Conn, table: str) -> list[str]:
        rows = conn.execute(
            "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND table_name = ? ORDER BY ordinal_position",
            (table,),
        ).fetchall()
        return [r["name"] for r in rows if r["name"] != _ORDER_ONLY.get(table)]

    def defer_references(self, conn: Conn) -> None:
        pass  # immediate here: a restore loads the sets parents first (RecordsArea.sets)

    def clear(self, conn: Conn, tables: Sequence[str]) -> None:
        # TRUNCATE, not DELETE: the append-only triggers are row triggers on UPDATE and DELETE.
        conn.execute(f"TRUNCATE {', '.join(tables)}")


POSTGRES = PgDialect()
