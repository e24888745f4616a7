"""Fresh-process start-up at scale: ``cairn status``, ``cairn recover`` and the session-start hook
next to ``python -c pass`` (the same interpreter), one run, commands taking turns.

The workspace: 10,000 tasks x 7 artifacts (70,000 files) and 100,000 checkpoint versions, built
through the library inside ``ws.batch()`` (unsynced: a fixture, not a timed write) and kept in a
temporary folder between runs (``--reuse``; ``--rebuild`` makes a new one). ``--small`` is a quick
run on 1,000 tasks x 7 / 10,000 versions. Target (issue 9): each command <= 5x ``python -c pass``.

    .venv/bin/python bench/startup_bench.py [--reuse] [--small] [--runs 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchlib import cli_command, load, time_processes, unsynced

KINDS = ("analysis", "plan", "plan_approved", "progress", "complete", "tested", "notes")
PHASES = ("analysis", "plan", "implement", "test")
TARGET = 5.0


def _content(task: str, kind: str, version: int) -> str:
    body = "\n".join(
        f"- step {i} of {kind} for {task}: touched `src/{task}/mod{i}.py` and re-ran the suite"
        for i in range(10)
    )
    return f"# {task} {kind} v{version}\n\n**Files to modify**: src/{task}/core.py\n\n{body}\n"


def build(root: Path, n_tasks: int, n_versions: int, n_active: int = 3) -> float:
    from cairn.domain.workspace import Workspace

    start = time.perf_counter()
    ws = Workspace.init(root)
    unsynced(ws)
    extra = n_versions - len(KINDS) * n_tasks  # versions beyond the first of each kind
    with ws.batch():
        for t in range(n_tasks):
            tid = f"task{t:05d}"
            ws.create_task(tid, f"Bench task {t}", PHASES)
            if t % 3 == 0 or t >= n_tasks - n_active:
                ws.start_phase(tid, "analysis")
            ws.progress(tid, f"looked at {tid}")  # the progress kind, through its own path
            kinds = [k for k in KINDS if k != "progress"]
            more = extra // n_tasks + (1 if t < extra % n_tasks else 0)
            for i, kind in enumerate([*kinds, *(kinds[j % len(kinds)] for j in range(more))]):
                ws.write_checkpoint(tid, kind, _content(tid, kind, i))
            if t % 3 == 0 and t < n_tasks - n_active:
                ws.finish_phase(tid, "analysis")
            if t % 50 == 1 and t < n_tasks - n_active:
                ws.start_phase(tid, "test")
                ws.fail_phase(tid, "test", "tests failed")
            if t >= n_tasks - n_active:
                ws.set_next(tid, f"Implement the ranking for {tid}")
            if t % 1000 == 999:
                print(f"  built {t + 1:,} tasks in {time.perf_counter() - start:.0f} s", flush=True)
    ws.close()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="1,000 tasks, 10,000 versions")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--reuse", action="store_true", help="reuse the workspace of an earlier run")
    ap.add_argument("--dir", help="keep the workspace here (default: a folder under the temp dir)")
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = ap.parse_args()
    tasks, versions = (1_000, 10_000) if args.small else (10_000, 100_000)
    base = Path(args.dir or Path(tempfile.gettempdir()) / "cairn-startup-bench")
    root = base / f"ws-{tasks}-{versions}"
    ready = root / ".cairn" / "bench-built"
    if not (args.reuse and ready.exists()):
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        print(f"building {tasks:,} tasks x {len(KINDS)} artifacts, {versions:,} versions ...")
        built = build(root, tasks, versions)
        ready.write_text(f"{built:.1f}\n", encoding="utf-8")
    artifacts = sum(1 for _ in (root / "artifacts").iterdir())
    db_mb = (root / ".cairn" / "cairn.db").stat().st_size / 1e6
    print(
        f"workspace {root}: {tasks:,} tasks, {artifacts:,} artifacts, {versions:,} versions, "
        f"{db_mb:.0f} MB store"
    )
    cli = cli_command()
    hook_in = json.dumps(
        {
            "session_id": "bench-session",
            "transcript_path": str(root / "no-transcript.jsonl"),
            "cwd": str(root),
            "hook_event_name": "SessionStart",
            "source": "startup",
        }
    ).encode()
    commands = {
        "python -c pass": ([sys.executable, "-c", "pass"], None),
        "cairn status": ([*cli, "status"], None),
        "cairn recover": ([*cli, "recover"], None),
        "python -m cairn.hooks session-start": (
            [sys.executable, "-m", "cairn.hooks", "session-start"],
            hook_in,
        ),
    }
    got = time_processes(commands, root, args.runs)
    base_ms = got["python -c pass"][0]
    print(f"\n{args.runs} runs each, taking turns ({load()})")
    print(f"{'command (fresh process)':<40}{'median ms':>10}{'p90 ms':>9}{'CPU ms':>9}{'ratio':>9}")
    for name, (med, p90, cpu) in got.items():
        print(f"{name:<40}{med:>10.1f}{p90:>9.1f}{cpu:>9.1f}{med / base_ms:>8.2f}x")
    worst = max(v[0] for k, v in got.items() if k != "python -c pass") / base_ms
    print(
        f"\ntarget: each <= {TARGET:.0f}x python -c pass: "
        f"{'met' if worst <= TARGET else 'MISSED'} (worst {worst:.2f}x)"
    )
    if args.json:
        print(json.dumps({k: v[0] for k, v in got.items()}))


if __name__ == "__main__":
    main()
