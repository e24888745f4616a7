"""Installing cairn into Claude Code and Codex CLI: hook entries and the MCP server registration.

Files touched (each read first; invalid JSON/TOML is reported and nothing is written; a file that
changes is copied to ``<name>.cairn-backup-<UTC time>`` first; unchanged files are not rewritten):

| agent  | scope   | hooks                         | MCP server                                   |
|--------|---------|-------------------------------|----------------------------------------------|
| claude | project | ``<project>/.claude/settings.json`` | ``<project>/.mcp.json`` ``mcpServers.cairn`` |
| claude | user    | ``~/.claude/settings.json``   | ``~/.claude.json`` ``mcpServers.cairn``      |
| codex  | user    | ``$CODEX_HOME/hooks.json``    | ``$CODEX_HOME/config.toml`` ``[mcp_servers.cairn]`` |
| codex  | project | ``<project>/.codex/hooks.json`` | ``<project>/.codex/config.toml``           |

Both agents take the same hooks shape: ``{"hooks": {Event: [{"matcher": …, "hooks": [{"type":
"command", "command": …, "timeout": seconds}]}]}}``. cairn's handlers are recognised by their
command (``… cairn hook <event>``), so other hooks in the same groups are left alone, and running
install twice changes nothing.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cairn.core.errors import UsageError
from cairn.core.fsutil import atomic_write

# (event, matcher or None, cairn hook argument, timeout seconds)
HOOK_SPECS: tuple[tuple[str, str | None, str, int], ...] = (
    ("SessionStart", "startup|resume|clear|compact", "session-start", 15),
    ("PreCompact", "manual|auto", "pre-compact", 15),
    ("PostCompact", "manual|auto", "post-compact", 15),
    ("Stop", None, "stop", 10),
)
_CAIRN_CMD = re.compile(
    r"(?:-m\s+cairn\.hooks\s)|"
    r"(?:(?:^|[\s/\\\"'])(?:-m\s+)?cairn(?:\.exe)?[\"']?\s+(?:-C\s+\S+\s+)?hook\s)"
)
SERVER_NAME = "cairn"


@dataclass
class Change:
    path: Path
    what: str
    changed: bool
    backup: Path | None = None


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def base_command() -> list[str]:
    """How the agent starts cairn: this Python with ``-m cairn`` (works without PATH set-up)."""
    return [sys.executable, "-m", "cairn"]


def hook_command(base: list[str], event: str, agent: str) -> str:
    """The command line for one hook; the default base uses the lean ``-m cairn.hooks`` entry."""
    if base == base_command():
        parts = [sys.executable, "-m", "cairn.hooks", event]
    else:
        parts = [*base, "hook", event]
    if agent == "codex":
        parts += ["--agent", "codex"]
    return " ".join(shlex.quote(p) for p in parts)


def is_cairn_handler(handler: object) -> bool:
    if not isinstance(handler, dict):
        return False
    cmd = handler.get("command")
    return isinstance(cmd, str) and bool(_CAIRN_CMD.search(cmd))


def home() -> Path:
    return Path(os.path.expanduser("~"))


def codex_home() -> Path:
    env = os.environ.get("CODEX_HOME")
    return Path(env) if env else home() / ".codex"


# -- JSON files ----------------------------------------------------------------------------------
def read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "fix it by hand and run again. Nothing was changed"
        ) from exc
    if not isinstance(data, dict):
        raise UsageError(f"{path} holds a JSON {type(data).__name__}, not an object; fix it first")
    return data


def _write(path: Path, text: str, what: str) -> Change:
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if old == text:
        return Change(path, what, False)
    backup = None
    if old is not None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        backup = path.with_name(f"{path.name}.cairn-backup-{stamp}")
        shutil.copy2(path, backup)
    atomic_write(path, text.encode("utf-8"), sync=True)
    return Change(path, what, True, backup)


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def merge_hooks(settings: dict[str, Any], base: list[str], agent: str) -> dict[str, Any]:
    """``settings`` with cairn's hook entries in place of any earlier cairn entries."""
    out: dict[str, Any] = json.loads(json.dumps(settings))
    hooks = strip_hooks(out).setdefault("hooks", {})
    for event, matcher, arg, timeout in HOOK_SPECS:
        group: dict[str, Any] = {}
        if matcher is not None:
            group["matcher"] = matcher
        group["hooks"] = [
            {"type": "command", "command": hook_command(base, arg, agent), "timeout": timeout}
        ]
        groups = hooks.setdefault(event, [])
        if not isinstance(groups, list):
            raise UsageError(
                f'"hooks.{event}" in the settings is not a list (of matcher groups); fix it by '
                "hand first. Nothing was changed"
            )
        groups.append(group)
    return out


