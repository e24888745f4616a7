"""The SQLite implementation of each area: one line per area (the names of ``Transaction``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from cairn.store.sqlite.checkpoints import SQLiteCheckpoints
from cairn.store.sqlite.compactions import SQLiteCompactions
from cairn.store.sqlite.events import SQLiteEvents
from cairn.store.sqlite.ledger import SQLiteLedger
from cairn.store.sqlite.meta import SQLiteMeta
from cairn.store.sqlite.projections import SQLiteProjections
from cairn.store.sqlite.recoveries import SQLiteRecoveries
from cairn.store.sqlite.reviews import SQLiteReviews
from cairn.store.sqlite.runs import SQLiteRuns
from cairn.store.sqlite.steps import SQLiteSteps
from cairn.store.sqlite.tasks import SQLiteTasks

AREAS: dict[str, Callable[[sqlite3.Connection], Any]] = {
    "tasks": SQLiteTasks,
    "checkpoints": SQLiteCheckpoints,
    "steps": SQLiteSteps,
    "events": SQLiteEvents,
    "projections": SQLiteProjections,
    "recoveries": SQLiteRecoveries,
    "compactions": SQLiteCompactions,
    "runs": SQLiteRuns,
    "ledger": SQLiteLedger,
    "reviews": SQLiteReviews,
    "meta": SQLiteMeta,
}
