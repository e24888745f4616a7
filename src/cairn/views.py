"""The shapes cairn answers in, shared by every interface: the CLI (``--json`` and its one-line
confirmations) and the MCP server build their answers here, so the same thing has the same shape
wherever it is asked for. The JSON shapes are documented in docs/json.md (a field is only ever
added within a schema version).

Imported by every CLI command, so its top level imports nothing but the standard library; the
status and the recovery brief, which live in their own layers, are imported where they are used.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cairn.core.model import Checkpoint, Event, Step, Task
    from cairn.recovery.brief import Brief

SCHEMA_TASK = "cairn.task/1"
SCHEMA_TASKS = "cairn.tasks/1"
SCHEMA_CHECKPOINT = "cairn.checkpoint/1"
SCHEMA_CHECKPOINTS = "cairn.checkpoints/1"
SCHEMA_STEP = "cairn.step/1"
SCHEMA_NEXT = "cairn.next/1"
SCHEMA_LOG = "cairn.log/1"
SCHEMA_TEMPLATE = "cairn.template/1"
SCHEMA_BUDGET_ENTRY = "cairn.budget_entry/1"
SCHEMA_REVIEWS = "cairn.reviews/1"
SCHEMA_REVIEW_ROUNDS = "cairn.review_rounds/1"


# -- tasks ---------------------------------------------------------------------------------------
def task(t: Task) -> dict[str, Any]:
    """A task (``cairn.task/1``): ``task new``, ``task_new``."""
    return {**t.to_json(), "schema": SCHEMA_TASK}


def task_detail(
    t: Task, steps: Sequence[Step], checkpoints: Sequence[tuple[Checkpoint, int]]
) -> dict[str, Any]:
    """A task with its steps and the newest version of each checkpoint kind (``task show``)."""
    d = task(t)
    d["steps"] = [
        {"id": s.id, "text": s.text, "state": s.state, "phase": s.phase, "updated_at": s.updated_at}
        for s in steps
    ]
    d["checkpoints"] = [checkpoint_listed(c, n) for c, n in checkpoints]
    return d


def tasks(found: Iterable[Task]) -> dict[str, Any]:
    """``cairn.tasks/1``: the tasks carry no schema key of their own."""
    return {"schema": SCHEMA_TASKS, "tasks": [t.to_json() for t in found]}


def task_created(t: Task) -> str:
    names = [p.name for p in t.phases]
    return f"Created task {t.id}" + (f" with phases {', '.join(names)}" if names else "")


def phase_started(t: Task, phase: str) -> str:
    return f"{t.id}: phase {phase} active"


def phase_finished(t: Task, phase: str) -> str:
    cur = t.current_phase
    return f"{t.id}: phase {phase} done" + (
        f"; next phase: {cur.name}" if cur else "; all phases done"
    )


def phase_failed(t: Task, phase: str) -> str:
    return f"{t.id}: phase {phase} failed"


def next_set(t: Task) -> str:
    return f"{t.id}: next action: {t.next_action}"


def next_action(t: Task) -> dict[str, Any]:
    """The next action just set (``cairn.next/1``)."""
    cur = t.current_phase
    return {
        "schema": SCHEMA_NEXT,
        "task": t.id,
        "next_action": t.next_action,
        "phase": cur.name if cur else None,
        "updated_at": t.updated_at,
    }


# -- checkpoints ---------------------------------------------------------------------------------
def checkpoint(cp: Checkpoint, *, content: bool = True) -> dict[str, Any]:
    """One version (``cairn.checkpoint/1``), with its content unless just written."""
    return {**cp.to_json(with_content=content), "schema": SCHEMA_CHECKPOINT}


def checkpoint_listed(cp: Checkpoint, versions: int) -> dict[str, Any]:
    """The newest version of a kind in a list: no content, and how many versions the kind has."""
    return {**cp.to_json(with_content=False), "versions": versions}


def checkpoints(task_id: str, newest: Iterable[tuple[Checkpoint, int]]) -> dict[str, Any]:
    """``cairn.checkpoints/1`` with the newest version of each kind (``checkpoint list``)."""
    return {
        "schema": SCHEMA_CHECKPOINTS,
        "task": task_id,
        "checkpoints": [checkpoint_listed(c, n) for c, n in newest],
    }


def history(task_id: str, versions: Iterable[Checkpoint]) -> dict[str, Any]:
    """``cairn.checkpoints/1`` with every version of one kind, oldest first."""
    return {
        "schema": SCHEMA_CHECKPOINTS,
        "task": task_id,
        "checkpoints": [c.to_json(with_content=False) for c in versions],
    }


def checkpoint_written(cp: Checkpoint) -> str:
    return f"{cp.path}: {cp.kind} v{cp.version} ({cp.size} bytes, sha256 {cp.hash[:12]})"


def template(kind: str, text: str) -> dict[str, Any]:
    return {"schema": SCHEMA_TEMPLATE, "kind": kind, "text": text}


# -- steps, journal ------------------------------------------------------------------------------
def step(s: Step) -> dict[str, Any]:
    """A progress step just recorded (``cairn.step/1``)."""
    return {
        "schema": SCHEMA_STEP,
        "id": s.id,
        "task": s.task_id,
        "text": s.text,
        "state": s.state,
        "phase": s.phase,
    }


def step_line(s: Step) -> str:
    return f"{s.task_id}: {s.icon} {s.text}"


def log(events: Iterable[Event]) -> dict[str, Any]:
    return {
        "schema": SCHEMA_LOG,
        "events": [
            {"id": e.id, "ts": e.ts, "task": e.task_id, "type": e.type, "data": e.data}
            for e in events
        ],
    }


# -- status, recovery ----------------------------------------------------------------------------
def status(data: dict[str, Any]) -> dict[str, Any]:
    """``cairn.status/1``: the data the status file is rendered from, without private keys."""
    from cairn.projection.status import public_status

    return public_status(data)


def brief(b: Brief) -> dict[str, Any]:
    """``cairn.brief/1``: the recovery brief and what it names."""
    return b.to_json()


# -- budget, reviews -----------------------------------------------------------------------------
def budget_entry(e: Any) -> dict[str, Any]:
    """``cairn.budget_entry/1``: one ledger entry (a :class:`cairn.domain.budget.Entry`)."""
    return {
        "schema": SCHEMA_BUDGET_ENTRY,
        "id": e.id,
        "ts": e.ts,
        "context_id": e.context_id,
        "task_id": e.task_id,
        "category": e.category,
        "source": e.source,
        "tokens": e.tokens,
        "exact": e.exact,
    }


def reviews(found: Iterable[Any]) -> dict[str, Any]:
    """``cairn.reviews/1``: review rounds, newest first."""
    return {"schema": SCHEMA_REVIEWS, "reviews": [r.to_json() for r in found]}


def review_rounds(found: Sequence[Any], plan_gate: dict[str, str]) -> dict[str, Any]:
    """``cairn.review_rounds/1``: every round of one topic, and the plan gate of its tasks."""
    return {
        "schema": SCHEMA_REVIEW_ROUNDS,
        "topic": found[0].topic,
        "rounds": [r.to_json() for r in found],
        "plan_gate": plan_gate,
    }


# -- the dashboard -------------------------------------------------------------------------------
def change_token(tx: Any) -> str:
    """A short text that changes whenever anything the dashboard shows changes: what it polls
    (``/api/token``) to know that a view is out of date.

    The store's own token (``tx.meta.change_token()``: the newest journal event and the leases
    run out, one query) and, once the budget ledger holds entries, its current totals: the agent
    runtime records what enters its context after every model request without journaling each
    entry, and the budget view must follow those too. A backend without its own token yet
    answers with the newest journal event and compaction (the hooks' recovery marks are not
    journaled), which every backend's contract has."""
    own = getattr(tx.meta, "change_token", None)
    if own is not None:
        parts = [str(own())]
    else:
        parts = [str(tx.events.last_id())]
        newest = tx.compactions.recent(1)
        if newest:
            c = newest[0]
            parts.append(f"c{c.id}.{c.summary_at or ''}.{c.recovered_at or ''}")
    if not tx.ledger.is_empty():
        current = tx.ledger.current_context()
        used = tx.ledger.totals(current.id if current else None)
        parts.append(f"l{sum(t for t, _ in used.values())}")
    return "-".join(parts)
