"""The rules of phases and review gates, as pure functions of values (no store, no domain).

A phase goes pending → active → done, or failed / blocked; a failed or blocked phase starts again,
a done one only when reopened. The durable runner (``task.run()``) adds one move of its own: a
phase left *active* by a process that died is restarted in place, as a new attempt.

A gated phase starts only once the newest review of the task's plan approved the plan's current
version and the approved plan was checkpointed as ``plan_approved``. The refusal names the review's
state (missing, pending, rejected, reviewer failed, or stale after the plan changed) and the command
to run next.
"""

from __future__ import annotations

from cairn.core.names import artifact_stem
from cairn.core.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol
else:
    Protocol = object  # importing typing costs ~3 ms of start-up; these Protocols only type


PHASE_STATES = ("pending", "active", "done", "failed", "blocked")
END_STATES = ("done", "failed", "blocked")
# What the durable runner does with a phase, by its recorded state.
RUN_SKIP, RUN_START, RUN_RESTART = "skip", "start", "restart"


def start_refusal(task_id: str, phase: str, state: str, *, reopen: bool) -> str | None:
    """Why ``phase`` (now in ``state``) may not become active by a command, or None if it may."""
    if state == "active":
        return (
            f"phase {phase!r} of {task_id!r} is already active; record progress, or finish "
            f"it with `cairn phase done {task_id} {phase}`"
        )
    if state == "done" and not reopen:
        return (
            f"phase {phase!r} of {task_id!r} is done; to work on it again run "
            f"`cairn phase start {task_id} {phase} --reopen`"
        )
    return None


def end_refusal(task_id: str, phase: str, state: str, new: str) -> str | None:
    """Why ``phase`` (now in ``state``) may not become ``new`` (an end state), or None if it may."""
    if new not in END_STATES:
        return f"{new!r} is not an end state of a phase; use one of {', '.join(END_STATES)}"
    if state != "active":
        return (
            f"phase {phase!r} of {task_id!r} is {state}, not active; only an "
            f"active phase can become {new}. Start it with "
            f"`cairn phase start {task_id} {phase}" + (" --reopen`" if state == "done" else "`")
        )
    return None


def run_action(state: str) -> str:
    """What the durable runner does with a phase in ``state``: skip it, start it, or restart it
    (still active: its process died while it ran)."""
    if state == "done":
        return RUN_SKIP
    if state == "active":
        return RUN_RESTART
    return RUN_START


