"""`cairn hooks status` (the client checks) with stand-in client programs on PATH: what each answer
becomes. The real programs are asked in tests/real_clients/."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from cairn.cli import main
from cairn.integrations import doctor


def fake(bin_dir: Path, name: str, out: str) -> None:
    path = bin_dir / name
    quoted = " ".join("'" + line.replace("'", "'\\''") + "'" for line in out.split("\n"))
    path.write_text(f"#!/bin/sh\nprintf '%s\\n' {quoted}\n")  # builtins only: PATH is bare
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))  # neither the real codex nor claude
    return folder


@pytest.mark.parametrize(
    ("line", "outcome", "fix"),
    [
        ("cairn: python -m cairn mcp - ✓ Connected", "ok", None),
        ("cairn: python -m cairn mcp - ✗ Failed to connect", "fail", "claude mcp get cairn"),
        ("cairn: python -m cairn mcp - ⏸ Pending approval (run `claude` to approve)", "fail",
         "claude  # once in this project: approve the cairn server from .mcp.json"),
        ("other: x - ✓ Connected", "fail", "cairn hooks install claude"),
    ],
)  # fmt: skip
def test_claude_mcp_list_answers(
    bin_dir: Path, ws_path: Path, line: str, outcome: str, fix: str | None
) -> None:
    fake(bin_dir, "claude", f"Checking MCP server health…\n\n{line}")
    (check,) = doctor.client_checks(ws_path)
    assert (check.name, check.outcome, check.fix) == ("claude mcp", outcome, fix)


def test_no_client_installed_means_nothing_to_check(
    bin_dir: Path, ws_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert doctor.client_checks(ws_path) == []
    assert main(["-C", str(ws_path), "hooks", "status"]) == 0
    assert "nothing to check" in capsys.readouterr().out
    assert main(["-C", str(ws_path), "hooks", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"schema": "cairn.client_checks/1", "checks": []}


def test_a_codex_that_does_not_answer_is_a_warning(bin_dir: Path, ws_path: Path) -> None:
    fake(bin_dir, "codex", "not an app server")
    assert os.access(bin_dir / "codex", os.X_OK)
    (check,) = doctor.codex_checks(ws_path)
    assert check.outcome == "warn" and "could not ask Codex" in check.detail
