"""Review gates: a gated phase starts only once its plan has been approved by a review.

The rule itself (which review counts, when it is stale, what the refusal says) lives in
:mod:`cairn.core.rules`; this module reads what the rule needs from the caller's transaction, so the
check sees the same snapshot as the phase start it guards. ``override`` starts the phase anyway and
the reason is journaled with the review's state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cairn.core.errors import TransitionError
from cairn.core.rules import GateState, gate_message, reviewer_kind
from cairn.core.rules import gate_state as _rule
from cairn.domain import journal

if TYPE_CHECKING:
    from cairn.store import Tx


def gate_state(tx: Tx, task_id: str) -> GateState:
    """The state of the newest review of the task's plan, as a gated phase sees it."""
    plan = tx.checkpoints.newest(task_id, "plan", content=False)
    approved = tx.checkpoints.newest(task_id, "plan_approved", content=False)
    review = tx.reviews.newest_of_plan(task_id)
    approved_by: str | None = None
    if review is not None and review.state == "approved":
        last = tx.reviews.responses(review.id)[-1:]
        approved_by = reviewer_kind(last[0].provider, last[0].model) if last else None
    return _rule(plan.version if plan else None, review, approved is not None, approved_by)


def check_gate(tx: Tx, task_id: str, phase: str, *, override: str | None, ts: str) -> None:
    gs = gate_state(tx, task_id)
    if gs.open:
        return
    if override:
        review = gs.review
        journal.append(
            tx,
            task_id,
            "gate.overridden",
            ts,
            phase=phase,
            reason=override,
            review_state=gs.state,
            review=review.id if review else None,
            plan_version=gs.plan_version,
        )
        return
    raise TransitionError(gate_message(task_id, phase, gs))


__all__ = ["GateState", "check_gate", "gate_message", "gate_state"]
