"""Review gates: a gated phase starts only once its plan has been approved by a review.

The rule: the newest review of the task's plan (a review whose context held the plan) must be
approved, for the plan's current version, and the approved plan must be checkpointed as
``plan_approved``. Otherwise the refusal names the review's state (missing, pending, rejected,
reviewer failed, or stale after the plan changed) and the command to run next. ``override`` starts
the phase anyway and the reason is journaled with that state.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from cairn.core.errors import TransitionError

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace
    from cairn.store import Tx


def check_gate(
    ws: Workspace, tx: Tx, task_id: str, phase: str, *, override: str | None, ts: str
) -> None:
    from cairn.domain.reviews import gate_message, gate_state

    gs = gate_state(tx, task_id)
    if gs.open:
        return
    if override:
        review = gs.review
        tx.insert(
            "INSERT INTO events (ts, task_id, type, data) VALUES (?, ?, ?, ?)",
            (
                ts,
                task_id,
                "gate.overridden",
                json.dumps(
                    {
                        "phase": phase,
                        "reason": override,
                        "review_state": gs.state,
                        "review": review["id"] if review else None,
                        "plan_version": gs.plan_version,
                    }
                ),
            ),
        )
        return
    raise TransitionError(gate_message(task_id, phase, gs))
