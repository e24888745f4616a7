"""What runs on a Ray node for one cairn worker: the job, its captured log, its result.

The orchestrator (:mod:`cairn.domain.ray_executor`) sends a :class:`Job` as a Ray task; the task
returns a plain dict and never touches the store, because the node may not see the workspace's disk.
Its stdout and stderr (file descriptors 1 and 2, so a ``cmd`` child's output too) go to a file on the
node that a pump thread streams, a chunk every ``PUMP_S``, to the orchestrator's log sink actor; the
orchestrator appends them to the run's log in the workspace.

Files: with ``files = "shared"`` the node sees the workspace at the same path (one machine, or a
shared filesystem) and the job runs in it, as a local worker does; the task checks that by finding
its run's header line in its log. With ``files = "ship"`` the job runs in a scratch folder on the
node holding copies of its declared inputs, and its declared outputs come back in the result.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cairn.domain.local_executor import KILL_GRACE_S, SUMMARY_LINES, _render_value, _tail
from cairn.domain.worker_runs import cap_summary

PUMP_S = 0.2
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class Job:
    """Everything a node needs to run one worker (pickled by Ray; ``fn`` by cloudpickle)."""

    run_id: str
    task_id: str
    name: str
    fn: Callable[..., Any] | None
    cmd: list[str] | None
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    env: dict[str, str]
    timeout: float
    summary_chars: int
    summary_rel: str | None
    log_rel: str
    outputs: list[str]
    root: str
    files: str  # shared | ship
    inputs: dict[str, bytes] = field(default_factory=dict)  # ship: relative path -> content


class _Pump:
    """Streams what is appended to ``path`` to the sink, in order, until stopped."""

    def __init__(self, path: Path, run_id: str, sink: Any) -> None:
        self.path, self.run_id, self.sink = path, run_id, sink
        self.offset = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="cairn-log-pump", daemon=True)

    def _send(self) -> Any:
        last = None
        with contextlib.suppress(OSError), self.path.open("rb") as f:
            while True:
                f.seek(self.offset)
                data = f.read(CHUNK_BYTES)
                if not data:
                    break
                self.offset += len(data)
                last = self.sink.put.remote(self.run_id, data)
        return last

    def _loop(self) -> None:
        while not self.stop.wait(PUMP_S):
            with contextlib.suppress(Exception):  # a dead sink: the orchestrator is gone
                self._send()

    def finish(self) -> None:
        """Stop the thread and send the rest, waiting until the sink holds all of it."""
        self.stop.set()
        self.thread.join()
        last = self._send()
        if last is not None:
            import ray

            with contextlib.suppress(Exception):
                ray.get(last, timeout=30)


@contextlib.contextmanager
def _captured(path: Path) -> Iterator[None]:
    """fds 1 and 2 (and sys.stdout/err) into ``path`` for the job, restored after: the Ray worker
    process runs other tasks later."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    old = sys.stdout, sys.stderr
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = old
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


@contextlib.contextmanager
def _environ(env: dict[str, str], cwd: str) -> Iterator[None]:
    before, here = dict(os.environ), os.getcwd()
    os.environ.update(env)
    os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(here)
        os.environ.clear()
        os.environ.update(before)


def _sees_workspace(job: Job) -> bool:
    """The orchestrator wrote this run's header (with its run id) to the log just before sending
    the job: finding it proves that this node sees the same workspace at the same path."""
    try:
        with (Path(job.root) / job.log_rel).open("rb") as f:
            f.seek(max(0, f.seek(0, 2) - 65536))
            return job.run_id.encode() in f.read()
    except OSError:
        return False


