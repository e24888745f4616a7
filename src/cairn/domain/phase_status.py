"""The status file's note on durable phases whose process died while they ran.

A phase run by ``task.run()`` / ``cairn run`` stays *active* in the store when its process is
killed: the next run finds it and runs it again from its start. Until then the status file would
show it as if work were going on; this section says that its process is gone and what to do.
Light to import: the status is rendered after every command.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cairn.domain.base import Site
    from cairn.store import Tx
    from cairn.store.contract.runs import PhaseRunRow

SCHEMA_STALE_PHASES = "cairn.stale_phases/1"


def _gone(pid: int, host: str) -> bool:
    """Whether the process is certainly gone (only decidable on this host)."""
    if host != os.uname().nodename:  # what socket.gethostname() returns, without the import
        return False
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:  # a zombie has exited too
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def _running(tx: Tx, task_id: str, phase: str) -> PhaseRunRow | None:
    """The newest attempt of an active phase still marked running (its runner never ended it)."""
    running = [r for r in tx.runs.phase_runs(task_id, phase) if r.state == "running"]
    return running[-1] if running else None


def interrupted(ws: Site, task_id: str, phase: str) -> int | None:
    """The pid of the gone process that was running ``phase`` of ``task_id``, else None."""
    with ws.store.read() as tx:
        row = tx.tasks.phase(task_id, phase)
        run = _running(tx, task_id, phase) if row is not None and row.state == "active" else None
    if run is not None and _gone(run.pid, run.host):
        return run.pid
    return None


def status_section(ws: Site, tx: Tx) -> tuple[str, Any, str] | None:
    found = [_running(tx, p.task_id, p.name) for p in tx.tasks.active_phases(limit=10)]
    rows = sorted((r for r in found if r is not None), key=lambda r: r.started_at, reverse=True)
    stale = [r for r in rows if _gone(r.pid, r.host)]
    if not stale:
        return None
    items = [
        {
            "task": r.task_id,
            "phase": r.phase,
            "attempt": r.attempt,
            "pid": r.pid,
            "started_at": r.started_at,
        }
        for r in stale
    ]
    md = ["## ⚠️ Interrupted phases", ""]
    md += [
        f"- {r.task_id} / {r.phase} (attempt {r.attempt}, started {r.started_at}): "
        f"its process {r.pid} is gone; run its workflow again (`cairn run FILE`) and the "
        "phase runs again from its start, its progress steps kept"
        for r in stale
    ]
    md.append("")
    return "stale_phases", {"schema": SCHEMA_STALE_PHASES, "phases": items}, "\n".join(md)
