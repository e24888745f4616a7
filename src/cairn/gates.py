"""Review gates: a gated phase starts only once its plan has been approved.

The rule: a gated phase needs an approved review of the task's plan, which cairn records as a
``plan_approved`` checkpoint of that task. ``override`` starts it anyway and the reason is journaled.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .errors import TransitionError

if TYPE_CHECKING:
    from .store import Tx
    from .workspace import Workspace


def check_gate(
    ws: Workspace, tx: Tx, task_id: str, phase: str, *, override: str | None, ts: str
) -> None:
    approved = tx.one(
        "SELECT version, created_at FROM checkpoints WHERE task_id = ? AND kind = 'plan_approved' "
        "ORDER BY version DESC LIMIT 1",
        (task_id,),
    )
    if approved is not None:
        return
    if override:
        tx.insert(
            "INSERT INTO events (ts, task_id, type, data) VALUES (?, ?, ?, ?)",
            (ts, task_id, "gate.overridden", json.dumps({"phase": phase, "reason": override})),
        )
        return
    raise TransitionError(
        f"phase {phase!r} of {task_id!r} is gated: it needs an approved review of the plan "
        f"(a plan_approved checkpoint), and there is none. Request one with `cairn review request "
        f'--task {task_id} ...`, or start anyway with `--override "reason"` (journaled)'
    )
