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
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.core import names
from cairn.core.errors import CairnError, ValidationError

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from cairn.domain.workspace import Workspace
    from cairn.store import Row, Tx

SCHEMA_WORKERS = "cairn.workers/1"
TAIL_LINES = 20
SUMMARY_LINES = 10
TAIL_CHARS = 4000
KILL_GRACE_S = 2.0
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


def _now() -> str:
    from cairn.domain.workspace import now

    return now()


# -- preparing -----------------------------------------------------------------------------------
@dataclass
class _Plan:
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


def _prepare(ws: Workspace, task_id: str, w: Worker) -> _Plan:
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

    return _Plan(
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


# -- processes -----------------------------------------------------------------------------------
def _proc_info(pid: int) -> tuple[str, str] | None:
    """(start time, state) of a live process from /proc, or None if there is none."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = data[data.rindex(")") + 2 :].split()
    return rest[19], rest[0]


def _start_marker(pid: int) -> str | None:
    info = _proc_info(pid)
    return info[0] if info else None


def _alive(pid: int | None, start: str | None) -> bool:
    if not pid:
        return False
    if Path("/proc/self/stat").exists():
        info = _proc_info(pid)
        if info is None or info[1] == "Z":
            return False
        return start is None or info[0] == start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        # Before the child ran setsid() its group is not its pid yet.
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
    except PermissionError:
        pass


def _tail(path: Path, offset: int, lines: int = TAIL_LINES) -> str:
    try:
        with path.open("rb") as f:
            size = f.seek(0, 2)
            start = max(offset, size - 64 * 1024)
            f.seek(start)
            data = f.read()
    except OSError:
        return ""
    text = data.decode("utf-8", "replace")
    kept = [ln.rstrip() for ln in text.splitlines() if ln.strip()][-lines:]
    out = "\n".join(kept)
    return out[-TAIL_CHARS:]


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


def _render_value(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(value)


def _log_line(path: Path, text: str) -> int:
    """Append a line to the log; returns the size after it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (text.rstrip("\n") + "\n").encode("utf-8"))
        return os.fstat(fd).st_size
    finally:
        os.close(fd)


# -- the store -----------------------------------------------------------------------------------
def _row(ws: Workspace, task_id: str, name: str) -> Row | None:
    with ws.store.read() as tx:
        return tx.one("SELECT * FROM workers WHERE task_id = ? AND name = ?", (task_id, name))


def _row_by_run(ws: Workspace, run_id: str) -> Row | None:
    with ws.store.read() as tx:
        return tx.one("SELECT * FROM workers WHERE run_id = ?", (run_id,))


def _result(row: Row, *, reused: bool) -> WorkerResult:
    return WorkerResult(
        name=row["name"],
        state=row["state"],
        summary=row["summary"] or "",
        exit_code=row["exit_code"],
        log_path=row["log_path"],
        duration_s=float(row["duration_s"] or 0.0),
        reused=reused,
        log_tail=row["log_tail"] or "",
        outputs=list(json.loads(row["outputs"])),
    )


