"""Tasks and the one phase state machine.

A phase goes pending → active → done, or failed / blocked; a done phase becomes active again only
when reopened; one phase of a task is active at a time; a gated phase starts only through its gate.
``begin_phase`` and ``end_phase_in`` are the transitions, inside the caller's transaction, so that
the CLI, MCP, ``flow/`` and ``agent/`` all go through the same rules and journal the same events.

Names are normalised once: ``canonical`` matches the caller's id case-insensitively, and the id it
returns is what every later step (store, projector, journal) uses.
"""

from __future__ import annotations

from collections.abc import Iterable

from cairn.core import names
from cairn.core.errors import NotFound, TransitionError, UsageError, ValidationError
from cairn.core.model import Phase, Task
from cairn.domain.base import LazyModule, canonical, now
from cairn.domain.journal import append
from cairn.domain.notices import Change
from cairn.store.contract.tasks import PhaseRow, TaskRow

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cairn.core import rules
    from cairn.domain.base import Site
    from cairn.store import Transaction
else:
    rules = LazyModule("cairn.core.rules")  # the phase moves: reading commands never need them


def to_phase(p: PhaseRow) -> Phase:
    return Phase(p.name, p.position, p.state, p.gated, p.started_at, p.finished_at, p.error)


def to_task(row: TaskRow, phases: Iterable[PhaseRow]) -> Task:
    return Task(
        row.id,
        row.title,
        row.created_at,
        row.updated_at,
        row.next_action,
        tuple(to_phase(p) for p in phases),
    )


def load(tx: Transaction, row: TaskRow) -> Task:
    return to_task(row, tx.tasks.phases(row.id))


def load_many(tx: Transaction, rows: list[TaskRow]) -> list[Task]:
    phases = tx.tasks.phases_of([r.id for r in rows])
    return [to_task(r, phases[r.id]) for r in rows]


# -- tasks ---------------------------------------------------------------------------------------
def create_task(
    ws: Site,
    task_id: str,
    title: str = "",
    phases: Iterable[str] = (),
    gates: Iterable[str] = (),
    *,
    exist_ok: bool = False,
) -> Task:
    names.task_id(task_id)
    phase_list = [names.phase_name(p) for p in phases]
    if len(set(phase_list)) != len(phase_list):
        raise ValidationError(f"phase names repeat in {phase_list}; give each phase once")
    gate_set = {names.phase_name(g) for g in gates}
    missing = gate_set - set(phase_list)
    if missing:
        raise ValidationError(
            f"--gate names {sorted(missing)}, which are not among the phases {phase_list}"
        )
    if len(title) > 500:
        raise ValidationError("the title is over 500 characters; keep it to one line")
    ts = now()
    with ws.store.write() as tx:
        existing = tx.tasks.get(task_id)
        if existing is not None:
            if existing.id != task_id:
                raise ValidationError(
                    f"task {task_id!r} differs only in case from the existing task "
                    f"{existing.id!r}; use that id or a different name"
                )
            if existing.state == "deleted":
                raise ValidationError(
                    f"task {task_id!r} was deleted; its history stays in the store and its id "
                    "stays taken: choose another name"
                )
            if not exist_ok:
                more = (
                    f" (archived: `cairn task unarchive {task_id}` brings it back)"
                    if existing.state == "archived"
                    else ""
                )
                raise UsageError(
                    f"task {task_id!r} already exists{more}; see it with "
                    f"`cairn task show {task_id}`"
                )
        else:
            tx.tasks.create(task_id, title, ts)
            append(
                tx,
                task_id,
                "task.created",
                ts,
                title=title,
                phases=phase_list,
                gates=sorted(gate_set),
            )
        for name in phase_list:
            ensure_phase(tx, task_id, name, gated=name in gate_set, ts=ts)
        task = load(tx, canonical(tx, task_id))
    ws.announce(Change("task", task.id))
    return task


def add_phases(ws: Site, task_id: str, phases: Iterable[str]) -> Task:
    with ws.store.write() as tx:
        row = canonical(tx, task_id)
        for name in phases:
            ensure_phase(tx, row.id, names.phase_name(name), gated=False, ts=now())
        task = load(tx, row)
    ws.announce(Change("task", row.id))
    return task


def ensure_phase(tx: Transaction, task_id: str, name: str, *, gated: bool, ts: str) -> PhaseRow:
    have = tx.tasks.phase(task_id, name)
    if have is not None:
        return have
    row = tx.tasks.add_phase(task_id, name, gated=gated)
    append(tx, task_id, "phase.added", ts, phase=name, position=row.position, gated=gated)
    return row


def get_task(ws: Site, task_id: str) -> Task:
    with ws.store.read() as tx:
        return load(tx, canonical(tx, task_id))


def has_task(ws: Site, task_id: str) -> bool:
    with ws.store.read() as tx:
        return tx.tasks.get(task_id) is not None


def list_tasks(ws: Site, *, limit: int | None = None) -> list[Task]:
    with ws.store.read() as tx:
        return load_many(tx, tx.tasks.recent(limit=limit))


def active_tasks(ws: Site) -> list[Task]:
    with ws.store.read() as tx:
        return load_many(tx, tx.tasks.active())


def resolve_task(ws: Site, task_id: str | None) -> str:
    """The named task, or the one active task when none is named."""
    with ws.store.read() as tx:
        if task_id is not None:
            return canonical(tx, task_id).id
        active = tx.tasks.active(limit=5)
        if len(active) == 1:
            return active[0].id
        if not active:
            open_ = tx.tasks.unfinished(limit=2, phaseless=True)
            if len(open_) == 1:
                return open_[0].id
            if not open_:
                raise UsageError("no open task; create one with `cairn task new TASK --phases ...`")
            raise UsageError("no task is active and several are open; name the task")
    ids = ", ".join(t.id for t in active)
    raise UsageError(f"several tasks are active ({ids}); name the task")


