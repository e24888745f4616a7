"""The durable records of worker runs: what a worker is, its prepared plan, and its row in the store.

One row per (task, name) in the ``workers`` table, updated by each run: the orchestrator records the
start, the worker process its pid and its own end (so a worker that finished is known as finished
even if its orchestrator died before collecting it). The process side is in
:mod:`cairn.domain.local_executor`, the rules of reuse in :mod:`cairn.domain.workers`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.core import names, procs
from cairn.core.errors import ValidationError
from cairn.domain import journal, leases

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace
    from cairn.store import Tx
    from cairn.store.contract.leases import LeaseRow
    from cairn.store.contract.runs import WorkerRunRow

SCHEMA_WORKERS = "cairn.workers/1"
TRUNCATION_MARKER = "[summary truncated"
ICONS = {"running": "🔄", "done": "✅", "failed": "❌", "timeout": "❌"}
_SUMMARY_NAMES = ("summary.md", "summary.txt")


@dataclass
class Worker:
    """A job for a worker process: exactly one of ``fn`` (a function) or ``cmd`` (an argv list)."""

    name: str
    fn: Callable[..., Any] | None = None
    cmd: list[str] | None = None
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    timeout: float = 3600
    summary_chars: int = 1500
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] | None = None
    summary_file: str | None = None
    rerun: bool = False  # run even if an earlier run finished


@dataclass(frozen=True)
class WorkerResult:
    name: str
    state: str  # done | failed | timeout
    summary: str
    exit_code: int | None
    log_path: str
    duration_s: float
    reused: bool
    log_tail: str
    outputs: list[str]

    @property
    def ok(self) -> bool:
        return self.state == "done"


def now_ts() -> str:
    from cairn.domain.workspace import now

    return now()


# -- preparing -----------------------------------------------------------------------------------
@dataclass
class Plan:
    worker: Worker
    task_id: str
    log_rel: str
    log_full: Path
    outputs: list[str]
    summary_rel: str | None
    kind: str
    spec: str
    spec_hash: str


def _rel(ws: Workspace, path: str, what: str) -> tuple[str, Path]:
    full = names.inside(ws.root, path, what)
    return full.relative_to(ws.root.resolve()).as_posix(), full


def prepare(ws: Workspace, task_id: str, w: Worker) -> Plan:
    if not isinstance(w, Worker):
        raise ValidationError(f"spawn_many takes Worker(...) objects, not {type(w).__name__}")
    try:
        names.task_id(w.name)
    except ValidationError as exc:
        raise ValidationError(str(exc).replace("task id", "worker name", 1)) from None
    who = f"worker {w.name!r}"
    if (w.fn is None) == (w.cmd is None):
        raise ValidationError(f"{who} needs exactly one of fn= (a function) or cmd= (an argv list)")
    if w.cmd is not None:
        if isinstance(w.cmd, str) or not w.cmd or not all(isinstance(a, str) for a in w.cmd):
            raise ValidationError(
                f"{who}: cmd is a non-empty list of strings such as ['python', 'x.py'] "
                "(it runs without a shell)"
            )
    elif not callable(w.fn):
        raise ValidationError(f"{who}: fn must be callable")
    if not w.timeout or w.timeout <= 0:
        raise ValidationError(f"{who}: timeout must be a positive number of seconds")
    if w.summary_chars < 1:
        raise ValidationError(f"{who}: summary_chars must be at least 1")
    for path in w.inputs:
        rel, full = _rel(ws, path, f"{who} input")
        if not full.exists():
            raise ValidationError(
                f"{who} needs input {rel}, which does not exist; create it first (or fix the path) "
                "and run again. No worker was started"
            )
    outputs = [_rel(ws, p, f"{who} output")[0] for p in w.outputs]
    summary_rel = None
    if w.summary_file is not None:
        summary_rel = _rel(ws, w.summary_file, f"{who} summary file")[0]
    else:
        for rel in outputs:
            base = rel.rsplit("/", 1)[-1]
            if base in _SUMMARY_NAMES or base.endswith("_summary.md"):
                summary_rel = rel
                break
    log_rel, log_full = _rel(
        ws, f"{ws.config.logs_dir}/workers/{task_id}/{w.name}.log", f"{who} log"
    )
    if w.fn is not None:
        what: Any = f"{getattr(w.fn, '__module__', '?')}:{getattr(w.fn, '__qualname__', '?')}"
        kind = "fn"
    else:
        what, kind = list(w.cmd or []), "cmd"
    spec_doc = {"kind": kind, "run": what, "inputs": sorted(w.inputs), "outputs": sorted(outputs)}
    spec = json.dumps(spec_doc, sort_keys=True)
    import hashlib

    return Plan(
        w,
        task_id,
        log_rel,
        log_full,
        outputs,
        summary_rel,
        kind,
        spec,
        hashlib.sha256(spec.encode()).hexdigest()[:16],
    )


def cap_summary(text: str, limit: int, log_rel: str) -> str:
    """``text`` cut to ``limit`` characters, ending with a marker that names the full log."""
    text = text.strip()
    if len(text) <= limit:
        return text
    marker = f"\n{TRUNCATION_MARKER}: {len(text):,} characters in all; full text in {log_rel}]"
    keep = limit - len(marker)
    if keep < 20:
        return text[:limit]
    return text[:keep].rstrip() + marker


# -- the store -----------------------------------------------------------------------------------
def worker_row(ws: Workspace, task_id: str, name: str) -> WorkerRunRow | None:
    with ws.store.read() as tx:
        return tx.runs.worker(task_id, name)


def run_row(ws: Workspace, run_id: str) -> WorkerRunRow | None:
    with ws.store.read() as tx:
        return tx.runs.by_run(run_id)


def to_result(row: WorkerRunRow, *, reused: bool) -> WorkerResult:
    return WorkerResult(
        name=row.name,
        state=row.state,
        summary=row.summary or "",
        exit_code=row.exit_code,
        log_path=row.log_path,
        duration_s=float(row.duration_s or 0.0),
        reused=reused,
        log_tail=row.log_tail or "",
        outputs=list(row.outputs),
    )


def record_end(
    ws: Workspace,
    run_id: str,
    state: str,
    *,
    summary: str,
    exit_code: int | None,
    log_tail: str,
    duration_s: float,
    **extra: Any,
) -> bool:
    """Record the end of a run, if it is still running. False if it had already ended."""
    ts = now_ts()
    seconds = round(duration_s, 3)
    with ws.store.transaction() as tx:
        row = tx.runs.finish(
            run_id,
            state,
            ts=ts,
            duration_s=seconds,
            exit_code=exit_code,
            summary=summary,
            log_tail=log_tail,
        )
        if row is None:
            return False
        tx.leases.release(leases.worker_key(row.task_id, row.name), leases.worker_holder(run_id))
        journal.append(
            tx,
            row.task_id,
            "worker.finished" if state == "done" else "worker.failed",
            ts,
            worker=row.name,
            state=state,
            attempt=row.attempt,
            exit_code=exit_code,
            duration_s=seconds,
            summary=summary[:500],
            log_tail=log_tail[-1500:] if state != "done" else "",
            **extra,
        )
    return True


def record_start(ws: Workspace, plan: Plan, run_id: str) -> tuple[int, str]:
    """Record that ``plan`` starts as run ``run_id`` under this process; returns (attempt, ts)."""
    w = plan.worker
    ts = now_ts()
    me = os.getpid()
    # The orchestrator holds the run's lease while it runs (wherever the worker process runs):
    # a run whose orchestrator died is seen as interrupted from any machine once it expires.
    keeper = leases.keeper(ws.store, ws.config)
    key, holder = leases.worker_key(plan.task_id, w.name), leases.worker_holder(run_id)
    with ws.store.transaction() as tx:
        row = tx.runs.start(
            task_id=plan.task_id,
            name=w.name,
            kind=plan.kind,
            spec=plan.spec,
            spec_hash=plan.spec_hash,
            run_id=run_id,
            owner_pid=me,
            owner_start=procs.start_marker(me),
            ts=ts,
            log_path=plan.log_rel,
            outputs=plan.outputs,
        )
        journal.append(
            tx,
            plan.task_id,
            "worker.started",
            ts,
            worker=w.name,
            kind=plan.kind,
            attempt=row.attempt,
            log=plan.log_rel,
            timeout_s=w.timeout,
        )
        tx.leases.acquire(
            key, holder, host=leases.host_name(), pid=me, ttl_s=keeper.ttl_s, steal=True
        )
    keeper.add(key, holder)
    return row.attempt, ts


def owner_liveness(lease: LeaseRow | None, row: WorkerRunRow) -> leases.Liveness:
    """What is known of the orchestrator of a running worker run, from its lease (a run recorded
    before leases: from its pid on this host)."""
    return leases.judge(
        lease, leases.worker_holder(row.run_id), pid=row.owner_pid, host=leases.host_name()
    )


def worker_lease(ws: Workspace, row: WorkerRunRow) -> LeaseRow | None:
    with ws.store.read() as tx:
        return tx.leases.get(leases.worker_key(row.task_id, row.name))


def record_pid(ws: Workspace, run_id: str) -> None:
    """The worker process records itself (pid and start marker) on its run."""
    # Only a crash of the whole machine could lose this, and then the process is gone too.
    with ws.store.light_transaction() as tx:
        tx.runs.set_pid(run_id, os.getpid(), procs.start_marker(os.getpid()))


def case_twin(ws: Workspace, task_id: str, name: str) -> str | None:
    """An earlier worker of the task whose name differs from ``name`` only in case."""
    with ws.store.read() as tx:
        return tx.runs.case_twin(task_id, name)


def stored_results(ws: Workspace, task_id: str) -> list[WorkerResult]:
    """The stored result of every worker of a task (the newest run of each)."""
    task_id = ws.resolve_task(task_id)
    with ws.store.read() as tx:
        rows = tx.runs.of_task(task_id)
    return [to_result(r, reused=False) for r in rows]


# -- status --------------------------------------------------------------------------------------
def status_section(ws: Workspace, tx: Tx) -> tuple[str, Any, str] | None:
    """The workers block of the status file: running 🔄, done ✅, failed ❌, newest first."""
    rows = tx.runs.for_status(12)
    if not rows:
        return None
    held = tx.leases.many(
        [leases.worker_key(r.task_id, r.name) for r in rows if r.state == "running"]
    )
    here = leases.host_name()
    items = []
    md = [
        "## Workers",
        "",
        "| worker | task | state | time | summary |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        state = r.state
        lease = held.get(leases.worker_key(r.task_id, r.name))
        host = lease.host if lease is not None else here
        if state != "running":
            stale = False
        elif lease is not None and lease.holder == leases.worker_holder(r.run_id):
            stale = lease.expired or (  # its orchestrator stopped renewing, or its process died
                host == here and r.pid is not None and not procs.alive(r.pid, r.pid_start)
            )
        else:
            stale = r.pid is not None and not procs.alive(r.pid, r.pid_start)
        first = (r.summary or "").strip().splitlines()
        line = first[0] if first else ""
        if len(line) > 90:
            line = line[:87] + "..."
        items.append(
            {
                "task": r.task_id,
                "name": r.name,
                "state": state,
                "attempt": r.attempt,
                "started_at": r.started_at,
                "finished_at": r.finished_at,
                "duration_s": r.duration_s,
                "summary": line,
                "log": r.log_path,
                "process_gone": stale,
                "host": host if state == "running" else None,
            }
        )
        shown = f"{ICONS.get(state, '?')} {state}"
        if stale:
            shown += " (process gone; runs again on resume)"
        when = f"{r.duration_s:.1f} s" if r.duration_s is not None else f"since {r.started_at}"
        cell = line.replace("|", "\\|") or "—"
        md.append(f"| {r.name} | {r.task_id} | {shown} | {when} | {cell} |")
    md.append("")
    return "workers", {"schema": SCHEMA_WORKERS, "workers": items}, "\n".join(md)
