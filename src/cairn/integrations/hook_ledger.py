"""What the ``stop`` and ``subagent-stop`` hooks record in the budget ledger.

The hook picks each client's transcript reader here, so :mod:`cairn.integrations.ledger` and
:mod:`cairn.integrations.codex_ledger` never import each other. Both are loaded only when a hook
records: a session start needs neither.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cairn.domain.workspace import Workspace
    from cairn.integrations.clients import Client


def _enabled(ws: Workspace) -> bool:
    return ws.config.section("hooks").get("ledger", True) is not False


def turn(ws: Workspace, agent: Client, transcript: str, session: str, cwd: str | None) -> None:
    """Record what this turn put into the context (:mod:`cairn.integrations.ledger`); the hook
    has checked ``transcript`` and read the session and ``cwd`` from its input."""
    if not _enabled(ws):
        return
    from cairn.integrations import ledger

    reader = None
    if agent.NAME == "codex":
        from cairn.integrations import codex_ledger

        reader = codex_ledger.attribute
    active = ws.active_tasks()
    try:
        window = agent.session_window(transcript, cwd or str(ws.root))
        task = active[0].id if active else None
        ledger.record_turn(ws, session, transcript, task, reader, window=window)
    except Exception:  # the ledger is bookkeeping: the stop hook's reminder matters more
        if os.environ.get("CAIRN_DEBUG"):
            raise


def subagent(
    ws: Workspace, agent: Client, path: str, agent_id: str, payload: dict[str, Any]
) -> None:
    """A subagent's own work from its own transcript ``path`` (checked by the hook)."""
    if not _enabled(ws):
        return
    from cairn.integrations import codex_ledger, ledger

    base = codex_ledger.attribute if agent.NAME == "codex" else ledger.sidechain_attribute
    ledger.record_subagent(
        ws, base, agent_id, path, payload, exact=lambda: ledger.final_tokens(path, agent.NAME)
    )
