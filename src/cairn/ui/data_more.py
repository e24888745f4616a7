"""What the dashboard shows of compactions, the budget, reviews, workers and subagents.

Like :mod:`cairn.ui.data`: one read snapshot per view, plain values out, no markup.
"""

from __future__ import annotations

import bisect
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.ui.data import PAGE, parse_ts, seconds_between
from cairn.views import change_token

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace

TRANSCRIPT_LIMIT = 64 * 1024 * 1024  # a bigger transcript is not charted (the audit CLI can)
_charts: dict[tuple[str, int, int], dict[str, Any] | None] = {}
_charts_lock = threading.Lock()


# -- compactions ---------------------------------------------------------------------------------
def compactions(ws: Workspace) -> dict[str, Any]:
    """Compactions the hooks recorded and those the agent runtime made, the recovery log, and
    the brief a recovery would inject now."""
    from cairn.recovery.brief import build_brief, render_log

    with ws.store.read() as tx:
        hooked = list(reversed(tx.compactions.recent(100)))
        total = tx.compactions.count()
        bad = tx.compactions.count(suboptimal=True)
        agent = tx.runs.agent_compactions(limit=200)
        recoveries = tx.recoveries.recent(200)
        tok = change_token(tx)
    by_ts = [r.ts for r in recoveries]
    rows: list[dict[str, Any]] = [
        {
            "id": r.id,
            "ts": r.ts,
            "agent": r.agent,
            "session": r.session_id,
            "transcript": r.transcript_path,
            "trigger": r.trigger,
            "task": r.task_id,
            "phase": r.phase,
            "safe_point": r.safe_point,
            "reason": r.reason,
            "since_checkpoint": r.seconds_since_checkpoint,
            "tool_calls": r.tool_calls_since_checkpoint,
            "tool_calls_exact": r.tool_calls_exact,
            "summary_chars": None if r.summary is None else len(r.summary),
            "recovered_at": r.recovered_at,
            "recovery_trigger": r.recovery_trigger,
            "brief": _brief_of(recoveries, by_ts, r.recovered_at),
        }
        for r in hooked
    ]
    sessions: list[dict[str, Any]] = []
    seen: set[str] = set()
    for r in rows:
        path = r["transcript"]
        if path and path not in seen and len(sessions) < 3:
            seen.add(path)
            sessions.append({"path": path, "chart": transcript_session(path)})
    brief = build_brief(ws, trigger="compact")
    return {
        "token": tok,
        "total": total,
        "suboptimal": bad,
        "rows": rows,
        "agent": [
            {
                "ts": c.ts,
                "run": c.run_id,
                "task": c.task_id,
                "phase": c.phase,
                "safe_point": c.safe_point,
                "before": c.tokens_before,
                "after": c.tokens_after,
                "window": c.window,
                "reason": c.reason,
            }
            for c in reversed(agent)
        ],
        "sessions": sessions,
        "recovery_log": render_log(recoveries[-20:]),
        "brief": {"text": brief.text, "tokens": brief.tokens, "task": brief.task_id},
    }


def _brief_of(recoveries: list[Any], by_ts: list[str], at: str | None) -> dict[str, Any] | None:
    """What the recovery that followed a compaction loaded: the first recovery logged at or
    after the moment the compaction was marked recovered (ISO times sort as text)."""
    if at is None:
        return None
    i = bisect.bisect_left(by_ts, at)
    if i >= len(recoveries):
        return None
    r = recoveries[i]
    return {"ts": r.ts, "checkpoint": r.checkpoint, "reloaded": list(r.reloaded)}


