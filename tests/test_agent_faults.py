"""Faults: provider errors and timeouts, and a runtime killed mid-phase (a real SIGKILL)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pydantic_ai.exceptions import ModelHTTPError

from cairn.agent import RunOptions, run_task
from cairn.cli import main
from cairn.domain.workspace import Workspace
from cairn.models.scripted import scripted_model
from cairn.models.scripted_suites import get_suite
from helpers import sqlitedb
from helpers.stored import records


def _flaky(fail: Any, *, delay: float = 0.0) -> Any:
    """The demo's scripted model, with faults injected by ``fail(call_number)``."""
    model = scripted_model(get_suite("demo"), "demo")
    inner = model.function  # type: ignore[attr-defined]
    n = {"calls": 0}

    async def fn(messages: list[Any], info: Any) -> Any:
        n["calls"] += 1
        kind = fail(n["calls"])
        if kind == "429":
            raise ModelHTTPError(429, "demo", body={"error": "rate limited"})
        if kind == "500":
            raise ModelHTTPError(503, "demo", body={"error": "overloaded"})
        if kind == "hang":
            await asyncio.sleep(5)
        return await inner(messages, info)

    model.function = fn  # type: ignore[attr-defined]
    return model


def _demo(root: Path) -> Workspace:
    get_suite("demo").setup(root)  # type: ignore[misc]
    ws = Workspace.open(root)
    ws.create_task("demo", phases=["analysis", "implement"])
    return ws


def test_rate_limits_are_retried(ws_path: Path) -> None:
    model = _flaky(lambda n: "429" if n in (2, 3) else None)
    with _demo(ws_path) as ws:
        res = run_task(ws, "demo", RunOptions(model=model, retry_delay=0.01))
        assert res.state == "done"
        assert res.stats.provider_retries == 2
        assert len(ws.events("demo", types=["agent.provider_retry"])) == 2
        assert get_suite("demo").verify(ws_path)[0]  # type: ignore[misc]


def test_provider_that_keeps_failing_fails_the_phase_cleanly(ws_path: Path) -> None:
    # Works through the analysis and two files of the implement phase, then the provider dies.
    model = _flaky(lambda n: "500" if n > 12 else None)
    with _demo(ws_path) as ws:
        res = run_task(ws, "demo", RunOptions(model=model, retries=2, retry_delay=0.01))
        assert res.state == "failed"
        assert [p.state for p in res.phases] == ["done", "failed"]
        assert "failed 3 times" in (res.phases[-1].error or "")
        phase = ws.task("demo").phases[1]
        assert phase.state == "failed" and "503" in (phase.error or "")
        # Progress made before the failure is kept, and the files it wrote are there.
        steps = [s.text for s in ws.steps("demo")]
        assert steps and steps[0] == "wrote out/sum_0.txt"
        assert (ws_path / "out" / "sum_0.txt").exists()
        with ws.store.read() as tx:
            run = next(iter(records(tx, "agent_runs")), None)
        assert run is not None and run["state"] == "failed"
    # A later run picks the failed phase up again and finishes it, without repeating steps.
    with Workspace.open(ws_path) as ws:
        res = run_task(ws, "demo", RunOptions(model="scripted:demo"))
        assert res.state == "done" and [p.phase for p in res.phases] == ["implement"]
        assert res.phases[0].resumed
        assert ws.recoveries()[-1].trigger == "resume"
        texts = [s.text for s in ws.steps("demo")]
        assert len(texts) == len(set(texts)) == 3
        assert get_suite("demo").verify(ws_path)[0]  # type: ignore[misc]


def test_request_timeouts_are_retried_then_fail(ws_path: Path) -> None:
    model = _flaky(lambda n: "hang" if n >= 2 else None)
    with _demo(ws_path) as ws:
        t0 = time.monotonic()
        res = run_task(
            ws,
            "demo",
            RunOptions(model=model, retries=1, retry_delay=0.01, request_timeout=0.2),
        )
        assert time.monotonic() - t0 < 4
        assert res.state == "failed"
        assert "timed out after 0.2 s" in (res.phases[0].error or "")
        assert res.stats.provider_retries == 1
        assert ws.task("demo").phases[0].state == "failed"


def _steps_in_db(root: Path) -> int:
    try:
        with Workspace.open(root) as ws:
            return len(ws.steps("demo"))
    except Exception:
        return 0


