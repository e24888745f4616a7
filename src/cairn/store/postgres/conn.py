"""What the PostgreSQL areas need of a connection: psycopg's ``execute`` returning a cursor of
dict rows (``fetchone``, ``fetchall``, iteration, ``rowcount``)."""

from __future__ import annotations

import functools
from typing import Any, Protocol

from cairn.store.postgres.locks import store_wide


class Conn(Protocol):
    def execute(self, query: Any, params: Any = None) -> Any: ...

    def later(self, sql: str, params: Any = None) -> None:
        """Run ``sql`` whose result nobody reads, sent with the next ``execute`` (batch.py)."""
        ...

    @property
    def alone(self) -> bool:
        """Whether nothing was sent or held back since the BEGIN (batch.py)."""
        ...

    def whole(self, sql: str, params: Any) -> Any:
        """Run ``sql`` as the whole transaction, committed by the server (batch.py)."""
        ...


class Qmark:
    """A psycopg connection seen as the shared SQL areas expect it (``store.sql.Conn``): ``?``
    placeholders become ``%s``, and a literal ``%`` is doubled so that psycopg keeps it."""

    def __init__(self, conn: Conn) -> None:
        self._c = conn

    def execute(self, sql: str, parameters: Any = None, /) -> Any:
        if getattr(self._c, "cairn_scope", None) is not None:
            store_wide(self._c, "this area")
        if not parameters:
            return self._c.execute(sql)
        return self._c.execute(_to_format(sql), parameters)


@functools.lru_cache(maxsize=512)
def _to_format(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")
