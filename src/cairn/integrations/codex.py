"""Codex CLI: what cairn's hooks and installer need to know about it, and only that.

- Hook input: the same fields as Claude Code's (``session_id``, ``transcript_path``, ``cwd``,
  ``hook_event_name``, …), but compact hooks bring no summary: PostCompact reads it from the
  rollout's ``compacted`` record.
- Hook output: Claude Code's shapes (``hookSpecificOutput.additionalContext``, ``systemMessage``,
  ``decision`` / ``reason``).
- Settings: hooks in ``$CODEX_HOME/hooks.json`` (user, default ``~/.codex``) or
  ``<project>/.codex/hooks.json``; the MCP server as ``[mcp_servers.cairn]`` in the ``config.toml``
  beside it (edited with tomlkit, so comments and layout stay). Codex asks the user to review and
  trust new hooks, and reads a project's ``.codex/`` only in a trusted project.
- Transcripts: rollouts in ``~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl``.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from cairn.integrations.claude import CONTEXT_CAP_CHARS as CONTEXT_CAP_CHARS
from cairn.integrations.claude import block_output as block_output
from cairn.integrations.claude import context_output as context_output
from cairn.integrations.claude import message_output as message_output

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from cairn.integrations.files import Change

NAME = "codex"
LABEL = "Codex CLI"
TRANSCRIPT_DIR = "~/.codex/sessions"  # where the sessions are, for messages
TRANSCRIPTS = "~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl"
SERVER_NAME = "cairn"
# The rollout's clock and the hook's may differ a little; a summary this much older than the
# compaction's record is still taken as its own.
_SUMMARY_SKEW = timedelta(seconds=5)


# -- hooks ---------------------------------------------------------------------------------------
def compact_summary(
    payload: dict[str, Any], transcript: str | None, since: datetime | None
) -> str | None:
    """The summary of the compaction just made: the newest ``compacted`` record of the rollout
    written after ``since`` (when the compaction was recorded), or None."""
    if transcript is None:
        return None
    from cairn.integrations.transcripts import read_tail

    try:
        tail = read_tail(transcript, since - _SUMMARY_SKEW if since else None, summary=True)
    except OSError:
        return None
    return tail.summary


# -- transcripts ---------------------------------------------------------------------------------
def is_rollout_file(path: Path) -> bool:
    return path.name.startswith("rollout-")


# -- settings ------------------------------------------------------------------------------------
def codex_home() -> Path:
    from pathlib import Path

    from cairn.integrations.files import home

    env = os.environ.get("CODEX_HOME")
    return Path(env) if env else home() / ".codex"


def config_files(scope: str, project: Path | None) -> tuple[Path, Path]:
    """The hooks file and the config holding the MCP server for ``scope``."""
    if scope == "project":
        assert project is not None
        return project / ".codex" / "hooks.json", project / ".codex" / "config.toml"
    return codex_home() / "hooks.json", codex_home() / "config.toml"


def mcp_entry(base: list[str]) -> dict[str, Any]:
    return {"command": base[0], "args": [*base[1:], "mcp"]}


def _toml_doc(path: Path) -> Any:
    import tomlkit
    from tomlkit.exceptions import ParseError

    from cairn.core.errors import UsageError

    text = path.read_text(encoding="utf-8") if path.exists() else ""
    try:
        return tomlkit.parse(text)
    except ParseError as exc:
        raise UsageError(
            f"{path} is not valid TOML ({exc}); fix it by hand and run again. Nothing was changed"
        ) from exc


def check_mcp(path: Path) -> None:
    """Refuse, before anything is written, a config cairn could not update."""
    _toml_doc(path)


def set_mcp(path: Path, base: list[str] | None) -> Change:
    """Set (``base`` given) or remove ``[mcp_servers.cairn]``, keeping comments and layout."""
    import tomlkit

    from cairn.core.errors import UsageError
    from cairn.integrations.files import Change, write

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
        entry = mcp_entry(base)
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
    return write(path, tomlkit.dumps(doc), "MCP server")


def install_notes(scope: str, mcp: bool) -> list[str]:
    notes = [
        "Codex runs hooks from hooks.json when its hooks feature is on (the default in current "
        "releases; older ones need `[features] codex_hooks = true`), and asks you to review and "
        "trust new hooks before they run."
    ]
    if scope == "project":
        notes.append("Codex reads a project's .codex/ files only in a trusted project.")
    return notes
