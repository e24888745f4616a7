"""How long Codex waits for one of cairn's MCP tool calls, so that a long call answers in time.

Codex 0.171 gives every MCP tool call ``[mcp_servers.<name>] tool_timeout_sec`` (default 300 s) and
then fails it ("timed out awaiting tools/call after Ns") and sends ``notifications/cancelled``;
the progress notifications cairn sends meanwhile (Codex asks for them: every request carries a
``progressToken``) do not extend that time, and Codex shows them nowhere (neither ``codex exec
--json`` nor the rollout). A call cut off that way hands the agent an error instead of cairn's
"pending, poll review_show" answer, so cairn's long calls stop waiting a little before Codex does.

The setting is read as Codex reads it: ``-c mcp_servers.cairn.tool_timeout_sec=N`` on the command
line of the Codex that started the server, the project's ``.codex/config.toml`` (in a trusted
project), the ``$CODEX_HOME/<name>.config.toml`` of a ``--profile NAME`` on that command line and
``$CODEX_HOME/config.toml`` (Codex passes ``HOME`` to an MCP server).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cairn.models import codex_config

CLIENT_NAME = "codex-mcp-client"  # what Codex 0.171 says in initialize's clientInfo
DEFAULT_TOOL_TIMEOUT = 300.0
SERVER = "cairn"


def _timeout(doc: dict[str, Any]) -> float | None:
    entry = codex_config.mcp_server(doc, SERVER)
    value = entry.get("tool_timeout_sec") if entry is not None else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def tool_timeout(cwd: Path | None = None) -> float:
    """Seconds Codex waits for a tool call of cairn's server."""
    from cairn.integrations.codex_forecast import PROFILE, command_line

    key = f"mcp_servers.{SERVER}.tool_timeout_sec".encode()
    line = command_line((key, PROFILE))
    raw = line.get(key)
    if raw is not None:
        try:
            return max(0.001, float(raw))
        except ValueError:
            pass
    profile = line.get(PROFILE)
    name = profile.decode("utf-8", "replace") if profile else None
    found = codex_config.setting((cwd or Path.cwd()).resolve(), _timeout, name)
    return DEFAULT_TOOL_TIMEOUT if found is None else found


def answer_within(timeout: float) -> float:
    """How long a tool may take when the client gives it ``timeout``: a margin for the answer to
    be written and travel back on a loaded machine (a fifth, at least 1.5 s, at most 10 s)."""
    return max(0.0, timeout - min(10.0, max(1.5, timeout / 5)))