def transcript_session(path: str) -> dict[str, Any] | None:
    """The audit of one session's transcript (its context over turns and its compactions), or
    None when the file is gone, not a regular file, too big or not a transcript. Cached while
    the file keeps its size and mtime."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    import stat as stat_mod

    if not stat_mod.S_ISREG(st.st_mode) or st.st_size > TRANSCRIPT_LIMIT:
        return None
    key = (path, st.st_mtime_ns, st.st_size)
    with _charts_lock:
        if key in _charts:
            return _charts[key]
    from cairn.audit import audit_paths
    from cairn.core.errors import CairnError

    try:
        doc = audit_paths([path], max_points=400)
    except (CairnError, OSError, ValueError):
        found = None
    else:
        wanted = str(Path(path))
        mains = [s for s in doc["sessions"] if s["path"] == wanted] or doc["sessions"][:1]
        found = mains[0] if mains else None
    with _charts_lock:
        _charts[key] = found
    return found


# -- budget --------------------------------------------------------------------------------------
def budget(ws: Workspace) -> dict[str, Any]:
    from cairn.core.errors import CairnError
    from cairn.domain import budget as budget_mod

    with ws.store.read() as tx:
        tok = change_token(tx)
        subs = tx.runs.subagents(limit=10)
    try:
        rep = budget_mod.report(ws).to_json()
        error = None
    except CairnError as exc:
        rep, error = None, str(exc)
    return {
        "token": tok,
        "report": rep,
        "error": error,
        "subagents": [
            {"name": s.name, "state": s.state, "budget": s.budget_tokens, "used": s.used_tokens}
            for s in subs
        ],
    }


# -- reviews -------------------------------------------------------------------------------------
def reviews(ws: Workspace, *, page: int = 1) -> dict[str, Any]:
    """Review rounds, newest first, with their verdicts; pending ones first of all."""
    with ws.store.read() as tx:
        wanted = page * PAGE + 1
        rows = tx.reviews.newest(limit=wanted)
        more = len(rows) > page * PAGE
        rows = rows[(page - 1) * PAGE : page * PAGE]
        open_ids = {r.id for r in tx.reviews.newest(open_only=True, limit=100)}
        items = []
        for r in rows:
            resp = tx.reviews.responses(r.id)
            last = resp[-1] if resp else None
            items.append(
                {
                    "id": r.id,
                    "task": r.task_id,
                    "topic": r.topic,
                    "round": r.round,
                    "rounds": tx.reviews.last_round(r.topic),
                    "question": r.question,
                    "concerns": list(r.concerns),
                    "reviewer": r.reviewer,
                    "state": r.state,
                    "pending": r.id in open_ids,
                    "created_at": r.created_at,
                    "request_path": r.request_path,
                    "verdict": None
                    if last is None
                    else {
                        "outcome": last.outcome,
                        "recommendation": last.recommendation,
                        "concerns": list(last.concerns),
                        "reviewer": last.reviewer,
                        "model": last.model,
                        "error": last.error,
                        "at": last.created_at,
                    },
                }
            )
        tok = change_token(tx)
    items.sort(key=lambda i: not i["pending"])  # stable: newest first within each group
    return {"token": tok, "page": page, "more": more, "reviews": items}


# -- workers and subagents -----------------------------------------------------------------------
def runs(ws: Workspace) -> dict[str, Any]:
    with ws.store.read() as tx:
        workers = tx.runs.for_status(PAGE)
        agents = tx.runs.agent_runs(limit=20)
        subs = tx.runs.subagents(limit=PAGE)
        tok = change_token(tx)
    return {
        "token": tok,
        "workers": [
            {
                "task": w.task_id,
                "name": w.name,
                "kind": w.kind,
                "state": w.state,
                "attempt": w.attempt,
                "started_at": w.started_at,
                "finished_at": w.finished_at,
                "duration": w.duration_s,
                "exit_code": w.exit_code,
                "summary": w.summary,
                "log_path": w.log_path,
                "log_tail": w.log_tail,
            }
            for w in workers
        ],
        "agents": [
            {
                "id": a.id,
                "task": a.task_id,
                "model": a.model,
                "state": a.state,
                "started_at": a.started_at,
                "duration": seconds_between(a.started_at, a.finished_at),
                "error": a.error,
            }
            for a in agents
        ],
        "subagents": [
            {
                "id": s.id,
                "task": s.task_id,
                "name": s.name,
                "model": s.model,
                "state": s.state,
                "partial": s.partial,
                "budget": s.budget_tokens,
                "used": s.used_tokens,
                "summary": s.summary,
                "transcript": s.transcript,
                "started_at": s.started_at,
                "duration": seconds_between(s.started_at, s.finished_at),
                "error": s.error,
            }
            for s in subs
        ],
    }


def agent_context_points(rows: list[dict[str, Any]]) -> tuple[list[tuple[float, int]], float]:
    """The agent runtime's compactions as context-over-time points (seconds from the first):
    the size before each compaction, then after it."""
    times = [parse_ts(r["ts"]) for r in rows]
    first = next((t for t in times if t is not None), None)
    if first is None:
        return [], 0.0
    pts: list[tuple[float, int]] = []
    for r, t in zip(rows, times, strict=True):
        if t is None:
            continue
        x = (t - first).total_seconds()
        pts += [(x, int(r["before"])), (x, int(r["after"]))]
    return pts, max(p[0] for p in pts)
