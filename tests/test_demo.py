"""`cairn demo` end to end in a temporary folder: a real SIGKILL mid-phase, then the resume."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cairn", "demo", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_crashes_resumes_and_reports(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    out = _demo("--dir", str(folder))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    text = out.stdout
    assert "simulated crash: SIGKILL in implement_scoring" in text
    assert "the process died by SIGKILL (exit -9)" in text
    for phase in ("analysis", "plan", "review", "implement_data"):
        assert f"⏭  {phase}: done in an earlier run, skipped" in text
    assert "🔁 implement_scoring: ran again from its start (attempt 2" in text
    assert "implement_scoring  killed mid-phase, then run again from its start" in text
    assert "testing            ran" in text
    assert "Crash recovery during finding4 / phase implement_scoring" in text
    assert "0 duplicates, 0 torn or unreadable lines" in text
    # The three workers ran in parallel and show in the status file.
    status = (folder / "CURRENT_WORK_STATUS.md").read_text()
    for worker in ("repair", "expand_eval", "shards"):
        assert worker in status
    assert "✅ done" in status
    # The real work: the Best-of-N pairs exist and are consistent.
    pairs = [json.loads(line) for line in (folder / "data/pairs_bestofn.jsonl").open()]
    assert pairs and all(p["chosen_score"] > p["rejected_score"] for p in pairs)
    scores = [json.loads(line) for line in (folder / "data/scores.jsonl").open()]
    assert len({s["id"] for s in scores}) == len(scores) == 300
    tested = (folder / "artifacts/finding4_tested.md").read_text()
    assert tested.count("✅") == 5
    progress_2 = (folder / "artifacts/finding4_progress_2.md").read_text()
    assert "already on disk" in progress_2 and "attempt (2)" in progress_2
    # A second demo into the same folder is refused rather than mixed in.
    again = _demo("--dir", str(folder))
    assert again.returncode == 1 and "is not empty" in again.stderr


def test_demo_without_crash(tmp_path: Path) -> None:
    out = _demo("--dir", str(tmp_path / "d"), "--no-crash")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "SIGKILL" not in out.stdout.split("CURRENT_WORK_STATUS.md")[0].split("Phases:")[1]
    assert "(no recovery logged)" in out.stdout
