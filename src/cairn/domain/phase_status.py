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


def interrupted(ws: Site, task_id: str, phase: str) -> int | None:
    """The pid of the gone process that was running ``phase`` of ``task_id``, else None."""
    with ws.store.read() as tx:
        rows = tx.execute(
            "SELECT r.pid, r.host FROM phases p JOIN phase_runs r ON r.task_id = p.task_id AND "
            "r.phase = p.name AND r.state = 'running' WHERE p.task_id = ? AND p.name = ? AND "
            "p.state = 'active' ORDER BY r.id DESC LIMIT 1",
            (task_id, phase),
        )
    if rows and _gone(int(rows[0]["pid"]), str(rows[0]["host"])):
        return int(rows[0]["pid"])
    return None


def status_section(ws: Site, tx: Tx) -> tuple[str, Any, str] | None:
    rows = tx.execute(
        "SELECT r.task_id, r.phase, r.attempt, r.pid, r.host, r.started_at FROM phases p "
        "JOIN phase_runs r ON r.task_id = p.task_id AND r.phase = p.name AND r.state = 'running' "
        "WHERE p.state = 'active' ORDER BY r.started_at DESC LIMIT 10"
    )
    stale = [r for r in rows if _gone(int(r["pid"]), str(r["host"]))]
    if not stale:
        return None
    items = [
        {
            "task": r["task_id"],
            "phase": r["phase"],
            "attempt": r["attempt"],
            "pid": r["pid"],
            "started_at": r["started_at"],
        }
        for r in stale
    ]
    md = ["## ⚠️ Interrupted phases", ""]
    md += [
        f"- {r['task_id']} / {r['phase']} (attempt {r['attempt']}, started {r['started_at']}): "
        f"its process {r['pid']} is gone; run its workflow again (`cairn run FILE`) and the "
        "phase runs again from its start, its progress steps kept"
        for r in stale
    ]
    md.append("")
    return "stale_phases", {"schema": SCHEMA_STALE_PHASES, "phases": items}, "\n".join(md)
