"""Installing cairn into Claude Code and Codex CLI: hook entries and the MCP server registration.

Files touched (each read first; invalid JSON/TOML is reported and nothing is written; a file that
changes is copied to ``<name>.cairn-backup-<UTC time>`` first; unchanged files are not rewritten):

| agent  | scope   | hooks                         | MCP server                                   |
|--------|---------|-------------------------------|----------------------------------------------|
| claude | project | ``<project>/.claude/settings.json`` | ``<project>/.mcp.json`` ``mcpServers.cairn`` |
| claude | user    | ``~/.claude/settings.json``   | ``~/.claude.json`` ``mcpServers.cairn``      |
| codex  | user    | ``$CODEX_HOME/hooks.json``    | ``$CODEX_HOME/config.toml`` ``[mcp_servers.cairn]`` |
| codex  | project | ``<project>/.codex/hooks.json`` | ``<project>/.codex/config.toml``           |

Codex also gets the trust of cairn's hooks in ``$CODEX_HOME/config.toml`` (both scopes; see
:mod:`~cairn.integrations.codex_trust`), refreshed on every install and removed on uninstall.

Both agents take the same hooks shape: ``{"hooks": {Event: [{"matcher": …, "hooks": [{"type":
"command", "command": …, "timeout": seconds}]}]}}``; which events, names and matchers comes from
:data:`cairn.integrations.events.EVENTS`, where each agent's files are from its module
(:mod:`~cairn.integrations.claude`, :mod:`~cairn.integrations.codex`). cairn's handlers are
recognised by their command (``… cairn hook <event>``), so other hooks in the same groups are left
alone, and running install twice changes nothing.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any

from cairn.core.errors import UsageError
from cairn.integrations.clients import CHECK_INSTALL, CLIENTS, CONFIGURE, Client
from cairn.integrations.events import EVENTS
from cairn.integrations.files import Change, Plan, copy, dump, read_json, write

__all__ = [
    "Change",
    "Plan",
    "install",
    "is_cairn_handler",
    "merge_hooks",
    "strip_hooks",
    "uninstall",
]

_CAIRN_CMD = re.compile(
    r"(?:-m\s+cairn\.hooks\s)|(?:[/\\]cairn[/\\]integrations[/\\]forecast(?:_hook)?\.py\b)|"
    r"(?:(?:^|[\s/\\\"'])(?:-m\s+)?cairn(?:\.exe)?[\"']?\s+(?:-C\s+\S+\s+)?hook\s)"
)


def base_command() -> list[str]:
    """How the agent starts cairn: this Python with ``-m cairn`` (works without PATH set-up)."""
    return [sys.executable, "-m", "cairn"]


def hook_command(base: list[str], event: str, agent: str) -> str:
    """The command line for one hook; the default base uses the lean ``-m cairn.hooks`` entry."""
    if base == base_command() and event == "post-tool-use":
        # Runs after every tool call: the script's own fast path, without importing cairn.
        from cairn.integrations import forecast

        parts = [
            sys.executable,
            os.path.join(os.path.dirname(forecast.__file__), "forecast_hook.py"),
        ]
    elif base == base_command():
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


def merge_hooks(settings: dict[str, Any], base: list[str], agent: str) -> dict[str, Any]:
    """``settings`` with cairn's hook entries in place of any earlier cairn entries."""
    out = copy(settings)
    hooks = strip_hooks(out).setdefault("hooks", {})
    for row in EVENTS:
        hook = row.hook(agent)
        if hook is None:
            continue  # an event cairn does not install for this agent
        event, matcher = hook.event, hook.matcher
        group: dict[str, Any] = {}
        if matcher is not None:
            group["matcher"] = matcher
        group["hooks"] = [
            {
                "type": "command",
                "command": hook_command(base, row.arg, agent),
                "timeout": row.timeout,
            }
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


# -- install / uninstall -------------------------------------------------------------------------
def _client(agent: str, scope: str, project: Path | None) -> tuple[Client, Path, Path]:
    client = CLIENTS.get(agent)
    if client is None:
        raise UsageError(f"unknown agent {agent!r}; use claude or codex")
    if scope not in ("project", "user"):
        raise UsageError(f"unknown scope {scope!r}; use project or user")
    if scope == "project" and project is None:
        raise UsageError(
            "project scope needs a cairn workspace; run `cairn init` in the project or use "
            "--scope user"
        )
    hooks_path, mcp_path = client.config_files(scope, project)
    return client, hooks_path, mcp_path


def install(
    agent: str,
    scope: str,
    project: Path | None,
    *,
    base: list[str] | None = None,
    mcp: bool = True,
) -> Plan:
    base = base or base_command()
    client, hooks_path, mcp_path = _client(agent, scope, project)
    check = CHECK_INSTALL.get(agent)
    if check is not None:
        check(scope, project)
    # Read (and so validate) every file before writing any.
    settings = read_json(hooks_path)
    merged = merge_hooks(settings, base, agent)
    configure = CONFIGURE.get(agent)
    finish = None
    if configure is not None:
        finish = configure(
            scope, project, hooks_path, settings, merged, base, mcp, is_cairn_handler
        )
    elif mcp:
        client.check_mcp(mcp_path)
    plan = Plan()
    plan.changes.append(write(hooks_path, dump(merged), "hooks"))
    if finish is not None:
        plan.changes.extend(finish())
    elif mcp:
        plan.changes.append(client.set_mcp(mcp_path, base))
    plan.notes.extend(client.install_notes(scope, mcp))
    return plan


def uninstall(agent: str, scope: str, project: Path | None, *, mcp: bool = True) -> Plan:
    client, hooks_path, mcp_path = _client(agent, scope, project)
    plan = Plan()
    settings = read_json(hooks_path) if hooks_path.exists() else {}
    stripped = strip_hooks(copy(settings))
    configure = CONFIGURE.get(agent)
    finish = None
    if configure is not None:
        finish = configure(
            scope, project, hooks_path, settings, stripped, None, mcp, is_cairn_handler
        )
    if hooks_path.exists():
        if stripped != settings:
            plan.changes.append(write(hooks_path, dump(stripped), "hooks"))
        else:
            plan.changes.append(Change(hooks_path, "hooks", False))
    if finish is not None:
        plan.changes.extend(c for c in finish() if c.changed or c.path.exists())
    elif mcp and mcp_path.exists():
        plan.changes.append(client.set_mcp(mcp_path, None))
    return plan
