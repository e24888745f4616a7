"""The SQLite file beneath the store, for the few tests that must look under the store contract:
its schema, migrations and triggers, its per-connection settings, or a row planted or damaged on
purpose. Everything else a test checks goes through the store's areas, as the code does
(``stored.records`` reads any record set that way).

A connection here is the test's own, on the same file (WAL: it sees what the store committed, and
the store sees what it commits); a write is one immediate transaction, committed on return."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Where = Any  # a .db file or a workspace folder (Path or str), or an open SQLite store or Workspace


def db_file(where: Where) -> Path:
    """The store file of ``where``."""
    store = getattr(where, "store", where)  # a Workspace: its store
    path = getattr(store, "path", None)
    if path is not None and not isinstance(where, (str, Path)):
        return Path(path)
    p = Path(where)
    return p if p.suffix == ".db" else p / ".cairn" / "cairn.db"


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {d[0]: v for d, v in zip(cursor.description, row, strict=True)}


@contextmanager
def connect(where: Where) -> Iterator[sqlite3.Connection]:
    """A connection of the test's own to the store file (rows as dicts). Statements run in one
    immediate transaction, committed when the block ends and rolled back if it raises."""
    conn = sqlite3.connect(db_file(where), isolation_level=None, timeout=60)
    conn.row_factory = _dict_row
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()


def rows(where: Where, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    with connect(where) as conn:
        return conn.execute(sql, params).fetchall()


def execute(where: Where, *statements: str, params: Sequence[Any] = ()) -> None:
    """Run ``statements`` (each with ``params``) in one committed transaction."""
    with connect(where) as conn:
        for sql in statements:
            conn.execute(sql, params)


def own_connection(store: Any) -> sqlite3.Connection:
    """The store's own connection, for what only it can tell: its per-connection settings
    (``PRAGMA synchronous`` inside a light write ...). Never written through."""
    conn = store._conn
    assert isinstance(conn, sqlite3.Connection)
    return conn