# -- the phase state machine ---------------------------------------------------------------------
def phase_or_explain(tx: Transaction, task_id: str, phase: str, hint: str = "") -> PhaseRow:
    row = tx.tasks.phase(task_id, phase)
    if row is None:
        known = [p.name for p in tx.tasks.phases(task_id)]
        raise NotFound(
            f"task {task_id!r} has no phase {phase!r}; its phases are "
            f"{', '.join(known) or '(none)'}"
            + (hint or f"; add one with `cairn task add-phase {task_id} {phase}`")
        )
    return row


def begin_phase(
    ws: Site,
    tx: Transaction,
    task_id: str,
    row: PhaseRow,
    *,
    ts: str,
    reopen: bool = False,
    override: str | None = None,
    exclusive: bool = True,
    **event_data: Any,
) -> str:
    """Make ``row`` active: the state rules, the gate, the stamps, the touch and the event.
    ``exclusive=False`` lets a runner that owns the task (``flow``) skip the one-active rule.
    Returns the state the phase had."""
    phase, state = row.name, row.state
    refusal = rules.start_refusal(task_id, phase, state, reopen=reopen)
    if refusal:
        raise TransitionError(refusal)
    if exclusive:
        other = tx.tasks.active_phase(task_id)
        if other is not None:
            raise TransitionError(
                f"phase {other.name!r} of {task_id!r} is still active; finish it first "
                f"(`cairn phase done {task_id} {other.name}`, or `cairn phase fail ...`)"
            )
    event = "phase.reopened" if state == "done" else "phase.started"
    activate(ws, tx, task_id, row, override, ts, event, previous=state, **event_data)
    return state


def activate(
    ws: Site,
    tx: Transaction,
    task_id: str,
    row: PhaseRow,
    override: str | None,
    ts: str,
    event: str,
    **data: Any,
) -> None:
    """The writes of a start, once the move is allowed: the gate, the stamps, the event."""
    if row.gated:
        from cairn.domain.gates import check_gate

        check_gate(tx, task_id, row.name, override=override, ts=ts)
    tx.tasks.set_phase_state(task_id, row.name, "active", ts)
    tx.tasks.touch(task_id, ts)
    append(tx, task_id, event, ts, phase=row.name, **data)


def close(
    tx: Transaction,
    task_id: str,
    phase: str,
    new: str,
    error: str | None,
    ts: str,
    **data: Any,
) -> PhaseRow:
    """The writes of an end, once the move is allowed."""
    done = tx.tasks.set_phase_state(task_id, phase, new, ts, error)
    tx.tasks.touch(task_id, ts)
    append(
        tx, task_id, f"phase.{new}", ts, phase=phase, **data, **({"error": error} if error else {})
    )
    return done


def end_phase_in(
    tx: Transaction,
    task_id: str,
    phase: str,
    new: str,
    ts: str,
    error: str | None = None,
    **event_data: Any,
) -> PhaseRow:
    """Move an active phase to done, failed or blocked, inside the caller's transaction."""
    row = tx.tasks.phase(task_id, phase)
    if row is None:
        raise NotFound(f"task {task_id!r} has no phase {phase!r}; see `cairn task show`")
    refusal = rules.end_refusal(task_id, phase, row.state, new)
    if refusal:
        raise TransitionError(refusal)
    return close(tx, task_id, phase, new, error, ts, **event_data)


def start_phase(
    ws: Site,
    task_id: str,
    phase: str,
    *,
    reopen: bool = False,
    override: str | None = None,
    create: bool = False,
) -> Task:
    names.phase_name(phase)
    ts = now()
    with ws.store.write() as tx:
        task = canonical(tx, task_id)
        row = tx.tasks.phase(task.id, phase)
        if row is None:
            if not create:
                phase_or_explain(tx, task.id, phase)
            row = ensure_phase(tx, task.id, phase, gated=False, ts=ts)
        begin_phase(ws, tx, task.id, row, ts=ts, reopen=reopen, override=override)
        out = load(tx, task)
    ws.announce(Change("phase", task.id))
    return out


def end_phase(ws: Site, task_id: str, phase: str, new: str, error: str | None) -> Task:
    names.phase_name(phase)
    ts = now()
    with ws.store.write() as tx:
        task = canonical(tx, task_id)
        end_phase_in(tx, task.id, phase, new, ts, error)
        out = load(tx, task)
    ws.announce(Change("phase", task.id))
    return out


def remove_phase(ws: Site, task_id: str, phase: str) -> Task:
    """Take a phase out of a task (outside `cairn run --reset`). An active phase is refused:
    finish or fail it first. What it wrote (checkpoints, steps, the journal) stays; its runner
    records go, so a workflow that still names it starts it afresh."""
    names.phase_name(phase)
    ts = now()
    with ws.store.write() as tx:
        task = canonical(tx, task_id)
        row = phase_or_explain(tx, task.id, phase, "; see them with `cairn task show`")
        if row.state == "active":
            raise TransitionError(
                f"phase {phase!r} of {task.id!r} is active; finish it (`cairn phase done "
                f"{task.id} {phase}`) or fail it before you remove it"
            )
        tx.tasks.remove_phase(task.id, phase)
        tx.runs.reset_phase_runs(task.id, phase)
        tx.tasks.touch(task.id, ts)
        append(tx, task.id, "phase.removed", ts, phase=phase, state=row.state, reason="removed")
        out = load(tx, task)
    ws.announce(Change("phase", task.id))
    return out
