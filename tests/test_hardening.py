"""The defects a hostile tester and a new user found (issue 11), each pinned by a test."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers.cli import Result, run


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


# -- defect 5: reads of user-supplied files are bounded ----------------------------------------------
def _small_limit(root: Path, limit: int = 10_000) -> None:
    cfg = root / ".cairn" / "config.toml"
    text = cfg.read_text()
    assert "max_bytes = 5_000_000" in text
    cfg.write_text(text.replace("max_bytes = 5_000_000", f"max_bytes = {limit}"))


def _one_line(r: Result) -> str:
    assert r.code == 2, (r.out, r.err)
    assert r.err.count("\n") == 1 and r.err.startswith("cairn: error: "), r.err
    return r.err


@pytest.mark.parametrize(
    "command",
    [
        ["checkpoint", "write", "t", "k", "--file"],
        ["review", "answer", "REVIEW", "--verdict-file"],
        ["budget", "record", "specs", "--source", "x", "--text-file"],
    ],
    ids=["checkpoint", "verdict", "budget"],
)
def test_an_endless_device_is_read_to_the_limit_and_refused(
    ws_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    """``--file /dev/zero`` grew to 13.9 GB: now it is read one byte past the limit, no further."""
    _small_limit(ws_path)
    assert run(capsys, ws_path, "task", "new", "t", "--phases", "a").code == 0
    asked = run(
        capsys, ws_path, "review", "request", "--task", "t", "--topic", "x", "--question", "q",
        "--reviewer", "file", "--json",
    )  # fmt: skip
    command = [asked.json()["id"] if w == "REVIEW" else w for w in command]
    started = time.monotonic()
    err = _one_line(run(capsys, ws_path, *command, "/dev/zero"))
    assert "over the" in err and "device, FIFO or pipe" in err
    assert time.monotonic() - started < 10
    assert run(capsys, ws_path, "checkpoint", "list", "--json").json()["checkpoints"] == []


def test_dev_stdin_fed_by_yes_stops_at_the_limit(ws_path: Path) -> None:
    """``yes | cairn checkpoint write T k --file /dev/stdin`` grew to 6.5 GB in 5 s."""
    cairn = [sys.executable, "-m", "cairn", "-C", str(ws_path)]
    subprocess.run([*cairn, "task", "new", "t", "--phases", "a"], check=True, capture_output=True)
    yes = subprocess.Popen(["yes"], stdout=subprocess.PIPE)
    try:
        r = subprocess.run(
            [*cairn, "checkpoint", "write", "t", "k", "--file", "/dev/stdin"],
            stdin=yes.stdout,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        yes.kill()
        yes.wait()
        assert yes.stdout is not None
        yes.stdout.close()
    assert r.returncode == 2 and "over the 5,000,000-byte limit" in r.stderr
    assert r.stderr.count("\n") == 1


def test_a_fifo_with_no_writer_is_refused_and_one_with_a_writer_is_read(
    ws_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairn.core import fsutil

    monkeypatch.setattr(fsutil, "READ_IDLE_S", 0.3)
    assert run(capsys, ws_path, "task", "new", "t", "--phases", "a").code == 0
    fifo = ws_path.parent / f"{ws_path.name}.fifo"
    os.mkfifo(fifo)
    try:
        err = _one_line(run(capsys, ws_path, "checkpoint", "write", "t", "k", "--file", str(fifo)))
        assert "gave nothing for 0.3 s" in err

        def write() -> None:
            with open(fifo, "wb") as fh:
                fh.write(b"from a fifo\n")

        writer = threading.Thread(target=write)
        writer.start()
        r = run(capsys, ws_path, "checkpoint", "write", "t", "k", "--file", str(fifo))
        writer.join()
        assert r.code == 0, r.err
    finally:
        fifo.unlink()
    shown = run(capsys, ws_path, "checkpoint", "show", "t", "k", "--json").json()
    assert shown["content"] == "from a fifo\n"


def test_a_terminal_is_refused_not_waited_on(
    ws_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, ws_path, "task", "new", "t", "--phases", "a").code == 0
    leader, follower = os.openpty()
    try:
        tty = os.ttyname(follower)
        err = _one_line(run(capsys, ws_path, "checkpoint", "write", "t", "k", "--file", tty))
        assert "is a terminal" in err
    finally:
        os.close(leader)
        os.close(follower)


def test_one_rule_for_paths_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file cairn only reads may be named relative (``../x``) or absolute, alike; a folder, a
    missing file and a too-large file are each one line; a context file, which is sent to a
    reviewer, stays inside the workspace."""
    root = tmp_path / "proj"
    root.mkdir()
    assert run(capsys, None, "init", str(root)).code == 0
    _small_limit(root)
    assert run(capsys, root, "task", "new", "t", "--phases", "a").code == 0
    (tmp_path / "notes.md").write_text("notes\n")
    (tmp_path / "v.json").write_text('{"approved": true, "recommendation": "go", "concerns": []}')
    (tmp_path / "big.md").write_bytes(b"x" * 10_001)
    for given in ("../notes.md", str(tmp_path / "notes.md")):
        r = run(capsys, root, "checkpoint", "write", "t", "k", "--file", given)
        assert r.code == 0, r.err
    for given in ("../v.json", str(tmp_path / "v.json")):
        asked = run(
            capsys, root, "review", "request", "--task", "t", "--topic", "x", "--question", "q",
            "--reviewer", "file", "--json",
        )  # fmt: skip
        r = run(capsys, root, "review", "answer", asked.json()["id"], "--verdict-file", given)
        assert r.code == 0, r.err
    assert "is a folder" in _one_line(
        run(capsys, root, "checkpoint", "write", "t", "k", "--file", "..")
    )
    assert "does not exist" in _one_line(
        run(capsys, root, "checkpoint", "write", "t", "k", "--file", "../nothing.md")
    )
    err = _one_line(run(capsys, root, "checkpoint", "write", "t", "k", "--file", "../big.md"))
    assert "10,001 bytes, over the 10,000-byte limit" in err
    context = ["--topic", "y", "--question", "q", "--context", "../notes.md"]
    err = _one_line(run(capsys, root, "review", "request", "--task", "t", *context))
    assert "outside the workspace" in err
