"""Codex CLI: what cairn's hooks and installer need to know about it, and only that.

- Hook input: the same fields as Claude Code's (``session_id``, ``transcript_path``, ``cwd``,
  ``hook_event_name``, …), but compact hooks bring no summary: PostCompact reads it from the
  rollout's ``compacted`` record.
- Hook output: Claude Code's shapes (``hookSpecificOutput.additionalContext``, ``systemMessage``,
  ``decision`` / ``reason``).
- Settings: hooks in ``$CODEX_HOME/hooks.json`` (user, default ``~/.codex``) or
  ``<project>/.codex/hooks.json``; the MCP server as ``[mcp_servers.cairn]`` in the ``config.toml``
  beside it (edited with tomlkit, so comments and layout stay). Codex runs only hooks the user's
  config trusts (``[hooks.state."<key>"] trusted_hash``; ``codex exec`` skips the others without a
  word), so the installer writes that trust for cairn's own hooks
  (:mod:`~cairn.integrations.codex_trust`). Codex reads a project's ``.codex/`` only in a trusted
  project.
- Transcripts: rollouts in ``~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta

from cairn.integrations.claude import CONTEXT_CAP_CHARS as CONTEXT_CAP_CHARS
from cairn.integrations.claude import block_output as block_output
from cairn.integrations.claude import context_output as context_output
from cairn.integrations.claude import message_output as message_output

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path
    from typing import Any

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


def session_window(transcript: str, cwd: str) -> int | None:
    """The model's window as this Codex works with it: ``model_context_window`` from its config
    (``-c``, the project's, the user's), else what the rollout's newest ``token_count`` reports
    (95 % of the window) scaled back; None before any usage record."""
    from cairn.integrations import codex_forecast

    seen = codex_forecast.rollout_tokens(transcript)
    if seen is None:
        return None
    return codex_forecast.model_window(seen[1], codex_forecast.settings(os.environ, cwd))


# -- transcripts ---------------------------------------------------------------------------------
def is_rollout_file(path: Path) -> bool:
    return path.name.startswith("rollout-")


# -- settings ------------------------------------------------------------------------------------
def codex_home() -> Path:
    from pathlib import Path

    from cairn.integrations.files import home

    env = os.environ.get("CODEX_HOME")
    return Path(env) if env else home() / ".codex"


def client_home() -> str:
    """Where Codex keeps its own files (rollouts under ``sessions/``)."""
    return str(codex_home())


def config_files(scope: str, project: Path | None) -> tuple[Path, Path]:
    """The hooks file and the config holding the MCP server for ``scope``."""
    if scope == "project":
        assert project is not None
        return project / ".codex" / "hooks.json", project / ".codex" / "config.toml"
    return codex_home() / "hooks.json", codex_home() / "config.toml"


def mcp_entry(base: list[str]) -> dict[str, Any]:
    return {"command": base[0], "args": [*base[1:], "mcp"]}


# Set when missing, never overwritten: the user may change them. ``approve``: cairn's tools run
# without a prompt, which ``codex exec`` (approval policy never) cannot show; ``required``: Codex
# waits for the server before its first request, or a ``codex exec`` run's only turn starts without
# cairn's tools (its tool search is indexed when the turn starts).
MCP_DEFAULTS: dict[str, Any] = {
    "default_tools_approval_mode": "approve",
    "required": True,
    "startup_timeout_sec": 30,
}


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
    from cairn.integrations.files import write

    doc = _toml_doc(path)
    if not _mcp_into(doc, path, base):
        from cairn.integrations.files import Change

        return Change(path, "MCP server", False)
    import tomlkit

    return write(path, tomlkit.dumps(doc), "MCP server")


def _mcp_into(doc: Any, path: Path, base: list[str] | None) -> bool:
    """Set or remove cairn's server in ``doc``; whether anything changed."""
    import tomlkit

    from cairn.core.errors import UsageError

    servers = doc.get("mcp_servers")
    if servers is not None and not isinstance(servers, dict):
        raise UsageError(f"{path}: mcp_servers is not a table; fix it by hand first")
    if base is None:
        if servers is None or SERVER_NAME not in servers:
            return False
        del servers[SERVER_NAME]
        if not servers:
            del doc["mcp_servers"]
        return True
    entry = mcp_entry(base)
    if servers is None:
        servers = tomlkit.table(is_super_table=True)
        doc["mcp_servers"] = servers
    current = servers.get(SERVER_NAME)
    current = dict(current) if isinstance(current, dict) else {}
    wanted = {**entry, **MCP_DEFAULTS, **current, **entry}
    if current == wanted:
        return False
    # Inside an inline ``mcp_servers = { ... }`` the entry must be inline too.
    inline = isinstance(servers, tomlkit.items.InlineTable)
    table = tomlkit.inline_table() if inline else tomlkit.table()
    for k, v in wanted.items():
        table[k] = v
    servers[SERVER_NAME] = table
    return True


