"""Acceptance gaps of the core and durable-phase issues, each pinned by a test that failed before
its fix: documented JSON shapes, bad input that must be a one-line error with nothing lost."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers.cli import Result, run, snapshot

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def ws(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    assert run(capsys, None, "init", str(root)).code == 0
    r = run(capsys, root, "task", "new", "finding4", "--phases", "analysis,plan")
    assert r.code == 0, r.err
    assert run(capsys, root, "phase", "start", "analysis").code == 0
    assert run(capsys, root, "checkpoint", "write", "analysis", stdin="notes\n").code == 0
    return root


def one_line_error(r: Result, code: int) -> str:
    assert r.code == code, (r.out, r.err)
    lines = r.err.rstrip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("cairn: error: "), r.err
    return lines[0]


def test_every_json_schema_in_the_package_is_documented() -> None:
    doc = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")
    schemas: set[str] = set()
    for path in (ROOT / "src" / "cairn").rglob("*.py"):
        schemas |= set(re.findall(r'"(cairn\.[a-z_]+/\d+)"', path.read_text(encoding="utf-8")))
    assert {"cairn.run/1", "cairn.runs/1", "cairn.workers/1", "cairn.status/1"} <= schemas
    missing = sorted(s for s in schemas if f"`{s}`" not in doc)
    assert not missing, f"not documented in docs/json.md: {missing}"


def test_issue3_event_types_are_documented() -> None:
    doc = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")
    types: set[str] = set()
    for path in (ROOT / "src" / "cairn").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        types |= set(re.findall(r'"((?:phase|worker|stream)\.[a-z_]+)"', text))
    assert {"phase.restarted", "worker.started", "stream.repaired"} <= types
    missing = sorted(t for t in types if f"`{t}`" not in doc)
    assert not missing, f"event types not documented in docs/json.md: {missing}"


def test_an_emptied_store_is_refused_not_replaced_by_a_new_one(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store truncated to 0 bytes is a corrupt store: opening it must not start a new, empty
    one (and rewrite the status file as if there were no tasks)."""
    import gc

    gc.collect()  # close the fixture's connections first: closing one folds the WAL into the file
    db = ws / ".cairn" / "cairn.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(b"")
    before = snapshot(ws)
    for args in (["status"], ["recover"], ["progress", "x"], ["task", "list"]):
        msg = one_line_error(run(capsys, ws, *args), 1)
        assert "empty" in msg and "cairn init" in msg, msg
    assert snapshot(ws) == before
    assert db.stat().st_size == 0


