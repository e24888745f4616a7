"""What the dashboard's tests and its benchmark share: a store of many tasks made fast through
the store contract, and a real ``cairn ui`` process on a free loopback port."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PHASES = ("analysis", "plan", "implement", "test")


def generate_tasks(root: Path, n: int) -> None:
    """``n`` tasks of four phases in one durable write: a quarter done, some active, one failed in
    fifty, the rest pending, each with a next action."""
    from cairn.domain.workspace import Workspace

    with Workspace.open(root, listeners=()) as ws, ws.store.write() as tx:
        for i in range(n):
            ts = f"2026-01-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}.000Z"
            tid = f"t{i:05d}"
            tx.tasks.create(tid, f"Generated task {i}", ts)
            for name in PHASES:
                tx.tasks.add_phase(tid, name, gated=False)
            if i % 4 == 0:
                for name in PHASES:
                    tx.tasks.set_phase_state(tid, name, "active", ts)
                    tx.tasks.set_phase_state(tid, name, "done", ts)
            elif i % 50 == 1:
                tx.tasks.set_phase_state(tid, "analysis", "active", ts)
                tx.tasks.set_phase_state(tid, "analysis", "failed", ts, "ValueError: generated")
            elif i % 10 == 2:
                tx.tasks.set_phase_state(tid, "analysis", "active", ts)
            tx.tasks.set_next_action(tid, f"step {i}", ts)


@contextmanager
def running_ui(root: Path, *extra: str, timeout: float = 30.0) -> Iterator[str]:
    """A ``cairn ui`` process serving ``root`` on a free port; yields its address and stops it
    (also when the test fails)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cairn", "-C", str(root), "ui", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        line = ""
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line or proc.poll() is not None:
                break
        m = re.search(r"(http://\S+)", line)
        if m is None:
            err = proc.stderr.read() if proc.stderr and proc.poll() is not None else ""
            raise RuntimeError(f"cairn ui did not start: {line!r} {err}")
        yield m.group(1)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"
TRANSCRIPT = (
    Path(__file__).resolve().parents[1]
    / "fixtures/transcripts/claude/-home-dev-proj/7f3a2c10-0000-4000-8000-000000000001.jsonl"
)


def cli(root: Path, *argv: str, stdin: str = "") -> str:
    """Run one real ``cairn`` command in ``root``; its output, or an error naming it."""
    r = subprocess.run(
        [sys.executable, "-m", "cairn", "-C", str(root), *argv],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if r.returncode != 0:
        raise RuntimeError(f"cairn {' '.join(argv)}: {r.returncode} {r.stderr}")
    return r.stdout


def make_showcase(root: Path) -> None:
    """A workspace with something in every view, made by the real commands and hooks: the
    Finding #4 demo (its crash and resume, workers, a stream), a second task in its plan phase
    behind a review gate with a pending review and a hand edit, a budget, compactions recorded
    by the hooks (one at a safe point, one mid-phase) from a real transcript, and an agent run
    with compactions and subagents (through the store contract, as the runtime writes them)."""
    import shutil

    cli(root.parent, "demo", "--dir", str(root))
    t = "ranking"
    cli(root, "task", "new", t, "--title", "Reward-model ranking ablation",
        "--phases", "analysis,plan,implement,test", "--gate", "implement")  # fmt: skip
    cli(root, "phase", "start", t, "analysis")
    cli(root, "checkpoint", "write", t, "analysis",
        stdin="# Analysis\n\nThe scorer favours long answers.\n")  # fmt: skip
    cli(root, "progress", t, "Measured length bias on 300 pairs", "--state", "done")
    cli(root, "phase", "done", t, "analysis")
    cli(root, "phase", "start", t, "plan")
    plan = "# Plan\n\n## Approach\nNormalise scores by length.\n\n## Steps\n1. Fit\n2. Rank\n"
    cli(root, "checkpoint", "write", t, "plan", stdin=plan)
    (root / "artifacts" / "ranking_plan.md").write_text(
        plan.replace("Normalise", "Normalise (per topic)") + f"\nNote from a reader: {XSS}\n",
        encoding="utf-8",
    )
    cli(root, "refresh")
    cli(root, "progress", t, "Drafted the plan", "--state", "done")
    cli(root, "review", "request", "--task", t, "--topic", "ranking_metrics", "--question",
        "Are the metrics enough?", "--reviewer", "human")  # fmt: skip
    answered = json.loads(cli(root, "review", "list", "--json"))["reviews"][0]["id"]
    cli(root, "review", "answer", answered, "--approve", "--recommendation",
        "Add a per-topic breakdown of the win rate.")  # fmt: skip
    cli(root, "review", "request", "--task", t, "--topic", "ranking_plan", "--question",
        "Is length normalisation per topic sound?", "--concern", "small topics",
        "--reviewer", "human")  # fmt: skip
    session = root / "session.jsonl"
    shutil.copyfile(TRANSCRIPT, session)
    hook = {"session_id": "7f3a2c10", "transcript_path": str(session), "trigger": "auto"}
    cli(root, "hook", "pre-compact", stdin=json.dumps(hook))
    cli(root, "hook", "session-start", stdin=json.dumps({**hook, "source": "compact"}))
    cli(root, "progress", t, "Fitting the per-topic normaliser", "--state", "active")
    cli(root, "hook", "pre-compact", stdin=json.dumps(hook))
    cli(root, "next", t, "Wait for the plan review, then implement the normaliser")
    # after the compactions: each one starts a new budget context
    for cat, n in (("specs", 38_200), ("orchestration", 21_500), ("user", 17_300),
                   ("subagent_summaries", 31_000), ("subagent_work", 240_000)):  # fmt: skip
        cli(root, "budget", "record", cat, str(n), "--source", f"{cat} reads")
    _agent_run(root)


def _agent_run(root: Path) -> None:
    from cairn.domain.workspace import Workspace

    with Workspace.open(root, listeners=()) as ws, ws.store.write() as tx:
        r = tx.runs
        r.start_agent_run("run-1", "ranking", "scripted:demo", "2026-12-01T09:00:00.000Z", 1)
        sizes = ((20, 151_000, 38_000, True), (50, 176_000, 41_000, False))
        for minute, before, after, safe in sizes:
            r.add_agent_compaction(
                ts=f"2026-12-01T09:{minute:02d}:00.000Z", run_id="run-1", task_id="ranking",
                phase="plan", safe_point=safe, tokens_before=before, tokens_after=after,
                tokens_since_checkpoint=0 if safe else 52_000, window=200_000,
                reason="past 75 % right after a checkpoint" if safe else "past 90 % mid-phase",
            )  # fmt: skip
        for i, (name, used) in enumerate((("read-logs", 48_000), ("survey", 61_000))):
            sid = f"sub-{i}"
            r.start_subagent(sid, run_id="run-1", task_id="ranking", name=name,
                             spec={"goal": name}, model="scripted:demo", budget_tokens=80_000,
                             transcript=f"logs/agent/{sid}.jsonl",
                             started_at=f"2026-12-01T09:1{i}:00.000Z")  # fmt: skip
            r.finish_subagent(sid, state="done", used_tokens=used, summary=f"{name}: 3 findings",
                              summary_tokens=900, finished_at=f"2026-12-01T09:1{i}:40.000Z",
                              error=None)  # fmt: skip
        r.finish_agent_run("run-1", state="done", ts="2026-12-01T09:58:00.000Z",
                           usage={"input_tokens": 412_000}, error=None)  # fmt: skip