# -- the review gate -------------------------------------------------------------------------------
class ReviewFacts(Protocol):
    """What the gate reads of a review (a store row has these)."""

    @property
    def id(self) -> str: ...
    @property
    def topic(self) -> str: ...
    @property
    def round(self) -> int: ...
    @property
    def reviewer(self) -> str: ...
    @property
    def created_at(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def plan_version(self) -> int | None: ...


class GateState(Record):
    """Where a task's plan review stands: what a gated phase checks."""

    state: str  # approved | missing | pending | rejected | failed | stale | insufficient
    plan_version: int | None
    review: ReviewFacts | None  # the newest review of the plan
    approved_checkpoint: bool
    approved_by: str | None = None  # checklist | model | human, for an approved review

    @property
    def open(self) -> bool:
        return self.state == "approved"


def gate_state(
    plan_version: int | None,
    review: ReviewFacts | None,
    approved_checkpoint: bool,
    approved_by: str | None = None,
) -> GateState:
    """The gate, from the plan's newest version, the newest review of the plan (None: none was
    asked), whether an approved plan was checkpointed and what kind of reviewer approved.

    An approval of the plan's version without its checkpoint is one ``[reviews] gate_requires``
    did not accept (a checklist's, say, where a model's is required): "insufficient"."""
    if review is None:
        return GateState("missing", plan_version, None, approved_checkpoint)
    state = review.state
    if state == "approved":
        if review.plan_version != plan_version:
            state = "stale"
        elif not approved_checkpoint:
            state = "insufficient" if approved_by else "missing"
    return GateState(state, plan_version, review, approved_checkpoint, approved_by)


def gate_message(task_id: str, phase: str, gs: GateState) -> str:
    head = f"phase {phase!r} of {task_id!r} is gated: it needs an approved review of the plan"
    tail = f'; or start anyway with `cairn phase start {task_id} {phase} --override "reason"` (journaled)'
    r = gs.review
    plan = f"artifacts/{artifact_stem(task_id, 'plan')}.md"  # the default artifacts folder
    ask = (
        f'`cairn review request --task {task_id} --topic {task_id}_approach --question "Is this '
        f'plan sound?" --context {plan}`'
    )
    if gs.state == "missing" and gs.plan_version is None:
        return (
            f"{head}, and the task has no plan yet. Write one (`cairn checkpoint template plan`, then "
            f"`cairn checkpoint write {task_id} plan --file PLAN.md`) and request a review with {ask}"
            + tail
        )
    if gs.state == "missing" or r is None:
        return f"{head}, and none was requested (review: missing). Request one with {ask}" + tail
    rid = r.id
    structural = " — a structural checklist, not a judgement" if _is_checklist(r.reviewer) else ""
    where = f"review {rid} (topic {r.topic}, round {r.round}, reviewer {r.reviewer}{structural})"
    if gs.state == "pending":
        return (
            f"{head}; {where} is pending since {r.created_at} (review: pending). Answer it with "
            f'`cairn review answer {rid} --approve|--reject --recommendation "..."`' + tail
        )
    if gs.state == "rejected" and gs.plan_version != r.plan_version:
        return (
            f"{head}; {where} rejected plan v{r.plan_version}, and the plan is now "
            f"v{gs.plan_version} (review: rejected, revised since). Request round {r.round + 1} "
            f"with `cairn review request --task {task_id} --topic {r.topic} --question ... "
            f"--context {plan}`" + tail
        )
    if gs.state == "rejected":
        return (
            f"{head}; {where} rejected plan v{r.plan_version} (review: rejected). Revise the plan "
            f"(`cairn checkpoint write {task_id} plan --file PLAN.md`; see `cairn review show {rid}` "
            f"for the recommendation), then request round {r.round + 1} with "
            f"`cairn review request --task {task_id} --topic {r.topic} ...`" + tail
        )
    if gs.state == "failed":
        return (
            f"{head}; the reviewer failed on {where} and gave no verdict (review: reviewer "
            f"failed; see `cairn review show {rid}`). Ask again with `cairn review request --task "
            f"{task_id} --topic {r.topic} ...` (perhaps --reviewer another:model), or answer "
            f'it yourself with `cairn review answer {rid} --approve|--reject --recommendation "..."`'
            + tail
        )
    if gs.state == "insufficient":
        by = {"checklist": "the structural checklist", "human": "a person"}.get(
            gs.approved_by or "", "a model"
        )
        return (
            f"{head}; {where} approved plan v{r.plan_version}, but by {by}, and [reviews] "
            "gate_requires in .cairn/config.toml asks for another reviewer's approval (review: "
            f"insufficient). Request a model's review with `cairn review request --task {task_id} "
            f"--topic {r.topic} --reviewer openai:gpt-4o ...` (or codex, claude, anthropic:...), or "
            f"a person's with `--reviewer human` and then `cairn review answer`" + tail
        )
    if gs.state == "stale":
        return (
            f"{head}; {where} approved plan v{r.plan_version}, but the plan is now "
            f"v{gs.plan_version} (review: stale). Request a review of the new version with "
            f"`cairn review request --task {task_id} --topic {r.topic} ...`" + tail
        )
    return head + tail


def reviewer_kind(provider: str, model: str | None) -> str:
    """Who stands behind a verdict: the structural ``checklist``, a ``model`` (it names the model
    that answered), or ``human`` (a verdict given with `cairn review answer`, which has no model)."""
    if provider == "checklist":
        return "checklist"
    return "model" if model is not None else "human"


def _is_checklist(reviewer: str) -> bool:
    return reviewer.split(":", 1)[0] == "checklist"


class PhaseRun(Record):
    """One attempt of a phase by the durable runner, as recorded when it started."""

    id: int
    task_id: str
    phase: str
    attempt: int
    restarted: bool  # the phase was still active: the process of an earlier attempt died
    crashed_pid: int | None  # that attempt's pid and number, when its record was found
    crashed_attempt: int | None
