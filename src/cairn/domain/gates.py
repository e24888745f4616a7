"""Review gates: a gated phase starts only once its plan has been approved by a review.

The rule itself (which review counts, when it is stale, what the refusal says) lives in
:mod:`cairn.core.rules`; this module reads what the rule needs from the caller's transaction, so the
check sees the same snapshot as the phase start it guards. ``override`` starts the phase anyway and
the reason is journaled with the review's state.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from cairn.core.errors import TransitionError
from cairn.core.rules import GateState, gate_message
from cairn.core.rules import gate_state as _rule

if TYPE_CHECKING:
    from cairn.domain.base import Site
    from cairn.store import Tx


def gate_state(tx: Tx, task_id: str) -> GateState:
    """The state of the newest review of the task's plan, as a gated phase sees it."""
    plan_version = tx.scalar(
        "SELECT max(version) FROM checkpoints WHERE task_id = ? AND kind = 'plan'", (task_id,)
    )
    review = tx.one(
        "SELECT * FROM reviews WHERE task_id = ? AND plan_version IS NOT NULL "
        "ORDER BY created_at DESC, id DESC LIMIT 1",
        (task_id,),
    )
    approved_cp = (
        tx.one(
            "SELECT 1 FROM checkpoints WHERE task_id = ? AND kind = 'plan_approved' LIMIT 1",
            (task_id,),
        )
        is not None
    )
    return _rule(plan_version, review, approved_cp)


def check_gate(
    ws: Site, tx: Tx, task_id: str, phase: str, *, override: str | None, ts: str
) -> None:
    gs = gate_state(tx, task_id)
    if gs.open:
        return
    if override:
        review = gs.review
        # The journal row is written here, in the caller's transaction, until core's one journal
        # writer takes a transaction from outside the workspace module.
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


__all__ = ["GateState", "check_gate", "gate_message", "gate_state"]
