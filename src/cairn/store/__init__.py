"""Stores: the contract (``contract/``, ``base.py``) and its backends (``sqlite/``, ``memory/``)."""

from __future__ import annotations

from pathlib import Path

from cairn.store.base import RawSQL, Row, Store, Transaction, Tx, area_names

MEMORY_URL = "memory:"


def open_store(url_or_path: str | Path, *, create: bool = False) -> Store:
    """Open a store by path (SQLite), ``memory:`` (the reference store, for tests) or URL.
    PostgreSQL URLs are reserved for a later backend."""
    text = str(url_or_path)
    if text.startswith(("postgres://", "postgresql://")):
        from cairn.core.errors import StoreError

        raise StoreError("the PostgreSQL store is not available in this version; use SQLite")
    if text == MEMORY_URL:
        from cairn.store.memory import MemoryStore

        return MemoryStore()
    from cairn.store.sqlite import SQLiteStore

    return SQLiteStore(Path(text), create=create)


__all__ = ["RawSQL", "Row", "Store", "Transaction", "Tx", "area_names", "open_store"]
