"""Worker subagents: a function or a command run in its own process, returning a capped summary.

The seed's ``spawn_subagent``: the details of a job stay in the worker and its log, and the caller
receives only a short summary::

    results = spawn_many(ws, "finding4", [
        Worker("repair", fn=repair_data, inputs=["data/raw.jsonl"], outputs=["data/clean.jsonl"]),
        Worker("expand", cmd=["python", "scripts/expand.py"], outputs=["data/eval.jsonl"]),
    ], max_parallel=3)

How a worker runs
- Each worker is a forked child (``multiprocessing``, start method "fork", so functions defined in
  a workflow script work) that starts its own session and process group, with the workspace root as
  its working directory. A ``fn`` runs in that child; a ``cmd`` (an argv list, no shell) runs as a
  subprocess of it. ``CAIRN_WORKSPACE``, ``CAIRN_TASK`` and ``CAIRN_WORKER`` are set for it. A
  workspace object the worker inherits from the orchestrator is given its own store connection in
  the worker (an SQLite connection must not cross a fork), so a function may use it.
- Its stdout and stderr go to its own log, ``<logs>/workers/<task>/<name>.log`` (appended, one
  header line per run).
- The summary: for ``fn`` its return value (a str as is; a dict or list as compact JSON; ``None``
  means "use the summary file or the log"). For ``cmd``, and for ``fn`` returning None: the text of
  ``summary_file`` if given, else of a declared output named ``summary.md``/``*_summary.md``/
  ``summary.txt``, else the last 10 non-empty lines of its log (stdout and stderr as interleaved
  there). It is capped at ``summary_chars`` (default 1,500): a longer one is cut and ends with
  ``[summary truncated: …]`` naming the log, which then holds the full text.
- Declared inputs must exist before anything starts (else :class:`ValidationError`); declared
  outputs must exist when it ends, else it is "failed".
- Past ``timeout`` seconds its whole process group gets SIGTERM, then SIGKILL after 2 s: state
  "timeout". A raise, a crash or a non-zero exit is "failed", with the last 20 log lines. The other
  workers go on either way.

Durability: a row per (task, name) in the ``workers`` table. The worker process records its own end
(done or failed), so a worker that finished is known as finished even if the orchestrator died
before collecting it. On the next call a done worker (same spec, outputs present) is not run again:
its stored result comes back with ``reused=True``. A worker that was running when its orchestrator
died is killed if it still runs (its process group) and is run again.

Executors: the local processes above, or tasks on a Ray cluster (``[workers] executor = "ray"`` in
``.cairn/config.toml``, or ``CAIRN_WORKERS_EXECUTOR=ray``), with the same rows and results; there
the orchestrator records every end (:mod:`cairn.domain.ray_executor`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cairn.core import procs
from cairn.core.errors import CairnError, ValidationError
from cairn.domain.leases import host_name
from cairn.domain.notices import Change
from cairn.domain.worker_runs import (
    ICONS,
    SCHEMA_WORKERS,
    TRUNCATION_MARKER,
    Plan,
    Worker,
    WorkerResult,
    cap_summary,
    case_twin,
    owner_liveness,
    prepare,
    record_end,
    run_row,
    status_section,
    stored_results,
    to_result,
    worker_lease,
    worker_row,
)

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace
    from cairn.store.contract.runs import WorkerRunRow


def _settle_previous(ws: Workspace, plan: Plan, row: WorkerRunRow) -> WorkerResult | None:
    """Decide about an earlier run: its result to reuse, or None to run the worker (again)."""
    w = plan.worker
    if row.state == "running":
        lease = worker_lease(ws, row)
        owner = owner_liveness(lease, row)
        here = owner.host == host_name()
        if owner.reason == "lease live" and not here:
            raise CairnError(
                f"worker {w.name!r} of task {plan.task_id!r} is running under another "
                f"orchestrator on host {owner.host} (process {owner.pid}); wait for it to finish "
                f"or stop it there. If that machine is gone, run again after its lease runs out "
                f"(in {max(owner.remaining_s or 0, 0):.0f} s)"
            )
        if here and row.owner_pid != os.getpid() and procs.alive(row.owner_pid, row.owner_start):
            raise CairnError(
                f"worker {w.name!r} of task {plan.task_id!r} is running under another "
                f"orchestrator (process {row.owner_pid}); wait for it to finish or stop that "
                "process, then run again"
            )
        killed = False
        if here and procs.alive(row.pid, row.pid_start):  # a worker process elsewhere: not ours
            procs.signal_group(int(row.pid or 0), signal.SIGKILL)
            deadline = time.monotonic() + 5
            while procs.alive(row.pid, row.pid_start) and time.monotonic() < deadline:
                time.sleep(0.01)
            killed = True
        fresh = run_row(ws, row.run_id)
        if fresh is not None and fresh.state != "running":
            row = fresh  # it finished while we looked
        else:
            seconds, until = _interrupted_duration(ws, row, killed)
            record_end(
                ws,
                row.run_id,
                "failed",
                summary="interrupted: its orchestrator stopped while it ran; it runs again",
                exit_code=None,
                log_tail="",
                duration_s=seconds,
                reason="orchestrator died",
                orphan_killed=killed,
                duration_until=until,
            )
            return None
    if row.state != "done" or w.rerun:
        return None
    why = ""
    if row.spec_hash != plan.spec_hash:
        why = "its definition changed"
    else:
        gone = [p for p in plan.outputs if not (ws.root / p).exists()]
        if gone:
            why = f"its outputs are gone: {', '.join(gone)}"
    if why:
        ws.record_event(plan.task_id, "worker.rerun", worker=w.name, reason=why)
        return None
    ws.record_event(plan.task_id, "worker.reused", worker=w.name, attempt=row.attempt)
    return to_result(row, reused=True)


def _interrupted_duration(ws: Workspace, row: WorkerRunRow, killed: bool) -> tuple[float, str]:
    """How long an interrupted run ran, and until what: the moment it was killed, else (it had
    died unseen) its log's last write, else the moment it was found dead."""
    from datetime import datetime

    started = datetime.fromisoformat(row.started_at.replace("Z", "+00:00")).timestamp()
    end, until = time.time(), "killed" if killed else "found dead"
    if not killed:
        with contextlib.suppress(OSError):
            end, until = (ws.root / row.log_path).stat().st_mtime, "last log write"
    return max(0.0, end - started), until


