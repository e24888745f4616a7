"""Liveness by lease (issue 12): a running phase holds a lease its process renews; another machine
(here: another CAIRN_HOST on the same store) sees it running on its host, refuses to run it twice,
sees it interrupted once the lease expires after a SIGKILL and resumes it; on the phase's own host
a dead pid is seen at once. A run whose lease was taken over cannot record its result, and a
renewal outage shorter than the time-out does not lose the lease."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from cairn.domain import leases
from cairn.domain.runs import LeaseLost
from cairn.domain.workspace import Workspace
from cairn.store.memory import MemoryStore

WORKFLOW = """\
import pathlib, time, cairn
task = cairn.open('.').task('t1')
@task.phase('work')
def work(ctx):
    ctx.progress('slow part', state='active')
    pathlib.Path('started').write_text(str(ctx.attempt))
    while not pathlib.Path('fast').exists():
        time.sleep(0.05)
    return 'done'
"""


def _cairn(
    root: Path, host: str, *args: str, lease: float = 1.0
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CAIRN_HOST": host, "CAIRN_LEASE_S": str(lease)}
    return subprocess.run(
        [sys.executable, "-m", "cairn", *args], cwd=root, env=env, capture_output=True, text=True
    )


def _status(root: Path, host: str) -> dict[str, Any]:
    r = _cairn(root, host, "status", "--json")
    assert r.returncode == 0, r.stderr
    sections: dict[str, Any] = json.loads(r.stdout)["sections"]
    return sections


@contextmanager
def _running_phase(root: Path, host: str, lease: float) -> Iterator[subprocess.Popen[bytes]]:
    (root / "wf.py").write_text(WORKFLOW, encoding="utf-8")
    env = {**os.environ, "CAIRN_HOST": host, "CAIRN_LEASE_S": str(lease)}
    proc = subprocess.Popen([sys.executable, "-m", "cairn", "run", "wf.py"], cwd=root, env=env)
    try:
        deadline = time.monotonic() + 60
        while not (root / "started").exists():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    Workspace.init(tmp_path).close()
    return tmp_path


def test_another_host_sees_where_it_runs_then_the_expiry_and_resumes_it(root: Path) -> None:
    with _running_phase(root, "m1", lease=3.0) as proc:
        time.sleep(4.0)  # longer than the lease: only the renewals keep it live
        seen = _status(root, "m2")
        assert "stale_phases" not in seen
        [live] = seen["running_phases"]["phases"]
        assert (live["task"], live["phase"], live["host"], live["pid"]) == (
            "t1",
            "work",
            "m1",
            proc.pid,
        )
        assert live["lease_expires_at"]
        text = (root / "CURRENT_WORK_STATUS.md").read_text(encoding="utf-8")
        assert "## Running phases" in text and "t1 / work (attempt 1): on m1" in text
        twice = _cairn(root, "m2", "run", "wf.py")  # one workspace: its run lock says no first
        assert twice.returncode != 0 and "being run by another process" in twice.stderr
        brief = _cairn(root, "m2", "recover")
        assert "**Running on**: m1" in brief.stdout
        os.kill(proc.pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while True:
        stale = _status(root, "m2").get("stale_phases")
        if stale is not None:
            break
        assert time.monotonic() < deadline, "the lease never expired"
        time.sleep(0.2)
    [dead] = stale["phases"]
    assert (dead["host"], dead["reason"], dead["pid"]) == ("m1", "lease expired", proc.pid)
    assert "stopped renewing its lease" in _cairn(root, "m2", "recover").stdout
    (root / "fast").write_text("1")
    done = _cairn(root, "m2", "run", "wf.py")
    assert done.returncode == 0, done.stderr
    assert (root / "started").read_text() == "2"
    log = _cairn(root, "m2", "log", "--task", "t1", "--type", "phase.restarted", "--json")
    [event] = json.loads(log.stdout)["events"]
    assert event["data"]["previous_host"] == "m1" and event["data"]["previous_pid"] == proc.pid
    with Workspace.open(root) as ws:
        runs = ws.phase_runs("t1", "work")
        assert [(r.state, r.host) for r in runs] == [("crashed", "m1"), ("done", "m2")]
        with ws.store.read() as tx:
            assert tx.leases.all() == []  # released when the phase ended
    assert "stale_phases" not in _status(root, "m2")


def test_on_its_own_host_a_dead_process_is_seen_at_once(root: Path) -> None:
    with _running_phase(root, "m1", lease=60.0) as proc:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        [dead] = _status(root, "m1")["stale_phases"]["phases"]
        assert dead["reason"] == "process gone"  # the lease has a minute left
        assert "stale_phases" not in _status(root, "m2")  # elsewhere: wait for the lease
    (root / "fast").write_text("1")
    assert _cairn(root, "m1", "run", "wf.py").returncode == 0  # no wait on its own host


def test_a_run_whose_lease_was_taken_over_records_nothing(root: Path) -> None:
    with Workspace.open(root) as ws:
        ws.create_task("t2", "x", ["a"])
        run = ws.begin_phase_run("t2", "a", pid=os.getpid(), host="m1")
        assert run is not None
        with ws.store.write() as tx:  # another machine resumed it after the lease expired
            tx.leases.acquire(
                leases.phase_key("t2", "a"),
                "phase-run:999",
                host="m2",
                pid=1,
                ttl_s=30,
                steal=True,
            )
        with pytest.raises(LeaseLost, match="taken over by host m2"):
            ws.finish_phase_run(run, "text", text="late result")
        ws.fail_phase_run(run, "boom")  # not the phase's failure either
        task = ws.task("t2")
        assert task.phases[0].state == "active"
        assert not ws.has_checkpoint("t2", "a")


def test_a_live_lease_of_another_host_refuses_a_second_run(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workspaces on one shared store have two run locks: the lease is what says no."""
    from cairn.core.errors import UsageError

    with Workspace.open(root) as ws:
        ws.create_task("t3", "x", ["a"])
        monkeypatch.setenv("CAIRN_HOST", "m1")
        first = ws.begin_phase_run("t3", "a", pid=os.getpid(), host="m1")
        assert first is not None
        monkeypatch.setenv("CAIRN_HOST", "m2")
        with pytest.raises(UsageError, match=r"is running on host m1 .* resumes here"):
            ws.begin_phase_run("t3", "a", pid=os.getpid(), host="m2")
        with ws.store.write() as tx:  # the lease runs out: m1 stopped renewing
            tx.leases.renew([(leases.phase_key("t3", "a"), leases.phase_holder(first.id))], 0.3)
        leases.keeper(ws.store, ws.config).drop(
            leases.phase_key("t3", "a"), leases.phase_holder(first.id)
        )
        time.sleep(0.4)
        again = ws.begin_phase_run("t3", "a", pid=os.getpid(), host="m2")
        assert again is not None and again.restarted and again.attempt == 2
        ws.finish_phase_run(again, "none")
        assert ws.task("t3").phases[0].state == "done"


