"""The PostgreSQL implementation of each area: one line per area (the names of ``Transaction``).

Each entry imports its module when first called, so that opening a store does not import every
area (a fresh ``cairn status`` touches four of eleven)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from cairn.store.postgres.conn import Conn, Qmark


def _lazy(module: str, cls: str) -> Callable[[Conn], Any]:
    def make(conn: Conn) -> Any:
        return getattr(importlib.import_module(f"cairn.store.postgres.{module}"), cls)(conn)

    make.__qualname__ = f"{cls} (lazy)"
    return make


def _shared(module: str, cls: str) -> Callable[[Conn], Any]:
    """An area whose SQL is the same on both backends: the SQLite module's class, on a
    connection that speaks its ``?`` placeholders (``conn.Qmark``)."""

    def make(conn: Conn) -> Any:
        area = getattr(importlib.import_module(f"cairn.store.sqlite.{module}"), cls)
        return area(Qmark(conn))

    make.__qualname__ = f"{cls} (shared, lazy)"
    return make


def _shared_locking(module: str, cls: str) -> Callable[[Conn], Any]:
    """An area whose SQL is the same on both backends and which takes PostgreSQL's locks itself,
    where it needs them (``dialect.py``): the SQLite module's class, with PostgreSQL's dialect."""

    def make(conn: Conn) -> Any:
        from cairn.store.postgres.dialect import Marks, PgDialect

        area = getattr(importlib.import_module(f"cairn.store.sqlite.{module}"), cls)
        return area(Marks(conn), PgDialect(conn))

    make.__qualname__ = f"{cls} (shared, own locks, lazy)"
    return make


AREAS: dict[str, Callable[[Conn], Any]] = {
    "tasks": _lazy("tasks", "PgTasks"),
    "checkpoints": _lazy("checkpoints", "PgCheckpoints"),
    "steps": _lazy("steps", "PgSteps"),
    "events": _lazy("events", "PgEvents"),
    "projections": _lazy("projections", "PgProjections"),
    "recoveries": _shared("recoveries", "SQLiteRecoveries"),
    "compactions": _shared("compactions", "SQLiteCompactions"),
    "runs": _shared("runs", "SQLiteRuns"),
    "ledger": _shared_locking("ledger", "SQLiteLedger"),
    "reviews": _shared("reviews", "SQLiteReviews"),
    "leases": _shared_locking("leases", "SQLiteLeases"),
    "meta": _shared_locking("meta", "SQLiteMeta"),
    "records": _shared_locking("records", "SQLiteRecords"),
}
