"""Stores: the interface and its backends."""

from __future__ import annotations

from pathlib import Path

from cairn.store.base import Row, Store, Tx


def open_store(url_or_path: str | Path, *, create: bool = False) -> Store:
    """Open a store by path (SQLite) or URL. PostgreSQL URLs are reserved for a later backend."""
    text = str(url_or_path)
    if text.startswith(("postgres://", "postgresql://")):
        from cairn.core.errors import StoreError

        raise StoreError("the PostgreSQL store is not available in this version; use SQLite")
    from cairn.store.sqlite import SQLiteStore

    return SQLiteStore(Path(text), create=create)


__all__ = ["Row", "Store", "Tx", "open_store"]