class _Flaky:
    """A store whose writes fail while ``down`` is set (a server that went away)."""

    def __init__(self) -> None:
        self.inner = MemoryStore()
        self.down = threading.Event()

    def light_write(self, **kw: Any) -> Any:
        if self.down.is_set():
            raise ConnectionError("server closed the connection")
        return self.inner.light_write(**kw)


def test_an_outage_shorter_than_the_time_out_does_not_lose_the_lease() -> None:
    store = _Flaky()
    with store.inner.write() as tx:
        tx.leases.acquire("k", "h", host="m1", pid=1, ttl_s=1.5)
    keeper = leases.Keeper(store, 1.5)  # type: ignore[arg-type]
    keeper.add("k", "h")
    time.sleep(0.6)
    store.down.set()
    lowest = 10.0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 0.9:  # an outage of 0.9 s, under 2/3 of the 1.5 s time-out
        with store.inner.read() as tx:
            row = tx.leases.get("k")
        assert row is not None
        lowest = min(lowest, row.remaining_s)
        time.sleep(0.02)
    assert keeper.failures > 0  # renewals were tried and failed meanwhile
    store.down.clear()
    time.sleep(0.4)  # the next retry (every 0.15 s) gets through
    with store.inner.read() as tx:
        row = tx.leases.get("k")
    assert row is not None and row.remaining_s > 1.0 and keeper.failures == 0
    assert lowest > 0  # never expired during the outage
    assert keeper.holds("k", "h") and not keeper.lost


def test_lease_time_out_is_checked(tmp_path: Path) -> None:
    from cairn.core.config import Config
    from cairn.core.errors import UsageError

    assert leases.lease_s(Config()) == leases.DEFAULT_LEASE_S
    assert leases.lease_s(Config(raw={"store": {"lease_s": 5}})) == 5.0
    with pytest.raises(UsageError, match="lease_s"):
        leases.lease_s(Config(raw={"store": {"lease_s": "soon"}}))


def _lease_seen(task: str, name: str) -> str:
    """Run in the worker: the lease its orchestrator holds for it, as the store has it."""
    import cairn as _cairn

    with _cairn.open(".") as ws, ws.store.read() as tx:
        row = tx.leases.get(leases.worker_key(task, name))
    return "none" if row is None else f"{row.host} {row.pid} {row.expired}"


def test_a_running_worker_holds_its_orchestrators_lease(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairn.domain.workers import Worker, spawn_many

    monkeypatch.setenv("CAIRN_HOST", "m1")
    with Workspace.open(root) as ws:
        ws.create_task("t4", "x")
        [res] = spawn_many(ws, "t4", [Worker("w", fn=_lease_seen, args=("t4", "w"))])
        assert res.ok and res.summary == f"m1 {os.getpid()} False"
        with ws.store.read() as tx:
            assert tx.leases.get(leases.worker_key("t4", "w")) is None  # released at its end
