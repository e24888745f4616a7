"""What the PostgreSQL areas need of a connection: psycopg's ``execute`` returning a cursor of
dict rows (``fetchone``, ``fetchall``, iteration, ``rowcount``)."""

from __future__ import annotations

from typing import Any, Protocol


class Conn(Protocol):
    def execute(self, query: Any, params: Any = None) -> Any: ...
