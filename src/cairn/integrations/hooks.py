"""Agent hooks for Claude Code and Codex CLI: compaction records, recovery injection, reminders.

The agent runs ``cairn hook <event>`` with the hook's JSON on stdin:

- ``session-start`` (source startup / resume / clear / compact): prints the recovery brief as
  ``hookSpecificOutput.additionalContext``, cut by measure to the agent's inline cap (Claude Code
  keeps 10,000 characters), and logs the recovery with the source as trigger and, after a
  compaction, the safe-point verdict recorded by ``pre-compact``.
- ``pre-compact`` (trigger manual / auto): records the compaction and whether it came at a *safe
  point* (see :func:`assess_safe_point`), with the time and the tool calls since the last
  checkpoint. Tool calls are counted by reading the transcript backwards from its end until the
  last checkpoint's time, so no per-tool-call hook is needed (a PostToolUse hook would add a
  process start to every tool call of the agent).
- ``post-compact`` (Claude Code gives ``compact_summary``): stores the summary for the audit.
- ``stop``: when a phase is active and nothing was checkpointed for ``[hooks]
  checkpoint_reminder_minutes`` (default 30), a reminder as ``systemMessage``; with ``[hooks]
  stop_block = true`` it blocks the stop instead (never when ``stop_hook_active``).

Hooks fail open: any error prints one line on stderr and exits 0 so that the agent goes on; outside
a cairn workspace they exit 0 silently. This module is imported whenever the status file is
rendered, so its top level imports nothing heavy.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace
    from cairn.store import Row, Tx

SCHEMA_COMPACTIONS = "cairn.compactions/1"
CONTEXT_CAP_CHARS = 10_000  # Claude Code keeps this much hook output inline
CAP_MARKER = (
    "\n[… cut by cairn to fit the {cap:,}-character hook limit; run `cairn recover --no-log` "
    "for the whole brief]"
)
EVENT_NAMES = {
    "session-start": "SessionStart",
    "pre-compact": "PreCompact",
    "post-compact": "PostCompact",
    "stop": "Stop",
}
SOURCES = ("startup", "resume", "clear", "compact")
AGENTS = ("claude", "codex")
MAX_STDIN = 8 * 1024 * 1024
TRANSCRIPT_SCAN_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024
_CODEX_CALLS = ("function_call", "custom_tool_call", "local_shell_call")
_TS_RE = re.compile(rb'"timestamp"\s*:\s*"([^"]{10,40})"')
_CLAUDE_USE_RE = re.compile(rb'"type"\s*:\s*"tool_use"')
_CODEX_USE_RE = re.compile(rb'"type"\s*:\s*"(?:function_call|custom_tool_call|local_shell_call)"')


def event_name(value: str) -> str | None:
    """``session-start`` or ``SessionStart`` → ``SessionStart``; None for an unknown event."""
    if value in EVENT_NAMES.values():
        return value
    return EVENT_NAMES.get(value.strip().lower().replace("_", "-"))


def parse_ts(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


def _fmt_age(seconds: float | None) -> str:
    if seconds is None:
        return "unknown time"
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


# -- safe points ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SafePoint:
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

    def seconds_since_checkpoint(self, now: datetime | None = None) -> float | None:
        ts = parse_ts(self.since)
        return None if ts is None else max(0.0, ((now or _now()) - ts).total_seconds())


def assess_safe_point(ws: Workspace) -> SafePoint:
    """The verdict for the workspace now: unsafe if any active phase is mid-work."""
    verdicts: list[SafePoint] = []
    with ws.store.read() as tx:
        rows = tx.execute(
            "SELECT p.task_id, p.name, p.started_at FROM phases p JOIN tasks t ON t.id = p.task_id "
            "WHERE p.state = 'active' ORDER BY t.updated_at DESC LIMIT 20"
        )
        for r in rows:
            verdicts.append(_assess_phase(tx, r["task_id"], r["name"], r["started_at"]))
    if not verdicts:
        return SafePoint(True, "no phase was active (between phases)")
    unsafe = [v for v in verdicts if not v.safe]
    return unsafe[0] if unsafe else verdicts[0]


def _assess_phase(tx: Tx, task_id: str, phase: str, started_at: str | None) -> SafePoint:
    start_id, start_ts = 0, started_at
    for r in tx.execute(
        "SELECT id, ts, data FROM events WHERE task_id = ? AND type IN ('phase.started', "
        "'phase.reopened') ORDER BY id DESC LIMIT 50",
        (task_id,),
    ):
        if json.loads(r["data"]).get("phase") == phase:
            start_id, start_ts = int(r["id"]), r["ts"]
            break
    last_cp: tuple[int, str, str] | None = None
    step_begin: tuple[int, str, str] | None = None
    for r in tx.execute(
        "SELECT id, ts, type, data FROM events WHERE task_id = ? AND id > ? AND type IN "
        "('checkpoint.written', 'step.recorded') ORDER BY id DESC LIMIT 5000",
        (task_id, start_id),
    ):
        d = json.loads(r["data"])
        if r["type"] == "checkpoint.written":
            if last_cp is None and d.get("source") != "progress":
                last_cp = (int(r["id"]), r["ts"], f"checkpoint {d.get('kind')} v{d.get('version')}")
        elif d.get("state") == "done":
            if last_cp is None:
                last_cp = (int(r["id"]), r["ts"], f"step ✅ {str(d.get('text'))[:80]!r}")
        elif d.get("state") == "active" and step_begin is None:
            step_begin = (int(r["id"]), r["ts"], f"step ⏳ {str(d.get('text'))[:80]!r}")
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


# -- transcripts ---------------------------------------------------------------------------------
def _record_calls(line: bytes) -> tuple[datetime | None, int]:
    """The timestamp and the number of tool calls of one transcript record (Claude or Codex)."""
    if len(line) <= 1_000_000:
        try:
            rec = json.loads(line)
        except ValueError:
            return None, 0
        if not isinstance(rec, dict):
            return None, 0
        ts = parse_ts(rec.get("timestamp") if isinstance(rec.get("timestamp"), str) else None)
        kind = rec.get("type")
        if kind == "assistant":
            msg = rec.get("message")
            content = msg.get("content") if isinstance(msg, dict) else None
            if isinstance(content, list):
                return ts, sum(
                    1 for b in content if isinstance(b, dict) and b.get("type") == "tool_use"
                )
        elif kind == "response_item":
            payload = rec.get("payload")
            if isinstance(payload, dict) and payload.get("type") in _CODEX_CALLS:
                return ts, 1
        return ts, 0
    # A huge record (a tool result of megabytes): scan its bytes instead of parsing it.
    found = _TS_RE.findall(line)
    ts = parse_ts(found[-1].decode("ascii", "replace")) if found else None
    if b'"type":"assistant"' in line or b'"type": "assistant"' in line:
        return ts, len(_CLAUDE_USE_RE.findall(line))
    if b'"response_item"' in line:
        return ts, min(1, len(_CODEX_USE_RE.findall(line)))
    return ts, 0


def count_tool_calls_since(
    path: str | os.PathLike[str], since: datetime, *, max_bytes: int = TRANSCRIPT_SCAN_BYTES
) -> tuple[int, bool]:
    """Tool calls recorded in a transcript after ``since``: ``(count, exact)``.

    Reads backwards from the end in 1 MiB chunks and stops at the first record older than
    ``since``, so the cost follows the work since the last checkpoint, not the transcript's size.
    Past ``max_bytes`` it stops and reports the count as a lower bound (``exact`` False).
    """
    count = 0
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        pos = f.tell()
        carry = b""
        read = 0
        while pos > 0:
            if read >= max_bytes:
                return count, False
            n = min(_CHUNK, pos)
            pos -= n
            f.seek(pos)
            chunk = f.read(n)
            read += n
            lines = (chunk + carry).split(b"\n")
            carry = lines[0] if pos > 0 else b""
            for line in reversed(lines if pos == 0 else lines[1:]):
                if not line.strip():
                    continue
                ts, calls = _record_calls(line)
                if ts is not None and ts < since:
                    return count, True
                count += calls
    return count, True


def _transcript_file(path: object) -> str | None:
    """The agent's transcript path if it names a readable JSONL file; we only ever read it.

    The path comes from the agent program (not from the model) and lies outside the workspace by
    design (``~/.claude/projects/…``, ``~/.codex/sessions/…``), so it is checked for shape
    rather than confined to the workspace.
    """
    if not isinstance(path, str) or not path or "\x00" in path:
        return None
    if not path.endswith(".jsonl") or not os.path.isabs(path):
        return None
    return path if os.path.isfile(path) else None


# -- hook handlers -------------------------------------------------------------------------------
@dataclass
class HookResult:
    code: int = 0
    stdout: dict[str, Any] | None = None


def _config(ws: Workspace) -> dict[str, Any]:
    return ws.config.section("hooks")


def _num_setting(cfg: dict[str, Any], key: str, default: float) -> float:
    value = cfg.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        from cairn.core.errors import UsageError

        raise UsageError(f".cairn/config.toml: [hooks] {key} must be a number, not {value!r}")
    return float(value)


def fit_context(text: str, cap: int = CONTEXT_CAP_CHARS) -> str:
    """``text`` cut to ``cap`` characters, with a marker that says so and where the rest is."""
    if len(text) <= cap:
        return text
    marker = CAP_MARKER.format(cap=cap)
    return text[: max(0, cap - len(marker))] + marker


def session_start(ws: Workspace, payload: dict[str, Any], agent: str) -> HookResult:
    from cairn.recovery.brief import build_brief, recover

    source = payload.get("source")
    if source not in SOURCES:
        source = "startup"
    cfg = _config(ws)
    cap = int(_num_setting(cfg, "context_cap_chars", CONTEXT_CAP_CHARS))
    max_tokens = cfg.get("brief_max_tokens")
    if max_tokens is not None:
        max_tokens = int(_num_setting(cfg, "brief_max_tokens", 0))
    session = payload.get("session_id") if isinstance(payload.get("session_id"), str) else None
    comp = _pending_compaction(ws, session) if source == "compact" else None
    with ws.store.read() as tx:
        has_task = bool(tx.scalar("SELECT count(*) FROM tasks"))
    lead: list[str] = []
    if not has_task:
        brief = build_brief(ws, trigger=source, max_tokens=max_tokens)
    else:
        note = None
        safe = None
        if comp is not None:
            safe = None if comp["safe_point"] is None else bool(comp["safe_point"])
            note = _compaction_note(comp)
        if comp is not None:
            _mark_recovered(ws, comp["id"], _iso(_now()), source)
        try:
            brief = recover(ws, trigger=source, safe_point=safe, note=note, max_tokens=max_tokens)
        except BaseException:
            if comp is not None:  # not recovered after all: leave it for the next session start
                _mark_recovered(ws, comp["id"], None, None)
            raise
        if source == "compact":
            lead.append(
                "cairn: the context was just compacted. Below is the recovery brief from the "
                "workspace store: reload the files it lists and go on from the next action."
            )
            if comp is not None and comp["safe_point"] == 0:
                lead.append(
                    f"The compaction came mid-phase (suboptimal): {_compaction_note(comp)}. "
                    "Re-check work done after the newest checkpoint before going on, and "
                    "checkpoint more often."
                )
            lead.append("")
    text = fit_context("\n".join([*lead, brief.text.rstrip("\n")]), cap)
    return HookResult(
        0,
        {"hookSpecificOutput": {"hookEventName": "SessionStart", "additionalContext": text}},
    )


def _mark_recovered(ws: Workspace, row_id: int, ts: str | None, trigger: str | None) -> None:
    # A marker, not a record: it need not wait for the disk (the recovery itself is synced).
    with ws.store.light_transaction() as tx:
        tx.execute(
            "UPDATE compactions SET recovered_at = ?, recovery_trigger = ? WHERE id = ?",
            (ts, trigger, row_id),
        )


def _iso(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _pending_compaction(ws: Workspace, session: str | None) -> Row | None:
    with ws.store.read() as tx:
        if session:
            row = tx.one(
                "SELECT * FROM compactions WHERE session_id = ? AND recovered_at IS NULL "
                "ORDER BY id DESC LIMIT 1",
                (session,),
            )
            if row is not None:
                return row
        row = tx.one(
            "SELECT * FROM compactions WHERE recovered_at IS NULL ORDER BY id DESC LIMIT 1"
        )
    # Another session's record only if it is recent: an old one was never recovered, not this one.
    ts = parse_ts(row["ts"]) if row else None
    if row is None or ts is None or (_now() - ts).total_seconds() > 3600:
        return None
    return row


def _compaction_note(row: Row) -> str:
    trig = row["trigger"] or "unknown"
    calls = row["tool_calls_since_checkpoint"]
    calls_s = (
        "tool calls unknown"
        if calls is None
        else f"{'' if row['tool_calls_exact'] else '≥'}{calls} tool calls"
    )
    verdict = "safe point" if row["safe_point"] else "mid-phase"
    since = "the last checkpoint" if row["last_checkpoint_at"] else "the work began"
    return (
        f"{trig} compaction at {row['ts']} ({verdict}): {calls_s} and "
        f"{_fmt_age(row['seconds_since_checkpoint'])} since {since}; {row['reason']}"
    )


DEBOUNCE_SECONDS = 30.0


def pre_compact(ws: Workspace, payload: dict[str, Any], agent: str) -> HookResult:
    now = _now()
    session = payload.get("session_id")
    if isinstance(session, str) and session:
        # One compaction can fire PreCompact more than once; keep the first record.
        with ws.store.read() as tx:
            last = tx.one(
                "SELECT ts FROM compactions WHERE session_id = ? AND summary_at IS NULL AND "
                "recovered_at IS NULL ORDER BY id DESC LIMIT 1",
                (session,),
            )
        last_ts = parse_ts(last["ts"]) if last else None
        if last_ts is not None and 0 <= (now - last_ts).total_seconds() < DEBOUNCE_SECONDS:
            return HookResult(0, None)
    sp = assess_safe_point(ws)
    seconds = sp.seconds_since_checkpoint(now)
    calls: int | None = None
    exact: bool | None = None
    transcript = _transcript_file(payload.get("transcript_path"))
    since = parse_ts(sp.since)
    if transcript and since is not None:
        try:
            calls, exact = count_tool_calls_since(transcript, since)
        except OSError:
            calls = None
    trigger = payload.get("trigger") if payload.get("trigger") in ("manual", "auto") else None
    instructions = payload.get("custom_instructions")
    row_id = _insert_compaction(
        ws,
        now=now,
        agent=agent,
        payload=payload,
        trigger=trigger,
        instructions=instructions if isinstance(instructions, str) and instructions else None,
        sp=sp,
        seconds=seconds,
        calls=calls,
        exact=exact,
    )
    ws.projector.render_status()
    if sp.safe:
        return HookResult(0, None)
    with ws.store.read() as tx:
        row = tx.one("SELECT * FROM compactions WHERE id = ?", (row_id,))
    assert row is not None
    return HookResult(
        0,
        {
            "systemMessage": f"cairn: suboptimal compaction recorded: {_compaction_note(row)}. "
            "The recovery brief is injected when the session resumes."
        },
    )


def _insert_compaction(
    ws: Workspace,
    *,
    now: datetime,
    agent: str,
    payload: dict[str, Any],
    trigger: str | None,
    instructions: str | None,
    sp: SafePoint,
    seconds: float | None,
    calls: int | None,
    exact: bool | None,
    summary: str | None = None,
) -> int:
    session = payload.get("session_id")
    transcript = payload.get("transcript_path")
    ts = _iso(now)
    with ws.store.transaction() as tx:
        row_id = tx.insert(
            "INSERT INTO compactions (ts, agent, session_id, transcript_path, trigger, "
            "custom_instructions, task_id, phase, safe_point, reason, last_checkpoint_at, "
            "seconds_since_checkpoint, tool_calls_since_checkpoint, tool_calls_exact, summary, "
            "summary_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ts,
                agent,
                session if isinstance(session, str) else None,
                transcript if isinstance(transcript, str) else None,
                trigger,
                instructions,
                sp.task_id,
                sp.phase,
                int(sp.safe),
                sp.reason,
                sp.last_checkpoint_at,
                None if seconds is None else round(seconds, 3),
                calls,
                None if exact is None else int(exact),
                summary,
                ts if summary is not None else None,
            ),
        )
        ws._event(
            tx,
            sp.task_id,
            "compaction",
            ts,
            compaction=row_id,
            agent=agent,
            trigger=trigger,
            phase=sp.phase,
            safe_point=sp.safe,
            tool_calls=calls,
            seconds_since_checkpoint=None if seconds is None else round(seconds),
        )
    return row_id


def post_compact(ws: Workspace, payload: dict[str, Any], agent: str) -> HookResult:
    summary = payload.get("compact_summary")
    summary = summary if isinstance(summary, str) else None
    session = payload.get("session_id") if isinstance(payload.get("session_id"), str) else None
    now = _iso(_now())
    with ws.store.transaction() as tx:
        if session is not None:
            row = tx.one(
                "SELECT id FROM compactions WHERE session_id = ? AND summary_at IS NULL "
                "ORDER BY id DESC LIMIT 1",
                (session,),
            )
        else:
            row = tx.one(
                "SELECT id FROM compactions WHERE session_id IS NULL AND summary_at IS NULL "
                "ORDER BY id DESC LIMIT 1"
            )
        if row is not None:
            tx.execute(
                "UPDATE compactions SET summary = ?, summary_at = ? WHERE id = ?",
                (summary, now, row["id"]),
            )
            ws._event(
                tx,
                None,
                "compaction.summary",
                now,
                compaction=row["id"],
                chars=len(summary or ""),
            )
            return HookResult(0, None)
    # No PreCompact record (the hook was installed mid-session): record it now, after the fact.
    sp = assess_safe_point(ws)
    trigger = payload.get("trigger") if payload.get("trigger") in ("manual", "auto") else None
    _insert_compaction(
        ws,
        now=_now(),
        agent=agent,
        payload=payload,
        trigger=trigger,
        instructions=None,
        sp=SafePoint(
            sp.safe,
            sp.reason + " (assessed after the compaction: no PreCompact record)",
            sp.task_id,
            sp.phase,
            sp.unit_started_at,
            sp.last_checkpoint_at,
        ),
        seconds=sp.seconds_since_checkpoint(),
        calls=None,
        exact=None,
        summary=summary if summary is not None else "",
    )
    ws.projector.render_status()
    return HookResult(0, None)


def stop(ws: Workspace, payload: dict[str, Any], agent: str) -> HookResult:
    if payload.get("stop_hook_active"):
        return HookResult(0, None)  # the agent is already continuing because of a stop hook
    cfg = _config(ws)
    minutes = _num_setting(cfg, "checkpoint_reminder_minutes", 30)
    if minutes <= 0:
        return HookResult(0, None)
    sp = assess_safe_point(ws)
    if sp.task_id is None:
        return HookResult(0, None)
    seconds = sp.seconds_since_checkpoint()
    if seconds is None or seconds < minutes * 60:
        return HookResult(0, None)
    last = ws.events(sp.task_id, limit=1, types=("hook.reminder",))
    last_ts = parse_ts(last[-1].ts) if last else None
    if last_ts is not None and (_now() - last_ts).total_seconds() < minutes * 60:
        return HookResult(0, None)  # reminded within the interval already
    ws.record_event(sp.task_id, "hook.reminder", phase=sp.phase, seconds=round(seconds))
    what = "since the last checkpoint" if sp.last_checkpoint_at else "since the phase began"
    message = (
        f"cairn: phase {sp.phase!r} of {sp.task_id} is active and nothing was checkpointed for "
        f"{_fmt_age(seconds)} ({what}). Write one now so a compaction loses nothing: "
        f"`cairn checkpoint write {sp.task_id} progress-notes --file NOTES.md` or "
        f'`cairn progress {sp.task_id} "what was done"`.'
    )
    if cfg.get("stop_block") is True:
        return HookResult(0, {"decision": "block", "reason": message})
    return HookResult(0, {"systemMessage": message})


HANDLERS = {
    "SessionStart": session_start,
    "PreCompact": pre_compact,
    "PostCompact": post_compact,
    "Stop": stop,
}


def read_payload(stream: IO[bytes]) -> dict[str, Any]:
    data = stream.read(MAX_STDIN + 1)
    if len(data) > MAX_STDIN:
        raise ValueError(f"hook input is over {MAX_STDIN:,} bytes")
    if not data.strip():
        return {}
    payload = json.loads(data)
    if not isinstance(payload, dict):
        raise ValueError("hook input is not a JSON object")
    return payload


def run_hook(
    event: str,
    *,
    agent: str = "claude",
    workspace: str | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Run one hook; always returns 0 (fail open). Output JSON goes to ``stdout``."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        name = event_name(event)
        if name is None:
            err.write(f"cairn hook: unknown event {event!r}; known: {', '.join(EVENT_NAMES)}\n")
            return 0
        payload = read_payload(stdin or sys.stdin.buffer)
        declared = payload.get("hook_event_name")
        if isinstance(declared, str) and declared and declared != name:
            err.write(f"cairn hook: input is for {declared}, not {name}; ignored\n")
            return 0
        ws = _open_workspace(workspace, payload)
        if ws is None:
            return 0  # not a cairn project: stay silent
        try:
            result = HANDLERS[name](ws, payload, agent if agent in AGENTS else "claude")
        finally:
            ws.close()
        if result.stdout is not None:
            out.write(json.dumps(result.stdout, ensure_ascii=False) + "\n")
            out.flush()
        return 0
    except Exception as exc:  # fail open: the agent must go on whatever happens here
        if os.environ.get("CAIRN_DEBUG"):
            raise
        text = " ".join(str(exc).split())[:300]
        err.write(f"cairn hook {event}: {type(exc).__name__}: {text} (the agent goes on)\n")
        return 0


def _open_workspace(workspace: str | None, payload: dict[str, Any]) -> Workspace | None:
    start = workspace or os.environ.get("CAIRN_WORKSPACE")
    cwd = payload.get("cwd")
    if not start and isinstance(cwd, str) and cwd and "\x00" not in cwd:
        start = cwd
    # Look for .cairn/cairn.db (as workspace.find_root does) before importing the store, so that a
    # hook installed for every project costs little in the projects that do not use cairn.
    folder = os.path.abspath(start or os.getcwd())
    while not os.path.exists(os.path.join(folder, ".cairn", "cairn.db")):
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    from cairn.domain.workspace import Workspace

    return Workspace.open(folder, search=False)


# -- reading compactions -------------------------------------------------------------------------
def compactions(ws: Workspace, *, limit: int = 20) -> list[dict[str, Any]]:
    with ws.store.read() as tx:
        rows = tx.execute(
            "SELECT * FROM (SELECT * FROM compactions ORDER BY id DESC LIMIT ?) ORDER BY id",
            (limit,),
        )
    return [_public(r) for r in rows]


def _public(r: Row) -> dict[str, Any]:
    return {
        "id": r["id"],
        "ts": r["ts"],
        "agent": r["agent"],
        "session_id": r["session_id"],
        "trigger": r["trigger"],
        "task": r["task_id"],
        "phase": r["phase"],
        "safe_point": None if r["safe_point"] is None else bool(r["safe_point"]),
        "reason": r["reason"],
        "seconds_since_checkpoint": r["seconds_since_checkpoint"],
        "tool_calls_since_checkpoint": r["tool_calls_since_checkpoint"],
        "tool_calls_exact": None if r["tool_calls_exact"] is None else bool(r["tool_calls_exact"]),
        "summary_chars": None if r["summary"] is None else len(r["summary"]),
        "recovered_at": r["recovered_at"],
    }


def status_section(ws: Workspace, tx: Tx) -> tuple[str, Any, str] | None:
    """Recent compactions for the status file, suboptimal ones marked."""
    total = tx.scalar("SELECT count(*) FROM compactions") or 0
    if not total:
        return None
    bad = tx.scalar("SELECT count(*) FROM compactions WHERE safe_point = 0") or 0
    rows = tx.execute("SELECT * FROM compactions ORDER BY id DESC LIMIT 5")
    recent = [_public(r) for r in rows]
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
                f"{_fmt_age(c['seconds_since_checkpoint'])} since the last checkpoint"
            )
        recovered = "recovered" if c["recovered_at"] else "not yet recovered"
        md.append(
            f"- {c['ts']} {c['trigger'] or '?'} ({c['agent']}) during {where}: {verdict}; "
            f"{recovered}"
        )
    md.append("")
    data = {"schema": SCHEMA_COMPACTIONS, "total": total, "suboptimal": bad, "recent": recent}
    return "compactions", data, "\n".join(md)


def main(argv: list[str] | None = None) -> int:
    """``python -m cairn.hooks EVENT [--agent claude|codex] [-C DIR]``: the installed hook command.

    The same as ``cairn hook EVENT`` without building the whole CLI parser, which keeps the start-up
    of a hook process small however many command groups cairn grows.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    agent, workspace, rest = "claude", None, []
    while args:
        a = args.pop(0)
        if a == "--agent" and args:
            agent = args.pop(0)
        elif a in ("-C", "--workspace") and args:
            workspace = args.pop(0)
        else:
            rest.append(a)
    if len(rest) != 1:
        sys.stderr.write("usage: python -m cairn.hooks EVENT [--agent claude|codex] [-C DIR]\n")
        return 0
    return run_hook(rest[0], agent=agent, workspace=workspace)


if __name__ == "__main__":
    sys.exit(main())
