"""What a resumed session is told: only what changed since the brief it already holds.

Claude Code keeps each SessionStart context in the conversation it resumes, so a second full brief
of the same state would only take room (three briefs, two stale, after resume → /compact → resume).
Every brief handed to a session is remembered in the journal (``hook.brief``: session, source and
the journal position it knew); a resume of that session gets the journal events since then, the
current phase and next action, or, when nothing changed, a one-line pointer. A session cairn has
no brief on record for gets the full brief as before.
"""

from __future__ import annotations

from collections import Counter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cairn.domain.workspace import Workspace
    from cairn.store.base import Transaction

EVENT = "hook.brief"
_LOOK_BACK = 500  # hook.brief events searched for the session's newest


def remember(
    ws: Workspace,
    session: str,
    source: str,
    task_id: str | None,
    phase: str | None,
    checkpoint: str | None,
) -> None:
    from cairn.domain.base import canonical, now

    with ws.store.write() as tx:
        if task_id is not None:
            task_id = canonical(tx, task_id).id
        remember_in(tx, now(), session, source, task_id, phase, checkpoint)


def remember_in(
    tx: Transaction,
    ts: str,
    session: str,
    source: str,
    task_id: str | None,
    phase: str | None,
    checkpoint: str | None,
) -> None:
    """:func:`remember` inside the caller's transaction; ``task_id`` is the canonical id."""
    from cairn.domain.journal import append

    data = {"session": session, "source": source, "phase": phase, "checkpoint": checkpoint}
    append(tx, task_id, EVENT, ts, **data, known=tx.events.last_id())


def last_brief(ws: Workspace, session: str) -> dict[str, Any] | None:
    """The newest ``hook.brief`` of ``session`` (its data with ``ts`` and ``id``), or None."""
    for ev in reversed(ws.events(None, limit=_LOOK_BACK, types=(EVENT,))):
        if ev.data.get("session") == session:
            return {**ev.data, "ts": ev.ts, "id": ev.id}
    return None


def since_last_brief(ws: Workspace, session: str) -> str | None:
    """The note for a resumed ``session``; None when it was never given a brief (give it one)."""
    last = last_brief(ws, session)
    if last is None:
        return None
    known = last.get("known")
    after = known if isinstance(known, int) else int(last["id"])
    from cairn.domain.journal import BOOKKEEPING

    changes = [e for e in ws.events(None, limit=200, after=after) if e.type not in BOOKKEEPING]
    task_id = None
    with ws.store.read() as tx:
        has_task = bool(tx.tasks.recent(limit=1))  # not count(): it reads every task
    if has_task:
        active = ws.active_tasks()
        task_id = active[0].id if active else None
    with ws.store.read() as tx:
        known_now = tx.events.last_id()
    ws.record_event(task_id, EVENT, session=session, source="resume", known=known_now)
    if not changes:
        return (
            f"cairn: resumed. Nothing changed in the workspace since this session's recovery brief "
            f"({last['ts']}): go on from its next action (`cairn recover --no-log` prints it again)."
        )
    counts = Counter(e.type for e in changes)
    lines = [
        f"cairn: resumed. Since this session's recovery brief ({last['ts']}) the workspace "
        f"changed ({', '.join(f'{n} {t}' for t, n in counts.most_common(6))}):"
    ]
    for e in changes[-8:]:
        d = e.data
        what = d.get("text") or d.get("phase") or d.get("kind") or d.get("reason") or ""
        if e.type == "checkpoint.written":
            what = f"{d.get('kind')} v{d.get('version')}"
        lines.append(f"- {e.ts} {e.task_id or '-'} {e.type}: {str(what)[:120]}")
    if task_id is not None:
        task = ws.task(task_id)
        cur = task.current_phase
        newest = ws.newest_checkpoint(task_id)
        lines.append(
            f"Now: {task_id} phase {cur.name + ' (' + cur.state + ')' if cur else '—'}; next action: "
            f"{task.next_action or '—'}; newest checkpoint: {newest.path if newest else 'none'}."
        )
    lines.append(
        "The rest of the brief above still holds (`cairn recover --no-log` prints it whole)."
    )
    with ws.store.read() as tx:
        known_now = tx.events.last_id()
    ws.record_event(task_id, EVENT, session=session, source="resume", known=known_now)
    return "\n".join(lines)
