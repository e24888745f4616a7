"""The Codex reviewer's command line: cairn's own MCP server is switched off for the reviewer's
`codex exec` (it needs none of cairn's tools, and waiting for a required server costs seconds),
but only when Codex loads that server: for a server it does not know, Codex 0.171 refuses the
whole config ("invalid transport in `mcp_servers.cairn`")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cairn.models.cli_provider import CodexModel, cairn_mcp_configured

FLAG = "mcp_servers.cairn.enabled=false"
SERVER = '[mcp_servers.cairn]\ncommand = "python"\nargs = ["-m", "cairn", "mcp"]\n'


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    home, project = tmp_path / "codex-home", tmp_path / "project"
    home.mkdir()
    (project / "sub").mkdir(parents=True)
    monkeypatch.setenv("CODEX_HOME", str(home))
    monkeypatch.chdir(project / "sub")
    return home, project


def argv() -> list[str]:
    return CodexModel("", {}).argv(Path("out.txt"))  # only looked at, never written


def test_the_flag_only_when_the_user_config_has_cairns_server(places: tuple[Path, Path]) -> None:
    home, project = places
    assert not cairn_mcp_configured(project) and FLAG not in argv()
    (home / "config.toml").write_text('model = "m"\n[mcp_servers.other]\ncommand = "x"\n')
    assert FLAG not in argv()
    (home / "config.toml").write_text(SERVER)
    args = argv()
    assert args[args.index(FLAG) - 1] == "-c" and args[-1] == "-"


def test_a_project_server_counts_only_in_a_trusted_project(places: tuple[Path, Path]) -> None:
    home, project = places
    (project / ".codex").mkdir()
    (project / ".codex" / "config.toml").write_text(SERVER)
    assert FLAG not in argv()  # Codex does not read an untrusted project's config
    (home / "config.toml").write_text(
        f'[projects.{json.dumps(str(project))}]\ntrust_level = "trusted"\n'
    )
    assert FLAG in argv()
    (home / "config.toml").write_text("not toml [")  # unreadable: nothing is assumed
    assert FLAG not in argv()