def test_sigkill_mid_phase_resumes_from_the_newest_checkpoint(ws_path: Path) -> None:
    get_suite("demo-slow").setup(ws_path)  # type: ignore[misc]
    with Workspace.open(ws_path) as ws:
        ws.create_task("demo", phases=["analysis", "implement"])
    env = {**os.environ, "CAIRN_WORKSPACE": str(ws_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cairn", "agent", "run", "demo", "--model", "scripted:demo-slow"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while _steps_in_db(ws_path) < 1:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the runtime made no progress"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    with Workspace.open(ws_path) as ws:
        with ws.store.read() as tx:
            run = next(iter(records(tx, "agent_runs")), None)
        assert run is not None and run["state"] == "running"  # it never got to say otherwise
        assert ws.task("demo").phases[1].state == "active"
        done_before = [s.text for s in ws.steps("demo")]
    code = main(["-C", str(ws_path), "agent", "run", "demo", "--model", "scripted:demo-slow"])
    assert code == 0
    with Workspace.open(ws_path) as ws:
        with ws.store.read() as tx:
            states = {r["id"]: r["state"] for r in records(tx, "agent_runs")}
        assert states[run["id"]] == "crashed"
        assert sorted(states.values()) == ["crashed", "done"]
        texts = [s.text for s in ws.steps("demo")]
        assert texts[: len(done_before)] == done_before
        # Nothing is done twice. (A file written just before the kill, whose step was not yet
        # recorded, is found by the resumed model's listing and not redone.)
        assert len(texts) == len(set(texts)) >= max(2, len(done_before))
        rec = ws.recoveries()[-1]
        assert rec.trigger == "crash" and rec.phase == "implement"
        assert rec.checkpoint == "artifacts/demo_analysis.md"
    log = (ws_path / "logs" / "compaction_recovery.log").read_text()
    assert "Crash recovery during demo / phase implement" in log
    assert get_suite("demo-slow").verify(ws_path)[0]  # type: ignore[misc]


def _running_subagents(root: Path) -> int:
    try:
        with Workspace.open(root) as ws, ws.store.read() as tx:
            return sum(r["state"] == "running" for r in records(tx, "subagent_runs"))
    except Exception:
        return 0


def test_sigkill_while_subagents_run(ws_path: Path) -> None:
    get_suite("demo-subagents").setup(ws_path)  # type: ignore[misc]
    with Workspace.open(ws_path) as ws:
        ws.create_task("demo", phases=["work"])
    env = {**os.environ, "CAIRN_WORKSPACE": str(ws_path)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cairn",
            "agent",
            "run",
            "demo",
            "--model",
            "scripted:demo-subagents",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        # Kill between the left subagent's two files: it is certainly still running then.
        out = ws_path / "out"
        while not ((out / "sum_0.txt").exists() and _running_subagents(ws_path) >= 1):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the subagents made no progress"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (out / "sum_1.txt").exists() or _running_subagents(ws_path) >= 1
    code = main(["-C", str(ws_path), "agent", "run", "demo", "--model", "scripted:demo-subagents"])
    assert code == 0
    with Workspace.open(ws_path) as ws, ws.store.read() as tx:
        rows = records(tx, "subagent_runs")
    crashed = [r for r in rows if r["state"] == "crashed"]
    assert "left" in {r["name"] for r in crashed}
    assert all(r["partial"] == 1 for r in crashed)
    assert {r["name"] for r in rows if r["state"] == "done"} == {"left", "right"}
    assert get_suite("demo-subagents").verify(ws_path)[0]  # type: ignore[misc]
    log = (ws_path / "logs" / "compaction_recovery.log").read_text()
    assert "Crash recovery during demo / phase work" in log


def _fake_running(ws: Workspace, pid: int) -> None:
    with ws.store.write() as tx:
        tx.runs.start_agent_run("run-old", "demo", "scripted:demo", "2026-01-01T00:00:00.000Z", pid)


def test_a_live_runtime_is_not_taken_over_but_a_reused_pid_is(ws_path: Path) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with _demo(ws_path) as ws:
            _fake_running(ws, other.pid)
            try:
                run_task(ws, "demo", RunOptions(model="scripted:demo"))
            except Exception as exc:
                assert "still working on demo" in str(exc)
            else:
                raise AssertionError("a second runtime started on a task being worked on")
    finally:
        other.kill()
        other.wait()
    sleeper = subprocess.Popen(["sleep", "30"])  # a live pid that is not a cairn runtime
    try:
        with Workspace.open(ws_path) as ws:
            # Its pid now names a live process that is no cairn runtime (the pid was reused).
            sqlitedb.execute(
                ws, "UPDATE agent_runs SET pid = ? WHERE id = 'run-old'", params=(sleeper.pid,)
            )
            res = run_task(ws, "demo", RunOptions(model="scripted:demo"))
            assert res.state == "done" and res.crash_recovered == ["run-old"]
    finally:
        sleeper.kill()
        sleeper.wait()
