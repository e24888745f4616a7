"""Compactions of an agent's context: whether one came at a safe point, and the records of them.

The hooks (``cairn.integrations.hooks``) call this when the agent compacts its context; the status
file shows the recent ones (:func:`status_section`, rendered after every command, so this module
imports nothing heavy). The rows live in the store's ``compactions`` area (``tx.compactions``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace
    from cairn.store import Tx
    from cairn.store.contract.compactions import CompactionRow

SCHEMA_COMPACTIONS = "cairn.compactions/1"
# One compaction can fire PreCompact more than once; a second within this time is the same one.
DEBOUNCE_SECONDS = 30.0
# A pending compaction of another session is this one's only if it is this recent.
PENDING_SECONDS = 3600.0


def parse_ts(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def now() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fmt_age(seconds: float | None) -> str:
    if seconds is None:
        return "unknown time"
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


# -- safe points ---------------------------------------------------------------------------------
class SafePoint(NamedTuple):
    """Whether a compaction now would lose work that lives only in the agent's context.

    The unit of work in flight began at the newer of: the active phase's start, and the newest
    progress step recorded as begun (⏳ ``active``). A *checkpoint* is a checkpoint written by the
    agent (any source but the automatic progress file) or a step recorded as done (✅, the seed's
    incremental checkpoint). The moment is a safe point when no phase is active, or when a
    checkpoint was recorded after the unit of work began; otherwise it is mid-phase (suboptimal).
    """

    safe: bool
    reason: str
    task_id: str | None = None
    phase: str | None = None
    unit_started_at: str | None = None
    last_checkpoint_at: str | None = None

    @property
    def since(self) -> str | None:
        """The time from which work is not yet on disk: the last checkpoint, else the unit start."""
        return self.last_checkpoint_at or self.unit_started_at

    def seconds_since_checkpoint(self, at: datetime | None = None) -> float | None:
        ts = parse_ts(self.since)
        return None if ts is None else max(0.0, ((at or now()) - ts).total_seconds())

    def assessed_late(self) -> SafePoint:
        """The same verdict, marked as assessed after the compaction (no PreCompact record)."""
        return SafePoint(
            self.safe,
            self.reason + " (assessed after the compaction: no PreCompact record)",
            self.task_id,
            self.phase,
            self.unit_started_at,
            self.last_checkpoint_at,
        )


def assess_safe_point(ws: Workspace) -> SafePoint:
    """The verdict for the workspace now: unsafe if any active phase is mid-work."""
    verdicts: list[SafePoint] = []
    with ws.store.read() as tx:
        for p in tx.tasks.active_phases(limit=20):
            verdicts.append(_assess_phase(tx, p.task_id, p.name, p.started_at))
    if not verdicts:
        return SafePoint(True, "no phase was active (between phases)")
    unsafe = [v for v in verdicts if not v.safe]
    return unsafe[0] if unsafe else verdicts[0]


def _assess_phase(tx: Tx, task_id: str, phase: str, started_at: str | None) -> SafePoint:
    start_id, start_ts = 0, started_at
    started = tx.events.query(task_id=task_id, types=("phase.started", "phase.reopened"), limit=50)
    for e in reversed(started):
        if e.data.get("phase") == phase:
            start_id, start_ts = e.id, e.ts
            break
    last_cp: tuple[int, str, str] | None = None
    step_begin: tuple[int, str, str] | None = None
    since = tx.events.query(
        task_id=task_id,
        types=("checkpoint.written", "step.recorded"),
        after=start_id,
        limit=5000,
    )
    for e in reversed(since):
        d = e.data
        if e.type == "checkpoint.written":
            if last_cp is None and d.get("source") != "progress":
                last_cp = (e.id, e.ts, f"checkpoint {d.get('kind')} v{d.get('version')}")
        elif d.get("state") == "done":
            if last_cp is None:
                last_cp = (e.id, e.ts, f"step ✅ {str(d.get('text'))[:80]!r}")
        elif d.get("state") == "active" and step_begin is None:
            step_begin = (e.id, e.ts, f"step ⏳ {str(d.get('text'))[:80]!r}")
        if last_cp is not None and step_begin is not None:
            break
    unit_id, unit_ts = start_id, start_ts
    unit_what = f"phase {phase!r} started"
    if step_begin is not None and step_begin[0] > start_id:
        unit_id, unit_ts, unit_what = step_begin[0], step_begin[1], f"{step_begin[2]} began"
    where = f"{task_id} / {phase}"
    if last_cp is not None and last_cp[0] > unit_id:
        return SafePoint(
            True,
            f"{where}: {last_cp[2]} recorded at {last_cp[1]}, after {unit_what}",
            task_id,
            phase,
            unit_ts,
            last_cp[1],
        )
    if last_cp is not None:
        reason = f"{where}: mid-phase, {unit_what} at {unit_ts} after the last {last_cp[2]}"
    else:
        reason = f"{where}: mid-phase, nothing checkpointed since {unit_what} at {unit_ts}"
    return SafePoint(False, reason, task_id, phase, unit_ts, last_cp[1] if last_cp else None)


# -- records -------------------------------------------------------------------------------------
class Observed(NamedTuple):  # not a dataclass: cheaper to create at a hook's start-up
    """What the agent told about one compaction (its hook input and its transcript)."""

    agent: str
    session_id: str | None = None
    transcript_path: str | None = None
    trigger: str | None = None  # manual | auto
    instructions: str | None = None
    tool_calls: int | None = None  # since the last checkpoint, from the transcript
    tool_calls_exact: bool | None = None
    context_tokens: int | None = None  # the context's size at the newest usage in the transcript


def record(
    ws: Workspace,
    seen: Observed,
    sp: SafePoint,
    *,
    at: datetime,
    seconds: float | None,
    summary: str | None = None,
) -> int:
    """Store one compaction and its ``compaction`` event; returns its id."""
    ts = iso(at)
    with ws.store.write() as tx:
        row = tx.compactions.add(
            ts=ts,
            agent=seen.agent,
            session_id=seen.session_id,
            transcript_path=seen.transcript_path,
            trigger=seen.trigger,
            custom_instructions=seen.instructions,
            task_id=sp.task_id,
            phase=sp.phase,
            safe_point=sp.safe,
            reason=sp.reason,
            last_checkpoint_at=sp.last_checkpoint_at,
            seconds_since_checkpoint=None if seconds is None else round(seconds, 3),
            tool_calls_since_checkpoint=seen.tool_calls,
            tool_calls_exact=seen.tool_calls_exact,
            summary=summary,
        )
        data: dict[str, Any] = {
            "compaction": row.id,
            "agent": seen.agent,
            "trigger": seen.trigger,
            "phase": sp.phase,
            "safe_point": sp.safe,
            "tool_calls": seen.tool_calls,
            "seconds_since_checkpoint": None if seconds is None else round(seconds),
        }
        if seen.context_tokens is not None:
            data["context_tokens"] = seen.context_tokens
        tx.events.append(sp.task_id, "compaction", ts, data)
    return row.id


def get(ws: Workspace, row_id: int) -> CompactionRow:
    with ws.store.read() as tx:
        row = tx.compactions.get(row_id)
    if row is None:
        raise LookupError(f"no compaction {row_id}")
    return row


def last_open_ts(ws: Workspace, session: str) -> datetime | None:
    """When this session's newest compaction, not yet summarised or recovered, was recorded."""
    with ws.store.read() as tx:
        last = tx.compactions.newest_open(session)
    return parse_ts(last.ts) if last else None


