"""The core commands through the real CLI entry point: output, --json shapes, exit codes."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.cli import Result, run

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture
def ws(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    assert run(capsys, None, "init", str(root)).code == 0
    return root


def ok(r: Result) -> Result:
    assert r.code == 0, (r.out, r.err)
    return r


def usage(r: Result) -> Result:
    assert r.code == 2, (r.out, r.err)
    assert r.err.startswith("cairn:"), r.err
    return r


def one_line_error(r: Result, code: int = 1) -> str:
    assert r.code == code, (r.out, r.err)
    lines = r.err.rstrip("\n").split("\n")
    assert len(lines) == 1, r.err
    assert lines[0].startswith("cairn: error: ")
    return lines[0]


def _task(capsys: pytest.CaptureFixture[str], ws: Path, tid: str = "finding4") -> None:
    ok(
        run(
            capsys,
            ws,
            "task",
            "new",
            tid,
            "--title",
            "Best-of-N",
            "--phases",
            "analysis,plan,implement,test",
        )
    )


# -- init ------------------------------------------------------------------------------------------
def test_init_creates_the_tree(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for rel in (".cairn/cairn.db", ".cairn/config.toml", "CURRENT_WORK_STATUS.md"):
        assert (ws / rel).is_file(), rel
    assert (ws / "artifacts").is_dir() and (ws / "logs").is_dir()
    assert (ws / "logs" / "compaction_recovery.log").is_file()
    assert "No open task" in (ws / "CURRENT_WORK_STATUS.md").read_text(encoding="utf-8")
    again = ok(run(capsys, None, "init", str(ws)))
    assert "already set up" in again.out


def test_init_of_a_missing_folder_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, None, "init", str(tmp_path / "nope"))
    assert one_line_error(r, 2)
    assert not (tmp_path / "nope").exists()


# -- a whole session, every command ----------------------------------------------------------------
def test_session_every_command(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = ok(
        run(
            capsys,
            ws,
            "task",
            "new",
            "finding4",
            "--title",
            "Best-of-N sampling",
            "--phases",
            "analysis,plan,implement,test",
            "--json",
        )
    )
    t = r.json()
    assert t["schema"] == "cairn.task/1"
    assert t["id"] == "finding4" and t["title"] == "Best-of-N sampling"
    assert [p["name"] for p in t["phases"]] == ["analysis", "plan", "implement", "test"]
    assert t["state"] == "pending" and t["current_phase"] == "analysis"

    ok(run(capsys, ws, "phase", "start", "finding4", "analysis"))
    notes = ws / "notes.md"
    notes.write_text("# Analysis\n\n**Files to modify**: src/rank.py\n", encoding="utf-8")
    r = ok(
        run(
            capsys,
            ws,
            "checkpoint",
            "write",
            "finding4",
            "analysis",
            "--file",
            "notes.md",
            "--json",
        )
    )
    cp = r.json()
    assert cp["schema"] == "cairn.checkpoint/1"
    assert cp["version"] == 1 and cp["kind"] == "analysis" and cp["phase"] == "analysis"
    assert cp["path"] == "artifacts/finding4_analysis.md" and len(cp["hash"]) == 64
    assert "content" not in cp
    assert (ws / cp["path"]).read_bytes() == notes.read_bytes()

    # content on stdin, TASK left out (one active task)
    r = ok(run(capsys, ws, "checkpoint", "write", "analysis", stdin="# Analysis v2\n"))
    assert "analysis v2" in r.out
    assert (ws / "artifacts/finding4_analysis.md").read_text(encoding="utf-8") == "# Analysis v2\n"

    r = ok(run(capsys, ws, "checkpoint", "template", "plan"))
    for field in (
        "**Task**",
        "**Files to modify**",
        "**Approach**",
        "**Tests needed**",
        "**Estimated time**",
    ):
        assert field in r.out

    r = ok(
        run(capsys, ws, "progress", "finding4", "Added k parameter", "--state", "done", "--json")
    )
    s = r.json()
    assert s["schema"] == "cairn.step/1"
    assert s == {
        **s,
        "task": "finding4",
        "text": "Added k parameter",
        "state": "done",
        "phase": "analysis",
    }
    ok(run(capsys, ws, "progress", "Wire ranking", "--state", "active"))
    ok(run(capsys, ws, "progress", "Write tests", "--state", "todo"))
    ok(run(capsys, ws, "progress", "Old approach", "--state", "failed"))
    progress_md = (ws / "artifacts/finding4_progress.md").read_text(encoding="utf-8")
    for line in ("✅ Added k parameter", "⏳ Wire ranking", "⏸️ Write tests", "❌ Old approach"):
        assert line in progress_md

    r = ok(run(capsys, ws, "next", "finding4", "Implement ranking logic"))
    assert "Implement ranking logic" in r.out
    ok(run(capsys, ws, "phase", "done", "finding4", "analysis"))
    ok(run(capsys, ws, "phase", "start", "plan"))  # the only open task
    ok(
        run(
            capsys,
            ws,
            "checkpoint",
            "write",
            "plan",
            stdin="# Plan\n**Files to modify**: src/rank.py\n",
        )
    )

    r = ok(run(capsys, ws, "status"))
    assert "finding4" in r.out and "Implement ranking logic" in r.out
    assert (ws / "CURRENT_WORK_STATUS.md").read_text(encoding="utf-8") == r.out
    st = ok(run(capsys, ws, "status", "--json")).json()
    assert st["schema"] == "cairn.status/1"
    assert set(st) >= {
        "generated_at",
        "workspace",
        "counts",
        "active",
        "other_tasks",
        "failures",
        "recoveries",
        "sections",
    }
    assert not any(k.startswith("_") for k in st)
    a = st["active"][0]
    assert (
        a["id"] == "finding4"
        and a["phase"] == "plan"
        and a["next_action"] == "Implement ranking logic"
    )
    assert a["newest_checkpoint"]["path"] == "artifacts/finding4_plan.md"
    assert st["counts"]["tasks"] == 1

    r = ok(run(capsys, ws, "recover", "--trigger", "compact"))
    assert "finding4" in r.out and "artifacts/finding4_plan.md" in r.out
    b = ok(run(capsys, ws, "recover", "--json", "--max-tokens", "500")).json()
    assert b["schema"] == "cairn.brief/1"
    assert b["task"] == "finding4" and b["phase"] == "plan" and b["max_tokens"] == 500
    assert b["checkpoint"] == "artifacts/finding4_plan.md" and b["tokens"] <= 500
    assert "src/rank.py" in b["reloaded"]
    log = (ws / "logs/compaction_recovery.log").read_text(encoding="utf-8")
    assert log.count("Recovery: Loaded checkpoint from artifacts/finding4_plan.md") == 2
    assert "trigger: compact" in log

    r = ok(run(capsys, ws, "checkpoint", "show", "analysis", "--version", "1"))
    assert r.out == notes.read_text(encoding="utf-8")
    shown = ok(run(capsys, ws, "checkpoint", "show", "finding4", "analysis", "--json")).json()
    assert shown["schema"] == "cairn.checkpoint/1" and shown["content"] == "# Analysis v2\n"
    lst = ok(run(capsys, ws, "checkpoint", "list", "--json")).json()
    assert lst["schema"] == "cairn.checkpoints/1" and lst["task"] == "finding4"
    by_kind = {c["kind"]: c for c in lst["checkpoints"]}
    assert by_kind["analysis"]["versions"] == 2 and by_kind["plan"]["versions"] == 1
    # Rendered from the 4 steps and the next action; a step stores no version (issue 9).
    assert by_kind["progress"]["versions"] == 1 and by_kind["progress"]["source"] == "progress"
    hist = ok(run(capsys, ws, "checkpoint", "history", "analysis", "--json")).json()
    assert [c["version"] for c in hist["checkpoints"]] == [1, 2]
    assert hist["schema"] == "cairn.checkpoints/1" and hist["task"] == "finding4"
    assert "v1" in ok(run(capsys, ws, "checkpoint", "list")).out

    tl = ok(run(capsys, ws, "task", "list", "--json")).json()
    assert tl["schema"] == "cairn.tasks/1" and [t["id"] for t in tl["tasks"]] == ["finding4"]
    assert "finding4" in ok(run(capsys, ws, "task", "list")).out
    ts = ok(run(capsys, ws, "task", "show", "--json")).json()
    assert ts["schema"] == "cairn.task/1" and len(ts["steps"]) == 4
    assert {c["kind"] for c in ts["checkpoints"]} == {"analysis", "plan", "progress"}
    assert (
        "Next action: Implement ranking logic"
        in ok(run(capsys, ws, "task", "show", "finding4")).out
    )

    ev = ok(run(capsys, ws, "log", "--json", "--limit", "500")).json()
    assert ev["schema"] == "cairn.log/1"
    types = [e["type"] for e in ev["events"]]
    assert types[0] == "task.created" and "recovery" in types and "phase.done" in types
    ids = [e["id"] for e in ev["events"]]
    assert ids == sorted(ids)
    only = ok(run(capsys, ws, "log", "--json", "--type", "phase.started")).json()["events"]
    assert [e["data"]["phase"] for e in only] == ["analysis", "plan"]
    assert "task.created" in ok(run(capsys, ws, "log", "--task", "finding4")).out


def test_phase_fail_add_phase_and_reopen(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _task(capsys, ws)
    ok(run(capsys, ws, "phase", "start", "analysis"))
    ok(run(capsys, ws, "phase", "fail", "analysis", "--error", "tokenizer missing"))
    st = ok(run(capsys, ws, "status", "--json")).json()
    assert st["failures"][0]["phase"] == "analysis"
    assert "tokenizer missing" in st["failures"][0]["error"]
    ok(run(capsys, ws, "phase", "start", "finding4", "analysis"))  # failed -> active is legal
    ok(run(capsys, ws, "phase", "done", "finding4", "analysis"))
    r = usage(run(capsys, ws, "phase", "start", "finding4", "analysis"))
    assert "--reopen" in r.err
    ok(run(capsys, ws, "phase", "start", "finding4", "analysis", "--reopen"))
    ok(run(capsys, ws, "task", "add-phase", "finding4", "docs"))
    t = ok(run(capsys, ws, "task", "show", "--json")).json()
    assert [p["name"] for p in t["phases"]][-1] == "docs"
    events = [
        e["type"] for e in ok(run(capsys, ws, "log", "--json", "--limit", "100")).json()["events"]
    ]
    assert "phase.reopened" in events and "phase.failed" in events


def test_gated_phase_needs_plan_approved_or_override(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ok(run(capsys, ws, "task", "new", "g", "--phases", "plan,implement", "--gate", "implement"))
    ok(run(capsys, ws, "phase", "start", "plan"))
    ok(run(capsys, ws, "phase", "done", "plan"))
    r = usage(run(capsys, ws, "phase", "start", "g", "implement"))
    assert "gated" in r.err and "--override" in r.err
    ok(run(capsys, ws, "phase", "start", "g", "implement", "--override", "reviewer down"))


# -- TASK may be left out only when it is unambiguous ------------------------------------------------
def test_task_omitted_needs_one_active_task(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = usage(run(capsys, ws, "progress", "did a thing"))
    assert "no open task" in r.err
    _task(capsys, ws, "a")
    _task(capsys, ws, "b")
    r = usage(run(capsys, ws, "phase", "start", "analysis"))
    assert "name the task" in r.err
    ok(run(capsys, ws, "phase", "start", "a", "analysis"))
    ok(run(capsys, ws, "progress", "step for a"))  # one active task now
    assert ok(run(capsys, ws, "task", "show", "--json")).json()["id"] == "a"
    ok(run(capsys, ws, "phase", "start", "b", "analysis"))
    r = usage(run(capsys, ws, "progress", "which one?"))
    assert "several tasks are active" in r.err and "a" in r.err and "b" in r.err
    ok(run(capsys, ws, "progress", "b", "step for b"))
    steps = ok(run(capsys, ws, "task", "show", "b", "--json")).json()["steps"]
    assert [s["text"] for s in steps] == ["step for b"]


def test_task_lookup_is_case_insensitive(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _task(capsys, ws, "Finding4")
    r = ok(run(capsys, ws, "task", "show", "finding4", "--json"))
    assert r.json()["id"] == "Finding4"


# -- exit codes ------------------------------------------------------------------------------------
def test_usage_errors_exit_2(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, ws).code == 2  # no command
    assert run(capsys, ws, "frobnicate").code == 2
    assert run(capsys, ws, "task").code == 2
    assert run(capsys, ws, "recover", "--max-tokens", "many").code == 2
    _task(capsys, ws)
    usage(run(capsys, ws, "progress", "finding4", "x", "--state", "halfway"))
    usage(run(capsys, ws, "recover", "--trigger", "lunch"))
    usage(run(capsys, ws, "recover", "--max-tokens", "10"))
    usage(run(capsys, ws, "phase", "start", "a", "b", "c"))
    usage(run(capsys, ws, "checkpoint", "show", "finding4", "plan"))  # no such checkpoint
    usage(run(capsys, ws, "checkpoint", "write", "finding4", "plan", stdin=b"  \n"))
    usage(run(capsys, ws, "checkpoint", "template", "no_such_kind"))


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    r = run(capsys, None, "--help")
    assert r.code == 0 and "checkpoint" in r.out


def test_console_script_exit_codes(ws: Path) -> None:
    """A few real processes: the exit status a shell sees."""

    def cairn(*args: str, cwd: Path = ws) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cairn", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
        )

    assert cairn("task", "new", "t1", "--phases", "a").returncode == 0
    assert cairn("status").returncode == 0
    r = cairn("phase", "done", "t1", "a")
    assert r.returncode == 2 and "not active" in r.stderr
    r = cairn("status", cwd=ws.parent)
    assert r.returncode == 1 and "cairn init" in r.stderr and r.stdout == ""


# -- bad names and paths: a clear error, nothing written outside -------------------------------------
BAD_TASK_IDS = [
    "../x",
    "..",
    "a/../../x",
    "/etc/passwd",
    "/tmp/x",
    "a\x00b",
    "x" * 10_000,
    ".hidden",
    "a\\b",
    "",
    "tab\tname",
    "naïve",
]


@pytest.mark.parametrize("bad", BAD_TASK_IDS, ids=lambda s: repr(s[:12]))
def test_bad_task_ids_are_refused(
    bad: str, ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside_before = sorted(p.name for p in tmp_path.iterdir())
    r = run(capsys, ws, "task", "new", bad, "--phases", "a")
    msg = one_line_error(r, 2)
    assert len(msg) < 400  # a 10 KB name is not echoed back whole
    assert sorted(p.name for p in tmp_path.iterdir()) == outside_before
    assert not list((ws / "artifacts").iterdir())
    assert ok(run(capsys, ws, "task", "list", "--json")).json()["tasks"] == []


@pytest.mark.parametrize("bad", ["../x", "/abs", "a/b", "UPPER", "x" * 10_000, "nul\x00", "..", ""])
def test_bad_kinds_and_phases_are_refused(
    bad: str, ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _task(capsys, ws)
    ok(run(capsys, ws, "phase", "start", "analysis"))
    one_line_error(run(capsys, ws, "checkpoint", "write", "finding4", bad, stdin="x\n"), 2)
    if bad:
        one_line_error(run(capsys, ws, "task", "new", "t2", "--phases", f"ok,{bad}"), 2)
        one_line_error(run(capsys, ws, "task", "add-phase", "finding4", bad), 2)
    one_line_error(run(capsys, ws, "phase", "start", "finding4", bad), 2)
    assert sorted(p.name for p in (ws / "artifacts").iterdir()) == []
    assert [
        c["kind"] for c in ok(run(capsys, ws, "checkpoint", "list", "--json")).json()["checkpoints"]
    ] == []


def test_names_that_differ_only_in_case(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _task(capsys, ws, "finding4")
    r = run(capsys, ws, "task", "new", "FINDING4", "--phases", "a")
    assert "differs only in case" in one_line_error(r, 2)
    r = run(capsys, ws, "task", "new", "finding4", "--phases", "a")
    assert "already exists" in one_line_error(r, 2)
    assert len(ok(run(capsys, ws, "task", "list", "--json")).json()["tasks"]) == 1


def test_artifact_names_of_different_tasks_do_not_collide(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before issue 9 the second write was refused ("artifacts/a_b_c.md already holds task
    # 'a_b'"): a `_` in a task id is now written twice in the file name.
    ok(run(capsys, ws, "task", "new", "a_b", "--phases", "x"))
    ok(run(capsys, ws, "task", "new", "a", "--phases", "x"))
    ok(run(capsys, ws, "checkpoint", "write", "a_b", "c", stdin="first owner\n"))
    ok(run(capsys, ws, "checkpoint", "write", "a", "b_c", stdin="task a's own\n"))
    assert (ws / "artifacts/a__b_c.md").read_text(encoding="utf-8") == "first owner\n"
    assert (ws / "artifacts/a_b_c.md").read_text(encoding="utf-8") == "task a's own\n"
    listed = ok(run(capsys, ws, "checkpoint", "list", "a", "--json")).json()["checkpoints"]
    assert [(c["kind"], c["path"]) for c in listed] == [("b_c", "artifacts/a_b_c.md")]


def test_reload_and_file_paths_outside_the_workspace(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _task(capsys, ws)
    for bad in ("../secret.md", "/etc/passwd", "a/../../x"):
        r = run(capsys, ws, "checkpoint", "write", "finding4", "plan", "--reload", bad, stdin="x\n")
        assert "outside the workspace" in one_line_error(r, 2)
    (tmp_path / "outside.md").write_text("x\n", encoding="utf-8")
    (ws / "link").symlink_to(tmp_path)
    r = run(
        capsys,
        ws,
        "checkpoint",
        "write",
        "finding4",
        "plan",
        "--reload",
        "link/outside.md",
        stdin="x\n",
    )
    assert "outside the workspace" in one_line_error(r, 2)
    assert ok(run(capsys, ws, "checkpoint", "list", "--json")).json()["checkpoints"] == []
    # What cairn only reads may come from anywhere the user can read (issue 11's one rule):
    # --file ../x reads like --file /abs/x; what it writes stays inside.
    for given in ("../outside.md", str(tmp_path / "outside.md")):
        r = run(capsys, ws, "checkpoint", "write", "finding4", "plan", "--file", given)
        assert r.code == 0, r.err
    r = ok(run(capsys, ws, "checkpoint", "show", "finding4", "plan", "--json")).json()
    assert r["version"] == 1 and r["content"] == "x\n"  # the same content again stores nothing


# -- illegal transitions ---------------------------------------------------------------------------
def test_illegal_transitions_say_what_is_legal(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, ws, "phase", "start", "ghost", "analysis")
    assert "no task 'ghost'" in one_line_error(r, 2) and "cairn task new" in r.err
    _task(capsys, ws)
    r = run(capsys, ws, "phase", "start", "finding4", "deploy")
    msg = one_line_error(r, 2)
    assert "analysis, plan, implement, test" in msg and "add-phase" in msg
    r = run(capsys, ws, "phase", "done", "finding4", "plan")
    assert "pending, not active" in one_line_error(r, 2)
    ok(run(capsys, ws, "phase", "start", "finding4", "analysis"))
    r = run(capsys, ws, "phase", "start", "finding4", "plan")
    assert "still active" in one_line_error(r, 2)
    r = run(capsys, ws, "phase", "start", "finding4", "analysis")
    assert "already active" in one_line_error(r, 2)
    ok(run(capsys, ws, "phase", "done", "finding4", "analysis"))
    r = run(capsys, ws, "phase", "start", "finding4", "analysis")
    assert "--reopen" in one_line_error(r, 2)
    phases = ok(run(capsys, ws, "task", "show", "--json")).json()["phases"]
    assert [p["state"] for p in phases] == ["done", "pending", "pending", "pending"]


# -- bad content -----------------------------------------------------------------------------------
def test_non_utf8_content_is_refused(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _task(capsys, ws)
    ok(run(capsys, ws, "checkpoint", "write", "finding4", "plan", stdin="good v1\n"))
    (ws / "latin1.md").write_bytes("caf\xe9 notes\n".encode("latin-1"))
    r = run(capsys, ws, "checkpoint", "write", "finding4", "plan", "--file", "latin1.md")
    msg = one_line_error(r, 2)
    assert "not UTF-8" in msg and "0xe9" in msg
    r = run(capsys, ws, "checkpoint", "write", "finding4", "plan", stdin=b"\xff\xfe\x00bin")
    one_line_error(r, 2)
    r = run(capsys, ws, "checkpoint", "write", "finding4", "plan", stdin=b"nul\x00inside\n")
    assert "NUL" in one_line_error(r, 2)
    assert (
        ok(run(capsys, ws, "checkpoint", "history", "plan", "--json")).json()["checkpoints"][-1][
            "version"
        ]
        == 1
    )
    assert (ws / "artifacts/finding4_plan.md").read_text(encoding="utf-8") == "good v1\n"


def test_checkpoint_over_the_size_limit(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _task(capsys, ws)
    big = b"# big\n" + b"x" * 5_000_000
    r = run(capsys, ws, "checkpoint", "write", "finding4", "plan", stdin=big)
    msg = one_line_error(r, 2)
    assert "5,000,000-byte limit" in msg and "max_bytes" in msg
    cfg = ws / ".cairn/config.toml"
    cfg.write_text(
        cfg.read_text(encoding="utf-8").replace("max_bytes = 5_000_000", "max_bytes = 100"),
        encoding="utf-8",
    )
    ok(run(capsys, ws, "checkpoint", "write", "finding4", "plan", stdin=b"y" * 100))
    r = run(capsys, ws, "checkpoint", "write", "finding4", "plan", stdin=b"y" * 101)
    assert "100-byte limit" in one_line_error(r, 2)
    assert (
        len(ok(run(capsys, ws, "checkpoint", "history", "plan", "--json")).json()["checkpoints"])
        == 1
    )


def test_progress_and_next_text_limits(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _task(capsys, ws)
    one_line_error(run(capsys, ws, "progress", "finding4", "x" * 2001), 2)
    one_line_error(run(capsys, ws, "progress", "finding4", "   "), 2)
    one_line_error(run(capsys, ws, "next", "finding4", "a\x00b"), 2)
    ok(run(capsys, ws, "progress", "finding4", "日本語のステップ ✓"))
    assert "日本語のステップ" in (ws / "artifacts/finding4_progress.md").read_text(encoding="utf-8")


# -- outside a workspace, broken stores --------------------------------------------------------------
def test_command_outside_a_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    for args in (["status"], ["recover"], ["task", "list"], ["progress", "x"]):
        r = run(capsys, None, *args)
        assert "cairn init" in one_line_error(r, 1)
    assert list(empty.iterdir()) == []


def _db_files(ws: Path) -> dict[str, bytes]:
    """The store's bytes once every connection is closed (SQLite then folds the WAL back in)."""
    gc.collect()
    found = {
        p.name: p.read_bytes() for p in (ws / ".cairn").iterdir() if p.name.startswith("cairn.db")
    }
    assert not found.get("cairn.db-wal"), "a WAL with frames is left"
    return {"cairn.db": found["cairn.db"]}


