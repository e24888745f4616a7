"""`cairn hooks install codex` writes the trust Codex needs, and keeps everyone else's.

The hash rule is checked against figures Codex 0.171.0's own `codex app-server` (`hooks/list`)
reported; tests/real_clients/codex checks it against the running binary.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from cairn.cli import main
from cairn.integrations import codex_trust
from cairn.integrations.install import is_cairn_handler


@pytest.fixture
def codex_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "codex-home"
    home.mkdir()
    monkeypatch.setenv("CODEX_HOME", str(home))
    monkeypatch.setenv("HOME", str(tmp_path))
    return home


def states(home: Path) -> dict[str, Any]:
    cfg = tomllib.loads((home / "config.toml").read_text())
    result: dict[str, Any] = cfg.get("hooks", {}).get("state", {})
    return result


def test_hash_matches_what_codex_reports() -> None:
    # `hooks/list` of Codex 0.171.0 for these two handlers in a user hooks.json.
    start = {"type": "command", "command": "echo hi", "timeout": 15}
    assert codex_trust.handler_hash("SessionStart", "startup|resume", start) == (
        "sha256:81f8a536f4d1fbb153e401066dbb02efaacf5d2e47933667f460c76d19e3fb0a"
    )
    stop = {"type": "command", "command": "echo stop", "timeout": 10}
    assert codex_trust.handler_hash("Stop", None, stop) == (
        "sha256:a8e0141775bd6a3b3b88eb049d910eb8d1028a460ba76026e36e846da1dc2844"
    )
    # Stop takes no matcher, so one written there does not change the hash.
    assert codex_trust.handler_hash("Stop", "x", stop) == codex_trust.handler_hash(
        "Stop", None, stop
    )


def test_install_trusts_cairn_hooks_and_uninstall_removes_only_them(
    ws_path: Path, codex_home: Path
) -> None:
    mine = {"type": "command", "command": "echo mine", "timeout": 5}
    (codex_home / "hooks.json").write_text(
        json.dumps({"hooks": {"SessionStart": [{"matcher": "startup", "hooks": [mine]}]}})
    )
    my_key = f"{codex_home / 'hooks.json'}:session_start:0:0"
    (codex_home / "config.toml").write_text(
        f'model = "m"\n\n[hooks.state."{my_key}"]\ntrusted_hash = "sha256:mine"\n'
    )
    assert main(["-C", str(ws_path), "hooks", "install", "codex"]) == 0
    got = states(codex_home)
    assert got[my_key] == {"trusted_hash": "sha256:mine"}
    hooks = json.loads((codex_home / "hooks.json").read_text())["hooks"]
    for event, label in (
        ("SessionStart", "session_start"),
        ("PreCompact", "pre_compact"),
        ("PostCompact", "post_compact"),
        ("Stop", "stop"),
    ):
        gi = next(i for i, g in enumerate(hooks[event]) if is_cairn_handler(g["hooks"][0]))
        k = f"{codex_home / 'hooks.json'}:{label}:{gi}:0"
        group = hooks[event][gi]
        want = codex_trust.handler_hash(event, group.get("matcher"), group["hooks"][0])
        assert got[k] == {"trusted_hash": want}
    text = (codex_home / "config.toml").read_text()
    assert main(["-C", str(ws_path), "hooks", "install", "codex"]) == 0
    assert (codex_home / "config.toml").read_text() == text  # nothing to refresh

    assert main(["-C", str(ws_path), "hooks", "uninstall", "codex"]) == 0
    assert states(codex_home) == {my_key: {"trusted_hash": "sha256:mine"}}
    cfg = tomllib.loads((codex_home / "config.toml").read_text())
    assert "mcp_servers" not in cfg and cfg["model"] == "m"


def test_other_hooks_keep_their_trust_when_cairn_groups_move(
    ws_path: Path, codex_home: Path
) -> None:
    assert main(["-C", str(ws_path), "hooks", "install", "codex"]) == 0
    path = codex_home / "hooks.json"
    settings = json.loads(path.read_text())
    # The user adds a hook after cairn's and trusts it (and turns one of cairn's hooks off).
    theirs = {"type": "command", "command": "echo theirs", "timeout": 7}
    settings["hooks"]["SessionStart"].append({"hooks": [theirs]})
    path.write_text(json.dumps(settings))
    text = (codex_home / "config.toml").read_text()
    text += f'\n[hooks.state."{path}:session_start:1:0"]\ntrusted_hash = "sha256:theirs"\n'
    text = text.replace(
        f'[hooks.state."{path}:stop:0:0"]\n', f'[hooks.state."{path}:stop:0:0"]\nenabled = false\n'
    )
    (codex_home / "config.toml").write_text(text)

    # A reinstall with another command moves cairn's groups after theirs.
    assert main(["-C", str(ws_path), "hooks", "install", "codex", "--command", "cairn"]) == 0
    groups = json.loads(path.read_text())["hooks"]["SessionStart"]
    assert groups[0]["hooks"] == [theirs] and is_cairn_handler(groups[1]["hooks"][0])
    got = states(codex_home)
    assert got[f"{path}:session_start:0:0"] == {"trusted_hash": "sha256:theirs"}
    want = codex_trust.handler_hash("SessionStart", groups[1]["matcher"], groups[1]["hooks"][0])
    assert got[f"{path}:session_start:1:0"] == {"trusted_hash": want}
    assert got[f"{path}:stop:0:0"]["enabled"] is False  # the user's switch survives a reinstall

    assert main(["-C", str(ws_path), "hooks", "uninstall", "codex"]) == 0
    assert states(codex_home) == {f"{path}:session_start:0:0": {"trusted_hash": "sha256:theirs"}}


def test_mcp_server_defaults_are_set_once_and_the_users_changes_kept(
    ws_path: Path, codex_home: Path
) -> None:
    assert main(["-C", str(ws_path), "hooks", "install", "codex"]) == 0
    server = tomllib.loads((codex_home / "config.toml").read_text())["mcp_servers"]["cairn"]
    assert server["default_tools_approval_mode"] == "approve" and server["required"] is True
    text = (codex_home / "config.toml").read_text().replace("required = true", "required = false")
    (codex_home / "config.toml").write_text(text)
    assert main(["-C", str(ws_path), "hooks", "install", "codex"]) == 0
    assert (codex_home / "config.toml").read_text() == text


def test_the_skill_is_written_where_codex_reads_skills_and_removed(
    ws_path: Path, codex_home: Path
) -> None:
    skill = codex_home / "skills" / "cairn-checkpoints" / "SKILL.md"
    assert main(["-C", str(ws_path), "hooks", "install", "codex"]) == 0
    text = skill.read_text()
    assert text.startswith("---\nname: cairn-checkpoints\ndescription: ")
    assert "cairn checkpoint write" in text
    assert main(["-C", str(ws_path), "hooks", "install", "codex", "--scope", "project"]) == 0
    assert (ws_path / ".agents" / "skills" / "cairn-checkpoints" / "SKILL.md").is_file()
    assert main(["-C", str(ws_path), "hooks", "uninstall", "codex"]) == 0
    assert not skill.exists() and not skill.parent.exists()


def test_a_linked_codex_home_is_keyed_by_its_target(
    ws_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Codex 0.171 resolves CODEX_HOME: with CODEX_HOME=link it keys hooks by the target folder.
    real = tmp_path / "real-home"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "link"))
    assert main(["-C", str(ws_path), "hooks", "install", "codex"]) == 0
    assert all(k.startswith(f"{real / 'hooks.json'}:") for k in states(real))


def test_the_plugin_marketplace_and_its_hooks_trust(
    ws_path: Path, codex_home: Path, tmp_path: Path
) -> None:
    market = tmp_path / "market"
    assert main(["-C", str(ws_path), "hooks", "plugin", "codex", str(market)]) == 0
    listed = json.loads((market / ".agents" / "plugins" / "marketplace.json").read_text())
    assert listed["plugins"][0]["source"] == {"source": "local", "path": "./plugins/cairn"}
    root = market / "plugins" / "cairn"
    manifest = json.loads((root / ".codex-plugin" / "plugin.json").read_text())
    assert (manifest["skills"], manifest["mcpServers"], manifest["hooks"]) == (
        "./skills/",
        "./.mcp.json",
        "./hooks.json",
    )
    server = json.loads((root / ".mcp.json").read_text())["mcpServers"]["cairn"]
    assert server["default_tools_approval_mode"] == "approve"
    hooks = json.loads((root / "hooks.json").read_text())["hooks"]
    got = states(codex_home)
    group = hooks["SessionStart"][0]
    want = codex_trust.handler_hash("SessionStart", group["matcher"], group["hooks"][0])
    assert got["cairn@cairn-local:hooks.json:session_start:0:0"] == {"trusted_hash": want}
    assert len(got) == 6  # session start, pre/post compact, stop, subagent stop, post tool use
    text = (codex_home / "config.toml").read_text()
    assert main(["-C", str(ws_path), "hooks", "plugin", "codex", str(market)]) == 0
    assert (codex_home / "config.toml").read_text() == text  # written again: nothing changes
