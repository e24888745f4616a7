"""Claude Code: what cairn's hooks and installer need to know about it, and only that.

- Hook input: ``session_id``, ``transcript_path``, ``cwd``, ``hook_event_name`` and the event's own
  fields; PostCompact brings the summary as ``compact_summary``.
- Hook output: SessionStart context as ``hookSpecificOutput.additionalContext`` (kept inline up to
  10,000 characters), a note for the user as ``systemMessage``, a blocked stop as ``decision`` /
  ``reason``.
- Settings: hooks in ``.claude/settings.json`` (project) or ``~/.claude/settings.json`` (user); the
  MCP server in ``<project>/.mcp.json`` or ``~/.claude.json`` under ``mcpServers``. Claude Code
  reads hooks when a session starts, and asks before it uses a project's ``.mcp.json`` server.
- Transcripts: ``~/.claude/projects/<project>/<session>.jsonl``, subagents in
  ``<session>/subagents/agent-*.jsonl`` (2.1) or ``agent-*.jsonl`` beside the session (2.0).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path
    from typing import Any

    from cairn.integrations.files import Change

# The settings helpers (and pathlib, shutil) load only when settings are read or written: a hook
# process never needs them.

NAME = "claude"
LABEL = "Claude Code"
CONTEXT_CAP_CHARS = 10_000  # Claude Code keeps this much hook output inline
TRANSCRIPT_DIR = "~/.claude/projects/<project>"  # where the sessions are, for messages
TRANSCRIPTS = "~/.claude/projects/<project>/<session>.jsonl"
SERVER_NAME = "cairn"


# -- hooks ---------------------------------------------------------------------------------------
def compact_summary(
    payload: dict[str, Any], transcript: str | None, since: datetime | None
) -> str | None:
    """The summary of the compaction just made: Claude Code hands it to PostCompact."""
    summary = payload.get("compact_summary")
    return summary if isinstance(summary, str) else None


def client_home() -> str:
    """Where Claude Code keeps its own files (transcripts under ``projects/``)."""
    import os

    return os.environ.get("CLAUDE_CONFIG_DIR") or os.path.join(os.path.expanduser("~"), ".claude")


def session_window(transcript: str, cwd: str) -> int | None:
    """The context window of the model the session's newest response asked for (1M for a
    ``[1m]`` model, else 200k: what Claude Code itself works with); None before any response."""
    from cairn.integrations import claude_forecast, forecast

    seen = forecast.context_tokens(transcript)
    return claude_forecast.model_window(seen[1]) if seen else None


def context_output(event: str, text: str) -> dict[str, Any]:
    return {"hookSpecificOutput": {"hookEventName": event, "additionalContext": text}}


def message_output(text: str) -> dict[str, Any]:
    return {"systemMessage": text}


def block_output(reason: str) -> dict[str, Any]:
    return {"decision": "block", "reason": reason}


# -- transcripts ---------------------------------------------------------------------------------
def is_subagent_file(path: Path) -> bool:
    return path.name.startswith("agent-") and path.suffix == ".jsonl"


def subagent_id(path: Path) -> str:
    """``agent-<id>.jsonl`` → ``<id>``."""
    return path.stem[len("agent-") :]


# -- settings ------------------------------------------------------------------------------------
def config_files(scope: str, project: Path | None) -> tuple[Path, Path]:
    """The hooks settings and the MCP configuration for ``scope``."""
    from cairn.integrations.files import home

    if scope == "project":
        assert project is not None
        return project / ".claude" / "settings.json", project / ".mcp.json"
    return home() / ".claude" / "settings.json", home() / ".claude.json"


def mcp_entry(base: list[str]) -> dict[str, Any]:
    return {"type": "stdio", "command": base[0], "args": [*base[1:], "mcp"]}


def check_mcp(path: Path) -> None:
    """Refuse, before anything is written, an MCP file cairn could not update."""
    from cairn.integrations.files import read_json

    servers = read_json(path).get("mcpServers")
    if servers is not None and not isinstance(servers, dict):
        from cairn.core.errors import UsageError

        raise UsageError(f"{path}: mcpServers is not an object; fix it by hand first")


def set_mcp(path: Path, base: list[str] | None) -> Change:
    """Register (``base`` given) or remove cairn's server in ``mcpServers``."""
    from cairn.integrations.files import Change, copy, dump, read_json, write

    data = read_json(path)
    if base is None:
        servers = data.get("mcpServers")
        if not (isinstance(servers, dict) and SERVER_NAME in servers):
            return Change(path, "MCP server", False)
        new = copy(data)
        del new["mcpServers"][SERVER_NAME]
        return write(path, dump(new), "MCP server")
    check_mcp(path)
    new = copy(data)
    new.setdefault("mcpServers", {})[SERVER_NAME] = mcp_entry(base)
    return write(path, dump(new), "MCP server")


def check_install(scope: str, project: Path | None) -> None:
    """Refuse to install beside cairn's own plugin, which runs the same hooks."""
    from cairn.integrations.claude_plugin import refuse_install_beside_plugin
    from cairn.integrations.files import home

    refuse_install_beside_plugin(project, home())


def install_notes(scope: str, mcp: bool) -> list[str]:
    notes = ["Claude Code reads hooks when a session starts: restart it (review them with /hooks)."]
    if mcp and scope == "project":
        notes.append("Claude Code asks you to approve the project's .mcp.json server.")
    if mcp and scope == "user":
        notes.append(
            "~/.claude.json is also written by a running Claude Code; install while it is "
            "closed, or add the server with `claude mcp add --scope user`."
        )
    return notes
