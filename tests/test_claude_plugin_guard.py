"""The Claude Code plugin and `cairn hooks install claude` never both: the installer refuses
beside the enabled plugin, and a hook's second copy does nothing (tests/real_clients/claude/
test_claude_plugin.py shows both with the real `claude plugin` commands)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cairn.core.errors import UsageError
from cairn.integrations.claude_plugin import enabled_plugin, refuse_install_beside_plugin
from cairn.integrations.hook_once import WINDOW_S, first_run


def settings(path: Path, data: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def test_the_installer_refuses_while_the_plugin_is_enabled(tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    user = home / ".claude" / "settings.json"
    assert enabled_plugin(project, home) is None
    settings(user, {"enabledPlugins": {"cairn@cairn": True, "other@x": True}})
    assert enabled_plugin(project, home) == ("cairn@cairn", user)
    with pytest.raises(UsageError, match=r"claude plugin disable cairn@cairn"):
        refuse_install_beside_plugin(project, home)
    # Switched off in the project's local settings, which win over the user's.
    settings(
        project / ".claude" / "settings.local.json", {"enabledPlugins": {"cairn@cairn": False}}
    )
    assert enabled_plugin(project, home) is None
    refuse_install_beside_plugin(project, home)
    settings(user, {"enabledPlugins": "nonsense"})
    assert enabled_plugin(None, home) is None


def test_a_hook_s_second_copy_does_nothing(tmp_path: Path) -> None:
    payload = {"session_id": "s1", "hook_event_name": "SessionStart", "source": "startup"}
    root = str(tmp_path)

    def run(event: str, data: dict[str, object], now: float, source: str) -> bool:
        return first_run(root, event, data, now=now, source=source)

    assert run("session-start", payload, 100.0, "plugin")
    # The installed copy of the same event: nothing to do (key order does not matter).
    assert not run("session-start", dict(reversed(payload.items())), 100.5, "settings")
    # The same input again from the same origin is a new event (a quick second resume).
    assert run("session-start", payload, 101.0, "plugin")
    assert not run("session-start", payload, 101.2, "settings")
    # Another event, another input, or the other copy too late: a run of its own.
    assert run("stop", payload, 101.5, "settings")
    assert run("session-start", {**payload, "source": "compact"}, 102.0, "settings")
    assert run("session-start", payload, 102.0 + WINDOW_S, "settings")
    folder = tmp_path / ".cairn" / "hooks-once"
    assert sorted(p.name for p in folder.iterdir()) == ["session-start-s1", "stop-s1"]


def test_a_long_input_s_second_copy_does_nothing_too(tmp_path: Path) -> None:
    # Over 4 KB the input is hashed by zlib's checksums, not in Python: the copies still agree,
    # and a shorter line written after a longer one leaves no tail of it behind.
    payload = {"session_id": "s1", "hook_event_name": "Stop", "text": "x" * 10_000}
    root = str(tmp_path)
    assert first_run(root, "stop", payload, now=100.0, source="settings")
    assert not first_run(root, "stop", payload, now=100.2, source="plugin")
    assert first_run(root, "stop", {**payload, "text": "y" * 9_000}, now=100.4, source="plugin")
    small = {"session_id": "s1", "hook_event_name": "Stop"}
    assert first_run(root, "stop", small, now=101.0, source="settings")
    assert not first_run(root, "stop", small, now=101.1, source="plugin")
    line = (tmp_path / ".cairn" / "hooks-once" / "stop-s1").read_text(encoding="ascii")
    assert line.endswith("\n") and line.count("\n") == 1, line
    assert line.split()[1:] == ["settings", "101.000"]
