"""The store interface: rows and transactions, nothing about Markdown or files.

SQL is written in the portable subset that SQLite and PostgreSQL share (``?`` placeholders are
translated by a backend that needs another style, ``INSERT ... ON CONFLICT``, ``RETURNING``), so that a
PostgreSQL store can be added without touching the domain.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

Row = dict[str, Any]
Params = Sequence[Any]


class Tx(Protocol):
    """One transaction. Rows come back as plain dicts."""

    def execute(self, sql: str, params: Params = ()) -> list[Row]: ...

    def one(self, sql: str, params: Params = ()) -> Row | None: ...

    def scalar(self, sql: str, params: Params = ()) -> Any: ...

    def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT and return the new row's integer id."""
        ...

    def iterate(self, sql: str, params: Params = ()) -> Iterator[Row]: ...


class Store(Protocol):
    """A durable store. ``transaction()`` commits durably (synced) before it returns."""

    dialect: str

    def transaction(self) -> AbstractContextManager[Tx]:
        """A write transaction that takes the write lock at once (no upgrade deadlocks)."""
        ...

    def light_transaction(self) -> AbstractContextManager[Tx]:
        """A write transaction that need not be synced: for derived data that can be rebuilt."""
        ...

    def read(self) -> AbstractContextManager[Tx]:
        """A read-only snapshot."""
        ...

    def applied_migrations(self) -> list[str]: ...

    def integrity_check(self) -> str: ...

    def close(self) -> None: ...
