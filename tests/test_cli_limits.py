"""Every --limit takes a whole number from 1 to 10^9: a typo is a usage error, never an internal
error from SQLite's integer range."""

from __future__ import annotations

from pathlib import Path

import pytest

from cairn.cli import main

COMMANDS = [
    ["log"],
    ["task", "list"],
    ["review", "list"],
    ["agent", "runs"],
    ["hooks", "compactions"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
@pytest.mark.parametrize("limit", ["0", "-1", "99999999999999999999", "ten"])
def test_a_bad_limit_is_a_usage_error(
    ws_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], limit: str
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["-C", str(ws_path), *command, "--limit", limit])
    assert exc.value.code == 2
    assert "usage error: argument --limit" in capsys.readouterr().err


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_a_large_limit_works(ws_path: Path, command: list[str]) -> None:
    assert main(["-C", str(ws_path), *command, "--limit", "1000000000"]) == 0
