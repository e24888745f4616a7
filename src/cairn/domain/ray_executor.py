"""The Ray executor of workers: each ``cairn.Worker`` a Ray task on a cluster, recorded here.

Chosen by ``[workers] executor = "ray"`` in ``.cairn/config.toml`` (or ``CAIRN_WORKERS_EXECUTOR=ray``);
the cluster is ``RAY_ADDRESS``, else ``[workers] address``, else ``"auto"`` (a cluster started on this
machine with ``ray start``). The contract is the local executor's (:mod:`cairn.domain.workers`), with
one difference in who writes: a node may not see the workspace's disk or its store, so the task only
returns its result (:mod:`cairn.domain.ray_task`) and this process, the orchestrator, records every
start and end, appends the task's streamed output to the run's log, and writes shipped outputs.

- At most ``max_parallel`` tasks are in flight; they are placed with the SPREAD strategy, one CPU
  each (``[workers] num_cpus``). Ray never retries one (``max_retries=0``): a run is one attempt.
- Time limit: a ``cmd`` is ended by the task itself at ``timeout`` (its process group); past
  ``timeout`` (plus a grace period for a ``cmd``) the orchestrator force-cancels the task, which kills
  its Ray worker process, and records "timeout". The limit counts from the task's start on a node
  (its first word to the sink); a task still waiting for a free CPU after ``timeout + QUEUE_S`` is
  cancelled and recorded as a time-out too.
- Orchestrator death: Ray ends the tasks of a driver that died (they share its fate), and a result it
  computed but nobody recorded is lost with the driver, which owned it. On resume such a worker's
  row is still "running" under a dead owner, so it is marked interrupted and runs again, exactly as a
  local worker killed mid-run. A recorded result is never recorded again (a run ends once) and is
  reused, not re-run. So a worker that is not idempotent can run twice only if its orchestrator
  died in the instant between its task's end and the recording of its result.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cairn.core import names
from cairn.core.errors import CairnError, ValidationError
from cairn.domain.local_executor import KILL_GRACE_S, _log_line, _tail
from cairn.domain.notices import Change
from cairn.domain.ray_task import Job, run_job
from cairn.domain.worker_runs import (
    Plan,
    WorkerResult,
    cap_summary,
    record_end,
    record_start,
    run_row,
    to_result,
)

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace

WAIT_S = 0.25
QUEUE_S = 300.0  # how long a task may wait for a node with a free CPU, on top of its timeout
CONNECT_TIMEOUT_S = 5.0
FILE_MODES = ("shared", "ship")


@dataclass
class _Run:
    plan: Plan
    ref: Any
    run_id: str
    offset: int
    started: float
    limit: float  # its timeout, plus a grace period for a cmd (which ends itself at timeout)
    deadline: float
    on_node: bool = False


def settings(ws: Workspace) -> tuple[str, str, float]:
    """(address, files, num_cpus) from the environment and ``[workers]``."""
    sec = ws.config.section("workers")
    address = os.environ.get("RAY_ADDRESS", "").strip() or str(sec.get("address", "auto"))
    files = str(sec.get("files", "shared"))
    if files not in FILE_MODES:
        raise ValidationError(f'[workers] files = {files!r} must be "shared" or "ship"')
    try:
        cpus = float(sec.get("num_cpus", 1))
    except (TypeError, ValueError):
        cpus = -1.0
    if cpus < 0:
        raise ValidationError("[workers] num_cpus must be a number >= 0 (CPUs per worker task)")
    return address, files, cpus


def _reachable(address: str) -> None:
    """A one-line error now, rather than ray.init retrying for minutes against nothing."""
    import socket

    if address in ("auto", "local"):
        return
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ValidationError(
            f"Ray address {address!r} is not HOST:PORT (or ray://HOST:PORT); fix RAY_ADDRESS "
            "or [workers] address"
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise CairnError(
            f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}); start it "
            "(`ray start --head`) or point RAY_ADDRESS / [workers] address at it, or set "
            '[workers] executor = "local"'
        ) from None


def connect(address: str) -> bool:
    """Join the cluster as a driver, once per process (later calls reuse the connection, and Ray
    leaves it at exit); True if this call joined."""
    try:
        import ray
    except ImportError:
        raise CairnError(
            "the Ray executor needs Ray: pip install 'cairn-agent[ray]' "
            '(or set [workers] executor = "local")'
        ) from None
    if ray.is_initialized():
        return False
    _reachable(address)
    import logging

    try:
        ray.init(
            address=address,
            namespace="cairn",
            log_to_driver=False,  # the task's output goes to the worker's log, not our stdout
            logging_level=logging.WARNING,
            configure_logging=True,
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CairnError(
            f"cannot connect to the Ray cluster at {address}: {first}; start it (`ray start "
            "--head`) or point RAY_ADDRESS / [workers] address at it"
        ) from None
    return True


def _sink_class() -> Any:
    import ray

    class LogSink:
        """Holds streamed log chunks per run until the orchestrator takes them."""

        def __init__(self) -> None:
            self.chunks: dict[str, list[bytes]] = {}

        def put(self, run_id: str, data: bytes) -> None:
            self.chunks.setdefault(run_id, []).append(data)

        def started(self, run_id: str) -> None:
            self.chunks.setdefault(run_id, [])

        def take(self) -> dict[str, bytes]:
            """Every run heard from since the last take (a started one with b"")."""
            out, self.chunks = self.chunks, {}
            return {k: b"".join(v) for k, v in out.items()}

    return ray.remote(num_cpus=0, max_restarts=0)(LogSink)


_SINK: list[Any] = []  # this process's sink, made once: a new actor costs a worker process


def _sink() -> Any:
    if _SINK:
        import ray

        try:
            ray.get(_SINK[0].take.remote(), timeout=30)  # alive, and nothing stale left in it
            return _SINK[0]
        except Exception:  # gone (killed, or Ray was shut down and joined again): a new one
            _SINK.clear()
    _SINK.append(_sink_class().remote())
    return _SINK[0]


class _Session:
    """One ``run_all``: the remote function, the log sink and the runs in flight."""

    def __init__(self, ws: Workspace, files: str, cpus: float) -> None:
        import ray

        self.ray, self.ws, self.files = ray, ws, files
        self.sink = _sink()
        self.remote = ray.remote(run_job).options(
            max_retries=0, retry_exceptions=False, num_cpus=cpus, scheduling_strategy="SPREAD"
        )
        self.running: dict[Any, _Run] = {}

    def drain(self) -> None:
        """Append every streamed chunk to its run's log."""
        got: dict[str, bytes] = self.ray.get(self.sink.take.remote())
        by_id = {r.run_id: r for r in self.running.values()}
        for run_id, data in got.items():
            run = by_id.get(run_id)
            if run is None:
                continue
            if not run.on_node:  # its time limit counts from here, not from its time in queue
                run.on_node = True
                run.deadline = time.monotonic() + run.limit
            if data:
                with open(run.plan.log_full, "ab") as f:
                    f.write(data)

    def _job(self, plan: Plan, run_id: str) -> Job:
        w, root = plan.worker, self.ws.root
        inputs: dict[str, bytes] = {}
        if self.files == "ship":
            for p in w.inputs:
                full = names.inside(root, p, f"worker {w.name!r} input")
                rel = full.relative_to(root.resolve()).as_posix()
                inputs[rel] = full.read_bytes()
        return Job(
            run_id=run_id,
            task_id=plan.task_id,
            name=w.name,
            fn=w.fn,
            cmd=list(w.cmd) if w.cmd is not None else None,
            args=tuple(w.args),
            kwargs=dict(w.kwargs),
            env=dict(w.env or {}),
            timeout=float(w.timeout),
            summary_chars=w.summary_chars,
            summary_rel=plan.summary_rel,
            log_rel=plan.log_rel,
            outputs=list(plan.outputs),
            root=str(root.resolve()),
            files=self.files,
            inputs=inputs,
        )

    def start(self, plan: Plan) -> WorkerResult | None:
        """Record the start and send the task; a result at once if it could not be sent."""
        w = plan.worker
        run_id = uuid.uuid4().hex
        attempt, ts = record_start(self.ws, plan, run_id)
        offset = _log_line(
            plan.log_full,
            f"=== cairn worker {w.name} (task {plan.task_id}) attempt {attempt} started {ts} "
            f"on Ray (run {run_id}) ===",
        )
        self.ws.announce(Change("worker", plan.task_id, settle=True))
        now = time.monotonic()
        limit = w.timeout + (KILL_GRACE_S + 1.0 if w.cmd is not None else 0.0)
        run = _Run(plan, None, run_id, offset, now, limit, now + limit + QUEUE_S)
        try:
            run.ref = self.remote.remote(self._job(plan, run_id), self.sink)
        except Exception as exc:  # pickling the function, reading an input
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            why = (
                f"could not be sent to the Ray cluster ({type(exc).__name__}: {first}); a Ray "
                "worker's function and arguments must be picklable (no open workspace, "
                "connection or file)"
            )
            return self._end(run, "failed", why, None)
        self.running[run.ref] = run
        return None

    def _end(self, run: _Run, state: str, reason: str, out: dict[str, Any] | None) -> WorkerResult:
        plan = run.plan
        if out is None:
            tail = _tail(plan.log_full, run.offset)
            summary = f"{reason}\n--- last log lines ---\n{tail}" if tail else reason
            with contextlib.suppress(OSError):
                _log_line(plan.log_full, f"=== {state}: {reason} ===")
            summary = cap_summary(summary, plan.worker.summary_chars, plan.log_rel)
            extra: dict[str, Any] = {}
            code, seconds = None, time.monotonic() - run.started
        else:
            state, summary, code = out["state"], out["summary"], out["exit_code"]
            tail, seconds, reason = out["log_tail"], out["duration_s"], out["reason"]
            extra = {"node": out["node"], "host": out["host"]}
            for rel, data in out["files"].items():
                from cairn.core.fsutil import atomic_write

                atomic_write(names.inside(self.ws.root, rel, "worker output"), data, sync=True)
        record_end(
            self.ws,
            run.run_id,
            state,
            summary=summary,
            exit_code=code,
            log_tail=tail,
            duration_s=seconds,
            reason=reason,
            executor="ray",
            **extra,
        )
        row = run_row(self.ws, run.run_id)
        assert row is not None
        return to_result(row, reused=False)

    def collect(self, ref: Any) -> WorkerResult:
        from ray.exceptions import RayError, RayTaskError

        run = self.running[ref]
        out: dict[str, Any] | None = None
        try:
            out = self.ray.get(ref)
        except RayTaskError as exc:
            first = (str(exc).strip().splitlines() or ["?"])[0]
            why = f"the Ray task failed: {first}"
        except RayError as exc:
            why = f"its Ray worker died before reporting a result ({type(exc).__name__})"
        self.drain()  # the task sent the last of its log before it returned
        del self.running[ref]
        if out is None:
            return self._end(run, "failed", why, None)
        return self._end(run, out["state"], out["reason"], out)

    def time_out(self, ref: Any) -> WorkerResult:
        from ray.exceptions import RayError

        run = self.running[ref]
        self.ray.cancel(ref, force=True)
        out: dict[str, Any] | None = None
        with contextlib.suppress(RayError, TimeoutError):
            out = self.ray.get(ref, timeout=30)  # it finished just before the limit struck
        self.drain()
        del self.running[ref]
        if out is not None:
            return self._end(run, out["state"], out["reason"], out)
        limit = run.plan.worker.timeout
        why = f"timed out after {limit:g} s; its Ray task was cancelled (raise timeout= if it needs longer)"
        if not run.on_node:
            why = (
                f"did not start on a Ray node within {limit + QUEUE_S:g} s (no node with a free "
                "CPU?); its Ray task was cancelled"
            )
        return self._end(run, "timeout", why, None)

    def stop_all(self, exc: BaseException) -> None:
        for ref, run in list(self.running.items()):
            with contextlib.suppress(Exception):
                self.ray.cancel(ref, force=True)
            with contextlib.suppress(Exception):
                self._end(
                    run, "failed", f"stopped: the orchestrator was interrupted ({exc!r})", None
                )
        self.running.clear()


def run_all(
    ws: Workspace, plans: list[Plan], results: dict[str, WorkerResult], max_parallel: int
) -> None:
    address, files, cpus = settings(ws)
    connect(address)
    import ray

    session: _Session | None = None
    try:
        session = _Session(ws, files, cpus)
        pending = list(reversed(plans))
        while pending or session.running:
            while pending and len(session.running) < max_parallel:
                plan = pending.pop()
                early = session.start(plan)
                if early is not None:
                    results[plan.worker.name] = early
            if not session.running:
                continue
            refs = list(session.running)
            soonest = min(r.deadline for r in session.running.values())
            wait = min(WAIT_S, max(0.0, soonest - time.monotonic()))
            ready, _ = ray.wait(refs, num_returns=1, timeout=wait)
            if ready:
                ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
            session.drain()
            for ref in ready:
                name = session.running[ref].plan.worker.name
                results[name] = session.collect(ref)
            now = time.monotonic()
            for ref, run in list(session.running.items()):
                if now >= run.deadline:
                    results[run.plan.worker.name] = session.time_out(ref)
    except BaseException as exc:
        if session is not None:
            session.stop_all(exc)
        raise