def unsummarised(ws: Workspace, session: str | None) -> CompactionRow | None:
    """The newest compaction of ``session`` (or of no session) still waiting for its summary."""
    with ws.store.read() as tx:
        return tx.compactions.awaiting_summary(session)


def add_summary(ws: Workspace, session: str | None, summary: str | None) -> int | None:
    """Give the newest compaction waiting for its summary this one; None when none is waiting."""
    ts = iso(now())
    with ws.store.write() as tx:
        row = tx.compactions.awaiting_summary(session)
        if row is None:
            return None
        tx.compactions.set_summary(row.id, summary, ts)
        tx.events.append(
            None, "compaction.summary", ts, {"compaction": row.id, "chars": len(summary or "")}
        )
    return row.id


def pending(ws: Workspace, session: str | None) -> CompactionRow | None:
    """The compaction a resumed session recovers from: this session's newest one not recovered,
    else any recent one not recovered."""
    with ws.store.read() as tx:
        if session:
            row = tx.compactions.newest_unrecovered(session)
            if row is not None:
                return row
        row = tx.compactions.newest_unrecovered()
    # Another session's record only if it is recent: an old one was never recovered, not this one.
    ts = parse_ts(row.ts) if row else None
    if row is None or ts is None or (now() - ts).total_seconds() > PENDING_SECONDS:
        return None
    return row


