"""Which store a workspace uses, and opening it: the one place that picks a backend.

``CAIRN_STORE`` (a URL or a path) overrides the workspace's ``[store]`` setting; without either the
store is the embedded SQLite file ``.cairn/cairn.db``. A PostgreSQL URL loads the PostgreSQL backend
(and psycopg) only then."""

from __future__ import annotations

import os
from pathlib import Path

from cairn.core.errors import StoreError
from cairn.store.base import Store

ENV_STORE = "CAIRN_STORE"
MEMORY_URL = "memory:"
POSTGRES_SCHEMES = ("postgres://", "postgresql://")


def is_postgres(location: str | Path) -> bool:
    return str(location).startswith(POSTGRES_SCHEMES)


def locate(cairn_dir: Path, configured: str) -> str | Path:
    """Where the store is: ``$CAIRN_STORE``, else the config's ``[store]`` value; a URL as it is,
    a path relative to ``.cairn/``."""
    where = os.environ.get(ENV_STORE) or configured
    if "://" in where or where == MEMORY_URL:
        return where
    return cairn_dir / where


def describe(location: str | Path) -> str:
    """The store's location for messages and output: a URL without its password."""
    text = str(location)
    if not is_postgres(text):
        return text
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(text)
    if parts.password is None:
        return text
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def open_store(location: str | Path, *, create: bool = False) -> Store:
    """Open a store by path (SQLite), ``memory:`` (the reference store, for tests) or a
    ``postgresql://`` URL."""
    text = str(location)
    if is_postgres(text):
        try:
            from cairn.store.postgres import PostgresStore
        except ImportError as exc:
            raise StoreError(
                "the store is a PostgreSQL URL but psycopg is not installed; run "
                "`pip install 'cairn-agent[postgres]'`"
            ) from exc
        return PostgresStore(text, create=create)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise StoreError(
            f"unknown store URL scheme {scheme!r}; use postgresql://USER:PASSWORD@HOST:PORT/DB "
            "or a path for the embedded SQLite store"
        )
    if text == MEMORY_URL:
        from cairn.store.memory import MemoryStore

        return MemoryStore()
    from cairn.store.sqlite.connection import SQLiteStore

    return SQLiteStore(Path(text), create=create)
