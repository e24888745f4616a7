"""The SQLite implementation of each area: one line per area (the names of ``Transaction``).

Each entry imports its module when first called, so that opening a store does not import every
area (a fresh ``cairn status`` touches four of eleven)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from cairn.core.stdlib_start import import_module

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _lazy(module: str, cls: str) -> Callable[[sqlite3.Connection], Any]:
    def make(conn: sqlite3.Connection) -> Any:
        return getattr(import_module(f"cairn.store.sqlite.{module}"), cls)(conn)

    make.__qualname__ = f"{cls} (lazy)"
    return make


AREAS: dict[str, Callable[[sqlite3.Connection], Any]] = {
    "tasks": _lazy("tasks", "SQLiteTasks"),
    "checkpoints": _lazy("checkpoints", "SQLiteCheckpoints"),
    "steps": _lazy("steps", "SQLiteSteps"),
    "events": _lazy("events", "SQLiteEvents"),
    "projections": _lazy("projections", "SQLiteProjections"),
    "recoveries": _lazy("recoveries", "SQLiteRecoveries"),
    "compactions": _lazy("compactions", "SQLiteCompactions"),
    "runs": _lazy("runs", "SQLiteRuns"),
    "ledger": _lazy("ledger", "SQLiteLedger"),
    "reviews": _lazy("reviews", "SQLiteReviews"),
    "leases": _lazy("leases", "SQLiteLeases"),
    "meta": _lazy("meta", "SQLiteMeta"),
    "records": _lazy("records", "SQLiteRecords"),
}
