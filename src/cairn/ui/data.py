"""What the dashboard shows of tasks, phases and checkpoints, read through the store contract.

Every function takes the workspace, opens one read snapshot and returns plain dicts of values
(never markup): :mod:`cairn.ui.pages` escapes and renders them. Lists are paginated, so a page
costs what it shows, not what the store holds.
"""

from __future__ import annotations

import difflib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cairn.views import change_token

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace
    from cairn.store import Tx
    from cairn.store.contract.tasks import PhaseRow, TaskRow

PAGE = 50
CONTENT_LIMIT = 200_000  # characters of a checkpoint shown; the rest is cut with a note
STREAM_EVENTS = ("stream.opened", "stream.closed", "stream.repaired", "stream.bad_lines")


def parse_ts(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def seconds_between(a: str | None, b: str | None) -> float | None:
    ta, tb = parse_ts(a), parse_ts(b)
    if ta is None or tb is None:
        return None
    return max((tb - ta).total_seconds(), 0.0)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def token(ws: Workspace) -> str:
    """The store's change token: it differs whenever anything the dashboard shows changed."""
    with ws.store.read() as tx:
        return change_token(tx)


def _task_state(phases: list[PhaseRow]) -> tuple[str, str | None]:
    from cairn.core.model import Phase, Task

    t = Task("", "", "", "", None, tuple(Phase(p.name, p.position, p.state) for p in phases))
    cur = t.current_phase
    return t.state, cur.name if cur else None


def _task_row(t: TaskRow, phases: list[PhaseRow]) -> dict[str, Any]:
    state, current = _task_state(phases)
    return {
        "id": t.id,
        "title": t.title,
        "state": state,
        "phase": current,
        "phases": [(p.name, p.state) for p in phases],
        "next_action": t.next_action,
        "updated_at": t.updated_at,
    }


# -- overview ------------------------------------------------------------------------------------
def overview(ws: Workspace, *, page: int = 1) -> dict[str, Any]:
    """The first view: counts, what is active or needs a person, and one page of tasks."""
    from cairn.domain.phase_status import interrupted

    with ws.store.read() as tx:
        total = tx.tasks.count()
        pages = max((total + PAGE - 1) // PAGE, 1)
        page = min(max(page, 1), pages)
        # The contract lists the most recent first; a page is a slice of that order.
        rows = tx.tasks.recent(limit=page * PAGE)[(page - 1) * PAGE :]
        phases = tx.tasks.phases_of([t.id for t in rows]) if rows else {}
        active = [(p.task_id, p.name) for p in tx.tasks.active_phases(limit=10)]
        failed = [
            {"task": p.task_id, "phase": p.name, "error": p.error, "at": p.finished_at}
            for p in tx.tasks.failed_phases(limit=5)
        ]
        pending_reviews = [
            {"id": r.id, "topic": r.topic, "task": r.task_id, "round": r.round}
            for r in tx.reviews.newest(open_only=True, limit=10)
        ]
        counts = {
            "tasks": total,
            "checkpoint_versions": tx.checkpoints.count(),
            "compactions": tx.compactions.count(),
            "suboptimal_compactions": tx.compactions.count(suboptimal=True),
        }
        tok = change_token(tx)
    stale = []
    for task_id, phase in active:
        pid = interrupted(ws, task_id, phase)
        if pid is not None:
            stale.append({"task": task_id, "phase": phase, "pid": pid})
    return {
        "token": tok,
        "counts": counts,
        "page": page,
        "pages": pages,
        "tasks": [_task_row(t, phases.get(t.id, [])) for t in rows],
        "active": active,
        "interrupted": stale,
        "failed": failed,
        "pending_reviews": pending_reviews,
    }


# -- one task ------------------------------------------------------------------------------------
def _gates(tx: Tx, task_id: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The task's gate (the newest plan review) and, per phase, an override that opened it."""
    from cairn.domain.gates import gate_state

    gs = gate_state(tx, task_id)
    gate = {
        "open": gs.open,
        "state": gs.state,
        "review": gs.review.id if gs.review else None,
        "approved_by": gs.approved_by,
        "reviewer": None,
        "plan_version": gs.plan_version,
    }
    if gs.review is not None:
        review = tx.reviews.get(gs.review.id)
        gate["reviewer"] = review.reviewer if review else None
    overrides: dict[str, dict[str, Any]] = {}
    for e in tx.events.query(task_id=task_id, types=("gate.overridden",), limit=200):
        overrides[str(e.data.get("phase"))] = {"ts": e.ts, "reason": e.data.get("reason")}
    return gate, overrides


def _streams(tx: Tx, task_id: str) -> list[dict[str, Any]]:
    """Each stream of the task as its newest open or close event left it."""
    found: dict[str, dict[str, Any]] = {}
    for e in tx.events.query(task_id=task_id, types=STREAM_EVENTS, limit=500):
        path = str(e.data.get("path", "?"))
        s = found.setdefault(path, {"path": path, "records": None, "state": "?", "at": e.ts})
        s["at"] = e.ts
        if e.type in ("stream.opened", "stream.closed"):
            s["records"] = e.data.get("records")
            s["state"] = "open" if e.type == "stream.opened" else "closed"
            if e.type == "stream.closed":
                s["written"] = e.data.get("written")
        elif e.type == "stream.repaired":
            s["repaired"] = True
        else:
            s["bad_lines"] = e.data.get("count")
    return sorted(found.values(), key=lambda s: s["path"])


def task_detail(ws: Workspace, task_id: str) -> dict[str, Any] | None:
    from cairn.domain.phase_status import interrupted

    with ws.store.read() as tx:
        row = tx.tasks.get(task_id)
        if row is None:
            return None
        tid = row.id
        phases = tx.tasks.phases(tid)
        gate, overrides = _gates(tx, tid) if any(p.gated for p in phases) else ({}, {})
        now = now_iso()
        items: list[dict[str, Any]] = []
        for p in phases:
            runs = tx.runs.phase_runs(tid, p.name)
            items.append(
                {
                    "name": p.name,
                    "state": p.state,
                    "gated": p.gated,
                    "started_at": p.started_at,
                    "finished_at": p.finished_at,
                    "duration": seconds_between(p.started_at, p.finished_at or now)
                    if p.started_at
                    else None,
                    "error": p.error,
                    "attempts": sum(1 for r in runs if r.state != "reset"),
                    "runs": [
                        {
                            "attempt": r.attempt,
                            "state": r.state,
                            "host": r.host,
                            "pid": r.pid,
                            "started_at": r.started_at,
                            "finished_at": r.finished_at,
                            "error": r.error,
                        }
                        for r in runs
                    ],
                    "override": overrides.get(p.name),
                }
            )
        newest = []
        for c in tx.checkpoints.newest_each_kind(tid):
            lo_hi = tx.checkpoints.version_range(tid, c.kind)
            newest.append(
                {
                    "kind": c.kind,
                    "version": c.version,
                    "versions": (lo_hi[1] - lo_hi[0] + 1) if lo_hi else 1,
                    "source": c.source,
                    "size": c.size,
                    "phase": c.phase,
                    "created_at": c.created_at,
                    "path": ws.artifact_path(tid, c.kind),
                }
            )
        steps_total = tx.steps.count(tid)
        steps = [
            {"text": s.text, "state": s.state, "phase": s.phase, "updated_at": s.updated_at}
            for s in tx.steps.of_task(tid, limit=200)
        ]
        workers = [
            {
                "name": w.name,
                "state": w.state,
                "attempt": w.attempt,
                "started_at": w.started_at,
                "duration": w.duration_s,
                "summary": w.summary,
                "log_path": w.log_path,
                "log_tail": w.log_tail,
            }
            for w in tx.runs.of_task(tid)
        ]
        streams = _streams(tx, tid)
        events = [
            {"id": e.id, "ts": e.ts, "type": e.type, "data": dict(e.data)}
            for e in reversed(tx.events.query(task_id=tid, limit=30))
        ]
        tok = change_token(tx)
    stale = []
    for item in items:
        if item["state"] == "active":
            pid = interrupted(ws, tid, str(item["name"]))
            if pid is not None:
                stale.append({"phase": item["name"], "pid": pid})
    return {
        "token": tok,
        "id": tid,
        "title": row.title,
        "state": _task_state(phases)[0],
        "task_state": getattr(row, "state", "open"),  # open | archived | deleted
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "next_action": row.next_action,
        "now": now,
        "phases": items,
        "gate": gate,
        "interrupted": stale,
        "checkpoints": newest,
        "steps": steps,
        "steps_total": steps_total,
        "streams": streams,
        "workers": workers,
        "events": events,
    }


# -- checkpoints ---------------------------------------------------------------------------------
def checkpoint_view(
    ws: Workspace, task_id: str, kind: str, version: int | None, a: int | None, b: int | None
) -> dict[str, Any] | None:
    """A kind's history, one version's content, and (given ``a`` and ``b``) their diff."""
    with ws.store.read() as tx:
        row = tx.tasks.get(task_id)
        if row is None:
            return None
        tid = row.id
        history = tx.checkpoints.history(tid, kind)
        if not history:
            return None
        chosen = version or history[-1].version
        shown = tx.checkpoints.get(tid, kind, chosen)
        diff: list[tuple[str, str]] | None = None
        if a is not None and b is not None:
            old, new = tx.checkpoints.get(tid, kind, a), tx.checkpoints.get(tid, kind, b)
            if old is not None and new is not None:
                diff = _diff(old.content or "", new.content or "", a, b)
        tok = change_token(tx)
    content = shown.content if shown is not None else None
    cut = content is not None and len(content) > CONTENT_LIMIT
    return {
        "token": tok,
        "task": tid,
        "kind": kind,
        "path": ws.artifact_path(tid, kind),
        "history": [
            {
                "version": c.version,
                "source": c.source,
                "size": c.size,
                "phase": c.phase,
                "created_at": c.created_at,
                "hash": c.hash[:12],
                "files": list(c.files),
            }
            for c in reversed(history)
        ],
        "version": chosen if shown is not None else None,
        "content": content[:CONTENT_LIMIT] if content is not None else None,
        "cut": cut,
        "a": a,
        "b": b,
        "diff": diff,
    }


def _diff(old: str, new: str, a: int, b: int) -> list[tuple[str, str]]:
    """Unified diff lines, each with its class: add, del, hunk or ctx."""
    out: list[tuple[str, str]] = []
    lines = difflib.unified_diff(
        old[:CONTENT_LIMIT].splitlines(),
        new[:CONTENT_LIMIT].splitlines(),
        f"v{a}",
        f"v{b}",
        lineterm="",
        n=3,
    )
    for line in lines:
        if line.startswith(("+++", "---")):
            cls = "file"
        elif line.startswith("@@"):
            cls = "hunk"
        elif line.startswith("+"):
            cls = "add"
        elif line.startswith("-"):
            cls = "del"
        else:
            cls = "ctx"
        out.append((cls, line))
    return out
