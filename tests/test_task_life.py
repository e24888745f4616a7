"""The life of a task after its work (issue 11): archive, delete, rename, and removing a phase."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from helpers.cli import Result, run


def _one_line(r: Result, code: int) -> str:
    assert r.code == code, (r.out, r.err)
    lines = r.err.rstrip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("cairn: "), r.err
    return lines[0]


@pytest.fixture
def ws(ws_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    for args, stdin in (
        (["task", "new", "done1", "--title", "Finished work", "--phases", "a,b"], None),
        (["phase", "start", "done1", "a"], None),
        (["checkpoint", "write", "done1", "analysis"], "the analysis\n"),
        (["progress", "done1", "looked at it"], None),
        (["phase", "done", "done1", "a"], None),
        (["task", "new", "other", "--phases", "x"], None),
    ):
        r = run(capsys, ws_path, *args, stdin=stdin)
        assert r.code == 0, (args, r.err)
    return ws_path


def _status(ws: Path) -> str:
    return (ws / "CURRENT_WORK_STATUS.md").read_text()


def test_archive_takes_a_task_out_of_status_lists_and_briefs(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "done1" in _status(ws)
    r = run(capsys, ws, "task", "archive", "DONE1", "--json")
    assert r.code == 0, r.err
    assert r.json() == {"schema": "cairn.task_change/1", "task": "done1", "action": "archived"}
    assert "done1" not in _status(ws)
    listed = run(capsys, ws, "task", "list", "--json").json()
    assert [t["id"] for t in listed["tasks"]] == ["other"]
    archived = run(capsys, ws, "task", "list", "--archived", "--json").json()
    assert [t["id"] for t in archived["tasks"]] == ["done1"]
    brief = run(capsys, ws, "recover", "--no-log", "--json").json()
    assert brief["task"] != "done1" and "Finished work" not in brief["text"]
    # Kept whole: shown by name, its files where they were.
    shown = run(capsys, ws, "checkpoint", "show", "done1", "analysis")
    assert shown.code == 0 and shown.out == "the analysis\n"
    assert (ws / "artifacts" / "done1_analysis.md").read_text() == "the analysis\n"
    again = run(capsys, ws, "task", "new", "done1")
    assert "cairn task unarchive done1" in _one_line(again, 2)
    assert run(capsys, ws, "task", "unarchive", "done1").code == 0
    assert "done1" in _status(ws)
    listed = run(capsys, ws, "task", "list", "--json").json()
    assert {t["id"] for t in listed["tasks"]} == {"done1", "other"}
    log = run(capsys, ws, "log", "--task", "done1", "--json").json()["events"]
    assert [e["type"] for e in log][-2:] == ["task.archived", "task.unarchived"]


def test_a_task_in_use_is_not_archived_deleted_or_renamed(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, ws, "phase", "start", "other", "x").code == 0
    for args in (
        ["task", "archive", "other"],
        ["task", "delete", "other", "--yes"],
        ["task", "rename", "other", "another"],
    ):
        msg = _one_line(run(capsys, ws, *args), 2)
        assert "phase 'x' of 'other' is active" in msg and "cairn phase done other x" in msg
    listed = run(capsys, ws, "task", "list", "--json").json()["tasks"]
    assert {t["id"] for t in listed} == {"done1", "other"}


def test_delete_asks_first_then_removes_the_files_and_keeps_the_history(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asked = run(capsys, ws, "task", "delete", "done1", stdin="")
    assert "--yes" in _one_line(asked, 2)
    assert (ws / "artifacts" / "done1_analysis.md").exists()
    # A hand edit made just before is taken in first: deleting loses nothing typed.
    (ws / "artifacts" / "done1_analysis.md").write_text("edited by hand\n")
    r = run(capsys, ws, "task", "delete", "done1", "--yes", "--json")
    assert r.code == 0, r.err
    out = r.json()
    assert out["action"] == "deleted"
    assert sorted(out["removed"]) == ["artifacts/done1_analysis.md", "artifacts/done1_progress.md"]
    assert not list((ws / "artifacts").glob("done1_*"))
    assert "done1" not in _status(ws)
    assert [t["id"] for t in run(capsys, ws, "task", "list", "--json").json()["tasks"]] == ["other"]
    assert "was deleted" in _one_line(run(capsys, ws, "task", "show", "done1"), 2)
    assert "was deleted" in _one_line(run(capsys, ws, "task", "new", "done1"), 2)
    events = run(capsys, ws, "log", "--task", "done1", "--limit", "100", "--json").json()["events"]
    types = [e["type"] for e in events]
    assert types[-1] == "task.deleted" and "task.created" in types
    written = [e for e in events if e["type"] == "checkpoint.written"]
    assert [e["data"]["source"] for e in written] == ["write", "hand-edit"]
    # The next look does not bring the files back.
    assert run(capsys, ws, "refresh").code == 0
    assert not list((ws / "artifacts").glob("done1_*"))


def test_rename_moves_every_record_and_the_artifacts(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (ws / "artifacts" / "done1_analysis.md").write_text("edited before the rename\n")
    r = run(capsys, ws, "task", "rename", "done1", "finding4", "--json")
    assert r.code == 0, r.err
    assert r.json()["task"] == "finding4" and r.json()["previous"] == "done1"
    assert not list((ws / "artifacts").glob("done1_*"))
    assert (ws / "artifacts" / "finding4_analysis.md").read_text() == "edited before the rename\n"
    hist = run(capsys, ws, "checkpoint", "history", "finding4", "analysis", "--json").json()
    assert [c["source"] for c in hist["checkpoints"]][:2] in (
        ["write", "hand-edit"],
        ["hand-edit", "write"],
    )
    assert all(c["path"] == "artifacts/finding4_analysis.md" for c in hist["checkpoints"])
    shown = run(capsys, ws, "task", "show", "finding4", "--json").json()
    assert [p["name"] for p in shown["phases"]] == ["a", "b"]
    assert [s["text"] for s in shown["steps"]] == ["looked at it"]
    assert "no task 'done1'" in _one_line(run(capsys, ws, "task", "show", "done1"), 2)
    log = run(capsys, ws, "log", "--task", "finding4", "--limit", "100", "--json").json()
    types = [e["type"] for e in log["events"]]
    assert types[0] == "task.created" and types[-1] == "task.renamed"
    assert "finding4" in _status(ws) and "done1" not in _status(ws)
    # The readable tree stays in line after the move: a refresh changes nothing.
    before = {p.name: p.read_bytes() for p in (ws / "artifacts").iterdir()}
    assert run(capsys, ws, "refresh").code == 0
    assert {p.name: p.read_bytes() for p in (ws / "artifacts").iterdir()} == before
    taken = run(capsys, ws, "task", "rename", "finding4", "OTHER")
    assert "exists" in _one_line(taken, 2)
    assert run(capsys, ws, "task", "rename", "finding4", "Finding4").code == 0
    assert run(capsys, ws, "checkpoint", "show", "finding4", "analysis").code == 0


def test_a_rename_keeps_the_append_only_tables_append_only(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, ws, "recover", "--task", "done1").code == 0
    assert run(capsys, ws, "task", "rename", "done1", "renamed").code == 0
    with sqlite3.connect(ws / ".cairn" / "cairn.db") as conn:
        for sql in (
            "UPDATE checkpoints SET content = 'x'",
            "UPDATE checkpoints SET hash = 'x'",
            "UPDATE events SET data = '{}'",
            "UPDATE recoveries SET note = 'x'",
            "DELETE FROM checkpoints",
            "DELETE FROM events",
        ):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(sql)


def test_phase_remove(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = run(capsys, ws, "phase", "remove", "done1", "b")
    assert r.code == 0 and "phases a" in r.out, r.err
    assert run(capsys, ws, "phase", "remove", "done1", "a").code == 0  # a done phase too
    shown = run(capsys, ws, "task", "show", "done1", "--json").json()
    assert shown["phases"] == []
    assert [c["kind"] for c in shown["checkpoints"]] == ["analysis", "progress"]  # kept
    assert "has no phase 'zz'" in _one_line(run(capsys, ws, "phase", "remove", "done1", "zz"), 2)
    assert run(capsys, ws, "phase", "start", "other", "x").code == 0
    msg = _one_line(run(capsys, ws, "phase", "remove", "other", "x"), 2)
    assert "is active" in msg
    events = run(capsys, ws, "log", "--task", "done1", "--type", "phase.removed", "--json")
    assert [e["data"]["phase"] for e in events.json()["events"]] == ["b", "a"]


def test_the_mcp_tools_archive_rename_and_remove_a_phase_but_never_delete(ws_path: Path) -> None:
    pytest.importorskip("mcp")
    import anyio
    from mcp import Client, StdioServerParameters

    from cairn.domain.workspace import Workspace

    ws = ws_path
    with Workspace.open(ws) as w:  # not through the CLI: the stdio client needs the real stderr
        w.create_task("done1", "Finished work", ["a", "b"])
        w.start_phase("done1", "a")
        w.write_checkpoint("done1", "analysis", "the analysis\n")
        w.finish_phase("done1", "a")
        w.create_task("other", "", ["x"])

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "cairn", "mcp"], cwd=str(ws), env={"HOME": str(ws)}
    )

    async def session() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with Client(params, read_timeout_seconds=60) as client:
            out["names"] = {t.name for t in (await client.list_tools()).tools}
            out["archive"] = await client.call_tool("task_archive", {"task": "done1"})
            out["list"] = await client.call_tool("task_list", {})
            out["undo"] = await client.call_tool("task_archive", {"task": "done1", "undo": True})
            out["rename"] = await client.call_tool("task_rename", {"task": "done1", "new": "f4"})
            out["remove"] = await client.call_tool("phase_remove", {"task": "f4", "phase": "b"})
            out["busy"] = await client.call_tool("phase_remove", {"task": "f4", "phase": "zz"})
        return out

    out = anyio.run(session)
    assert {"task_archive", "task_rename", "phase_remove"} <= out["names"]
    assert not {n for n in out["names"] if "delete" in n}
    assert out["archive"].structured_content["action"] == "archived"
    assert [t["id"] for t in out["list"].structured_content["tasks"]] == ["other"]
    assert out["undo"].structured_content["action"] == "unarchived"
    assert out["rename"].structured_content == {
        "schema": "cairn.task_change/1", "task": "f4", "action": "renamed", "previous": "done1",
    }  # fmt: skip
    assert [p["name"] for p in out["remove"].structured_content["phases"]] == ["a"]
    assert out["busy"].is_error and "has no phase 'zz'" in out["busy"].content[0].text
    assert (ws / "artifacts" / "f4_analysis.md").read_text() == "the analysis\n"
