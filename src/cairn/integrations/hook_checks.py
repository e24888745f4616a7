"""`cairn doctor`'s hook check: are cairn's hooks in the settings of Claude Code or Codex CLI, at
project or user scope? Read only (the settings files as the installer reads them)."""

from __future__ import annotations

from pathlib import Path

from cairn.core.doctor import Check
from cairn.core.errors import CairnError
from cairn.integrations.clients import CLIENTS
from cairn.integrations.files import read_json
from cairn.integrations.install import is_cairn_handler


def _installed(path: Path) -> bool:
    hooks = read_json(path).get("hooks")
    if not isinstance(hooks, dict):
        return False
    for groups in hooks.values():
        for group in groups if isinstance(groups, list) else ():
            handlers = group.get("hooks") if isinstance(group, dict) else None
            if isinstance(handlers, list) and any(is_cairn_handler(h) for h in handlers):
                return True
    return False


def hook_checks(root: Path) -> list[Check]:
    """One check: where cairn's hooks are installed, or the command that installs them."""
    found: list[str] = []
    broken: list[str] = []
    for name, client in CLIENTS.items():
        for scope in ("project", "user"):
            try:
                hooks_path, _mcp = client.config_files(scope, root)
                if _installed(hooks_path):
                    found.append(f"{name} ({scope}: {hooks_path})")
            except CairnError as exc:
                broken.append(f"{name} {scope}: {exc}")
    if broken:
        return [Check("hooks", "installed", "fail", "; ".join(broken)[:400],
                      "fix the file by hand (it is not valid), then `cairn doctor` again")]  # fmt: skip
    if found:
        return [Check("hooks", "installed", "ok", ", ".join(found))]
    return [
        Check(
            "hooks",
            "installed",
            "warn",
            "no agent has cairn's hooks: a compaction is not "
            "recorded and no brief is given back on its own",
            "cairn hooks install claude (or: cairn hooks install codex)",
        )
    ]
