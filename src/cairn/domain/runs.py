"""Durable phase runs (``task.run()``, ``cairn run``: ``cairn.flow.durable``).

The runner moves phases through the one state machine of :mod:`cairn.domain.tasks`. What it adds:
the phases kept in line with the workflow's definition, the restart in place of a phase whose
process died (:func:`cairn.core.rules.run_action`), and one attempt record per start holding the
phase's result, kept in the store's ``runs`` area.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from cairn.core import names, rules
from cairn.core.errors import CairnError, NotFound, UsageError
from cairn.core.model import Checkpoint
from cairn.domain import leases
from cairn.domain.base import canonical, now
from cairn.domain.checkpoints import coerce_content, insert_checkpoint
from cairn.domain.journal import append
from cairn.domain.notices import Change
from cairn.domain.tasks import activate, close, ensure_phase
from cairn.store.contract.runs import PhaseRunRow

if TYPE_CHECKING:
    from cairn.domain.base import Site
    from cairn.store import Tx


def sync_phases(ws: Site, task_id: str, phases: Sequence[tuple[str, bool]]) -> bool:
    """Make the task's phases the given ``(name, gated)`` ones, in that order; returns whether
    anything changed. A pending phase not given goes (journaled): it holds no work and would
    keep the task from ever looking done. The caller refuses a renamed or reordered started
    phase first (a started phase not given keeps its place after the given ones)."""
    ts = now()
    changed = False
    with ws.store.write() as tx:
        task_id = canonical(tx, task_id).id
        rows = sorted(tx.tasks.phases(task_id), key=lambda p: (p.position, p.name))
        existing = {r.name: r for r in rows}
        given = [names.phase_name(name) for name, _gated in phases]
        for name, gated in phases:
            row = existing.get(name)
            if row is None:
                changed = True
                ensure_phase(tx, task_id, name, gated=gated, ts=ts)
            elif row.gated != gated:
                changed = True
                tx.tasks.set_gated(task_id, name, gated)
        for r in rows:
            if r.name not in given and r.state == "pending":
                changed = True
                tx.tasks.remove_phase(task_id, r.name)
                append(tx, task_id, "phase.removed", ts, phase=r.name, reason="not defined")
        for pos, name in enumerate(given, 1):
            row = existing.get(name)
            if row is None or row.position != pos:
                changed = True
                tx.tasks.set_position(task_id, name, pos)
    return changed


class LeaseLost(CairnError):
    """Another machine took over this run's phase (its lease had expired): what it did is not
    recorded as the phase's result; the run there does the phase again."""


def begin_phase_run(
    ws: Site, task_id: str, phase: str, *, pid: int, host: str
) -> rules.PhaseRun | None:
    """Start ``phase`` as a new attempt, or restart it if it is still active (the process of
    the earlier attempt died: its record is marked crashed). None if the phase is done.

    The attempt takes the phase's lease (``domain/leases.py``). An earlier attempt whose lease is
    still live on another machine (or in another workspace on this one) is refused: that run goes
    on; once its lease expires, this call resumes the phase here."""
    names.phase_name(phase)
    host = os.environ.get("CAIRN_HOST") or host
    keeper = leases.keeper(ws.store, ws.config)
    ts = now()
    # The start marker skips the fsync: it only tells a later run that this phase was running
    # when its process died. It survives a killed process (the WAL frames are written); a
    # power loss may drop it, and then the phase simply looks pending and runs again from its
    # start, which is what a crash recovery does too. The next synced commit makes it durable.
    with ws.store.light_write() as tx:
        task_id = canonical(tx, task_id).id
        row = tx.tasks.phase(task_id, phase)
        if row is None:
            raise NotFound(f"task {task_id!r} has no phase {phase!r}; see `cairn task show`")
        action = rules.run_action(row.state)
        if action == rules.RUN_SKIP:
            return None
        key = leases.phase_key(task_id, phase)
        _refuse_if_live(tx, task_id, phase, key)
        # No live lease, and the runner holds the task's run lock: attempts still running died.
        running = tx.runs.crash_running(task_id, phase, ts)
        crashed = running[-1] if action == rules.RUN_RESTART and running else None
        attempt = 1 + tx.runs.attempts(task_id, phase)
        if action == rules.RUN_RESTART:
            append(
                tx,
                task_id,
                "phase.restarted",
                ts,
                phase=phase,
                attempt=attempt,
                previous_pid=crashed.pid if crashed else None,
                previous_host=crashed.host if crashed else None,
            )
        else:
            activate(
                ws, tx, task_id, row, None, ts, "phase.started", previous=row.state, attempt=attempt
            )
        run = tx.runs.add_phase_run(task_id, phase, attempt=attempt, pid=pid, host=host, ts=ts)
        holder = leases.phase_holder(run.id)
        tx.leases.acquire(key, holder, host=host, pid=pid, ttl_s=keeper.ttl_s, steal=True)
    keeper.add(key, holder)
    return rules.PhaseRun(
        run.id,
        task_id,
        phase,
        attempt,
        action == rules.RUN_RESTART,
        crashed.pid if crashed else None,
        crashed.attempt if crashed else None,
    )