def _finish(
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
    ts = _now()
    with ws.store.transaction() as tx:
        row = tx.one(
            "SELECT task_id, name, attempt, state FROM workers WHERE run_id = ?", (run_id,)
        )
        if row is None or row["state"] != "running":
            return False
        tx.execute(
            "UPDATE workers SET state = ?, finished_at = ?, duration_s = ?, exit_code = ?, "
            "summary = ?, log_tail = ? WHERE run_id = ? AND state = 'running'",
            (state, ts, round(duration_s, 3), exit_code, summary, log_tail, run_id),
        )
        ws._event(
            tx,
            row["task_id"],
            "worker.finished" if state == "done" else "worker.failed",
            ts,
            worker=row["name"],
            state=state,
            attempt=row["attempt"],
            exit_code=exit_code,
            duration_s=round(duration_s, 3),
            summary=summary[:500],
            log_tail=log_tail[-1500:] if state != "done" else "",
            **extra,
        )
    return True


# -- the worker process --------------------------------------------------------------------------
_INHERITED_STORES: list[Any] = []


def _reconnect_inherited() -> None:
    """Give every Workspace copied from the orchestrator a store connection of this process.

    An SQLite connection must not be used across ``fork``; a worker function that closes over the
    orchestrator's workspace (or a phase context holding it) would otherwise share one. The old
    connections are kept referenced and never closed here, so nothing of the parent's is touched.
    """
    import gc

    from cairn.domain.workspace import DB_NAME, Workspace
    from cairn.store import open_store

    for obj in gc.get_objects():
        if isinstance(obj, Workspace):
            try:
                fresh = open_store(obj.cairn_dir / DB_NAME)
            except CairnError:
                # A workspace that is gone or damaged (a finished temp workspace still
                # referenced): not this worker's business; using it fails as it would have.
                continue
            _INHERITED_STORES.append(obj.store)
            obj.store = fresh


def _child_main(root: str, plan: _Plan, run_id: str, offset: int) -> None:
    """Runs in the forked worker process. Records its own end in the store."""
    os.setsid()  # its own process group: a timeout kills it and everything it started
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    log_fd = os.open(plan.log_full, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log_fd, 1)
    os.dup2(log_fd, 2)
    os.close(log_fd)
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    import faulthandler

    faulthandler.enable(file=sys.stderr)  # a hard crash (SIGSEGV...) leaves its stack in the log
    started = time.monotonic()
    w = plan.worker
    from cairn.domain.workspace import Workspace

    _reconnect_inherited()
    ws = Workspace.open(root, search=False)
    # Only a crash of the whole machine could lose this, and then the process is gone too.
    with ws.store.light_transaction() as tx:
        tx.execute(
            "UPDATE workers SET pid = ?, pid_start = ? WHERE run_id = ?",
            (os.getpid(), _start_marker(os.getpid()), run_id),
        )
    os.chdir(root)
    env = {"CAIRN_WORKSPACE": root, "CAIRN_TASK": plan.task_id, "CAIRN_WORKER": w.name}
    env.update(w.env or {})
    state, reason = "done", ""
    exit_code: int | None = 0
    summary: str | None = None
    try:
        if w.fn is not None:
            os.environ.update(env)
            try:
                summary = _render_value(w.fn(*w.args, **w.kwargs))
            except SystemExit as exc:
                if exc.code not in (None, 0):
                    raise
        else:
            import subprocess

            try:
                proc = subprocess.Popen(
                    w.cmd or [],
                    stdin=subprocess.DEVNULL,
                    stdout=1,
                    stderr=2,
                    cwd=root,
                    env={**os.environ, **env},
                )
            except OSError as exc:
                state, exit_code = "failed", None
                reason = (
                    f"could not start {w.cmd!r}: {exc.strerror or exc}; check that the program "
                    "exists and is executable"
                )
            else:
                exit_code = proc.wait()
                if exit_code != 0:
                    state = "failed"
                    reason = f"exited with code {exit_code}"
    except BaseException as exc:
        import traceback

        # Leave out this frame: the worker's own code is what the log should show.
        tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
        traceback.print_exception(type(exc), exc, tb)
        state = "failed"
        code = exc.code if isinstance(exc, SystemExit) else 1
        exit_code = code if isinstance(code, int) else 1
        reason = f"raised {type(exc).__name__}: {exc}"
    sys.stdout.flush()
    sys.stderr.flush()
    if state == "done":
        missing = [p for p in plan.outputs if not (Path(root) / p).exists()]
        if missing:
            state = "failed"
            reason = f"finished but its declared outputs are missing: {', '.join(missing)}"
    tail = _tail(plan.log_full, offset)
    if state == "done":
        if summary is None and plan.summary_rel is not None:
            with contextlib.suppress(OSError):
                summary = (Path(root) / plan.summary_rel).read_text(
                    encoding="utf-8", errors="replace"
                )
        if summary is None or not summary.strip():
            summary = _tail(plan.log_full, offset, SUMMARY_LINES) or "done (no output)"
    else:
        summary = f"{reason}\n--- last log lines ---\n{tail}" if tail else reason
    capped = cap_summary(summary, w.summary_chars, plan.log_rel)
    if capped != summary.strip():
        print(f"--- full summary ({len(summary):,} characters) ---\n{summary}")
    duration = time.monotonic() - started
    print(f"=== {state} (exit code {exit_code}) after {duration:.2f} s ===")
    sys.stdout.flush()
    _finish(
        ws,
        run_id,
        state,
        summary=capped,
        exit_code=exit_code,
        log_tail=tail,
        duration_s=duration,
        reason=reason,
    )
    ws.projector.after_change()
    ws.close()


# -- the orchestrator ----------------------------------------------------------------------------
@dataclass
class _Run:
    plan: _Plan
    proc: BaseProcess
    run_id: str
    offset: int
    started: float
    deadline: float


def _start(ws: Workspace, plan: _Plan, ctx: Any) -> _Run:
    import uuid

    w = plan.worker
    run_id = uuid.uuid4().hex
    ts = _now()
    with ws.store.transaction() as tx:
        prev = tx.one(
            "SELECT attempt FROM workers WHERE task_id = ? AND name = ?", (plan.task_id, w.name)
        )
        attempt = (prev["attempt"] if prev else 0) + 1
        me = os.getpid()
        tx.execute(
            "INSERT INTO workers (task_id, name, kind, spec, spec_hash, state, run_id, attempt, "
            "owner_pid, owner_start, pid, pid_start, started_at, finished_at, duration_s, "
            "exit_code, summary, log_path, log_tail, outputs) VALUES (?, ?, ?, ?, ?, 'running', ?, "
            "?, ?, ?, NULL, NULL, ?, NULL, NULL, NULL, NULL, ?, NULL, ?) "
            "ON CONFLICT (task_id, name) DO UPDATE SET kind = excluded.kind, spec = excluded.spec, "
            "spec_hash = excluded.spec_hash, state = 'running', run_id = excluded.run_id, "
            "attempt = excluded.attempt, owner_pid = excluded.owner_pid, "
            "owner_start = excluded.owner_start, pid = NULL, pid_start = NULL, "
            "started_at = excluded.started_at, finished_at = NULL, duration_s = NULL, "
            "exit_code = NULL, summary = NULL, log_path = excluded.log_path, log_tail = NULL, "
            "outputs = excluded.outputs",
            (
                plan.task_id,
                w.name,
                plan.kind,
                plan.spec,
                plan.spec_hash,
                run_id,
                attempt,
                me,
                _start_marker(me),
                ts,
                plan.log_rel,
                json.dumps(plan.outputs),
            ),
        )
        ws._event(
            tx,
            plan.task_id,
            "worker.started",
            ts,
            worker=w.name,
            kind=plan.kind,
            attempt=attempt,
            log=plan.log_rel,
            timeout_s=w.timeout,
        )
    offset = _log_line(
        plan.log_full,
        f"=== cairn worker {w.name} (task {plan.task_id}) attempt {attempt} started {ts} ===",
    )
    ws.projector.after_change()
    proc = ctx.Process(
        target=_child_main,
        args=(str(ws.root), plan, run_id, offset),
        name=f"cairn-worker-{w.name}",
    )
    proc.start()
    now = time.monotonic()
    return _Run(plan, proc, run_id, offset, now, now + w.timeout)


def _end_in_parent(ws: Workspace, run: _Run, state: str, reason: str) -> WorkerResult:
    tail = _tail(run.plan.log_full, run.offset)
    summary = f"{reason}\n--- last log lines ---\n{tail}" if tail else reason
    with contextlib.suppress(OSError):
        _log_line(run.plan.log_full, f"=== {state}: {reason} ===")
    _finish(
        ws,
        run.run_id,
        state,
        summary=cap_summary(summary, run.plan.worker.summary_chars, run.plan.log_rel),
        exit_code=run.proc.exitcode if state == "failed" else None,
        log_tail=tail,
        duration_s=time.monotonic() - run.started,
        reason=reason,
    )
    row = _row_by_run(ws, run.run_id)
    assert row is not None
    return _result(row, reused=False)


def _collect(ws: Workspace, run: _Run) -> WorkerResult:
    run.proc.join()
    pid = run.proc.pid
    if pid:
        _signal_group(pid, signal.SIGKILL)  # anything it left running in its group
    row = _row_by_run(ws, run.run_id)
    if row is not None and row["state"] != "running":
        return _result(row, reused=False)
    code = run.proc.exitcode
    if code is not None and code < 0:
        try:
            how = f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            how = f"was killed by signal {-code}"
    else:
        how = f"exited with code {code}"
    return _end_in_parent(ws, run, "failed", f"the worker process {how} before reporting a result")


def _timeout(ws: Workspace, run: _Run) -> WorkerResult:
    pid = run.proc.pid
    assert pid is not None
    _signal_group(pid, signal.SIGTERM)
    run.proc.join(KILL_GRACE_S)
    _signal_group(pid, signal.SIGKILL)
    run.proc.join()
    row = _row_by_run(ws, run.run_id)
    if row is not None and row["state"] != "running":
        return _result(row, reused=False)  # it finished just before the limit struck
    limit = run.plan.worker.timeout
    return _end_in_parent(
        ws,
        run,
        "timeout",
        f"timed out after {limit:g} s; its process group was killed (raise timeout= if it needs "
        "longer)",
    )


def _settle_previous(ws: Workspace, plan: _Plan, row: Row) -> WorkerResult | None:
    """Decide about an earlier run: its result to reuse, or None to run the worker (again)."""
    w = plan.worker
    if row["state"] == "running":
        if row["owner_pid"] != os.getpid() and _alive(row["owner_pid"], row["owner_start"]):
            raise CairnError(
                f"worker {w.name!r} of task {plan.task_id!r} is running under another "
                f"orchestrator (process {row['owner_pid']}); wait for it to finish or stop that "
                "process, then run again"
            )
        killed = False
        if _alive(row["pid"], row["pid_start"]):
            _signal_group(int(row["pid"]), signal.SIGKILL)
            deadline = time.monotonic() + 5
            while _alive(row["pid"], row["pid_start"]) and time.monotonic() < deadline:
                time.sleep(0.01)
            killed = True
        fresh = _row_by_run(ws, row["run_id"])
        if fresh is not None and fresh["state"] != "running":
            row = fresh  # it finished while we looked
        else:
            _finish(
                ws,
                row["run_id"],
                "failed",
                summary="interrupted: its orchestrator stopped while it ran; it runs again",
                exit_code=None,
                log_tail="",
                duration_s=0.0,
                reason="orchestrator died",
                orphan_killed=killed,
            )
            return None
    if row["state"] != "done" or w.rerun:
        return None
    why = ""
    if row["spec_hash"] != plan.spec_hash:
        why = "its definition changed"
    else:
        gone = [p for p in plan.outputs if not (ws.root / p).exists()]
        if gone:
            why = f"its outputs are gone: {', '.join(gone)}"
    if why:
        ws.record_event(plan.task_id, "worker.rerun", worker=w.name, reason=why)
        return None
    ws.record_event(plan.task_id, "worker.reused", worker=w.name, attempt=row["attempt"])
    return _result(row, reused=True)


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
    plans = [_prepare(ws, task_id, w) for w in workers]
    seen: dict[str, str] = {}
    for p in plans:
        k = p.worker.name.casefold()
        if k in seen:
            raise ValidationError(
                f"two workers are named {seen[k]!r} and {p.worker.name!r}; give each a unique name"
            )
        seen[k] = p.worker.name
    with ws.store.read() as tx:
        for p in plans:
            other = tx.scalar(
                "SELECT name FROM workers WHERE task_id = ? AND lower(name) = lower(?) "
                "AND name != ? LIMIT 1",
                (task_id, p.worker.name, p.worker.name),
            )
            if other is not None:
                # Their log files would be one file on a case-insensitive filesystem.
                raise ValidationError(
                    f"worker {p.worker.name!r} differs only in case from the earlier worker "
                    f"{other!r} of task {task_id!r}; use that name or a different one"
                )
    results: dict[str, WorkerResult] = {}
    to_run: list[_Plan] = []
    for p in plans:
        row = _row(ws, task_id, p.worker.name)
        got = _settle_previous(ws, p, row) if row is not None else None
        if got is not None:
            results[p.worker.name] = got
        else:
            to_run.append(p)
    if to_run:
        _run_all(ws, to_run, results, max_parallel)
    ws.projector.after_change()
    return [results[p.worker.name] for p in plans]


def _run_all(
    ws: Workspace, plans: list[_Plan], results: dict[str, WorkerResult], max_parallel: int
) -> None:
    import multiprocessing
    from multiprocessing.connection import wait

    ctx = multiprocessing.get_context("fork")
    pending = list(reversed(plans))
    running: dict[Any, _Run] = {}
    try:
        while pending or running:
            while pending and len(running) < max_parallel:
                run = _start(ws, pending.pop(), ctx)
                running[run.proc.sentinel] = run
            soonest = min(r.deadline for r in running.values())
            ready = wait(list(running), timeout=max(0.0, soonest - time.monotonic()))
            for sentinel in ready:
                run = running.pop(sentinel)
                results[run.plan.worker.name] = _collect(ws, run)
                run.proc.close()
            now = time.monotonic()
            for sentinel, run in list(running.items()):
                if now >= run.deadline:
                    del running[sentinel]
                    results[run.plan.worker.name] = _timeout(ws, run)
                    run.proc.close()
    except BaseException as exc:
        # Interrupted (Ctrl-C, an error here): stop the workers rather than leave them behind.
        for run in running.values():
            pid = run.proc.pid
            if pid:
                _signal_group(pid, signal.SIGKILL)
            run.proc.join()
            with contextlib.suppress(Exception):
                _end_in_parent(
                    ws, run, "failed", f"stopped: the orchestrator was interrupted ({exc!r})"
                )
        raise


def spawn(ws: Workspace, task_id: str, worker: Worker) -> WorkerResult:
    """Run one worker and wait for it (see :func:`spawn_many`)."""
    return spawn_many(ws, task_id, [worker], max_parallel=1)[0]


def stored_results(ws: Workspace, task_id: str) -> list[WorkerResult]:
    """The stored result of every worker of a task (the newest run of each)."""
    task_id = ws.resolve_task(task_id)
    with ws.store.read() as tx:
        rows = tx.execute(
            "SELECT * FROM workers WHERE task_id = ? ORDER BY started_at, name", (task_id,)
        )
    return [_result(r, reused=False) for r in rows]


# -- status --------------------------------------------------------------------------------------
def status_section(ws: Workspace, tx: Tx) -> tuple[str, Any, str] | None:
    """The workers block of the status file: running 🔄, done ✅, failed ❌, newest first."""
    rows = tx.execute(
        "SELECT task_id, name, state, attempt, started_at, finished_at, duration_s, summary, "
        "log_path, pid, pid_start FROM workers ORDER BY CASE WHEN state = 'running' THEN 0 "
        "ELSE 1 END, coalesce(finished_at, started_at) DESC LIMIT 12"
    )
    if not rows:
        return None
    items = []
    md = [
        "## Workers",
        "",
        "| worker | task | state | time | summary |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        state = r["state"]
        stale = state == "running" and r["pid"] is not None and not _alive(r["pid"], r["pid_start"])
        first = (r["summary"] or "").strip().splitlines()
        line = first[0] if first else ""
        if len(line) > 90:
            line = line[:87] + "..."
        items.append(
            {
                "task": r["task_id"],
                "name": r["name"],
                "state": state,
                "attempt": r["attempt"],
                "started_at": r["started_at"],
                "finished_at": r["finished_at"],
                "duration_s": r["duration_s"],
                "summary": line,
                "log": r["log_path"],
                "process_gone": stale,
            }
        )
        shown = f"{ICONS.get(state, '?')} {state}"
        if stale:
            shown += " (process gone; runs again on resume)"
        when = (
            f"{r['duration_s']:.1f} s"
            if r["duration_s"] is not None
            else f"since {r['started_at']}"
        )
        cell = line.replace("|", "\\|") or "—"
        md.append(f"| {r['name']} | {r['task_id']} | {shown} | {when} | {cell} |")
    md.append("")
    return "workers", {"schema": SCHEMA_WORKERS, "workers": items}, "\n".join(md)


__all__ = [
    "TRUNCATION_MARKER",
    "Worker",
    "WorkerResult",
    "cap_summary",
    "spawn",
    "spawn_many",
    "status_section",
    "stored_results",
]
