"""How long Codex waits for a cairn MCP tool call (cairn.integrations.codex_mcp): the setting read as
Codex reads it, and the margin cairn leaves so that its answer arrives before Codex gives up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cairn.integrations.codex_mcp import DEFAULT_TOOL_TIMEOUT, answer_within, tool_timeout


def test_the_tool_timeout_comes_from_the_trusted_project_then_the_user_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, project = tmp_path / "codex-home", tmp_path / "project"
    (project / ".codex").mkdir(parents=True)
    home.mkdir()
    monkeypatch.setenv("CODEX_HOME", str(home))
    assert tool_timeout(project) == DEFAULT_TOOL_TIMEOUT == 300
    (home / "config.toml").write_text("[mcp_servers.cairn]\ncommand = 'x'\ntool_timeout_sec = 90\n")
    assert tool_timeout(project) == 90
    (project / ".codex" / "config.toml").write_text("[mcp_servers.cairn]\ntool_timeout_sec = 20\n")
    assert tool_timeout(project) == 90  # an untrusted project's config is not Codex's
    trusted = f'[projects.{json.dumps(str(project))}]\ntrust_level = "trusted"\n'
    (home / "config.toml").write_text(trusted + "[mcp_servers.cairn]\ntool_timeout_sec = 90\n")
    assert tool_timeout(project) == 20


def test_cairn_answers_a_margin_before_the_limit() -> None:
    assert answer_within(300) == 290
    assert answer_within(30) == 24
    assert answer_within(6) == 4.5
    assert answer_within(1) == 0


def test_a_profile_on_codexs_command_line_adds_its_file_under_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairn.integrations import codex_forecast

    home, project = tmp_path / "home", tmp_path / "project"
    (project / ".codex").mkdir(parents=True)
    home.mkdir()
    monkeypatch.setenv("CODEX_HOME", str(home))
    (home / "config.toml").write_text("[mcp_servers.cairn]\ncommand = 'x'\ntool_timeout_sec = 90\n")
    (home / "deep.config.toml").write_text("[mcp_servers.cairn]\ntool_timeout_sec = 40\n")
    line = {codex_forecast.PROFILE: b"deep"}
    monkeypatch.setattr(codex_forecast, "command_line", lambda keys: dict(line))
    assert tool_timeout(project) == 40
    line[codex_forecast.PROFILE] = b"none-such"  # Codex goes on without the file
    assert tool_timeout(project) == 90
