"""`cairn demo`: the seed's Finding #4 example end to end, with a real crash and a resume.

1. makes a fresh workspace (``--dir DIR``, or a new temporary folder), copies the workflow into it
   and generates the dirty data set;
2. runs ``cairn run workflow.py`` in a child process that SIGKILLs itself halfway through the
   scoring phase (``--no-crash`` skips this);
3. runs ``cairn run workflow.py`` again: finished phases are skipped, the killed phase runs again
   from its start and its stream resumes without duplicates;
4. prints the status file, the recovery log, and what was skipped on resume.

No network, no API key.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = ("workflow.py", "bestofn.py", "expand_eval.py", "gen_data.py")
CRASH_PHASE = "implement_scoring"


def banner(text: str) -> None:
    print(f"\n{'=' * 100}\n{text}\n{'=' * 100}", flush=True)


def run_workflow(folder: Path, crash: bool) -> int:
    env = dict(os.environ)
    env.pop("CAIRN_DEMO_CRASH", None)
    if crash:
        env["CAIRN_DEMO_CRASH"] = CRASH_PHASE
    env["PYTHONUNBUFFERED"] = "1"
    print(f"$ cairn run workflow.py{'   # CAIRN_DEMO_CRASH=' + CRASH_PHASE if crash else ''}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cairn", "run", "workflow.py"],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        print(f"  {line.rstrip()}", flush=True)
    return proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cairn demo", description=__doc__.splitlines()[0])
    parser.add_argument("--dir", help="an empty or new folder (default: a new temporary folder)")
    parser.add_argument("--no-crash", action="store_true", help="run once, without the SIGKILL")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.dir:
        folder = Path(args.dir).resolve()
        if folder.exists() and any(folder.iterdir()):
            raise SystemExit(f"{folder} is not empty; give a new or empty folder with --dir")
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="cairn-demo-"))
    for name in FILES:
        shutil.copy2(HERE / name, folder / name)
    sys.path.insert(0, str(folder))
    from gen_data import generate

    import cairn

    counts = generate(folder / "data")
    cairn.open(folder).close()
    banner(f"cairn demo — Finding #4 (Best-of-N sampling) in {folder}")
    print(
        f"Generated data/: {counts['prompts']} prompts, {counts['raw_pair_lines']} raw preference "
        "pair lines (with duplicates, empty, mismatched and unreadable records).\n"
        "Phases: analysis → plan → review → implement_data (3 workers in parallel) → "
        "implement_scoring (stream) → implement_ranking → testing"
    )

    crash = not args.no_crash
    banner(
        "Run 1" + (f": the process SIGKILLs itself in the middle of {CRASH_PHASE}" if crash else "")
    )
    code = run_workflow(folder, crash)
    if crash:
        if code != -signal.SIGKILL:
            print(f"expected the run to die by SIGKILL, it exited {code}", file=sys.stderr)
            return 1
        print(f"→ the process died by SIGKILL (exit {code}); phase {CRASH_PHASE} was mid-way")
        banner("Run 2: the same command again — resume")
        code = run_workflow(folder, crash=False)
    if code != 0:
        print(f"the workflow exited {code}", file=sys.stderr)
        return 1

    banner("CURRENT_WORK_STATUS.md")
    print((folder / "CURRENT_WORK_STATUS.md").read_text(encoding="utf-8"))
    banner("logs/compaction_recovery.log")
    log = folder / "logs" / "compaction_recovery.log"
    logged = log.read_text(encoding="utf-8").strip() if log.exists() else ""
    print(logged or "(no recovery logged)")

    project = cairn.open(folder, create=False)
    history = project.task("finding4").history()
    project.close()
    banner("What each phase did across the runs (from the store)")
    pids: list[int] = []
    for row in history:
        if row["pid"] not in pids:
            pids.append(row["pid"])
    for phase in dict.fromkeys(r["phase"] for r in history):
        runs = [r for r in history if r["phase"] == phase]
        story = ", ".join(f"run {pids.index(r['pid']) + 1}: {r['state']}" for r in runs)
        if crash and all(pids.index(r["pid"]) == 0 for r in runs):
            verdict = "skipped on resume (its function did not run again)"
        elif any(r["state"] == "crashed" for r in runs):
            verdict = "killed mid-phase, then run again from its start"
        else:
            verdict = "ran"
        print(f"  {phase:<18} {verdict:<52} [{story}]")
    resumed = (folder / "artifacts" / "finding4_progress_2.md").read_text(encoding="utf-8")
    print("\n" + resumed.strip())
    scores = cairn.read_jsonl(folder / "data" / "scores.jsonl")
    ids = [r["id"] for r in scores.records]
    print(
        f"\ndata/scores.jsonl: {len(ids)} records, {len(ids) - len(set(ids))} duplicates, "
        f"{len(scores.errors)} torn or unreadable lines"
    )
    banner(f"Done in {time.monotonic() - started:.1f} s. Look around: cd {folder}")
    print("  cairn status · cairn task show finding4 · cairn checkpoint list finding4 · cairn log")
    print("  cat artifacts/finding4_plan.md · cat logs/workers/finding4/repair.log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
