"""SQLite's part of the areas shared with PostgreSQL (``store.sql.Dialect``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from cairn.store.sql import Conn


class SQLiteDialect:
    def creation_order(self, conn: Conn, table: str) -> str:
        return "rowid"  # every table here has one, in insertion order

    def tuples(self, cursor: Any) -> Iterable[Sequence[Any]]:
        cursor.row_factory = None
        rows: Iterable[Sequence[Any]] = cursor
        return rows

    def tables(self, conn: Conn) -> list[str]:
        rows = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        ).fetchall()
        return [r["name"] for r in rows]

    def references(self, conn: Conn, tables: Sequence[str]) -> list[tuple[str, str]]:
        return [
            (n, str(f["table"]))
            for n in tables
            for f in conn.execute(f"PRAGMA foreign_key_list({n})").fetchall()
        ]

    def columns(self, conn: Conn, table: str) -> list[str]:
        return [r["name"] for r in conn.execute(f"PRAGMA table_info({table})").fetchall()]

    def defer_references(self, conn: Conn) -> None:
        conn.execute("PRAGMA defer_foreign_keys = ON")  # reset by the commit

    def clear(self, conn: Conn, tables: Sequence[str]) -> None:
        # The append-only triggers refuse deletes: lift them for this transaction only.
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_no_delete'"
        ).fetchall()
        for t in triggers:
            conn.execute(f'DROP TRIGGER "{t["name"]}"')
        self.defer_references(conn)
        for table in tables:
            conn.execute(f"DELETE FROM {table}")
        conn.execute("DELETE FROM sqlite_sequence")
        for t in triggers:
            conn.execute(t["sql"])


SQLITE = SQLiteDialect()
