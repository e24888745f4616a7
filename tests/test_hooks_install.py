"""`cairn hooks install|uninstall`: the settings files are parsed back after each step."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from cairn.cli import main
from cairn.integrations import agents_md
from cairn.integrations.install import is_cairn_handler

FIXTURES = Path(__file__).parent / "fixtures" / "hooks"

OTHER_SETTINGS: dict[str, Any] = {
    "permissions": {"allow": ["Bash(npm test)"]},
    "hooks": {
        "PreToolUse": [
            {"matcher": "Bash", "hooks": [{"type": "command", "command": "./guard.sh"}]}
        ],
        "SessionStart": [
            {"matcher": "startup", "hooks": [{"type": "command", "command": "echo hello"}]}
        ],
    },
}


@pytest.fixture(autouse=True)
def fake_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CODEX_HOME", raising=False)
    return home


def cli(root: Path, *args: str) -> int:
    return main(["-C", str(root), *args])


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".cairn-backup-*"))


def cairn_groups(settings: dict[str, Any], event: str) -> list[dict[str, Any]]:
    return [
        g for g in settings["hooks"].get(event, []) if any(is_cairn_handler(h) for h in g["hooks"])
    ]


def test_claude_project_install_merges_is_idempotent_and_uninstalls(ws_path: Path) -> None:
    settings_path = ws_path / ".claude" / "settings.json"
    settings_path.parent.mkdir()
    settings_path.write_text(json.dumps(OTHER_SETTINGS, indent=4))
    mcp_path = ws_path / ".mcp.json"
    mcp_path.write_text(json.dumps({"mcpServers": {"other": {"command": "other-server"}}}))

    assert cli(ws_path, "hooks", "install", "claude") == 0
    s = load(settings_path)
    assert s["permissions"] == OTHER_SETTINGS["permissions"]
    assert s["hooks"]["PreToolUse"] == OTHER_SETTINGS["hooks"]["PreToolUse"]
    assert OTHER_SETTINGS["hooks"]["SessionStart"][0] in s["hooks"]["SessionStart"]
    (start,) = cairn_groups(s, "SessionStart")
    assert start["matcher"] == "startup|resume|clear|compact"
    assert start["hooks"][0]["type"] == "command" and start["hooks"][0]["timeout"] > 0
    assert start["hooks"][0]["command"].endswith("-m cairn.hooks session-start")
    assert cairn_groups(s, "PreCompact")[0]["matcher"] == "manual|auto"
    assert cairn_groups(s, "PostCompact")[0]["matcher"] == "manual|auto"
    assert "matcher" not in cairn_groups(s, "Stop")[0]
    servers = load(mcp_path)["mcpServers"]
    assert servers["other"] == {"command": "other-server"}
    assert servers["cairn"]["type"] == "stdio"
    assert servers["cairn"]["args"][-2:] == ["cairn", "mcp"]
    assert len(backups(settings_path)) == 1 and len(backups(mcp_path)) == 1
    assert load(backups(settings_path)[0]) == OTHER_SETTINGS

    before = settings_path.read_text(), mcp_path.read_text()
    assert cli(ws_path, "hooks", "install", "claude") == 0
    assert (settings_path.read_text(), mcp_path.read_text()) == before
    assert len(backups(settings_path)) == 1  # nothing changed, nothing backed up

    assert cli(ws_path, "hooks", "uninstall", "claude") == 0
    assert load(settings_path) == OTHER_SETTINGS
    assert load(mcp_path) == {"mcpServers": {"other": {"command": "other-server"}}}


def test_installed_command_runs_the_hook(ws_path: Path) -> None:
    assert cli(ws_path, "hooks", "install", "claude", "--no-mcp") == 0
    s = load(ws_path / ".claude" / "settings.json")
    command = cairn_groups(s, "SessionStart")[0]["hooks"][0]["command"]
    stdin = (FIXTURES / "claude_session_start_startup.json").read_text()
    stdin = stdin.replace("__CWD__", str(ws_path)).replace("__TRANSCRIPT__", "")
    proc = subprocess.run(
        command, shell=True, input=stdin.encode(), capture_output=True, timeout=60, cwd=ws_path
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert "No task yet" in out["hookSpecificOutput"]["additionalContext"]
    assert not (ws_path / ".mcp.json").exists()


def test_custom_command_replaces_the_default_entries(ws_path: Path) -> None:
    assert cli(ws_path, "hooks", "install", "claude") == 0
    assert cli(ws_path, "hooks", "install", "claude", "--command", "/opt/bin/cairn") == 0
    s = load(ws_path / ".claude" / "settings.json")
    for event in ("SessionStart", "PreCompact", "PostCompact", "Stop"):
        (group,) = cairn_groups(s, event)
        assert group["hooks"][0]["command"].startswith("/opt/bin/cairn hook ")
    assert load(ws_path / ".mcp.json")["mcpServers"]["cairn"]["command"] == "/opt/bin/cairn"
    assert load(ws_path / ".mcp.json")["mcpServers"]["cairn"]["args"] == ["mcp"]


def test_invalid_json_is_reported_not_overwritten(
    ws_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings_path = ws_path / ".claude" / "settings.json"
    settings_path.parent.mkdir()
    settings_path.write_text('{"hooks": {,}')
    assert cli(ws_path, "hooks", "install", "claude") == 2
    err = capsys.readouterr().err
    assert "not valid JSON (line 1, column 12" in err and "Nothing was changed" in err
    assert settings_path.read_text() == '{"hooks": {,}'
    assert not backups(settings_path) and not (ws_path / ".mcp.json").exists()


@pytest.mark.parametrize("event_value", [{"matcher": "x"}, "echo hi", 3])
def test_an_event_that_is_not_a_list_is_reported_not_overwritten(
    ws_path: Path, capsys: pytest.CaptureFixture[str], event_value: Any
) -> None:
    settings_path = ws_path / ".claude" / "settings.json"
    settings_path.parent.mkdir()
    text = json.dumps({"hooks": {"Stop": event_value}})
    settings_path.write_text(text)
    assert cli(ws_path, "hooks", "install", "claude") == 2
    err = capsys.readouterr().err
    assert '"hooks.Stop"' in err and "not a list" in err
    assert settings_path.read_text() == text
    assert not backups(settings_path) and not (ws_path / ".mcp.json").exists()


def test_claude_user_scope_writes_home_files(ws_path: Path, fake_home: Path) -> None:
    claude_json = fake_home / ".claude.json"
    claude_json.write_text(json.dumps({"numStartups": 3, "projects": {}}))
    assert cli(ws_path, "hooks", "install", "claude", "--scope", "user") == 0
    s = load(fake_home / ".claude" / "settings.json")
    assert len(cairn_groups(s, "PreCompact")) == 1
    data = load(claude_json)
    assert data["numStartups"] == 3 and "cairn" in data["mcpServers"]
    assert not (ws_path / ".claude").exists()
    assert cli(ws_path, "hooks", "uninstall", "claude", "--scope", "user") == 0
    assert "hooks" not in load(fake_home / ".claude" / "settings.json")
    assert load(claude_json)["mcpServers"] == {}


CODEX_CONFIG = """\
# my Codex settings
model = "gpt-5-codex"  # the default model

