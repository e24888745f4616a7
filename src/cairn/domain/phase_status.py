"""The status file's notes on durable phases: where each running one runs, and those whose process
died while they ran.

A phase run by ``task.run()`` / ``cairn run`` stays *active* in the store when its process is
killed: the next run finds it and runs it again from its start. Until then the status file would
show it as if work were going on; the section says that it was interrupted (its lease expired, or
its process is gone on this host: ``domain/leases.py``) and what to do. With a store shared by
several machines it also says which host runs each active phase.
Light to import: the status is rendered after every command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.domain.leases import Liveness, host_name, judge, phase_holder, phase_key

if TYPE_CHECKING:
    from cairn.domain.base import Site
    from cairn.store import Tx
    from cairn.store.contract.runs import PhaseRunRow

SCHEMA_STALE_PHASES = "cairn.stale_phases/1"
SCHEMA_RUNNING_PHASES = "cairn.running_phases/1"


def _running(tx: Tx, task_id: str, phase: str) -> PhaseRunRow | None:
    """The newest attempt of an active phase still marked running (its runner never ended it)."""
    running = [r for r in tx.runs.phase_runs(task_id, phase) if r.state == "running"]
    return running[-1] if running else None


def _judged(tx: Tx, runs: list[PhaseRunRow]) -> list[tuple[PhaseRunRow, Liveness]]:
    found = tx.leases.many([phase_key(r.task_id, r.phase) for r in runs]) if runs else {}
    return [
        (
            r,
            judge(
                found.get(phase_key(r.task_id, r.phase)), phase_holder(r.id), pid=r.pid, host=r.host
            ),
        )
        for r in runs
    ]


def liveness(ws: Site, task_id: str, phase: str) -> tuple[PhaseRunRow, Liveness] | None:
    """The running attempt of an active phase and what is known of its process, else None."""
    with ws.store.read() as tx:
        row = tx.tasks.phase(task_id, phase)
        run = _running(tx, task_id, phase) if row is not None and row.state == "active" else None
        return _judged(tx, [run])[0] if run is not None else None


def interrupted(ws: Site, task_id: str, phase: str) -> int | None:
    """The pid of the dead process that was running ``phase`` of ``task_id``, else None."""
    seen = liveness(ws, task_id, phase)
    if seen is not None and not seen[1].alive:
        return seen[0].pid
    return None


def _judged_active(tx: Tx) -> list[tuple[PhaseRunRow, Liveness]]:
    found = [_running(tx, p.task_id, p.name) for p in tx.tasks.active_phases(limit=10)]
    rows = sorted((r for r in found if r is not None), key=lambda r: r.started_at, reverse=True)
    return _judged(tx, rows)


def status_section(ws: Site, tx: Tx) -> tuple[str, Any, str] | None:
    """The phases whose process died while they ran."""
    stale = [(r, s) for r, s in _judged_active(tx) if not s.alive]
    if not stale:
        return None
    md = ["## ⚠️ Interrupted phases", ""]
    md += [
        f"- {r.task_id} / {r.phase} (attempt {r.attempt}, started {r.started_at}, on "
        f"{s.host}): {_why(s)}; run its workflow again (`cairn run FILE`, on any machine "
        "sharing the store) and the phase runs again from its start, its progress steps kept"
        for r, s in stale
    ]
    md.append("")
    items = [_item(r, s) | {"reason": s.reason} for r, s in stale]
    return "stale_phases", {"schema": SCHEMA_STALE_PHASES, "phases": items}, "\n".join(md)


def running_section(ws: Site, tx: Tx) -> tuple[str, Any, str] | None:
    """The phases running now and where; in the status file only when one runs elsewhere (a
    store shared by several machines), so a single machine's status file is unchanged."""
    live = [(r, s) for r, s in _judged_active(tx) if s.alive]
    if not live:
        return None
    md: list[str] = []
    if any(s.host != host_name() for _, s in live):
        md += ["## Running phases", ""]
        md += [
            f"- {r.task_id} / {r.phase} (attempt {r.attempt}): on {s.host}, pid {s.pid}"
            + (f", lease until {s.expires_at}" if s.expires_at else "")
            for r, s in live
        ]
        md.append("")
    items = [_item(r, s) for r, s in live]
    return "running_phases", {"schema": SCHEMA_RUNNING_PHASES, "phases": items}, "\n".join(md)


def _why(s: Liveness) -> str:
    if s.reason == "lease expired":
        return f"its process {s.pid} stopped renewing its lease (expired {s.expires_at})"
    return f"its process {s.pid} is gone"


def _item(r: PhaseRunRow, s: Liveness) -> dict[str, Any]:
    return {
        "task": r.task_id,
        "phase": r.phase,
        "attempt": r.attempt,
        "pid": r.pid,
        "started_at": r.started_at,
        "host": s.host,
        "lease_expires_at": s.expires_at,
    }