def executor_name(ws: Workspace) -> str:
    """Where workers run: ``CAIRN_WORKERS_EXECUTOR`` if set, else ``[workers] executor``."""
    from cairn.core.config import WORKER_EXECUTORS

    name = os.environ.get("CAIRN_WORKERS_EXECUTOR", "").strip() or ws.config.workers_executor
    if name not in WORKER_EXECUTORS:
        raise ValidationError(
            f"CAIRN_WORKERS_EXECUTOR={name!r} is not an executor; use one of: "
            + ", ".join(WORKER_EXECUTORS)
        )
    return name


def spawn_many(
    ws: Workspace, task_id: str, workers: Sequence[Worker], *, max_parallel: int = 3
) -> list[WorkerResult]:
    """Run workers in parallel (at most ``max_parallel`` at once); one result per worker, in order.

    Workers that finished in an earlier run are not run again (``reused=True``). A worker that
    fails or times out does not stop the others; look at ``result.state``.
    """
    if isinstance(max_parallel, bool) or not isinstance(max_parallel, int) or max_parallel < 1:
        raise ValidationError(f"max_parallel={max_parallel!r} must be a whole number >= 1")
    task_id = ws.resolve_task(task_id)
    plans = [prepare(ws, task_id, w) for w in workers]
    seen: dict[str, str] = {}
    for p in plans:
        k = p.worker.name.casefold()
        if k in seen:
            raise ValidationError(
                f"two workers are named {seen[k]!r} and {p.worker.name!r}; give each a unique name"
            )
        seen[k] = p.worker.name
    for p in plans:
        other = case_twin(ws, task_id, p.worker.name)
        if other is not None:
            # Their log files would be one file on a case-insensitive filesystem.
            raise ValidationError(
                f"worker {p.worker.name!r} differs only in case from the earlier worker "
                f"{other!r} of task {task_id!r}; use that name or a different one"
            )
    results: dict[str, WorkerResult] = {}
    to_run: list[Plan] = []
    for p in plans:
        row = worker_row(ws, task_id, p.worker.name)
        got = _settle_previous(ws, p, row) if row is not None else None
        if got is not None:
            results[p.worker.name] = got
        else:
            to_run.append(p)
    if to_run:
        if executor_name(ws) == "ray":
            from cairn.domain.ray_executor import run_all
        else:
            from cairn.domain.local_executor import run_all

        run_all(ws, to_run, results, max_parallel)
    ws.announce(Change("worker", task_id, settle=True))
    return [results[p.worker.name] for p in plans]


def spawn(ws: Workspace, task_id: str, worker: Worker) -> WorkerResult:
    """Run one worker and wait for it (see :func:`spawn_many`)."""
    return spawn_many(ws, task_id, [worker], max_parallel=1)[0]


__all__ = [
    "ICONS",
    "SCHEMA_WORKERS",
    "TRUNCATION_MARKER",
    "Worker",
    "WorkerResult",
    "cap_summary",
    "spawn",
    "spawn_many",
    "status_section",
    "stored_results",
]
