"""The memory implementation of each area: one line per area (the names of ``Transaction``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cairn.store.memory.checkpoints import MemoryCheckpoints
from cairn.store.memory.compactions import MemoryCompactions
from cairn.store.memory.events import MemoryEvents
from cairn.store.memory.leases import MemoryLeases
from cairn.store.memory.ledger import MemoryLedger
from cairn.store.memory.meta import MemoryMeta
from cairn.store.memory.projections import MemoryProjections
from cairn.store.memory.records import MemoryRecords
from cairn.store.memory.recoveries import MemoryRecoveries
from cairn.store.memory.reviews import MemoryReviews
from cairn.store.memory.runs import MemoryRuns
from cairn.store.memory.state import MemoryState
from cairn.store.memory.steps import MemorySteps
from cairn.store.memory.tasks import MemoryTasks

AREAS: dict[str, Callable[[MemoryState], Any]] = {
    "tasks": MemoryTasks,
    "checkpoints": MemoryCheckpoints,
    "steps": MemorySteps,
    "events": MemoryEvents,
    "projections": MemoryProjections,
    "recoveries": MemoryRecoveries,
    "compactions": MemoryCompactions,
    "runs": MemoryRuns,
    "ledger": MemoryLedger,
    "reviews": MemoryReviews,
    "leases": MemoryLeases,
    "meta": MemoryMeta,
    "records": MemoryRecords,
}
