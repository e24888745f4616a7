"""The memory store's data: plain containers of frozen rows.

A write works on a copy of the committed state and swaps it in at commit, so a reader holding the
old state sees a snapshot and an exception leaves nothing behind. The copy is shallow: the areas
never mutate a nested container in place, they replace it (``d[k] = [*d[k], row]``), so a nested
list shared with the committed state is never changed under a reader.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
from typing import Any

from cairn.store.contract.checkpoints import CheckpointRow
from cairn.store.contract.events import EventRow
from cairn.store.contract.projections import ProjectionRow
from cairn.store.contract.recoveries import RecoveryRow
from cairn.store.contract.steps import ProgressDoc, StepRow
from cairn.store.contract.tasks import PhaseRow, TaskRow


@dataclass
class MemoryState:
    tasks: dict[str, TaskRow] = field(default_factory=dict)  # by key (case-folded id)
    phases: dict[str, list[PhaseRow]] = field(default_factory=dict)  # by task id, by position
    checkpoints: dict[tuple[str, str], list[CheckpointRow]] = field(default_factory=dict)
    task_checkpoints: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # seq order
    steps: dict[int, StepRow] = field(default_factory=dict)
    task_steps: dict[str, list[int]] = field(default_factory=dict)
    progress_docs: dict[str, ProgressDoc] = field(default_factory=dict)
    events: list[EventRow] = field(default_factory=list)
    projections: dict[str, ProjectionRow] = field(default_factory=dict)
    recoveries: list[RecoveryRow] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # areas added later keep theirs here

    def copy(self) -> MemoryState:
        return MemoryState(**{f.name: copy.copy(getattr(self, f.name)) for f in fields(self)})
