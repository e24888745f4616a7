"""SIGKILL trials on durable phases: kill `task.run()` at a random instant, resume, check everything.

Each trial runs a 6-phase task in a child process (each phase records two progress steps, writes a
checkpoint and returns a 2 KB result), SIGKILLs it after a random delay, then runs the same task
again to the end and checks:

- **lost**: a phase acknowledged as done before the kill (the acknowledgement is written after
  ``run()`` reported it finished) that ran again on resume, or whose result is not in the store;
- **duplicated**: a phase with more than one recorded result, a result checkpoint with more than
  one version, or a progress step stored twice;
- **torn**: a store that fails ``PRAGMA integrity_check``, a result or artifact that differs from
  what the phase returned, or a phase not done after the resume;
- **crash recovery**: every kill that left a phase active must be followed by a logged crash
  recovery and a re-run of that phase from its start (attempt 2).

Usage: ``python bench/phase_kill_bench.py [--trials 1000] [--jobs 4] [--max-delay 0.25]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

PHASES = [f"p{i}" for i in range(6)]


def payload(name: str) -> str:
    return (f"# result of {name}\n" + f"{name} " * 600)[:2048]


def child(folder: Path) -> None:
    """The workload: run the task, acknowledging each phase once run() reports it done."""
    import cairn

    task = cairn.open(folder).task("killed")
    trace = os.open(folder / "trace", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    acks = os.open(folder / "acks", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    for name in PHASES:

        def body(ctx: Any, name: str = name) -> str:
            os.write(trace, f"start {name} {ctx.attempt}\n".encode())
            ctx.progress(f"{name} step 1")
            ctx.checkpoint(f"{name}_notes", f"notes of {name}\n")
            ctx.progress(f"{name} step 2")
            return payload(name)

        task.phase(name)(body)

    def ack(line: str) -> None:
        parts = line.split()
        if len(parts) >= 2 and parts[0] in ("✅", "🔁") and parts[1].endswith(":"):
            os.write(acks, f"{parts[1][:-1]}\n".encode())

    (folder / "ready").write_text("1")
    task.run(echo=ack)


def check(folder: Path, killed_mid_phase: bool, acked: set[str]) -> dict[str, int]:
    out: dict[str, Any] = {"lost": 0, "duplicated": 0, "torn": 0, "crash_missed": 0}
    why: list[str] = []
    out["why"] = why
    db = sqlite3.connect(folder / ".cairn" / "cairn.db")
    if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
        out["torn"] += 1
        why.append("integrity_check failed")
    second = (folder / "trace2").read_text().split("\n") if (folder / "trace2").exists() else []
    rerun = {line.split()[1] for line in second if line.startswith("start ")}
    for name in PHASES:
        done = db.execute(
            "SELECT count(*) FROM phase_runs WHERE phase = ? AND state = 'done'", (name,)
        ).fetchone()[0]
        versions = db.execute(
            "SELECT count(*) FROM checkpoints WHERE kind = ?", (name,)
        ).fetchone()[0]
        state = db.execute("SELECT state FROM phases WHERE name = ?", (name,)).fetchone()
        content = db.execute(
            "SELECT content FROM checkpoints WHERE kind = ? ORDER BY version DESC LIMIT 1", (name,)
        ).fetchone()
        if name in acked and (name in rerun or content is None):
            out["lost"] += 1
            why.append(f"lost {name}")
        if done > 1 or versions > 1:
            out["duplicated"] += 1
            why.append(f"duplicated {name}: {done} results, {versions} versions")
        if state is None or state[0] != "done" or content is None or content[0] != payload(name):
            out["torn"] += 1
            why.append(f"torn {name}: state {state}, stored result differs")
        art = folder / "artifacts" / f"killed_{name}.md"
        if not art.exists() or art.read_text() != payload(name):
            out["torn"] += 1
            why.append(f"torn {name}: artifact {'differs' if art.exists() else 'missing'}")
    steps = db.execute("SELECT text, count(*) FROM steps GROUP BY text HAVING count(*) > 1")
    out["duplicated"] += len(steps.fetchall())
    if killed_mid_phase:
        crash = db.execute("SELECT count(*) FROM recoveries WHERE trigger = 'crash'").fetchone()[0]
        restarted = db.execute(
            "SELECT count(*) FROM phase_runs WHERE state = 'crashed'"
        ).fetchone()[0]
        if crash != 1 or restarted != 1:
            out["crash_missed"] += 1
            why.append(f"crash recoveries {crash}, crashed attempts {restarted}")
    db.close()
    return out


def trial(base: Path, seed: int, max_delay: float) -> dict[str, Any]:
    rng = random.Random(seed)
    folder = base / f"t{seed}"
    folder.mkdir()
    cmd = [sys.executable, __file__, "--child", str(folder)]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (folder / "ready").exists() and proc.poll() is None:
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("child never became ready")
        time.sleep(0.002)
    time.sleep(rng.uniform(0, max_delay))
    finished_first = proc.poll() is not None
    if not finished_first:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    if proc.stderr:
        proc.stderr.close()
    acked = set((folder / "acks").read_text().split()) if (folder / "acks").exists() else set()
    db = sqlite3.connect(folder / ".cairn" / "cairn.db")
    mid = db.execute("SELECT count(*) FROM phases WHERE state = 'active'").fetchone()[0] > 0
    db.close()
    os.replace(folder / "trace", folder / "trace1") if (folder / "trace").exists() else None
    (folder / "ready").unlink(missing_ok=True)
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    if (folder / "trace").exists():
        os.replace(folder / "trace", folder / "trace2")
    result = check(folder, mid, acked)
    result["mid_phase"] = int(mid)
    result["completed_before_kill"] = int(finished_first)
    result["resume_failed"] = int(again.returncode != 0)
    if again.returncode != 0:
        result["error"] = again.stderr.strip().splitlines()[-1:] or ["?"]
    shutil.rmtree(folder, ignore_errors=True)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--max-delay", type=float, default=0.25)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", default=None, help="where trial workspaces go (default: temp)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child))
        return 0
    base = Path(tempfile.mkdtemp(prefix="phase-kill-", dir=args.dir))
    started = time.monotonic()
    totals: dict[str, int] = {}
    errors: list[str] = []
    reasons: list[str] = []
    try:
        with ThreadPoolExecutor(args.jobs) as pool:
            seeds = range(args.seed, args.seed + args.trials)
            for r in pool.map(lambda s: trial(base, s, args.max_delay), seeds):
                for k, v in r.items():
                    if isinstance(v, int):
                        totals[k] = totals.get(k, 0) + v
                if "error" in r:
                    errors.append(str(r["error"]))
                reasons += r["why"]
    finally:
        shutil.rmtree(base, ignore_errors=True)
    n = args.trials
    print(
        f"{n} SIGKILL trials on a 6-phase task in {time.monotonic() - started:.0f} s "
        f"(kill after 0-{args.max_delay * 1000:.0f} ms; {totals.get('mid_phase', 0)} landed "
        f"mid-phase, {totals.get('completed_before_kill', 0)} runs finished before the kill)"
    )
    for key in ("lost", "duplicated", "torn", "crash_missed", "resume_failed"):
        print(f"  {key:<14} {totals.get(key, 0)}")
    for e in errors[:5]:
        print(f"  resume error: {e}")
    for w in reasons[:10]:
        print(f"  problem: {w}")
    print(json.dumps({"trials": n, **totals}))
    bad = sum(totals.get(k, 0) for k in ("lost", "duplicated", "torn", "crash_missed"))
    return 1 if bad or totals.get("resume_failed") else 0


if __name__ == "__main__":
    sys.exit(main())
