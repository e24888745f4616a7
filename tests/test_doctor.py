"""`cairn doctor`: each problem it knows is planted for real, found, and mended by the command it
names; and looking changes nothing."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from cairn.cli.doctor import run_checks
from cairn.core.doctor import Check
from helpers.cli import run


@pytest.fixture
def ws(
    ws_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))  # no user-level agent settings of this machine
    monkeypatch.setenv("CODEX_HOME", str(home / ".codex"))
    for args, stdin in (
        (["task", "new", "t", "--phases", "a"], None),
        (["checkpoint", "write", "t", "analysis"], "the analysis\n"),
        (["checkpoint", "write", "t", "plan"], "the plan\n"),
    ):
        assert run(capsys, ws_path, *args, stdin=stdin).code == 0
    return ws_path


def doctor(capsys: pytest.CaptureFixture[str], ws: Path) -> tuple[int, dict[str, Any]]:
    r = run(capsys, ws, "doctor", "--json")
    data = r.json()
    assert data["schema"] == "cairn.doctor/1" and data["ok"] == (r.code == 0)
    checks = {f"{c['area']} {c['name']}": c for c in data["checks"]}
    for c in data["checks"]:
        assert set(c) == {"area", "name", "outcome", "detail", "fix"}
        assert c["outcome"] in ("ok", "warn", "fail")
        assert c["outcome"] == "ok" or c["fix"], c  # every problem says what to run
    return r.code, checks


def _tree(ws: Path) -> dict[str, Any]:
    """The files, and the store by its content (the file's bytes change when SQLite folds its
    write-ahead log in at a close, which is no change of what is stored)."""
    files: dict[str, Any] = {
        str(p.relative_to(ws)): p.read_bytes()
        for p in ws.rglob("*")
        if p.is_file() and not p.name.startswith("cairn.db")
    }
    with sqlite3.connect(ws / ".cairn" / "cairn.db") as conn:
        files["store"] = list(conn.iterdump())
    return files


def test_a_healthy_workspace(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = _tree(ws)
    code, checks = doctor(capsys, ws)
    assert code == 0
    for name in (
        "store integrity",
        "store migrations",
        "workspace writable",
        "projections in sync",
        "links inside the workspace",
        "locks stale",
        "disk free space",
    ):
        assert checks[name]["outcome"] == "ok", checks[name]
    assert checks["hooks installed"]["outcome"] == "warn"
    assert checks["hooks installed"]["fix"].startswith("cairn hooks install")
    assert _tree(ws) == before  # looking changes nothing
    text = run(capsys, ws, "doctor")
    assert (
        text.code == 0
        and "✅ store integrity" in text.out
        and "run: cairn hooks install" in (text.out)
    )


def test_artifacts_behind_or_edited_and_the_fix(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (ws / "artifacts" / "t_plan.md").unlink()
    (ws / "artifacts" / "t_analysis.md").write_text("edited by hand\n")
    code, checks = doctor(capsys, ws)
    assert code == 0
    c = checks["projections in sync"]
    assert c["outcome"] == "warn" and "t_analysis.md" in c["detail"] and "cairn refresh" in c["fix"]
    assert (ws / "artifacts" / "t_analysis.md").read_text() == "edited by hand\n"  # not taken
    assert not (ws / "artifacts" / "t_plan.md").exists()  # not written either
    assert run(capsys, ws, "refresh").code == 0
    code, checks = doctor(capsys, ws)
    assert checks["projections in sync"]["outcome"] == "ok"
    shown = run(capsys, ws, "checkpoint", "show", "t", "analysis")
    assert shown.out == "edited by hand\n"
    (ws / "artifacts" / "t_plan.md").unlink()
    c = doctor(capsys, ws)[1]["projections in sync"]
    assert c["outcome"] == "warn" and "t_plan.md (missing)" in c["detail"]


def test_a_link_out_of_the_workspace_fails(
    ws: Path, capsys: pytest.CaptureFixture[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    secret = tmp_path_factory.mktemp("outside") / "secret"
    secret.write_text("secret")
    (ws / "logs" / "notes.md").symlink_to(secret)
    os.mkfifo(ws / "artifacts" / "pipe")
    code, checks = doctor(capsys, ws)
    assert code == 1
    c = checks["links inside the workspace"]
    assert c["outcome"] == "fail" and f"logs/notes.md -> {secret}" in c["detail"]
    assert "rm PATH" in c["fix"]
    (ws / "logs" / "notes.md").unlink()
    c = doctor(capsys, ws)[1]["links inside the workspace"]
    assert c["outcome"] == "warn" and "artifacts/pipe" in c["detail"]


def test_a_damaged_store_and_its_fix(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = ws / ".cairn" / "cairn.db"
    data = bytearray(db.read_bytes())
    for p in range(2, len(data) // 4096):
        data[p * 4096 : p * 4096 + 64] = b"\xa5" * 64
    db.write_bytes(bytes(data))
    code, checks = doctor(capsys, ws)
    assert code == 1
    c = checks["store integrity"]
    assert c["outcome"] == "fail" and "mv .cairn/cairn.db" in c["fix"] and "backup" in c["fix"]


def test_pending_migrations_are_reported_not_applied(
    ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(ws / ".cairn" / "cairn.db") as conn:
        last = conn.execute("SELECT name FROM cairn_migrations ORDER BY id DESC").fetchone()[0]
        conn.execute("DELETE FROM cairn_migrations WHERE name = ?", (last,))
    _code, checks = doctor(capsys, ws)
    c = checks["store migrations"]
    assert c["outcome"] == "warn" and last in c["detail"]
    assert checks["workspace other checks"]["outcome"] == "warn"
    with sqlite3.connect(ws / ".cairn" / "cairn.db") as conn:
        assert conn.execute(
            "SELECT count(*) FROM cairn_migrations WHERE name = ?", (last,)
        ).fetchone() == (0,)


def test_left_over_files(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (ws / "artifacts" / ".t_plan.md.999999999.tmp").write_text("half")
    _code, checks = doctor(capsys, ws)
    c = checks["locks left-over files"]
    assert c["outcome"] == "warn" and ".t_plan.md.999999999.tmp" in c["detail"]
    assert c["fix"] == "cairn status (clears them)"


def test_hooks_installed(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, ws, "hooks", "install", "claude", "--scope", "project").code == 0
    c = doctor(capsys, ws)[1]["hooks installed"]
    assert c["outcome"] == "ok" and "claude (project" in c["detail"]


def test_outside_a_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, checks = doctor(capsys, tmp_path)
    assert code == 1 and checks["workspace found"]["fix"] == "cairn init"


def test_providers_are_a_list_and_a_broken_one_is_a_failed_check(ws: Path) -> None:
    def extra(root: Path) -> list[Check]:
        return [Check("clients", "claude", "ok", f"asked in {root.name}")]

    def broken(root: Path) -> list[Check]:
        raise RuntimeError("no answer")

    checks = run_checks(ws, [extra, broken])
    assert checks[0] == Check("clients", "claude", "ok", f"asked in {ws.name}")
    assert checks[1].outcome == "fail" and "RuntimeError: no answer" in checks[1].detail
