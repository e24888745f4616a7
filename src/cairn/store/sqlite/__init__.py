"""The embedded SQLite store (the default backend)."""

from __future__ import annotations

from cairn.store.sqlite.connection import BUSY_TIMEOUT_MS, SQLiteStore

__all__ = ["BUSY_TIMEOUT_MS", "SQLiteStore"]
