"""Durability and concurrency, for real: writers SIGKILLed at random instants, and four at once.

The harness lives in ``tests/helpers/durability.py`` (the checker) and ``kill_child.py`` (the
writer); ``bench/kill_bench.py`` runs the same trials 1,000 times.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import random
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from cairn.domain.workspace import Workspace
from helpers.durability import KILL_CHILD, TASK, Tally, check, new_workspace, run_kill_trials

KILL_TRIALS = int(os.environ.get("CAIRN_KILL_TRIALS", "110"))


def test_sigkill_at_random_instants_loses_nothing(tmp_path: Path) -> None:
    seed = int(os.environ.get("CAIRN_KILL_SEED", random.randrange(1 << 30)))
    tally = run_kill_trials(tmp_path, KILL_TRIALS, seed=seed)
    report = f"seed {seed} (rerun with CAIRN_KILL_SEED={seed}): {tally.summary()}"
    assert tally.trials == KILL_TRIALS >= 100, report
    assert tally.clean, (
        report,
        tally.lost[:5],
        tally.duplicated[:5],
        tally.torn[:5],
        tally.problems[:5],
    )
    assert tally.acknowledged > KILL_TRIALS, report  # the writers did get work done
    # The kills must also land inside the windows that matter, or the test proves little.
    assert tally.stale_artifacts > 0, report


def test_the_checker_notices_damage(tmp_path: Path) -> None:
    """A control: the checker is not blind. Each kind of damage is reported."""
    ws, ack = new_workspace(tmp_path / "ws")
    subprocess.run(
        [sys.executable, str(KILL_CHILD), "run", str(ws), str(ack), "7", "w", "30"], check=True
    )
    clean = Tally()
    check(ws, ack, clean)
    assert clean.clean, clean.summary()

    with ack.open("a", encoding="utf-8") as fh:
        fh.write(f"checkpoint plan 999 {'0' * 64}\nstep done never recorded\nnext never set\n")
    lost = Tally()
    check(ws, ack, lost)
    assert len(lost.lost) == 3, lost.lost

    db = ws / ".cairn" / "cairn.db"
    conn = sqlite3.connect(db)
    text = "# torn\nhalf a checkpoint"
    digest = hashlib.sha256(text.encode()).hexdigest()
    conn.execute("DROP TRIGGER checkpoints_no_update")
    conn.execute(
        "UPDATE checkpoints SET content = ?, hash = ? WHERE task_id = ? AND kind = 'notes' "
        "AND version = 1",
        (text, digest, TASK),
    )
    conn.commit()
    conn.close()
    torn = Tally()
    check(ws, ack, torn)
    assert any("notes v1" in t for t in torn.torn), torn.torn


def test_four_processes_write_the_same_task_at_once(tmp_path: Path) -> None:
    ws, ack = new_workspace(tmp_path / "ws")
    n = 80
    barrier = tmp_path / "go"
    env = dict(os.environ, CAIRN_TEST_BARRIER=str(barrier))
    cmd = [sys.executable, str(KILL_CHILD), "run", str(ws), str(ack)]
    procs = [
        subprocess.Popen(
            [*cmd, str(seed), f"w{seed}", str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for seed in range(4)
    ]
    deadline = time.monotonic() + 60
    while not ack.exists() or ack.read_text(encoding="utf-8").count("ready ") < 4:
        assert time.monotonic() < deadline, "the writers did not start"
        assert all(p.poll() is None for p in procs), "a writer died before starting"
        time.sleep(0.01)
    barrier.touch()  # all four start writing at the same instant
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    for code, out, err in results:
        assert code == 0 and err == "", err
        assert "locked" not in out + err
    tally = Tally()
    check(ws, ack, tally)
    assert tally.clean, (tally.summary(), tally.lost, tally.duplicated, tally.torn, tally.problems)
    acks = [ln for ln in ack.read_text(encoding="utf-8").splitlines() if not ln.startswith("ready")]
    assert len(acks) == 4 * n
    # The writers really ran at the same time: their acknowledgements interleave.
    workers = [m.group(1) for ln in acks if (m := re.search(r"\b(w\d) (step|next) ", ln))]
    switches = sum(1 for a, b in itertools.pairwise(workers) if a != b)
    assert switches >= 4, f"the writers did not overlap ({switches} switches)"

    with Workspace.open(ws) as w:
        steps = w.steps(TASK)
        step_acks = [ln for ln in acks if ln.startswith("step ")]
        assert len(steps) == len(step_acks)  # no step lost, none recorded twice
        for kind, _ in (("plan", 0), ("analysis", 0), ("notes", 0)):
            versions = [c.version for c in w.history(TASK, kind)]
            assert versions == list(range(1, len(versions) + 1))  # no version skipped or reused
            assert len(versions) == sum(1 for ln in acks if ln.startswith(f"checkpoint {kind} "))
        # No lost update: the newest progress checkpoint lists every step any process recorded.
        progress = w.checkpoint(TASK, "progress").content or ""
        for s in steps:
            assert f"{s.icon} {s.text}" in progress
        next_events = w.events(TASK, types=["next.set"], limit=1000)
        if next_events:
            assert w.task(TASK).next_action == next_events[-1].data["text"]
        assert w.store.integrity_check() == "ok"


def test_four_cli_processes_at_once(tmp_path: Path) -> None:
    """The same through the command line: every command exits 0, none says "locked"."""
    ws, ack = new_workspace(tmp_path / "ws")
    barrier = tmp_path / "go"
    env = dict(os.environ, CAIRN_TEST_BARRIER=str(barrier))
    n = 25
    cli = [sys.executable, str(KILL_CHILD), "cli", str(ws), str(ack)]
    procs = [
        subprocess.Popen(
            [*cli, str(seed), f"c{seed}", str(n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for seed in range(4)
    ]
    deadline = time.monotonic() + 60
    while not ack.exists() or ack.read_text(encoding="utf-8").count("ready ") < 4:
        assert time.monotonic() < deadline, "the writers did not start"
        assert all(p.poll() is None for p in procs), "a writer died before starting"
        time.sleep(0.01)
    barrier.touch()
    for p in procs:
        code = p.wait(timeout=120)
        out, err = p.communicate()
        assert code == 0 and err == "", err
        assert "locked" not in out + err
    tally = Tally()
    check(ws, ack, tally)
    assert tally.clean, (tally.summary(), tally.lost, tally.duplicated, tally.torn, tally.problems)
    assert tally.unique_writes[str(ws)] == 4 * n