def strip_hooks(settings: dict[str, Any]) -> dict[str, Any]:
    """Remove cairn's handlers (and groups or events left empty by that) in place."""
    hooks = settings.get("hooks")
    if hooks is None:
        return settings
    if not isinstance(hooks, dict):
        raise UsageError('"hooks" in the settings is not an object; fix it by hand first')
    for event in list(hooks):
        groups = hooks[event]
        if not isinstance(groups, list):
            continue
        kept = []
        touched = False
        for group in groups:
            handlers = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(handlers, list):
                kept.append(group)
                continue
            rest = [h for h in handlers if not is_cairn_handler(h)]
            if len(rest) != len(handlers):
                touched = True
                if not rest:
                    continue
                group = {**group, "hooks": rest}
            kept.append(group)
        if touched:
            if kept:
                hooks[event] = kept
            else:
                del hooks[event]
    if not hooks:
        del settings["hooks"]
    return settings


def _mcp_entry(base: list[str], agent: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"command": base[0], "args": [*base[1:], "mcp"]}
    if agent == "claude":
        entry = {"type": "stdio", **entry}
    return entry


# -- TOML (Codex config) -------------------------------------------------------------------------
def _toml_doc(path: Path) -> Any:
    import tomlkit
    from tomlkit.exceptions import ParseError

    text = path.read_text(encoding="utf-8") if path.exists() else ""
    try:
        return tomlkit.parse(text)
    except ParseError as exc:
        raise UsageError(
            f"{path} is not valid TOML ({exc}); fix it by hand and run again. Nothing was changed"
        ) from exc


def _codex_mcp(path: Path, base: list[str] | None) -> Change:
    """Set (``base`` given) or remove ``[mcp_servers.cairn]``, keeping comments and layout."""
    import tomlkit

    doc = _toml_doc(path)
    servers = doc.get("mcp_servers")
    if servers is not None and not isinstance(servers, dict):
        raise UsageError(f"{path}: mcp_servers is not a table; fix it by hand first")
    if base is None:
        if servers is None or SERVER_NAME not in servers:
            return Change(path, "MCP server", False)
        del servers[SERVER_NAME]
        if not servers:
            del doc["mcp_servers"]
    else:
        entry = _mcp_entry(base, "codex")
        if servers is None:
            servers = tomlkit.table(is_super_table=True)
            doc["mcp_servers"] = servers
        current = servers.get(SERVER_NAME)
        if isinstance(current, dict) and dict(current) == entry:
            return Change(path, "MCP server", False)
        # Inside an inline ``mcp_servers = { ... }`` the entry must be inline too.
        inline = isinstance(servers, tomlkit.items.InlineTable)
        table = tomlkit.inline_table() if inline else tomlkit.table()
        table["command"] = entry["command"]
        table["args"] = entry["args"]
        servers[SERVER_NAME] = table
    return _write(path, tomlkit.dumps(doc), "MCP server")


