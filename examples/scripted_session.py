"""A short scripted agent session: the core commands in the order an agent runs them.

Runs in a fresh temporary workspace (or the folder given as the first argument), then shows the
status file and the recovery brief an agent would read after a compaction.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

CAIRN = [sys.executable, "-m", "cairn"]


def run(ws: Path, *args: str, stdin: str | None = None) -> str:
    print(f"$ cairn {' '.join(args)}")
    out = subprocess.run(
        [*CAIRN, *args], cwd=ws, input=stdin, text=True, capture_output=True, check=False
    )
    text = out.stdout + out.stderr
    print(text.rstrip("\n"))
    if out.returncode != 0:
        raise SystemExit(f"cairn {args[0]} exited {out.returncode}")
    return text


def main() -> None:
    ws = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="cairn-demo-"))
    ws.mkdir(parents=True, exist_ok=True)
    run(ws, "init")
    run(
        ws,
        "task",
        "new",
        "finding4",
        "--title",
        "Best-of-N sampling",
        "--phases",
        "analysis,plan,implement,test",
    )
    run(ws, "phase", "start", "finding4", "analysis")
    notes = ws / "notes.md"
    notes.write_text(
        "# Finding #4 Analysis\n\n**Task**: add Best-of-N sampling to pair generation\n"
        "**Files read**: scripts/generate_pairs.py, scripts/critic.py\n"
        "**Findings**:\n- pairs are sampled once; N candidates need a ranking step\n",
        encoding="utf-8",
    )
    run(ws, "checkpoint", "write", "finding4", "analysis", "--file", "notes.md")
    run(ws, "phase", "done", "finding4", "analysis")
    run(ws, "phase", "start", "plan")
    plan = run(ws, "checkpoint", "template", "plan", "--title", "Finding #4")
    plan = plan.split("\n", 1)[1].replace("[List]", "scripts/generate_pairs.py", 1)
    run(ws, "checkpoint", "write", "plan", stdin=plan)
    run(ws, "progress", "Added k parameter", "--state", "done")
    run(ws, "progress", "Multiple sampling", "--state", "active")
    run(ws, "progress", "Ranking logic", "--state", "todo")
    run(ws, "next", "Implement ranking logic")
    print("\n---- CURRENT_WORK_STATUS.md ----")
    run(ws, "status")
    print("\n---- after a compaction, the agent runs: ----")
    run(ws, "recover", "--trigger", "compact")
    print("\n---- logs/compaction_recovery.log ----")
    print((ws / "logs" / "compaction_recovery.log").read_text(encoding="utf-8"))
    print(f"Workspace: {ws}")


if __name__ == "__main__":
    main()
