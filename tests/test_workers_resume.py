"""Workers after an orchestrator crash: finished ones are reused, running ones are run again."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from cairn.core.errors import CairnError
from cairn.core.procs import alive
from cairn.domain.workers import Worker, spawn_many
from cairn.domain.workspace import Workspace
from helpers.stored import records


def _count(path: Path) -> int:
    with path.open("a") as f:
        f.write("x\n")
    return len(path.read_text().splitlines())


def _rows(root: Path) -> dict[str, dict[str, Any]]:
    ws = Workspace.open(root, search=False)
    try:
        with ws.store.read() as tx:
            return {r["name"]: r for r in records(tx, "workers")}
    finally:
        ws.close()


def _wait_for(root: Path, ready: Any, what: str, limit: float = 20) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        rows = _rows(root)
        if ready(rows):
            return rows
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}: {_rows(root)}")


def test_orchestrator_sigkill_then_resume(ws_path: Path) -> None:
    root = ws_path
    ws = Workspace.open(root, search=False)
    ws.create_task("t1", "resume", phases=["work"])

    def fast() -> str:
        return f"fast run {_count(root / 'fast.txt')}"

    def slow() -> str:
        n = _count(root / "slow.txt")
        if n == 1:
            time.sleep(60)  # still running when the orchestrator dies
        return f"slow run {n}"

    def late() -> str:
        n = _count(root / "late.txt")
        time.sleep(1.0 if n == 1 else 0)  # finishes after the orchestrator died
        return f"late run {n}"

    def workers() -> list[Worker]:
        return [Worker("fast", fn=fast), Worker("slow", fn=slow), Worker("late", fn=late)]

    pid = os.fork()
    if pid == 0:  # the orchestrator
        try:
            cws = Workspace.open(root, search=False)
            spawn_many(cws, "t1", workers(), max_parallel=3)
        finally:
            os._exit(0)
    rows = _wait_for(
        root,
        lambda r: (
            r.get("fast", {}).get("state") == "done"
            and r.get("slow", {}).get("pid")
            and r.get("late", {}).get("pid")
        ),
        "fast done, slow and late running",
    )
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    orphan = rows["slow"]["pid"]
    assert alive(orphan, rows["slow"]["pid_start"])
    # "late" finishes on its own and records that, though nobody waits for it any more.
    _wait_for(root, lambda r: r["late"]["state"] == "done", "late to record its end")
    assert _rows(root)["slow"]["state"] == "running"

    t0 = time.monotonic()
    res = {r.name: r for r in spawn_many(ws, "t1", workers())}
    assert time.monotonic() - t0 < 20
    assert (res["fast"].summary, res["fast"].reused) == ("fast run 1", True)
    assert (res["late"].summary, res["late"].reused) == ("late run 1", True)
    assert (res["slow"].summary, res["slow"].reused, res["slow"].state) == (
        "slow run 2",
        False,
        "done",
    )
    assert not alive(orphan, rows["slow"]["pid_start"]), "the orphaned run was not stopped"
    assert (root / "fast.txt").read_text().count("x") == 1
    assert (root / "late.txt").read_text().count("x") == 1
    assert (root / "slow.txt").read_text().count("x") == 2
    interrupted = [
        e.data for e in ws.events("t1", types=["worker.failed"]) if e.data["worker"] == "slow"
    ]
    assert interrupted and interrupted[0]["orphan_killed"] is True
    # It ran from its start until it was killed: longer than "late" took (1 s), never 0.0.
    assert interrupted[0]["duration_s"] >= 1.0 and interrupted[0]["duration_until"] == "killed"
    assert _rows(root)["slow"]["attempt"] == 2
    status = (root / ws.config.status_file).read_text()
    assert "| slow | t1 | ✅ done |" in status
    ws.close()


def test_stale_running_row_shown_in_status(ws_path: Path) -> None:
    ws = Workspace.open(ws_path, search=False)
    ws.create_task("t1", "stale")
    pid = os.fork()
    if pid == 0:
        try:
            cws = Workspace.open(ws_path, search=False)
            spawn_many(cws, "t1", [Worker("sleepy", fn=lambda: time.sleep(60))])
        finally:
            os._exit(0)
    rows = _wait_for(ws_path, lambda r: r.get("sleepy", {}).get("pid"), "sleepy to start")
    # While its orchestrator lives, a second orchestrator may not take the worker over.
    with pytest.raises(CairnError, match=rf"running under another orchestrator \(process {pid}\)"):
        spawn_many(ws, "t1", [Worker("sleepy", fn=lambda: time.sleep(60))])
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.killpg(rows["sleepy"]["pid"], signal.SIGKILL)  # both gone: the row still says running
    deadline = time.monotonic() + 5
    while alive(rows["sleepy"]["pid"], None) and time.monotonic() < deadline:
        time.sleep(0.02)
    ws.refresh()
    status = (ws_path / ws.config.status_file).read_text()
    assert "🔄 running (process gone; runs again on resume)" in status
    ws.close()