def _run_cmd(job: Job, cwd: str) -> tuple[str, int | None, str]:
    try:
        proc = subprocess.Popen(
            job.cmd or [],
            stdin=subprocess.DEVNULL,
            stdout=1,
            stderr=2,
            cwd=cwd,
            env=dict(os.environ),
            start_new_session=True,  # its own group: a time-out ends it and what it started
        )
    except OSError as exc:
        why = f"could not start {job.cmd!r}: {exc.strerror or exc}; check that the program exists"
        return "failed", None, why
    try:
        code = proc.wait(timeout=job.timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(KILL_GRACE_S)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        why = f"timed out after {job.timeout:g} s; its process group was killed on the Ray node"
        return "timeout", None, why + " (raise timeout= if it needs longer)"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # anything it left running
    return ("done", 0, "") if code == 0 else ("failed", code, f"exited with code {code}")


def _run_fn(job: Job) -> tuple[str, int | None, str, str | None]:
    assert job.fn is not None
    try:
        try:
            return "done", 0, "", _render_value(job.fn(*job.args, **job.kwargs))
        except SystemExit as exc:
            if exc.code not in (None, 0):
                raise
            return "done", 0, "", None
    except BaseException as exc:
        tb = exc.__traceback__.tb_next if exc.__traceback__ is not None else None
        traceback.print_exception(type(exc), exc, tb)
        code = exc.code if isinstance(exc, SystemExit) else 1
        return (
            "failed",
            code if isinstance(code, int) else 1,
            f"raised {type(exc).__name__}: {exc}",
            None,
        )


def _remove_stale_scratch() -> None:
    """Scratch folders of Ray workers that were killed (a time-out, a dead orchestrator) and so
    could not remove their own."""
    from cairn.core.procs import pid_alive

    for entry in Path(tempfile.gettempdir()).glob("cairn-ray-*-*"):
        pid = entry.name.split("-")[2]
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)


def run_job(job: Job, sink: Any) -> dict[str, Any]:
    """The Ray task: run the job on this node and return its result (the orchestrator records it)."""
    import socket

    import ray

    started = time.monotonic()
    sink.started.remote(job.run_id)  # the orchestrator's clock for the time limit starts now
    _remove_stale_scratch()
    base = Path(tempfile.mkdtemp(prefix=f"cairn-ray-{os.getpid()}-"))
    log = base / "log"
    log.touch()
    pump = _Pump(log, job.run_id, sink)
    result: dict[str, Any] = {
        "node": ray.get_runtime_context().get_node_id(),
        "host": socket.gethostname(),
        "files": {},
    }
    summary: str | None = None
    try:
        pump.thread.start()
        with _captured(log):
            if job.files == "ship":
                cwd = base / "work"
                cwd.mkdir()
                for rel, data in job.inputs.items():
                    (cwd / rel).parent.mkdir(parents=True, exist_ok=True)
                    (cwd / rel).write_bytes(data)
                workdir = str(cwd)
            else:
                workdir = job.root
            env = {"CAIRN_TASK": job.task_id, "CAIRN_WORKER": job.name, "CAIRN_EXECUTOR": "ray"}
            if job.files == "shared":
                env["CAIRN_WORKSPACE"] = job.root
            env.update(job.env)
            if job.files == "shared" and not _sees_workspace(job):
                state, code = "failed", None
                reason = (
                    f"the Ray node {result['host']} does not see the workspace at {job.root}; "
                    'mount it there, or set [workers] files = "ship" to send inputs and outputs'
                )
            else:
                with _environ(env, workdir):
                    if job.fn is not None:
                        state, code, reason, summary = _run_fn(job)
                    else:
                        state, code, reason = _run_cmd(job, workdir)
            here = Path(workdir)
            if state == "done":
                missing = [p for p in job.outputs if not (here / p).exists()]
                if missing:
                    state = "failed"
                    reason = f"finished but its declared outputs are missing: {', '.join(missing)}"
            if state == "done" and job.files == "ship":
                result["files"] = {p: (here / p).read_bytes() for p in job.outputs}
            tail = _tail(log, 0)
            if state == "done":
                if summary is None and job.summary_rel is not None:
                    with contextlib.suppress(OSError):
                        summary = (here / job.summary_rel).read_text("utf-8", errors="replace")
                if summary is None or not summary.strip():
                    summary = _tail(log, 0, SUMMARY_LINES) or "done (no output)"
            else:
                summary = f"{reason}\n--- last log lines ---\n{tail}" if tail else reason
            capped = cap_summary(summary, job.summary_chars, job.log_rel)
            if capped != summary.strip():
                print(f"--- full summary ({len(summary):,} characters) ---\n{summary}")
            duration = time.monotonic() - started
            print(
                f"=== {state} (exit code {code}) after {duration:.2f} s "
                f"on Ray node {result['node'][:12]} ({result['host']}) ==="
            )
        result.update(
            state=state,
            exit_code=code,
            reason=reason,
            summary=capped,
            log_tail=tail,
            duration_s=duration,
        )
    finally:
        pump.finish()
        shutil.rmtree(base, ignore_errors=True)
    return result