[mcp_servers.docs]
command = "docs-server"
args = ["--stdio"]
"""


def test_codex_install_keeps_toml_comments_and_other_servers(
    ws_path: Path, fake_home: Path
) -> None:
    codex = fake_home / ".codex"
    codex.mkdir()
    (codex / "config.toml").write_text(CODEX_CONFIG)
    assert cli(ws_path, "hooks", "install", "codex") == 0
    text = (codex / "config.toml").read_text()
    assert "# my Codex settings" in text and "# the default model" in text
    cfg = tomllib.loads(text)
    assert cfg["mcp_servers"]["docs"] == {"command": "docs-server", "args": ["--stdio"]}
    assert cfg["mcp_servers"]["cairn"]["args"][-2:] == ["cairn", "mcp"]
    hooks = load(codex / "hooks.json")
    cmd = cairn_groups(hooks, "PreCompact")[0]["hooks"][0]["command"]
    assert cmd.endswith("-m cairn.hooks pre-compact --agent codex")

    assert cli(ws_path, "hooks", "install", "codex") == 0
    assert (codex / "config.toml").read_text() == text
    assert len(backups(codex / "config.toml")) == 1

    assert cli(ws_path, "hooks", "uninstall", "codex") == 0
    assert tomllib.loads((codex / "config.toml").read_text()) == tomllib.loads(CODEX_CONFIG)
    assert "# the default model" in (codex / "config.toml").read_text()
    assert load(codex / "hooks.json") == {}


def test_codex_home_env_and_invalid_toml(
    ws_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codex = tmp_path / "codex-home"
    codex.mkdir()
    monkeypatch.setenv("CODEX_HOME", str(codex))
    (codex / "config.toml").write_text("model = \n")
    assert cli(ws_path, "hooks", "install", "codex") == 2
    assert (codex / "config.toml").read_text() == "model = \n"
    assert not (codex / "hooks.json").exists()  # nothing written when one file is bad
    (codex / "config.toml").unlink()
    assert cli(ws_path, "hooks", "install", "codex", "--scope", "project") == 0
    assert "cairn" in tomllib.loads((ws_path / ".codex" / "config.toml").read_text())["mcp_servers"]
    # The user's config gets only the trust of the project's cairn hooks (Codex reads trust there
    # alone), not the MCP server.
    user = tomllib.loads((codex / "config.toml").read_text())
    assert set(user) == {"hooks"} and set(user["hooks"]) == {"state"}
    assert all(k.startswith(str(ws_path / ".codex" / "hooks.json")) for k in user["hooks"]["state"])


@pytest.mark.parametrize(
    "config",
    [
        'mcp_servers = { other = { command = "y" } }\n',  # an inline table
        "mcp_servers = { cairn = 1 }\n",  # a stale cairn entry that is not a table
        '[mcp_servers]\ncairn = "x"\n[mcp_servers.other]\ncommand = "y"\n',
    ],
)
def test_codex_mcp_servers_in_other_toml_shapes(
    ws_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: str
) -> None:
    codex = tmp_path / "codex-home"
    codex.mkdir()
    monkeypatch.setenv("CODEX_HOME", str(codex))
    (codex / "config.toml").write_text(config)
    before = tomllib.loads(config)["mcp_servers"]
    assert cli(ws_path, "hooks", "install", "codex") == 0
    servers = tomllib.loads((codex / "config.toml").read_text())["mcp_servers"]
    assert servers["cairn"]["args"] == ["-m", "cairn", "mcp"]
    assert {k: v for k, v in servers.items() if k != "cairn"} == {
        k: v for k, v in before.items() if k != "cairn"
    }
    assert cli(ws_path, "hooks", "install", "codex") == 0  # idempotent
    assert cli(ws_path, "hooks", "uninstall", "codex") == 0
    after = tomllib.loads((codex / "config.toml").read_text()).get("mcp_servers", {})
    assert "cairn" not in after


def test_project_scope_needs_a_workspace(tmp_path: Path) -> None:
    assert main(["-C", str(tmp_path), "hooks", "install", "claude"]) == 1
    assert not (tmp_path / ".claude").exists()


def test_agents_md_section(ws_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = agents_md.block().splitlines()
    assert len(lines) < 40
    md = ws_path / "CLAUDE.md"
    md.write_text("# Project\n\nOur rules.\n")
    assert cli(ws_path, "hooks", "install", "claude", "--no-mcp", "--agents-md") == 0
    text = md.read_text()
    assert text.startswith("# Project\n\nOur rules.\n\n" + agents_md.BEGIN)
    assert "cairn checkpoint write" in text and text.endswith(agents_md.END + "\n")
    # Idempotent, and an edited section is replaced, not duplicated.
    assert not agents_md.upsert(md)
    md.write_text(text.replace("Cut work into phases", "EDITED") + "\nMore rules.\n")
    assert agents_md.upsert(md)
    text2 = md.read_text()
    assert text2.count(agents_md.BEGIN) == 1 and "EDITED" not in text2
    assert text2.endswith("More rules.\n")
    assert cli(ws_path, "hooks", "uninstall", "claude", "--no-mcp", "--agents-md") == 0
    assert md.read_text() == "# Project\n\nOur rules.\n\nMore rules.\n"
    assert cli(ws_path, "hooks", "agents-md", "--file", "AGENTS.md") == 0
    assert (ws_path / "AGENTS.md").read_text() == agents_md.block()
    assert cli(ws_path, "hooks", "agents-md", "--file", "../outside.md") == 2
    md.write_text(agents_md.BEGIN + "\nhalf\n")
    assert cli(ws_path, "hooks", "agents-md", "--file", "CLAUDE.md") == 2
    assert "stray marker" in capsys.readouterr().err


def test_install_offers_the_agents_md_section_until_it_is_there(
    ws_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(ws_path, "hooks", "install", "claude") == 0
    out = capsys.readouterr().out
    assert "--agents-md" in out and "CLAUDE.md" in out
    assert not (ws_path / "CLAUDE.md").exists()  # offered, not written
    assert cli(ws_path, "hooks", "install", "claude", "--agents-md") == 0
    capsys.readouterr()
    assert cli(ws_path, "hooks", "install", "claude") == 0
    assert "--agents-md" not in capsys.readouterr().out