def _fill(capsys: pytest.CaptureFixture[str], ws: Path) -> None:
    _task(capsys, ws)
    ok(run(capsys, ws, "phase", "start", "analysis"))
    for i in range(20):
        ok(run(capsys, ws, "checkpoint", "write", "analysis", stdin=f"# v{i}\n" + "line\n" * 300))


def test_store_from_a_newer_cairn(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    _fill(capsys, ws)
    db = ws / ".cairn" / "cairn.db"
    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT INTO cairn_migrations (name, applied_at) VALUES ('9999_from_the_future', 'x')"
    )
    conn.commit()
    conn.close()
    before = _db_files(ws)
    for args in (["status"], ["recover"], ["progress", "x"], ["init"]):
        r = run(capsys, ws, *args)
        msg = one_line_error(r, 1)
        assert "newer cairn" in msg and "9999_from_the_future" in msg and "upgrade" in msg
    assert _db_files(ws) == before


@pytest.mark.parametrize(
    "damage", ["header", "middle", "truncate_half", "truncate_100", "empty_tail"]
)
def test_corrupt_or_truncated_store(
    damage: str, ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _fill(capsys, ws)
    db = ws / ".cairn" / "cairn.db"
    data = bytearray(_db_files(ws)["cairn.db"])
    if damage == "header":
        data[0:16] = b"definitely not!!"
    elif damage == "middle":
        page = 4096
        for p in range(2, len(data) // page):
            data[p * page : p * page + 64] = b"\xa5" * 64
    elif damage == "truncate_half":
        data = data[: len(data) // 2 + 123]
    elif damage == "truncate_100":
        data = data[:100]
    elif damage == "empty_tail":
        data = data[: len(data) - 4096 * 3]
    db.write_bytes(bytes(data))
    artifacts = {p.name: p.read_bytes() for p in (ws / "artifacts").iterdir()}
    before = _db_files(ws)
    for args in (
        ["status"],
        ["recover"],
        ["checkpoint", "show", "finding4", "analysis"],
        ["checkpoint", "write", "analysis"],
    ):
        r = run(capsys, ws, *args, stdin="new\n")
        msg = one_line_error(r, 1)
        assert "corrupt" in msg or "not a cairn store" in msg or "cannot be used" in msg, msg
        assert "Traceback" not in r.err
    assert _db_files(ws).get("cairn.db") == before["cairn.db"]
    assert {p.name: p.read_bytes() for p in (ws / "artifacts").iterdir()} == artifacts


def test_a_foreign_sqlite_file_is_not_touched(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    db = ws / ".cairn" / "cairn.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE other (x)")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    r = run(capsys, ws, "status")
    assert "not a cairn store" in one_line_error(r, 1)
    assert db.read_bytes() == before


def test_bad_config_is_a_one_line_usage_error(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (ws / ".cairn/config.toml").write_text("[checkpoints\nmax_bytes = ", encoding="utf-8")
    assert "not valid TOML" in one_line_error(run(capsys, ws, "status"), 2)
    (ws / ".cairn/config.toml").write_text('[paths]\nartifacts = "../out"\n', encoding="utf-8")
    assert "inside the workspace" in one_line_error(run(capsys, ws, "status"), 2)


def test_every_core_json_schema_is_documented() -> None:
    import re as _re

    from cairn import views
    from cairn.cli import core
    from cairn.projection import status as projection
    from cairn.recovery import brief as recovery

    doc = (Path(__file__).resolve().parent.parent / "docs" / "json.md").read_text(encoding="utf-8")
    # The core commands' shapes are built in cairn.views (shared with the MCP server).
    source = Path(core.__file__).read_text(encoding="utf-8")
    source += Path(views.__file__).read_text(encoding="utf-8")
    schemas = set(_re.findall(r'"(cairn\.[a-z_]+/\d+)"', source))
    schemas |= {projection.SCHEMA_STATUS, recovery.SCHEMA_BRIEF}
    assert len(schemas) >= 8
    for schema in schemas:
        assert f"`{schema}`" in doc, f"{schema} is not documented in docs/json.md"


def test_core_commands_list_matches_what_core_registers() -> None:
    import argparse

    from cairn.cli import _command_word, build_parser, core

    def choices(parser: argparse.ArgumentParser) -> set[str]:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        return set(sub.choices)

    everything = argparse.ArgumentParser().add_subparsers()
    core.register(everything)
    assert set(everything.choices) == set(core.COMMANDS)
    # A core command builds its own parser alone, whatever it is.
    for command in core.COMMANDS:
        assert choices(build_parser(command)) == {command}
    full = build_parser()
    sub_full = next(a for a in full._actions if isinstance(a, argparse._SubParsersAction))
    assert set(core.COMMANDS) <= set(sub_full.choices)
    assert _command_word(["-C", "dir", "status", "--json"]) == "status"
    assert _command_word(["--workspace=dir", "recover"]) == "recover"
    assert _command_word(["--help"]) is None and _command_word([]) is None


def test_core_commands_start_without_the_other_command_modules(ws: Path) -> None:
    code = (
        "import sys; from cairn.cli import main; main(['-C', sys.argv[1], 'status']); "
        "print(sorted(m for m in sys.modules if m.startswith('cairn.cli.')), file=sys.stderr)"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(ws)], capture_output=True, text=True, check=True
    )
    # quick reads the plain command lines of status and recover; no command module is loaded, nor
    # task_life_args (the task-life parsers core builds for `task` and `phase` only).
    assert r.stderr.strip() == "['cairn.cli.common', 'cairn.cli.core', 'cairn.cli.quick']"


def test_workspace_is_found_from_a_subfolder_and_from_the_environment(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _task(capsys, ws)
    deep = ws / "src" / "pkg"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert ok(run(capsys, None, "task", "list", "--json")).json()["tasks"][0]["id"] == "finding4"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    one_line_error(run(capsys, None, "status"), 1)
    monkeypatch.setenv("CAIRN_WORKSPACE", str(ws))
    assert "finding4" in ok(run(capsys, None, "status")).out
    assert list(elsewhere.iterdir()) == []


_QUICK_WORDS = [
    "status", "recover", "--json", "--exact", "--no-log", "--task", "--trigger", "--max-tokens",
    "-C", "--workspace", "--workspace=w", "--workspace=", "dir", "t1", "compact", "300", " 42 ",
    "-5", "x", "", "--help", "--jso", "--task=t", "-Cdir", "--", "-h", "list", "task",
]  # fmt: skip


def test_the_quick_parser_gives_what_argparse_gives(capsys: pytest.CaptureFixture[str]) -> None:
    """The plain forms of status and recover are read without argparse (cli/quick.py): every
    command line it answers, argparse answers the same; the others it leaves to argparse."""
    import random

    from cairn.cli import _command_word, build_parser
    from cairn.cli.quick import quick_args

    full = [
        ["status"],
        ["-C", "dir", "status", "--json"],
        ["--workspace=", "recover"],
        ["recover", "--task", "t1", "--trigger", "compact", "--max-tokens", "300", "--exact",
         "--no-log", "--json"],
        ["recover", "--max-tokens", " 42 ", "--task", ""],
    ]  # fmt: skip
    rng = random.Random(9)
    prefixes = [[], [], ["-C", "dir"], ["--workspace", "d"], ["--workspace=w"], ["-C"], ["x"]]
    lines = full + [
        rng.choice(prefixes)
        + [rng.choice(["status", "recover", "recover", "task"])]
        + [rng.choice(_QUICK_WORDS) for _ in range(rng.randint(0, 6))]
        for _ in range(3000)
    ]
    answered = 0
    for argv in lines:
        quick = quick_args(argv)
        if quick is None:
            assert argv not in full, argv
            continue
        answered += 1
        try:
            slow = build_parser(_command_word(argv)).parse_args(argv)
        except SystemExit:
            raise AssertionError(f"argparse refuses {argv!r}, the quick parser did not") from None
        assert vars(quick) == vars(slow), argv
    capsys.readouterr()
    assert answered > 200
    for argv in (["status", "--help"], ["recover", "--max-tokens", "x"], ["recover", "--jso"]):
        assert quick_args(argv) is None, argv
