"""What an area written in plain SQL needs of a connection, so that one implementation serves
both SQL backends: ``execute(sql, params)`` with ``?`` placeholders, returning a cursor whose rows
are read by column name (``fetchone``, ``fetchall``, iteration, ``rowcount``). A sqlite3
connection is one as it is; PostgreSQL's is wrapped (``postgres.conn.Qmark``)."""

from __future__ import annotations

from typing import Any, Protocol


class Conn(Protocol):
    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...
