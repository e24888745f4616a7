"""`cairn run`: loading workflow files, a real SIGKILL mid-phase and the resume that follows."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cairn.cli import main

WORKFLOW = """
import time
from pathlib import Path

import cairn

task = cairn.open(".").task("job", "kill test")


def bump(name):
    f = Path(f"calls_{name}")
    f.write_text(str(int(f.read_text()) + 1 if f.exists() else 1))


@task.phase("prepare")
def prepare(ctx):
    bump("prepare")
    return ctx.checkpoint("analysis", "# Prepared\\n")


@task.phase("work", needs=["prepare"])
def work(ctx):
    bump("work")
    Path(f"seen_{ctx.attempt}").write_text("|".join(s.text for s in ctx.earlier_steps))
    for i in (1, 2, 3):
        if not ctx.done(f"chunk {i}"):
            ctx.progress(f"chunk {i}")
        if i == 2 and ctx.attempt == 1:
            Path("ready").write_text("1")
            time.sleep(60)
    return "worked"


@task.phase("finish")
def finish(ctx):
    bump("finish")
    return {"ok": True}


if __name__ == "__main__":
    task.run()
"""


def _cairn(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cairn", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _calls(folder: Path, name: str) -> int:
    f = folder / f"calls_{name}"
    return int(f.read_text()) if f.exists() else 0


def test_sigkill_mid_phase_then_resume(tmp_path: Path) -> None:
    (tmp_path / "wf.py").write_text(WORKFLOW)
    child = subprocess.Popen(
        [sys.executable, "-m", "cairn", "run", "wf.py"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not (tmp_path / "ready").exists():
        assert child.poll() is None, child.stderr.read() if child.stderr else ""
        assert time.monotonic() < deadline, "the child never reached the middle of the phase"
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=10) == -signal.SIGKILL
    if child.stderr:
        child.stderr.close()

    out = _cairn(tmp_path, "run", "wf.py")
    assert out.returncode == 0, out.stderr
    assert "prepare: done in an earlier run, skipped" in out.stdout
    assert "work: ran again from its start (attempt 2, 2 earlier step(s) visible)" in out.stdout
    assert "crash detected" in out.stdout
    assert (_calls(tmp_path, "prepare"), _calls(tmp_path, "work"), _calls(tmp_path, "finish")) == (
        1,
        2,
        1,
    )
    assert (tmp_path / "seen_2").read_text() == "chunk 1|chunk 2"
    log = (tmp_path / "logs" / "compaction_recovery.log").read_text()
    assert "Crash recovery during job / phase work" in log and "SUBOPTIMAL: mid-phase" in log
    assert "was running (pid" in log

    import cairn

    ws = cairn.open(tmp_path, create=False).workspace
    steps = [s.text for s in ws.steps("job")]
    assert steps == ["chunk 1", "chunk 2", "chunk 3"]  # not duplicated by the re-run
    with ws.store.read() as tx:
        runs = tx.runs.phase_runs("job")
    assert [(r.phase, r.attempt, r.state) for r in runs] == [
        ("prepare", 1, "done"),
        ("work", 1, "crashed"),
        ("work", 2, "done"),
        ("finish", 1, "done"),
    ]
    assert runs[1].pid == child.pid

    again = _cairn(tmp_path, "run", "wf.py", "--json")
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert [p["action"] for p in data["runs"][0]["phases"]] == ["skipped"] * 3
    assert _calls(tmp_path, "work") == 2


def test_syntax_error_is_one_line_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bad.py").write_text("import cairn\n\ndef phase(:\n    pass\n")
    monkeypatch.chdir(tmp_path)
    assert main(["run", "bad.py"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "bad.py:3: syntax error" in err and "fix the file and run again" in err


def test_load_time_exception_names_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "boom.py").write_text("x = 1\nraise KeyError('missing config')\n")
    monkeypatch.chdir(tmp_path)
    assert main(["run", "boom.py"]) == 1
    err = capsys.readouterr().err
    assert "boom.py:2: KeyError" in err and "while loading the workflow" in err


def test_file_without_tasks_and_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    assert main(["run", "empty.py"]) == 2
    assert "defines no task" in capsys.readouterr().err
    assert main(["run", "nope.py"]) == 2
    assert "no workflow file nope.py" in capsys.readouterr().err


def test_top_level_run_is_not_repeated_and_reset_via_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "flat.py").write_text(
        "import cairn\nfrom pathlib import Path\n"
        "task = cairn.open('.').task('flat')\n"
        "@task.phase\n"
        "def only(ctx):\n"
        "    f = Path('n'); f.write_text(str(int(f.read_text()) + 1 if f.exists() else 1))\n"
        "    return 'x'\n"
        "task.run()\n"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["run", "flat.py"]) == 0
    assert (tmp_path / "n").read_text() == "1"
    assert "only: ran" in capsys.readouterr().out
    assert main(["run", "flat.py"]) == 0
    assert (tmp_path / "n").read_text() == "1"
    assert main(["run", "flat.py", "--reset", "only"]) == 0
    out = capsys.readouterr().out
    assert "reset: only will run again" in out
    assert (tmp_path / "n").read_text() == "2"
    assert main(["run", "flat.py", "--task", "other"]) == 2
    assert "defines no task 'other'" in capsys.readouterr().err


def test_rename_error_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    body = (
        "import cairn\ntask = cairn.open('.').task('t')\n"
        "task.phase('{a}')(lambda ctx: 'a')\ntask.phase('b')(lambda ctx: 'b')\n"
    )
    wf = tmp_path / "wf.py"
    wf.write_text(body.format(a="first"))
    monkeypatch.chdir(tmp_path)
    assert main(["run", "wf.py"]) == 0
    wf.write_text(body.format(a="start"))
    assert main(["run", "wf.py"]) == 2
    err = capsys.readouterr().err
    assert "no longer defines it (renamed to 'start'?)" in err
    assert "`cairn run wf.py --reset first`" in err
    assert main(["run", "wf.py", "--reset", "first"]) == 0
    assert "start: ran" in capsys.readouterr().out


def test_failing_phase_through_the_cli_shows_in_status(tmp_path: Path) -> None:
    (tmp_path / "wf.py").write_text(
        "import cairn\ntask = cairn.open('.').task('t')\n"
        "@task.phase\ndef parse(ctx):\n    return int('not a number')\n"
    )
    out = _cairn(tmp_path, "run", "wf.py")
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "ValueError: invalid literal" in out.stderr
    status = _cairn(tmp_path, "status")
    assert "❌ Failures" in status.stdout and "ValueError: invalid literal" in status.stdout


def test_run_with_workspace_option_from_elsewhere(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (tmp_path / "wf.py").write_text(
        "import cairn\ntask = cairn.open('.').task('t')\ntask.phase('a')(lambda ctx: 'hello')\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "cairn", "-C", str(ws), "run", "wf.py", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["runs"][0]["phases"][0]["action"] == "ran"
    assert (ws / "artifacts" / "t_a.md").read_text() == "hello"
    assert not (tmp_path / ".cairn").exists()