def mark_recovered(ws: Workspace, row_id: int, ts: str | None, trigger: str | None) -> None:
    # A marker, not a record: it need not wait for the disk (the recovery itself is synced).
    with ws.store.light_write() as tx:
        tx.compactions.set_recovered(row_id, ts, trigger)


def note(row: CompactionRow) -> str:
    """One line on a compaction: when, safe or not, tool calls and time since the checkpoint."""
    trig = row.trigger or "unknown"
    calls = row.tool_calls_since_checkpoint
    calls_s = (
        "tool calls unknown"
        if calls is None
        else f"{'' if row.tool_calls_exact else '≥'}{calls} tool calls"
    )
    verdict = "safe point" if row.safe_point else "mid-phase"
    since = "the last checkpoint" if row.last_checkpoint_at else "the work began"
    return (
        f"{trig} compaction at {row.ts} ({verdict}): {calls_s} and "
        f"{fmt_age(row.seconds_since_checkpoint)} since {since}; {row.reason}"
    )


# -- reading compactions -------------------------------------------------------------------------
def compactions(ws: Workspace, *, limit: int = 20) -> list[dict[str, Any]]:
    with ws.store.read() as tx:
        rows = tx.compactions.recent(limit)
    return [public(r) for r in rows]


def public(r: CompactionRow) -> dict[str, Any]:
    """A compaction as ``cairn.compactions/1`` shows it."""
    return {
        "id": r.id,
        "ts": r.ts,
        "agent": r.agent,
        "session_id": r.session_id,
        "trigger": r.trigger,
        "task": r.task_id,
        "phase": r.phase,
        "safe_point": r.safe_point,
        "reason": r.reason,
        "seconds_since_checkpoint": r.seconds_since_checkpoint,
        "tool_calls_since_checkpoint": r.tool_calls_since_checkpoint,
        "tool_calls_exact": r.tool_calls_exact,
        "summary_chars": None if r.summary is None else len(r.summary),
        "recovered_at": r.recovered_at,
    }


def status_section(ws: Workspace, tx: Tx) -> tuple[str, Any, str] | None:
    """Recent compactions for the status file, suboptimal ones marked."""
    total = tx.compactions.count()
    if not total:
        return None
    bad = tx.compactions.count(suboptimal=True)
    recent = [public(r) for r in reversed(tx.compactions.recent(5))]
    md = [f"## Compactions ({total}, {bad} suboptimal)", ""]
    for c in recent:
        if c["task"] is None:
            where = "no active phase"
        else:
            where = f"{c['task']} / {c['phase'] or 'between phases'}"
        if c["safe_point"]:
            verdict = "✅ safe point"
        else:
            calls = c["tool_calls_since_checkpoint"]
            calls_s = "? tool calls" if calls is None else f"{calls} tool calls"
            verdict = (
                f"⚠️ SUBOPTIMAL, mid-phase: {calls_s}, "
                f"{fmt_age(c['seconds_since_checkpoint'])} since the last checkpoint"
            )
        recovered = "recovered" if c["recovered_at"] else "not yet recovered"
        md.append(
            f"- {c['ts']} {c['trigger'] or '?'} ({c['agent']}) during {where}: {verdict}; "
            f"{recovered}"
        )
    md.append("")
    data = {"schema": SCHEMA_COMPACTIONS, "total": total, "suboptimal": bad, "recent": recent}
    return "compactions", data, "\n".join(md)
