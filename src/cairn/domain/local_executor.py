"""The local-process executor of workers: each worker a forked child in its own process group.

A ``fn`` runs in the child; a ``cmd`` (an argv list, no shell) runs as a subprocess of it. Its stdout
and stderr go to its log; it records its own end in the store (:mod:`cairn.domain.worker_runs`).
Past its timeout the whole group gets SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.core import procs
from cairn.core.errors import CairnError
from cairn.domain.notices import Change
from cairn.domain.worker_runs import (
    Plan,
    WorkerResult,
    cap_summary,
    record_end,
    record_pid,
    record_start,
    run_row,
    to_result,
)

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from cairn.domain.workspace import Workspace

TAIL_LINES = 20
SUMMARY_LINES = 10
TAIL_CHARS = 4000
KILL_GRACE_S = 2.0


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


# -- the worker process --------------------------------------------------------------------------
_INHERITED_STORES: list[Any] = []


def _reconnect_inherited() -> None:
    """Give every Workspace copied from the orchestrator a store connection of this process.

    An SQLite connection must not be used across ``fork``; a worker function that closes over the
    orchestrator's workspace (or a phase context holding it) would otherwise share one. The old
    connections are kept referenced and never closed here, so nothing of the parent's is touched.
    """
    import gc

    from cairn.domain.workspace import Workspace, store_location
    from cairn.store import open_store

    for obj in gc.get_objects():
        if isinstance(obj, Workspace):
            try:
                fresh = open_store(store_location(obj.cairn_dir, obj.config))
            except CairnError:
                # A workspace that is gone or damaged (a finished temp workspace still
                # referenced): not this worker's business; using it fails as it would have.
                continue
            _INHERITED_STORES.append(obj.store)
            obj.store = fresh


def _child_main(
    root: str, plan: Plan, run_id: str, offset: int, listeners: tuple[str, ...]
) -> None:
    """Runs in the forked worker process. Records its own end in the store, and tells the
    orchestrator's listeners (opened here by name) of it."""
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
    ws = Workspace.open(root, search=False, listeners=listeners)
    record_pid(ws, run_id)
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
    record_end(
        ws,
        run_id,
        state,
        summary=capped,
        exit_code=exit_code,
        log_tail=tail,
        duration_s=duration,
        reason=reason,
    )
    ws.announce(Change("worker", plan.task_id, settle=True))
    ws.close()


# -- the orchestrator ----------------------------------------------------------------------------
@dataclass
class _Run:
    plan: Plan
    proc: BaseProcess
    run_id: str
    offset: int
    started: float
    deadline: float


def _start(ws: Workspace, plan: Plan, ctx: Any) -> _Run:
    import uuid

    w = plan.worker
    run_id = uuid.uuid4().hex
    attempt, ts = record_start(ws, plan, run_id)
    offset = _log_line(
        plan.log_full,
        f"=== cairn worker {w.name} (task {plan.task_id}) attempt {attempt} started {ts} ===",
    )
    ws.announce(Change("worker", plan.task_id, settle=True))
    proc = ctx.Process(
        target=_child_main,
        args=(str(ws.root), plan, run_id, offset, ws.listener_specs),
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
    record_end(
        ws,
        run.run_id,
        state,
        summary=cap_summary(summary, run.plan.worker.summary_chars, run.plan.log_rel),
        exit_code=run.proc.exitcode if state == "failed" else None,
        log_tail=tail,
        duration_s=time.monotonic() - run.started,
        reason=reason,
    )
    row = run_row(ws, run.run_id)
    assert row is not None
    return to_result(row, reused=False)


def _collect(ws: Workspace, run: _Run) -> WorkerResult:
    run.proc.join()
    pid = run.proc.pid
    if pid:
        procs.signal_group(pid, signal.SIGKILL)  # anything it left running in its group
    row = run_row(ws, run.run_id)
    if row is not None and row.state != "running":
        return to_result(row, reused=False)
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
    procs.signal_group(pid, signal.SIGTERM)
    run.proc.join(KILL_GRACE_S)
    procs.signal_group(pid, signal.SIGKILL)
    run.proc.join()
    row = run_row(ws, run.run_id)
    if row is not None and row.state != "running":
        return to_result(row, reused=False)  # it finished just before the limit struck
    limit = run.plan.worker.timeout
    return _end_in_parent(
        ws,
        run,
        "timeout",
        f"timed out after {limit:g} s; its process group was killed (raise timeout= if it needs "
        "longer)",
    )


def run_all(
    ws: Workspace, plans: list[Plan], results: dict[str, WorkerResult], max_parallel: int
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
                procs.signal_group(pid, signal.SIGKILL)
            run.proc.join()
            with contextlib.suppress(Exception):
                _end_in_parent(
                    ws, run, "failed", f"stopped: the orchestrator was interrupted ({exc!r})"
                )
        raise
