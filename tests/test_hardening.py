"""The defects a hostile tester and a new user found (issue 11), each pinned by a test."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.cli import run


def test_agent_runs_of_one_task_with_no_runs(
    ws_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Defect 1: ``cairn agent runs TASK`` failed with "cannot start a transaction within a
    transaction" (the task was resolved inside an open read transaction)."""
    assert run(capsys, ws_path, "task", "new", "t", "--phases", "a").code == 0
    r = run(capsys, ws_path, "agent", "runs", "t")
    assert r.code == 0, r.err
    assert "no agent runs yet" in r.out
    r = run(capsys, ws_path, "agent", "runs", "T", "--json")
    assert r.code == 0, r.err
    assert r.json()["runs"] == []


@pytest.mark.parametrize("linked", ["reviews", "reviews/requests", "reviews/responses"])
def test_review_files_are_never_written_through_a_symlinked_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], linked: str
) -> None:
    """Defect 2: a symlinked ``reviews/`` (or one of its folders) took the review files outside
    the workspace."""
    root = tmp_path / "proj"
    root.mkdir()
    victim = tmp_path / "victim"
    victim.mkdir()
    assert run(capsys, None, "init", str(root)).code == 0
    assert run(capsys, root, "task", "new", "t", "--phases", "a").code == 0
    (root / linked).parent.mkdir(parents=True, exist_ok=True)
    if (root / linked).exists():
        (root / linked).rmdir()
    (root / linked).symlink_to(victim, target_is_directory=True)
    asked = run(
        capsys, root, "review", "request", "--task", "t", "--topic", "x", "--question", "q",
        "--reviewer", "human",
    )  # fmt: skip
    if linked != "reviews/responses":
        assert asked.code == 2 and "outside the workspace" in asked.err
        assert asked.err.count("\n") == 1
    else:
        assert asked.code == 0, asked.err
        (review_id,) = [w for w in asked.out.split() if w.startswith("r20")][:1]
        answered = run(
            capsys, root, "review", "answer", review_id, "--approve", "--recommendation", "ok"
        )
        assert answered.code == 2 and "outside the workspace" in answered.err
        assert answered.err.count("\n") == 1
    assert sorted(p.name for p in victim.rglob("*")) == []
