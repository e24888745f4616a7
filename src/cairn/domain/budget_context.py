"""Starting a budget context inside a caller's transaction.

Kept apart from :mod:`cairn.domain.budget` (its settings and report) so the session-start hook,
which starts a session's context in the recovery's own commit, imports only this.
"""

from __future__ import annotations

import os
import time

from cairn.domain.journal import append

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cairn.store import Tx

EVENT = "budget.context"


def new_id(prefix: str) -> str:
    """Sortable ids: milliseconds since the epoch in hex, then random bits."""
    return f"{prefix}-{int(time.time() * 1000):011x}{os.urandom(3).hex()}"


def start_in(
    tx: Tx,
    ts: str,
    kind: str,
    *,
    task_id: str | None = None,
    run_id: str | None = None,
    note: str | None = None,
) -> str:
    """Start a new context in ``tx`` and journal it; its id. ``task_id`` is the canonical id."""
    cid = new_id("ctx")
    tx.ledger.new_context(cid, ts=ts, kind=kind, task_id=task_id, run_id=run_id, note=note)
    append(tx, task_id, EVENT, ts, context=cid, kind=kind, note=note)
    return cid