def _refuse_if_live(tx: Tx, task_id: str, phase: str, key: str) -> None:
    """Refuse to restart a phase whose newest running attempt still holds a live lease."""
    running = [r for r in tx.runs.phase_runs(task_id, phase) if r.state == "running"]
    if not running:
        return
    last = running[-1]
    lease = tx.leases.get(key)
    if lease is None or lease.holder != leases.phase_holder(last.id):
        return  # recorded before leases: the run lock and the pid decide, as before
    if lease.host == leases.host_name() and lease.pid == os.getpid():
        return  # this process's own earlier attempt, which is not running any more
    seen = leases.judge(lease, lease.holder, pid=last.pid, host=last.host)
    if seen.alive:
        raise UsageError(
            f"phase {phase!r} of task {task_id!r} is running on host {lease.host} (pid "
            f"{lease.pid}, attempt {last.attempt}); wait for it to finish or stop it there. If that "
            f"machine is gone, run again after its lease runs out ({lease.expires_at}, in "
            f"{max(lease.remaining_s, 0):.0f} s) and the phase resumes here"
        )


def _check_lease(tx: Tx, run: rules.PhaseRun) -> str:
    """The run's lease holder; LeaseLost if another run took the phase over meanwhile."""
    holder = leases.phase_holder(run.id)
    lease = tx.leases.get(leases.phase_key(run.task_id, run.phase))
    if lease is not None and lease.holder != holder:
        raise LeaseLost(
            f"phase {run.phase!r} of task {run.task_id!r} was taken over by host {lease.host} "
            f"(pid {lease.pid}) after this run's lease expired (the store was out of reach, or "
            "this process stalled); its result is not recorded: the run there does the phase again"
        )
    return holder


def finish_phase_run(
    ws: Site,
    run: rules.PhaseRun,
    result_type: str,
    *,
    text: str | None = None,
    checkpoint: Checkpoint | None = None,
    result_json: str | None = None,
) -> str | None:
    """Mark the phase of ``run`` done with its result, in one durable transaction; returns the
    artifact holding the result. ``text`` is stored as a checkpoint named after the phase,
    ``checkpoint`` names one the phase wrote. Raises ValidationError, changing nothing, when
    ``text`` cannot be stored. The status file is the runner's to render (when its run ends,
    or while a phase runs long), not a cost paid at every phase boundary."""
    task_id, phase = run.task_id, run.phase
    data = None
    if text is not None:
        ws.before_write(task_id, phase)  # a hand edit first
        text, data = coerce_content(ws.config, text)
    ts = now()
    kind = version = path = None
    with ws.store.write() as tx:
        holder = _check_lease(tx, run)
        if checkpoint is not None:
            kind, version, path = checkpoint.kind, checkpoint.version, checkpoint.path
        elif text is not None and data is not None:
            cp = insert_checkpoint(ws, tx, task_id, phase, text, data, (), phase, "write", ts)
            kind, version, path = cp.kind, cp.version, cp.path
        close(tx, task_id, phase, "done", None, ts, attempt=run.attempt, result=result_type)
        tx.runs.end_phase_run(
            run.id,
            "done",
            ts,
            result_type=result_type,
            result_kind=kind,
            result_version=version,
            result_json=result_json,
        )
        tx.leases.release(leases.phase_key(task_id, phase), holder)
    leases.keeper(ws.store, ws.config).drop(leases.phase_key(task_id, phase), holder)
    ws.announce(
        Change("checkpoint", task_id, phase) if text is not None else Change("phase", task_id)
    )
    return path


def fail_phase_run(ws: Site, run: rules.PhaseRun, error: str) -> None:
    """Mark the phase of ``run`` failed with ``error`` (what it wrote is kept)."""
    ts = now()
    key = leases.phase_key(run.task_id, run.phase)
    try:
        with ws.store.write() as tx:
            holder = _check_lease(tx, run)
            close(tx, run.task_id, run.phase, "failed", error, ts)
            tx.runs.end_phase_run(run.id, "failed", ts, error=error)
            tx.leases.release(key, holder)
    except LeaseLost:
        return  # the phase is another run's now: its failure here is not the phase's
    finally:
        leases.keeper(ws.store, ws.config).drop(key, leases.phase_holder(run.id))
    ws.announce(Change("phase", run.task_id))


def reset_phases(
    ws: Site, task_id: str, phase: str, *, keep: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Make ``phase`` and every phase started after it pending again, so they run again; those
    not in ``keep`` (no longer defined) are removed. Their checkpoints stay in the history.
    Returns (reset, removed)."""
    names.phase_name(phase)
    kept = set(keep)
    with ws.store.write() as tx:
        task_id = canonical(tx, task_id).id
        rows = sorted(tx.tasks.phases(task_id), key=lambda p: (p.position, p.name))
        order = [r.name for r in rows]
        if phase not in order:
            raise NotFound(
                f"task {task_id!r} has no recorded phase {phase!r}; its phases are "
                f"{', '.join(order) or '(none)'}"
            )
        idx = order.index(phase)
        affected = [r for r in rows[idx:] if r.state != "pending" or r.name == phase]
        reset, removed = [], []
        ts = now()
        for r in affected:
            if r.name in kept:
                tx.tasks.set_phase_state(task_id, r.name, "pending", ts)
                reset.append(r.name)
            else:
                tx.tasks.remove_phase(task_id, r.name)
                removed.append(r.name)
            tx.runs.reset_phase_runs(task_id, r.name)
        append(tx, task_id, "phase.reset", ts, phases=reset, removed=removed)
    ws.announce(Change("phase", task_id))
    return reset, removed


def phase_checkpointed(ws: Site, task_id: str, phase: str) -> bool:
    """Whether a checkpoint was written during ``phase`` or is named after it."""
    with ws.store.read() as tx:
        task_id = canonical(tx, task_id).id
        return tx.checkpoints.of_phase_exists(task_id, phase)


def phase_runs(ws: Site, task_id: str, phase: str | None = None) -> list[PhaseRunRow]:
    """The recorded attempts of the task's phases (or of one), oldest first."""
    with ws.store.read() as tx:
        task_id = canonical(tx, task_id).id
        return tx.runs.phase_runs(task_id, phase)