# -- install / uninstall -------------------------------------------------------------------------
def _paths(agent: str, scope: str, project: Path | None) -> tuple[Path, Path]:
    if agent not in ("claude", "codex"):
        raise UsageError(f"unknown agent {agent!r}; use claude or codex")
    if scope not in ("project", "user"):
        raise UsageError(f"unknown scope {scope!r}; use project or user")
    if scope == "project" and project is None:
        raise UsageError(
            "project scope needs a cairn workspace; run `cairn init` in the project or use "
            "--scope user"
        )
    if agent == "claude":
        if scope == "project":
            assert project is not None
            return project / ".claude" / "settings.json", project / ".mcp.json"
        return home() / ".claude" / "settings.json", home() / ".claude.json"
    if scope == "project":
        assert project is not None
        return project / ".codex" / "hooks.json", project / ".codex" / "config.toml"
    return codex_home() / "hooks.json", codex_home() / "config.toml"


def install(
    agent: str,
    scope: str,
    project: Path | None,
    *,
    base: list[str] | None = None,
    mcp: bool = True,
) -> Plan:
    base = base or base_command()
    hooks_path, mcp_path = _paths(agent, scope, project)
    # Read (and so validate) every file before writing any.
    settings = read_json(hooks_path)
    mcp_json = read_json(mcp_path) if mcp and agent == "claude" else None
    if mcp and agent == "codex":
        _toml_doc(mcp_path)
    plan = Plan()
    plan.changes.append(_write(hooks_path, _dump(merge_hooks(settings, base, agent)), "hooks"))
    if mcp:
        if agent == "claude":
            assert mcp_json is not None
            servers = mcp_json.get("mcpServers")
            if servers is not None and not isinstance(servers, dict):
                raise UsageError(f"{mcp_path}: mcpServers is not an object; fix it by hand first")
            new = json.loads(json.dumps(mcp_json))
            new.setdefault("mcpServers", {})[SERVER_NAME] = _mcp_entry(base, agent)
            plan.changes.append(_write(mcp_path, _dump(new), "MCP server"))
        else:
            plan.changes.append(_codex_mcp(mcp_path, base))
    if agent == "claude":
        plan.notes.append(
            "Claude Code reads hooks when a session starts: restart it (review them with /hooks)."
        )
        if mcp and scope == "project":
            plan.notes.append("Claude Code asks you to approve the project's .mcp.json server.")
        if mcp and scope == "user":
            plan.notes.append(
                "~/.claude.json is also written by a running Claude Code; install while it is "
                "closed, or add the server with `claude mcp add --scope user`."
            )
    if agent == "codex":
        plan.notes.append(
            "Codex runs hooks from hooks.json when its hooks feature is on (the default in "
            "current releases; older ones need `[features] codex_hooks = true`), and asks you to "
            "review and trust new hooks before they run."
        )
        if scope == "project":
            plan.notes.append("Codex reads a project's .codex/ files only in a trusted project.")
    return plan


def uninstall(agent: str, scope: str, project: Path | None, *, mcp: bool = True) -> Plan:
    hooks_path, mcp_path = _paths(agent, scope, project)
    plan = Plan()
    if hooks_path.exists():
        settings = read_json(hooks_path)
        stripped = strip_hooks(json.loads(json.dumps(settings)))
        if stripped != settings:
            plan.changes.append(_write(hooks_path, _dump(stripped), "hooks"))
        else:
            plan.changes.append(Change(hooks_path, "hooks", False))
    if mcp and mcp_path.exists():
        if agent == "claude":
            data = read_json(mcp_path)
            servers = data.get("mcpServers")
            if isinstance(servers, dict) and SERVER_NAME in servers:
                new = json.loads(json.dumps(data))
                del new["mcpServers"][SERVER_NAME]
                plan.changes.append(_write(mcp_path, _dump(new), "MCP server"))
            else:
                plan.changes.append(Change(mcp_path, "MCP server", False))
        else:
            plan.changes.append(_codex_mcp(mcp_path, None))
    return plan
