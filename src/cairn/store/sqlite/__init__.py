"""The embedded SQLite store (the default backend).

Its names are looked up when first used: the PostgreSQL store reaches the SQL it shares through
the area modules of this package, and should not import sqlite3 and the SQLite store with them."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cairn.store.sqlite.connection import BUSY_TIMEOUT_MS, SQLiteStore

__all__ = ["BUSY_TIMEOUT_MS", "SQLiteStore"]


def __getattr__(name: str) -> object:
    if name in __all__:
        from cairn.store.sqlite import connection

        return getattr(connection, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
