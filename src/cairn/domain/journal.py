"""The one journal writer: every change appends its event in the transaction that makes it."""

from __future__ import annotations

from collections.abc import Sequence

from cairn.core.model import Event
from cairn.domain.base import canonical, now

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cairn.domain.base import Site
    from cairn.store import Transaction

# cairn's own bookkeeping in the journal: not a change to the work, so neither the recovery brief
# nor a resumed session's note counts it as one.
BOOKKEEPING = ("recovery", "hook.brief", "hook.reminder", "hook.forecast", "hook.ledger")


def append(tx: Transaction, task_id: str | None, type_: str, ts: str, **data: Any) -> int:
    """Journal an event inside the caller's transaction; ``task_id`` is the canonical id."""
    return tx.events.append(task_id, type_, ts, data)


def record(ws: Site, task_id: str | None, type_: str, **data: Any) -> int:
    """Append an event of an outside kind (hooks, workers) durably, in its own transaction."""
    with ws.store.write() as tx:
        if task_id is not None:
            task_id = canonical(tx, task_id).id
        return append(tx, task_id, type_, now(), **data)


def events(
    ws: Site,
    task_id: str | None = None,
    *,
    limit: int = 50,
    after: int = 0,
    types: Sequence[str] = (),
) -> list[Event]:
    with ws.store.read() as tx:
        if task_id is not None:
            task_id = canonical(tx, task_id, deleted=True).id
        rows = tx.events.query(task_id=task_id, types=types, after=after, limit=limit)
    return [Event(r.id, r.ts, r.task_id, r.type, dict(r.data)) for r in rows]
