"""The defects a hostile tester and a new user found (issue 11), each pinned by a test."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


# -- what a new user missed ------------------------------------------------------------------------
def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from cairn import __version__

    r = run(capsys, None, "--version")
    assert r.code == 0 and r.out.strip() == f"cairn {__version__}"


def _walk(parser: Any, path: list[str]) -> Iterator[tuple[str, Any]]:
    import argparse

    yield " ".join(path), parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _walk(child, [*path, name])


def test_every_command_and_option_has_help_text() -> None:
    """``cairn X --help`` says what X does, and what each of its arguments is."""
    import argparse

    from cairn.cli import build_parser

    missing = []
    commands = list(_walk(build_parser(), ["cairn"]))
    assert len(commands) > 40  # the walk found the sub-commands at all
    for where, parser in commands:
        if not (parser.description or "").strip():
            missing.append(f"{where}: no description")
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._VersionAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                helps = {a.dest: a.help for a in action._choices_actions}
                missing += [f"{where} {n}: no help" for n in action.choices if not helps.get(n)]
                continue
            if not (action.help or "").strip() or action.help == argparse.SUPPRESS:
                missing.append(f"{where} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, "no help text for:\n" + "\n".join(missing)


def test_next_takes_json(ws_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, ws_path, "task", "new", "t", "--phases", "a,b").code == 0
    r = run(capsys, ws_path, "next", "t", "read the logs", "--json")
    assert r.code == 0, r.err
    data = r.json()
    assert data["schema"] == "cairn.next/1" and data["task"] == "t"
    assert data["next_action"] == "read the logs" and data["phase"] == "a"
    assert data["updated_at"].endswith("Z")
    shown = run(capsys, ws_path, "task", "show", "t", "--json").json()
    assert shown["next_action"] == "read the logs"
    assert run(capsys, ws_path, "next", "t", "plain").out.strip() == "t: next action: plain"


def test_init_prints_its_next_steps_one_a_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, None, "init", str(tmp_path))
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    steps = lines[lines.index("Next steps:") + 1 :]
    assert [s.split()[:3] for s in steps] == [
        ["1.", "cairn", "task"],
        ["2.", "cairn", "phase"],
        ["3.", "cairn", "checkpoint"],
        ["4.", "cairn", "recover"],
    ]
    assert not any("next:" in line for line in lines[: lines.index("Next steps:")])


@pytest.mark.parametrize(
    "args",
    [
        ["review", "request", "--topic", "x" * 10_000, "--question", "q", "--reviewer", "human"],
        ["review", "show", "y" * 10_000],
        ["review", "answer", "r" * 10_000, "--approve"],
        ["checkpoint", "write", "t", "k", "--file", "z" * 10_000],
        ["task", "list", "--limit", "9" * 10_000 + "x"],
    ],
    ids=["topic", "show", "answer", "file", "limit"],
)
def test_a_10kb_value_is_not_echoed_back_whole(
    ws_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    assert run(capsys, ws_path, "task", "new", "t", "--phases", "a").code == 0
    r = run(capsys, ws_path, *args)
    assert r.code == 2, (r.out, r.err)
    line = r.err.strip().splitlines()[-1]
    assert len(line) < 400, line[:200]


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("a" * 5000 + ".jsonl", "at most 4,096"),
        ("data/" + "b" * 300 + ".jsonl", "at most 255 bytes"),
        ("bad\nname.jsonl", "control character"),
        ("tab\there.jsonl", "control character"),
    ],
    ids=["5000-characters", "long-name", "newline", "tab"],
)
def test_a_stream_path_is_refused_clearly(ws_path: Path, path: str, says: str) -> None:
    from cairn.core.errors import ValidationError
    from cairn.domain.streams import open_stream
    from cairn.domain.workspace import Workspace

    before = sorted(p.name for p in ws_path.iterdir())
    with Workspace.open(ws_path) as ws, pytest.raises(ValidationError) as exc:
        open_stream(ws, path, key=lambda r: r["id"])
    message = str(exc.value)
    assert says in message and "\n" not in message and len(message) < 300
    assert sorted(p.name for p in ws_path.iterdir()) == before


def test_docs_link_only_files_in_a_clone() -> None:
    """A relative link (or a backticked ``../`` path) in the docs names a file of the repository."""
    import re

    root = Path(__file__).resolve().parent.parent
    bad = []
    for doc in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        text = doc.read_text(encoding="utf-8")
        targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
        targets += re.findall(r"`(\.\./[^`\s]+\.(?:md|json|py|png|toml))`", text)
        for target in targets:
            if re.match(r"[a-z]+:", target):
                continue  # a URL
            if not (doc.parent / target).exists():
                bad.append(f"{doc.relative_to(root)}: {target}")
    assert not bad, bad


# -- shell completion --------------------------------------------------------------------------------
def _complete(script: str, words: list[str]) -> list[str]:
    """What the generated bash completion offers after ``words`` (the last is being typed)."""
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    probe = (
        f"{script}\nCOMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; _cairn; "
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True)
    return out.stdout.split()


@pytest.mark.skipif(not shutil.which("bash"), reason="needs bash")
def test_bash_completion_is_generated_from_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    r = run(capsys, None, "completion", "bash")
    assert r.code == 0, r.err
    script = r.out
    assert _complete(script, ["cairn", "ta"]) == ["task"]
    assert _complete(script, ["cairn", "-C", "/x", "sta"]) == ["status"]  # (st: also store)
    assert _complete(script, ["cairn", "review", "an"]) == ["answer"]
    assert _complete(script, ["cairn", "review", "answer", "r1", "--ap"]) == ["--approve"]
    assert sorted(_complete(script, ["cairn", "hooks", "install", ""])) == sorted(
        ["claude", "codex", "-h", "--help", "--scope", "--no-mcp", "--agents-md", "--command",
         "--json"]
    )  # fmt: skip
    assert _complete(script, ["cairn", "next", "--"]) == ["--help", "--json"]
    # The word after an option that takes a value is that value: files, not commands.
    assert _complete(script, ["cairn", "checkpoint", "write", "t", "k", "--file", ""]) == []
    # Every command of the parser is offered at the top.
    from cairn.cli import build_parser

    top = set(_complete(script, ["cairn", ""]))
    assert {path for path, _ in _walk(build_parser(), []) if " " not in path and path} <= top


def test_zsh_completion_uses_the_same_table(capsys: pytest.CaptureFixture[str]) -> None:
    bash = run(capsys, None, "completion", "bash").out
    zsh = run(capsys, None, "completion", "zsh")
    assert zsh.code == 0 and "bashcompinit" in zsh.out
    assert (
        zsh.out.replace("completion zsh", "completion bash").replace(
            "autoload -U +X bashcompinit && bashcompinit\n", ""
        )
        == bash
    )
    if shutil.which("zsh"):
        subprocess.run(["zsh", "-n", "-c", zsh.out], check=True)