def configure(
    scope: str,
    project: Path | None,
    hooks_path: Path,
    before: dict[str, Any],
    after: dict[str, Any],
    base: list[str] | None,
    mcp: bool,
    ours: Callable[[object], bool],
) -> Callable[[], list[Change]]:
    """Read (so validate) Codex's config files and return what writes them: the MCP server
    (``base`` None removes it; ``mcp`` False leaves it alone), the trust of cairn's hooks as the
    hooks file goes from ``before`` to ``after``, and the hooks feature where this Codex needs it.
    Each file is written once."""
    import tomlkit

    from cairn.integrations import codex_trust
    from cairn.integrations.files import Change, write

    user_path = codex_home() / "config.toml"
    _, mcp_path = config_files(scope, project)
    docs = {user_path: _toml_doc(user_path)}
    if mcp_path != user_path:
        docs[mcp_path] = _toml_doc(mcp_path)
    feature = codex_trust.hooks_feature_off() if base is not None else None

    def apply() -> list[Change]:
        user = docs[user_path]
        if mcp:
            _mcp_into(docs[mcp_path], mcp_path, base)
        codex_trust.sync(user, hooks_path, before, after, ours)
        if feature is not None:
            codex_trust.enable_feature(user, feature)
        from cairn.integrations import codex_skill

        changes = []
        if base is not None:
            changes.append(codex_skill.install(scope, project, codex_home()))
        elif (removed := codex_skill.uninstall(scope, project, codex_home())) is not None:
            changes.append(removed)
        for path, doc in docs.items():
            text = tomlkit.dumps(doc)
            old = path.read_text(encoding="utf-8") if path.exists() else ""
            what = "MCP server" if path == mcp_path and path != user_path else "Codex config"
            if path == user_path and not text.strip() and not old:
                continue  # nothing to trust or register: do not create an empty config
            changes.append(write(path, text, what) if text != old else Change(path, what, False))
        return changes

    return apply


def install_notes(scope: str, mcp: bool) -> list[str]:
    notes = [
        "Codex runs only hooks that your config trusts: cairn wrote the trust for its own hooks "
        'into $CODEX_HOME/config.toml ([hooks.state."…"] trusted_hash), so they run from the '
        "next Codex session without a review; check with `cairn hooks status`."
    ]
    notes.append(
        "The cairn-checkpoints skill teaches Codex the checkpoint workflow (Codex lists skills "
        "and reads one when the task matches)."
    )
    if mcp:
        notes.append(
            "cairn's MCP server is registered with required = true (Codex waits for it before "
            'the first request) and default_tools_approval_mode = "approve" (its tools run '
            "without a prompt, also in `codex exec`); change either in [mcp_servers.cairn]."
        )
    if scope == "project":
        notes.append(
            "Codex reads a project's .codex/ files only in a trusted project (trust it when Codex "
            'asks, or set [projects."<path>"] trust_level = "trusted" in your config).'
        )
    return notes
