"""cairn's Claude Code plugin (plugins/claude/) next to ``cairn hooks install claude``: never both.

The plugin brings the same hooks and MCP server as the installer, under other command lines
(``cairn hook …`` against ``python -m cairn.hooks …``), so Claude Code, which merges identical
commands only, would run every cairn hook twice: two briefs at start-up, two recoveries on
record, two nudges (measured with 2.1.332). Hence:

- ``cairn hooks install claude`` refuses while the plugin is enabled (``enabledPlugins`` in the
  user, project or local settings, which is where ``claude plugin install|enable|disable`` write
  it), and says how to choose;
- ``cairn doctor`` / ``cairn hooks status`` ask ``claude plugin list --json`` and fail the check
  when the plugin is enabled and cairn's hooks are installed as well;
- a hook run that duplicates one already started (the same event with the same input, within
  seconds) does nothing (:mod:`cairn.integrations.hook_once`), for when both are there anyway.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from cairn.core.doctor import Check

PLUGIN = "cairn"  # the plugin's name in its manifest; its id is cairn@<marketplace>
LIST_TIMEOUT = 20.0


def settings_files(project: Path | None, home: Path) -> list[Path]:
    """The settings files that can enable a plugin or hold hooks, user scope first."""
    files = [home / ".claude" / "settings.json"]
    if project is not None:
        files += [
            project / ".claude" / "settings.json",
            project / ".claude" / "settings.local.json",
        ]
    return files


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def enabled_plugin(project: Path | None, home: Path) -> tuple[str, Path] | None:
    """The cairn plugin's id and the settings file that enables it (the last word wins, as in
    Claude Code: local over project over user), or None."""
    found: dict[str, tuple[bool, Path]] = {}
    for path in settings_files(project, home):
        plugins = _read(path).get("enabledPlugins")
        if not isinstance(plugins, dict):
            continue
        for key, on in plugins.items():
            if str(key).split("@")[0] == PLUGIN:
                found[str(key)] = (on is True, path)
    for key, (on, path) in found.items():
        if on:
            return key, path
    return None


def hooks_installed(project: Path | None, home: Path, ours: Callable[[object], bool]) -> list[Path]:
    """The settings files holding hooks of ``cairn hooks install claude`` (``ours``: whether a
    handler is cairn's, :func:`cairn.integrations.install.is_cairn_handler`)."""
    out = []
    for path in settings_files(project, home):
        hooks = _read(path).get("hooks")
        if isinstance(hooks, dict) and any(
            ours(h)
            for groups in hooks.values()
            if isinstance(groups, list)
            for g in groups
            if isinstance(g, dict) and isinstance(g.get("hooks"), list)
            for h in g["hooks"]
        ):
            out.append(path)
    return out


def refuse_install_beside_plugin(project: Path | None, home: Path) -> None:
    """Raise when the plugin is enabled: installing the hooks too would run each twice."""
    plugin = enabled_plugin(project, home)
    if plugin is None:
        return
    from cairn.core.errors import UsageError

    key, path = plugin
    raise UsageError(
        f"the cairn plugin ({key}, enabled in {path}) already runs cairn's hooks and MCP server "
        "in Claude Code; installing them as well would run every hook twice. Keep the plugin, or "
        f"switch it off first (`claude plugin disable {key}`) and run this again. Nothing was "
        "changed"
    )


def plugin_check(
    root: Path, ours: Callable[[object], bool], env: dict[str, str] | None = None
) -> Check | None:
    """Ask Claude Code which plugins it runs; a failing check when cairn's is enabled and cairn's
    hooks are installed too. None when there is nothing to say."""
    from cairn.core.doctor import Check

    environ = env or dict(os.environ)
    exe = shutil.which("claude", path=environ.get("PATH"))
    home = Path(environ.get("HOME", "~")).expanduser()
    if exe is None or enabled_plugin(root, home) is None:
        return None  # cheap first: no settings file enables it, so Claude Code is not started
    try:
        proc = subprocess.run(
            [exe, "plugin", "list", "--json"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=LIST_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        listed = json.loads(proc.stdout) if proc.returncode == 0 else []
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return None  # the MCP check reports a Claude Code that does not answer
    rows = listed if isinstance(listed, list) else []
    cairns = [
        p for p in rows if isinstance(p, dict) and str(p.get("id", "")).split("@")[0] == PLUGIN
    ]
    enabled = [p for p in cairns if p.get("enabled") or p.get("projectEnabled")]
    if not enabled:
        return None
    key = str(enabled[0]["id"])
    installed = hooks_installed(root, home, ours)
    if installed:
        where = ", ".join(str(p) for p in installed)
        detail = (
            f"the cairn plugin ({key}) is enabled and cairn's hooks are also installed in "
            f"{where}: Claude Code runs each cairn hook twice"
        )
        scope = " --scope user" if home / ".claude" / "settings.json" in installed else ""
        fix = f"cairn hooks uninstall claude{scope}  # or: claude plugin disable {key}"
        return Check("clients", "claude plugin", "fail", detail, fix)
    return Check("clients", "claude plugin", "ok", f"the cairn plugin ({key}) is enabled")