def test_non_utf8_argument_is_a_one_line_usage_error(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bytes that are not UTF-8 reach Python as lone surrogates (surrogateescape)."""
    before = snapshot(ws)
    bad = b"Added \xff k".decode("utf-8", "surrogateescape")
    for args in (
        ["progress", bad],
        ["next", bad],
        ["phase", "fail", "analysis", "--error", bad],
        ["task", "new", "t2", "--title", bad],
    ):
        msg = one_line_error(run(capsys, ws, *args), 2)
        assert "UTF-8" in msg and "0xff" in msg, msg
    assert snapshot(ws) == before


def test_multi_line_step_and_next_action_are_kept_on_one_line(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A step or next action is one line: a newline in it would break the progress file, the
    status file and the brief (a second line that looks like something else)."""
    assert run(capsys, ws, "progress", "Added k\nparameter\r\n  to sampler").code == 0
    assert run(capsys, ws, "next", "Implement\nranking").code == 0
    shown = run(capsys, ws, "task", "show", "--json").json()
    assert [s["text"] for s in shown["steps"]] == ["Added k parameter to sampler"]
    assert shown["next_action"] == "Implement ranking"
    progress = (ws / "artifacts" / "finding4_progress.md").read_text(encoding="utf-8")
    assert "- ✅ Added k parameter to sampler" in progress
    assert "Implement ranking" in progress


def test_missing_version_names_the_versions_there_are(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, ws, "checkpoint", "write", "analysis", stdin="more\n").code == 0
    msg = one_line_error(run(capsys, ws, "checkpoint", "show", "analysis", "--version", "9"), 2)
    assert "no version 9" in msg and "versions 1-2" in msg, msg


def test_history_of_an_unknown_kind_is_an_error(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    msg = one_line_error(run(capsys, ws, "checkpoint", "history", "plann"), 2)
    assert "no checkpoint 'plann'" in msg and "analysis" in msg, msg


def test_done_phase_hint_is_a_command_that_works(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, ws, "phase", "done", "analysis").code == 0
    msg = one_line_error(run(capsys, ws, "phase", "done", "analysis"), 2)
    hint = re.findall(r"`([^`]+)`", msg)
    assert hint == ["cairn phase start finding4 analysis --reopen"], msg
    assert run(capsys, ws, "phase", "start", *hint[0].split()[3:]).code == 0


def test_add_phase_takes_the_active_task_when_task_is_left_out(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, ws, "task", "add-phase", "implement", "test").code == 0
    assert run(capsys, ws, "task", "add-phase", "finding4", "review").code == 0
    phases = [p["name"] for p in run(capsys, ws, "task", "show", "--json").json()["phases"]]
    assert phases == ["analysis", "plan", "implement", "test", "review"]
    assert run(capsys, ws, "task", "new", "other", "--phases", "a").code == 0
    assert run(capsys, ws, "phase", "start", "other", "a").code == 0
    msg = one_line_error(run(capsys, ws, "task", "add-phase", "extra"), 2)
    assert "several tasks are active" in msg and "name the task" in msg, msg


# -- streams may not be pointed at cairn's own files or at files that are not JSONL ----------------
@pytest.mark.parametrize(
    "rel",
    [
        ".cairn/cairn.db",
        ".cairn/findings.jsonl",
        "CURRENT_WORK_STATUS.md",
        "artifacts/finding4_analysis.md",
        "logs/compaction_recovery.log",
    ],
)
def test_stream_refuses_cairns_own_files(ws: Path, rel: str) -> None:
    from cairn.core.errors import ValidationError
    from cairn.domain.streams import open_stream
    from cairn.domain.workspace import Workspace

    (ws / "logs" / "compaction_recovery.log").write_text("a recovery\n", encoding="utf-8")
    before = snapshot(ws)
    w = Workspace.open(ws)
    try:
        with pytest.raises(ValidationError, match="belongs to cairn"):
            open_stream(w, rel, key=lambda r: r["id"], task_id="finding4")
    finally:
        w.close()
    after = snapshot(ws)
    assert not {n for n in set(after) - set(before) if not n.startswith(".cairn/cairn.db-")}
    for name, data in before.items():
        if not name.startswith(".cairn/cairn.db"):
            assert after[name] == data, name
    assert (ws / ".cairn" / "cairn.db").read_bytes()[:16] == b"SQLite format 3\x00"


def test_stream_refuses_a_file_that_is_not_jsonl(ws: Path) -> None:
    """Opening repairs a torn last line by truncating it; on a file that is not JSONL at all that
    would cut its last line. Such a file is refused and left as it is."""
    from cairn.core.errors import ValidationError
    from cairn.domain.streams import open_stream
    from cairn.domain.workspace import Workspace

    notes = ws / "notes.md"
    notes.write_bytes(b"# Notes\n\nkeep this last line")
    w = Workspace.open(ws)
    try:
        with pytest.raises(ValidationError, match="not a JSONL stream"):
            open_stream(w, "notes.md", key=lambda r: r["id"])
        # A torn first record alone is still repaired, as after a kill mid-write.
        torn = ws / "new.jsonl"
        torn.write_bytes(b'{"id": 1, "te')
        with open_stream(w, "new.jsonl", key=lambda r: r["id"]) as out:
            assert len(out) == 0 and out.repaired is not None
    finally:
        w.close()
    assert notes.read_bytes() == b"# Notes\n\nkeep this last line"
    assert torn.read_bytes() == b""


def test_worker_names_differing_only_in_case_are_refused(ws: Path) -> None:
    """Their log files (logs/workers/TASK/NAME.log) would be one file on macOS or Windows."""
    import sys

    import cairn
    from cairn.core.errors import ValidationError

    project = cairn.open(ws, create=False)
    try:
        task = project.task("finding4")
        echo = [sys.executable, "-c", "print('ok')"]
        assert task.spawn_many([cairn.Worker("repair", cmd=echo)])[0].ok
        with pytest.raises(ValidationError, match="differs only in case"):
            task.spawn_many([cairn.Worker("Repair", cmd=echo)])
        assert not (ws / "logs" / "workers" / "finding4" / "Repair.log").exists()
    finally:
        project.close()


def test_a_stale_workspace_object_elsewhere_does_not_fail_workers(ws: Path, tmp_path: Path) -> None:
    """A forked worker gives every Workspace object it inherited a connection of its own; one
    whose folder is gone (a finished temp workspace still referenced) must not make it fail."""
    import shutil
    import sys

    import cairn
    from cairn.domain.workspace import Workspace

    gone = tmp_path / "gone"
    gone.mkdir()
    stale = Workspace.init(gone)
    stale.close()
    shutil.rmtree(gone)
    project = cairn.open(ws, create=False)
    try:
        task = project.task("finding4")
        res = task.spawn_many([cairn.Worker("echo", cmd=[sys.executable, "-c", "print('ok')"])])
        assert res[0].ok, res[0].summary
    finally:
        project.close()
    del stale


# -- the readable tree is current whenever a command or task.run() returns -------------------------
_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z")


def _tree_is_current(root: Path) -> None:
    """The status file is what a render from the store gives now; every projected artifact holds
    the newest version of its kind; no temporary file is left."""
    from cairn.domain.workspace import Workspace
    from cairn.projection.status import render_status_md, status_data

    with Workspace.open(root, search=False) as w:
        fresh = render_status_md(status_data(w))
        with w.store.read() as tx:
            newest = tx.execute(
                "SELECT task_id, kind, content FROM checkpoints c WHERE version = (SELECT "
                "max(version) FROM checkpoints d WHERE d.task_id = c.task_id AND d.kind = c.kind)"
            )
        status = (root / w.config.status_file).read_text(encoding="utf-8")
        for row in newest:
            art = root / w.artifact_path(row["task_id"], row["kind"])
            assert art.read_text(encoding="utf-8") == row["content"], art
    assert _STAMP.sub("T", status) == _STAMP.sub("T", fresh)
    assert not [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def test_tree_is_current_after_every_core_command(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    steps: list[tuple[list[str], str | None]] = [
        (["progress", "Added k parameter"], None),
        (["next", "Implement ranking"], None),
        (["checkpoint", "write", "analysis"], "second version\n"),
        (["recover", "--trigger", "compact"], None),
        (["phase", "fail", "analysis", "--error", "broke"], None),
        (["phase", "start", "analysis"], None),
        (["phase", "done", "analysis"], None),
        (["phase", "start", "plan"], None),
        (["task", "add-phase", "test"], None),
        (["checkpoint", "write", "plan"], "# Plan\n"),
        (["task", "new", "other", "--phases", "a"], None),
        (["recover"], None),
        (["status"], None),
    ]
    for args, stdin in steps:
        r = run(capsys, ws, *args, stdin=stdin)
        assert r.code == 0, (args, r.err)
        _tree_is_current(ws)
    # A hand edit is taken in by the next command, whatever it is, and the tree is current again.
    art = ws / "artifacts" / "finding4_plan.md"
    art.write_text("# Plan\nedited by hand\n", encoding="utf-8")
    assert run(capsys, ws, "task", "list").code == 0
    _tree_is_current(ws)
    shown = run(capsys, ws, "checkpoint", "show", "plan", "--json").json()
    assert shown["source"] == "hand-edit" and "edited by hand" in shown["content"]


def test_tree_is_current_when_task_run_returns(tmp_path: Path) -> None:
    """task.run() renders the status itself at its end (a background timer only covers long
    phases): the file is current when run() returns, and when a phase raised too."""
    import cairn
    from cairn.flow import PhaseFailed

    project = cairn.open(tmp_path)
    try:
        task = project.task("finding4", "Best-of-N")
        fail = {"on": True}

        @task.phase("analysis")
        def analysis(ctx: cairn.PhaseContext) -> object:
            ctx.progress("read the data")
            return ctx.checkpoint("analysis", "# Analysis\n")

        @task.phase("plan", needs=["analysis"])
        def plan(ctx: cairn.PhaseContext) -> object:
            ctx.next("rank")
            return {"k": 4}

        @task.phase("build")
        def build(ctx: cairn.PhaseContext) -> object:
            if fail["on"]:
                raise RuntimeError("shard 3 is empty")
            return "built"

        with pytest.raises(PhaseFailed):
            task.run()
        _tree_is_current(tmp_path)
        assert "shard 3 is empty" in (tmp_path / "CURRENT_WORK_STATUS.md").read_text()
        fail["on"] = False
        task.run()
        _tree_is_current(tmp_path)
        assert "| finding4 | done |" in (tmp_path / "CURRENT_WORK_STATUS.md").read_text()
    finally:
        project.close()


def test_brief_json_has_every_documented_key_and_the_next_action(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = {
        "schema", "text", "tokens", "tokens_exact", "max_tokens", "trigger", "task", "phase",
        "checkpoint", "reloaded", "newest_checkpoint", "other_active", "next_action",
    }  # fmt: skip
    doc = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")
    section = doc.split("`cairn.brief/1`", 1)[1].split("\n## ", 1)[0]
    assert all(f"`{k}`" in section for k in keys), "cairn.brief/1 keys missing from docs/json.md"
    root = tmp_path / "empty"
    root.mkdir()
    assert run(capsys, None, "init", str(root)).code == 0
    empty = run(capsys, root, "recover", "--no-log", "--json").json()
    assert set(empty) == keys, set(empty) ^ keys
    assert empty["task"] is None and empty["newest_checkpoint"] is None
    assert empty["other_active"] == [] and empty["next_action"] is None
    assert run(capsys, root, "task", "new", "finding4", "--phases", "analysis").code == 0
    assert run(capsys, root, "next", "Implement ranking").code == 0
    brief = run(capsys, root, "recover", "--no-log", "--json").json()
    assert set(brief) == keys and brief["next_action"] == "Implement ranking"
    assert brief["newest_checkpoint"] is None  # no checkpoint yet: null, not {}
    assert run(capsys, root, "checkpoint", "write", "analysis", stdin="notes\n").code == 0
    brief = run(capsys, root, "recover", "--no-log", "--json").json()
    assert brief["newest_checkpoint"]["path"] == "artifacts/finding4_analysis.md"


def test_a_hand_edit_that_cannot_be_stored_is_kept_aside_not_overwritten(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An edit that is not UTF-8 (or over the size limit) cannot become a version. It used to stay
    in place, be journaled again by every command, and be overwritten by the next write."""
    art = ws / "artifacts" / "finding4_analysis.md"
    edited = b"notes\nedited in a latin-1 editor: caf\xe9\n"
    art.write_bytes(edited)
    assert run(capsys, ws, "status").code == 0
    assert art.read_text(encoding="utf-8") == "notes\n"  # the newest version: the tree is current
    kept = sorted(art.parent.glob("finding4_analysis.md.refused-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == edited
    events = run(capsys, ws, "log", "--type", "checkpoint.hand_edit_refused", "--json").json()
    assert len(events["events"]) == 1
    data = events["events"][0]["data"]
    assert data["kept_as"] == f"artifacts/{kept[0].name}" and "UTF-8" in data["reason"]
    for args, stdin in ((["task", "list"], None), (["checkpoint", "write", "analysis"], "v2\n")):
        assert run(capsys, ws, *args, stdin=stdin).code == 0
    again = run(capsys, ws, "log", "--type", "checkpoint.hand_edit_refused", "--json").json()
    assert len(again["events"]) == 1  # journaled once, not by every command
    assert kept[0].read_bytes() == edited and art.read_text(encoding="utf-8") == "v2\n"
    _tree_is_current(ws)


def test_run_json_is_the_only_thing_on_stdout(tmp_path: Path) -> None:
    """What the workflow prints (print() or straight to fd 1) goes to stderr with --json, so that
    standard output parses."""
    import json
    import subprocess
    import sys

    (tmp_path / "wf.py").write_text(
        "import os, cairn\n"
        "task = cairn.open('.').task('t1')\n"
        "print('loading the workflow')\n"
        "@task.phase('work')\n"
        "def work(ctx):\n"
        "    print('working hard')\n"
        "    os.write(1, b'raw bytes on fd 1\\n')\n"
        "    return 'done'\n",
        encoding="utf-8",
    )
    r = subprocess.run(
        [sys.executable, "-m", "cairn", "run", "wf.py", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["schema"] == "cairn.runs/1" and data["runs"][0]["phases"][0]["action"] == "ran"
    for line in ("loading the workflow", "working hard", "raw bytes on fd 1"):
        assert line in r.stderr


@pytest.mark.parametrize("cmd", [["task", "list"], ["log"]])
@pytest.mark.parametrize("limit", ["0", "-1", "ten"])
def test_limit_below_one_is_a_usage_error(
    ws: Path, capsys: pytest.CaptureFixture[str], cmd: list[str], limit: str
) -> None:
    r = run(capsys, ws, *cmd, "--limit", limit)
    assert r.code == 2 and "--limit" in r.err and r.out == "", (r.out, r.err)


def test_an_unwritable_readable_file_is_a_one_line_error_and_the_change_is_kept(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file system problem (here the status file is a folder; also a full disk, no permission)
    is an error that names the file, not an internal error; the store has the change."""
    status = ws / "CURRENT_WORK_STATUS.md"
    status.unlink()
    status.mkdir()
    msg = one_line_error(run(capsys, ws, "progress", "Added k"), 1)
    assert "internal error" not in msg and "CURRENT_WORK_STATUS.md" in msg, msg
    assert "saved" in msg and "cairn status" in msg, msg
    status.rmdir()
    assert run(capsys, ws, "status").code == 0
    shown = run(capsys, ws, "task", "show", "--json").json()
    assert [s["text"] for s in shown["steps"]] == ["Added k"]
    _tree_is_current(ws)


@pytest.mark.parametrize("phase", ["nosuch", "../a"])
def test_progress_for_a_phase_the_task_does_not_have_is_refused(
    ws: Path, capsys: pytest.CaptureFixture[str], phase: str
) -> None:
    before = snapshot(ws)
    msg = one_line_error(run(capsys, ws, "progress", "x", "--phase", phase), 2)
    assert "analysis, plan" in msg, msg
    assert run(capsys, ws, "task", "show", "--json").json()["steps"] == []
    assert {k: v for k, v in snapshot(ws).items() if not k.startswith(".cairn/")} == {
        k: v for k, v in before.items() if not k.startswith(".cairn/")
    }
    assert run(capsys, ws, "progress", "x", "--phase", "plan").code == 0


def test_a_small_brief_names_task_phase_checkpoint_and_files_with_longest_names(
    tmp_path: Path,
) -> None:
    """The smallest bound (200) must still name the task, its phase, the newest checkpoint and
    the files to reload when every name has the maximum length (64 characters)."""
    from cairn.domain.workspace import Workspace
    from cairn.recovery.brief import MIN_TOKENS, build_brief

    tid, phase, kind = "T" * 64, "p" * 64, "k" * 64
    with Workspace.init(tmp_path) as w:
        w.create_task(tid, "é" * 500, [phase, "q" * 64, "r" * 64])
        w.start_phase(tid, phase)
        w.write_checkpoint(tid, kind, "中文" * 3000, files=["x/" * 100 + "f.py"])
        w.set_next(tid, "下一步 " * 400)
        for i in range(8):
            w.progress(tid, f"步骤{i} " * 300)
        for bound in (MIN_TOKENS, 250, 400):
            for exact in (False, True):
                b = build_brief(w, max_tokens=bound, exact=exact)
                assert b.tokens <= bound
                path = w.artifact_path(tid, kind)
                for needed in (
                    (f"Task**: {tid}", f"Task: {tid}"),
                    (phase,),
                    (path,),
                    (
                        "Next action**: 下一步",
                        "Next action: 下一步",
                    ),
                ):
                    assert any(n in b.text for n in needed), (bound, exact, needed, b.text)
                assert "CURRENT_WORK_STATUS.md" in b.text, (bound, exact, b.text)
                assert "[… cut to fit]" not in b.text, (bound, exact, b.text)


def test_a_huge_failure_message_does_not_flood_the_status_file(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    error = "Traceback ...\nValueError: " + "shard 3 is empty " * 6000
    assert run(capsys, ws, "phase", "fail", "analysis", "--error", error).code == 0
    status = (ws / "CURRENT_WORK_STATUS.md").read_text(encoding="utf-8")
    assert len(status.encode("utf-8")) < 5_000, len(status)
    assert "ValueError: shard 3 is empty" in status
    assert "cairn log --task finding4 --type phase.failed" in status
    full = run(capsys, ws, "log", "--type", "phase.failed", "--json").json()["events"]
    assert full[-1]["data"]["error"] == error  # the journal keeps it whole


def test_status_says_when_a_running_phase_lost_its_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A phase killed mid-run stays active in the store until the next run; the status file must
    not present it as work going on."""
    import os
    import signal
    import subprocess
    import sys
    import time

    (tmp_path / "wf.py").write_text(
        "import time, pathlib, cairn\n"
        "task = cairn.open('.').task('t5')\n"
        "@task.phase('work')\n"
        "def work(ctx):\n"
        "    ctx.progress('started the slow part', state='active')\n"
        "    pathlib.Path('started').write_text('1')\n"
        "    if not pathlib.Path('fast').exists():\n"
        "        time.sleep(60)\n"
        "    return 'done'\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen([sys.executable, "-m", "cairn", "run", "wf.py"], cwd=tmp_path)
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "started").exists():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    r = run(capsys, tmp_path, "status", "--json")
    section = r.json()["sections"]["stale_phases"]
    assert section["schema"] == "cairn.stale_phases/1"
    assert [(p["task"], p["phase"], p["pid"]) for p in section["phases"]] == [
        ("t5", "work", proc.pid)
    ]
    status = (tmp_path / "CURRENT_WORK_STATUS.md").read_text(encoding="utf-8")
    assert "t5 / work (attempt 1" in status and f"process {proc.pid} is gone" in status
    (tmp_path / "fast").write_text("1")
    done = subprocess.run(
        [sys.executable, "-m", "cairn", "run", "wf.py"], cwd=tmp_path, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    assert "Interrupted phases" not in (tmp_path / "CURRENT_WORK_STATUS.md").read_text()


def test_brief_says_when_the_current_phase_lost_its_process(ws: Path) -> None:
    """After a crash the brief is what the agent reads first: an active phase whose process is
    gone is named as interrupted, with the way forward."""
    import os
    import subprocess
    import sys

    from cairn.domain.workspace import Workspace, now
    from cairn.recovery.brief import build_brief

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with Workspace.open(ws) as w:
        assert "Interrupted" not in build_brief(w).text
        with w.store.transaction() as tx:  # what a run killed mid-phase leaves behind
            tx.execute(
                "INSERT INTO phase_runs (task_id, phase, attempt, state, pid, host, started_at) "
                "VALUES ('finding4', 'analysis', 1, 'running', ?, ?, ?)",
                (dead.pid, os.uname().nodename, now()),
            )
        brief = build_brief(w, trigger="crash")
        assert "**Interrupted**" in brief.text and f"process {dead.pid}" in brief.text
        assert "cairn run" in brief.text
        small = build_brief(w, trigger="crash", max_tokens=200)
        assert small.tokens <= 200


def test_checkpoint_template_takes_json(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = run(capsys, ws, "checkpoint", "template", "plan", "--title", "Finding #4", "--json")
    data = r.json()
    assert data["schema"] == "cairn.template/1" and data["kind"] == "plan"
    assert data["text"].startswith("# Finding #4") and "**Estimated time**" in data["text"]
    plain = run(capsys, ws, "checkpoint", "template", "plan", "--title", "Finding #4")
    assert plain.out == data["text"]


def test_demo_into_a_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "afile"
    target.write_text("keep me", encoding="utf-8")
    msg = one_line_error(run(capsys, None, "demo", "--dir", str(target)), 2)
    assert "is a file" in msg and "new or empty folder" in msg
    assert target.read_text(encoding="utf-8") == "keep me"


def test_recovery_log_catches_up_when_two_recoveries_share_a_millisecond(
    ws: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check that re-renders a log left behind by a killed writer must not take an entry of
    the same millisecond for the newest one (timestamps have millisecond precision)."""
    from cairn.domain import workspace
    from cairn.domain.workspace import Workspace
    from cairn.recovery.brief import recover

    monkeypatch.setattr(workspace, "now", lambda: "2026-11-28T01:35:17.258Z")
    with Workspace.open(ws) as w:
        recover(w, trigger="compact", note="first")
        with monkeypatch.context() as m:  # killed between the commit and the log rendering
            # the log follows in the flush: the commit is never announced to the projector
            m.setattr(w.projector, "committed", lambda change: None)
            m.setattr(w.projector, "render_status", lambda: None)
            recover(w, trigger="compact", note="second")
    log = ws / "logs" / "compaction_recovery.log"
    assert "Note: second" not in log.read_text(encoding="utf-8")
    assert run(capsys, ws, "status").code == 0
    assert "Note: second" in log.read_text(encoding="utf-8")


def test_a_deleted_status_file_is_back_after_any_command(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = ws / "CURRENT_WORK_STATUS.md"
    status.unlink()
    assert run(capsys, ws, "task", "list").code == 0
    assert status.is_file()
    _tree_is_current(ws)


def test_an_oversized_checkpoint_is_refused_before_it_is_read(
    ws: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A huge --file or an endless stdin is refused by its size, not read into memory first."""
    import io
    import sys

    huge = ws / "huge.bin"
    with open(huge, "wb") as fh:
        fh.truncate(3 * 1024**3)  # sparse: takes no disk space
    msg = one_line_error(run(capsys, ws, "checkpoint", "write", "plan", "--file", "huge.bin"), 2)
    assert "over the 5,000,000-byte limit" in msg and "3,221,225,472 bytes" in msg, msg

    class Endless(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, b: bytearray) -> int:  # type: ignore[override]
            b[:] = b"x" * len(b)
            return len(b)

        def read(self, size: int = -1) -> bytes:
            assert size is not None and size >= 0, "stdin read to its end"
            return b"x" * size

    class FakeStdin:
        buffer = Endless()

        def isatty(self) -> bool:
            return False

    monkeypatch.setattr(sys, "stdin", FakeStdin())
    msg = one_line_error(run(capsys, ws, "checkpoint", "write", "plan"), 2)
    assert "over the 5,000,000-byte limit" in msg, msg
    assert (
        run(capsys, ws, "checkpoint", "list", "--json").json()["checkpoints"][0]["kind"] != "plan"
    )
