"""`cairn agent run` holds a lease (issue 12): two "machines" (workspaces in separate folders,
separate processes, CAIRN_HOST m1 and m2) share one PostgreSQL store. While m1's run lives, m2
lists it as running on m1 and is refused a second run of the task (the pid check cannot judge a
process on another host); once m1 is SIGKILLed and its lease expires, m2 lists it as interrupted
and its own run takes over, recording m1's as crashed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cairn.domain.workspace import Workspace
from cairn.models.scripted_suites import get_suite
from cairn.store.contract.leases import LeaseRow

# Long enough that a renewer starved on a loaded machine (renewals come every third of it) never
# loses the live run's lease; the wait for its expiry after the kill polls, so it costs only what
# is left of it.
LEASE_S = 10.0

# m1's runtime: the demo's scripted model, which stops answering after its second call, so that
# the run is alive (and renewing its lease) for as long as the test needs.
_STUCK = """
import asyncio
from cairn.agent import RunOptions, run_task
from cairn.domain.workspace import Workspace
from cairn.models.scripted import scripted_model
from cairn.models.scripted_suites import get_suite
model = scripted_model(get_suite("demo"), "demo")
inner = model.function
calls = [0]
async def fn(messages, info):
    calls[0] += 1
    if calls[0] > 2:
        await asyncio.sleep(600)
    return await inner(messages, info)
model.function = fn
run_task(Workspace.open("."), "demo", RunOptions(model=model))
"""


def _machine(root: Path, url: str) -> Path:
    root.mkdir()
    (root / ".cairn").mkdir()
    (root / ".cairn" / "config.toml").write_text(
        f'[store]\nurl = "{url}"\nlease_s = {LEASE_S}\n', encoding="utf-8"
    )
    Workspace.init(root).close()
    get_suite("demo-slow").setup(root)  # type: ignore[misc]
    return root


def _cairn(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cairn", *args],
        cwd=root,
        env={**os.environ, "CAIRN_HOST": root.name},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _lease(root: Path) -> LeaseRow | None:
    with Workspace.open(root) as ws, ws.store.read() as tx:
        return tx.leases.get("agent:demo")


def test_an_agent_run_killed_on_one_machine_is_taken_over_on_the_other(
    tmp_path: Path, pg_url: str
) -> None:
    m1, m2 = _machine(tmp_path / "m1", pg_url), _machine(tmp_path / "m2", pg_url)
    with Workspace.open(m1) as ws:
        ws.create_task("demo", phases=["analysis", "implement"])
    run = ["agent", "run", "demo", "--model", "scripted:demo-slow"]
    proc = subprocess.Popen(
        [sys.executable, "-c", _STUCK],
        cwd=m1,
        env={**os.environ, "CAIRN_HOST": "m1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while _lease(m1) is None:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the runtime on m1 never took its lease"
            time.sleep(0.05)
        listed = _cairn(m2, "agent", "runs")
        assert listed.returncode == 0, listed.stderr
        assert f"running (on m1, pid {proc.pid})" in listed.stdout
        refused = _cairn(m2, *run)
        assert refused.returncode != 0
        assert f"(pid {proc.pid} on m1) is still working on demo" in refused.stderr
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # m1's lease outlives its process: still held until it expires by the store's clock.
    deadline = time.monotonic() + LEASE_S + 60
    while not (held := _lease(m2)) or not held.expired:
        assert held is not None and held.host == "m1", held
        assert time.monotonic() < deadline, "m1's lease never expired"
        time.sleep(min(0.2, held.remaining_s))
    listed = _cairn(m2, "agent", "runs")
    assert "running — interrupted (lease expired, on m1)" in listed.stdout, listed.stdout
    resumed = _cairn(m2, *run)
    assert resumed.returncode == 0, resumed.stderr
    with Workspace.open(m2) as ws, ws.store.read() as tx:
        states = sorted(r.state for r in tx.runs.agent_runs(task_id="demo", limit=10))
        assert states == ["crashed", "done"]
        assert tx.leases.get("agent:demo") is None  # released at the end of m2's run
