"""Codex's config.toml as a Codex run in some folder loads it: the user's file, and the nearest
project's ``.codex/config.toml`` when that project is trusted.

Used by the reviewer (does Codex load cairn's MCP server?) and by the MCP server (how long does
Codex wait for a tool call?). Read-only; the installer edits these files with tomlkit
(integrations/codex.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def codex_home() -> Path:
    return Path(os.environ.get("CODEX_HOME") or Path.home() / ".codex")


def read_toml(path: Path) -> dict[str, Any]:
    """The document, or an empty one when the file is missing or not TOML (Codex then refuses it
    and says so itself)."""
    import tomllib

    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except (OSError, ValueError):
        return {}


def setting(
    cwd: Path, pick: Callable[[dict[str, Any]], T | None], profile: str | None = None
) -> T | None:
    """What ``pick`` finds in the nearest project config that sets it, when Codex loads that
    project (trusted in the user config); else in ``$CODEX_HOME/<profile>.config.toml``, the
    layer ``codex --profile NAME`` puts over the user config (0.171; measured: the project's
    config still wins over it, a missing file is no error); else in the user config."""
    user = read_toml(codex_home() / "config.toml")
    projects = user.get("projects")
    for folder in (cwd, *cwd.parents):
        found = pick(read_toml(folder / ".codex" / "config.toml"))
        if found is not None:
            entry = projects.get(str(folder)) if isinstance(projects, dict) else None
            if isinstance(entry, dict) and entry.get("trust_level") == "trusted":
                return found
            break
    if profile and not profile.startswith(".") and "/" not in profile and "\\" not in profile:
        found = pick(read_toml(codex_home() / f"{profile}.config.toml"))
        if found is not None:
            return found
    return pick(user)


def mcp_server(doc: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The ``[mcp_servers.<name>]`` table of ``doc``."""
    servers = doc.get("mcp_servers")
    entry = servers.get(name) if isinstance(servers, dict) else None
    return entry if isinstance(entry, dict) else None
