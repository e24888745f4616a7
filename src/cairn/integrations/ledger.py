"""A Claude Code session's own context ledger: what entered the context, by the seed's categories.

The Stop hook (once per turn) reads the transcript backwards to the point it read last time and
records, in the budget ledger, what the turn put into the context: the user's prompts (``user``),
documents read (``specs``: a Read of a Markdown / text file, or of a path naming specs, docs, a
design or a README), what subagents handed back (``subagent_summaries``: Agent / Task tool results)
and the rest of the work (``orchestration``: the agent's own text and tool calls, other tool
results, hook context). Sizes are estimates (characters / 4, ``exact`` false), but for a
subagent's own work the client's reported usage is used when there is any. The point reached is
a ``hook.ledger`` journal event per session, so a turn is counted once.

The system prompt and tools go with every request but hold their place in the context once: a
reader reports the newest copy it saw under :data:`SYSTEM`, and :func:`record_turn` counts it once
per context (again after a compaction, which starts one; the growth when it grows). The size and
what was counted travel on the ``hook.ledger`` event (``system``, ``system_counted``), since a
client writes its copy only when it changes (Claude Code's ``api-request-shape``) or once at the
start (Codex's ``session_meta``).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from cairn.integrations.transcripts import _Backwards

if TYPE_CHECKING:
    from collections.abc import Callable

    from cairn.domain.workspace import Workspace

    Reader = Callable[[str, str | None], tuple[Counter[tuple[str, str]], str | None]]

SCAN_BYTES = 64 * 1024 * 1024
_DOC_SUFFIXES = (".md", ".markdown", ".rst", ".txt", ".adoc")
_DOC_WORDS = ("spec", "doc", "readme", "design", "requirement", "adr")
SUBAGENT_TOOLS = frozenset({"Agent", "Task"})
# The key a reader reports the system prompt's size under (characters; the newest copy it read),
# counted once per context by record_turn, not summed per request.
SYSTEM = ("orchestration", "system prompt")
# Claude Code (2.1.332) writes, beside the conversation, the request's system prompt and tools:
# an ``api-request-shape`` record whenever they change (what the API was sent), and an attachment
# ``prompt_snapshot`` with most requests (its own rendering; the shape is preferred).
SHAPE = "api-request-shape"
SNAPSHOT = "prompt_snapshot"


def _is_doc(path: str) -> bool:
    low = path.lower()
    name = low.rsplit("/", 1)[-1]
    return low.endswith(_DOC_SUFFIXES) or any(w in name for w in _DOC_WORDS)


def _chars(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(_chars(v) for v in value)
    if isinstance(value, dict):
        if value.get("type") == "text":
            return _chars(value.get("text"))
        return len(json.dumps(value, ensure_ascii=False))
    return 0


def _blocks(rec: dict[str, Any]) -> list[Any]:
    msg = rec.get("message")
    content = msg.get("content") if isinstance(msg, dict) else None
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return content if isinstance(content, list) else []


def after_compaction(out: Counter[tuple[str, str]]) -> None:
    """A compaction in the records read: what came before it left the context (the context the
    entries go to is the one the compaction started), but the system prompt is sent again."""
    system = out.pop(SYSTEM, 0)
    out.clear()
    if system:
        out[SYSTEM] = system


def records_after(path: str, seen: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """The JSON records at the end of a transcript newer than the newest one ``seen`` says was
    read before, oldest first (read backwards, at most ``SCAN_BYTES``)."""
    newer: list[dict[str, Any]] = []
    with open(path, "rb") as f:
        for line in _Backwards(f, SCAN_BYTES):
            try:
                rec = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if not isinstance(rec, dict):
                continue
            if seen(rec):
                break
            newer.append(rec)
    newer.reverse()
    return newer


def attribute(
    path: str, after: str | None, *, sidechain: bool = False
) -> tuple[Counter[tuple[str, str]], str | None]:
    """Characters per ``(category, source)`` in the records stamped after ``after``, and the
    newest stamp seen (None when there was nothing new). ``sidechain``: the transcript is a
    subagent's own, whose records all say so."""

    def seen(rec: dict[str, Any]) -> bool:
        ts = rec.get("timestamp")
        return isinstance(ts, str) and after is not None and ts <= after

    newer = records_after(path, seen)
    tools: dict[str, tuple[str, str]] = {}
    out: Counter[tuple[str, str]] = Counter()
    newest: str | None = None
    shape = snapshot = 0
    for rec in newer:
        if rec.get("isSidechain") is True and not sidechain:
            continue  # a subagent's own context, not this one
        ts = rec.get("timestamp")
        if isinstance(ts, str):
            newest = ts
        kind = rec.get("type")
        if kind == SHAPE:
            sent = rec.get("shape")
            if isinstance(sent, dict):
                shape = _chars(sent.get("system")) + _chars(sent.get("tools"))
        elif kind == "assistant":
            for b in _blocks(rec):
                if isinstance(b, dict) and b.get("type") == "tool_use":
                    raw = b.get("input")
                    args: dict[str, Any] = raw if isinstance(raw, dict) else {}
                    target = str(args.get("file_path") or args.get("path") or "")
                    tools[str(b.get("id"))] = (str(b.get("name")), target)
                out[("orchestration", "agent")] += _chars(b)
        elif kind == "user":
            if rec.get("isCompactSummary") is True:
                after_compaction(out)
                out[("orchestration", "compaction summary")] += _chars(_blocks(rec))
                continue
            for b in _blocks(rec):
                if not isinstance(b, dict):
                    continue
                if b.get("type") == "tool_result":
                    name, target = tools.get(str(b.get("tool_use_id")), ("tool", ""))
                    size = _chars(b.get("content"))
                    if name in SUBAGENT_TOOLS:
                        out[("subagent_summaries", name)] += size
                    elif name == "Read" and _is_doc(target):
                        out[("specs", f"Read {target.rsplit('/', 1)[-1]}"[:80])] += size
                    else:
                        out[("orchestration", name[:80])] += size
                elif "<task-notification>" in str(b.get("text", "")):
                    # 2.1.332 runs an Agent call in the background: the report comes back
                    # later as this notification, the tool result only says it started.
                    out[("subagent_summaries", "task notification")] += _chars(b)
                elif rec.get("isMeta") or str(b.get("text", "")).startswith("<system-reminder>"):
                    out[("orchestration", "reminders")] += _chars(b)
                else:
                    out[("user", "prompt")] += _chars(b)
        elif kind == "attachment":
            att = rec.get("attachment")
            if isinstance(att, dict) and att.get("type") == SNAPSHOT:
                snapshot = _chars(att.get("systemPrompt")) + _chars(att.get("tools"))
                continue
            out[("orchestration", "hook context")] += _chars(att)
    if shape or snapshot:
        out[SYSTEM] = shape or snapshot
    return out, newest


def _last_event(ws: Workspace, session: str) -> tuple[dict[str, Any], set[str]]:
    """The data of ``session``'s newest ``hook.ledger`` event ({} when none), and the contexts
    other (non-subagent) sessions recorded into."""
    from cairn.domain import budget

    last: dict[str, Any] | None = None
    others: set[str] = set()
    for ev in reversed(ws.events(None, limit=500, types=(budget.SESSION_EVENT,))):
        who = ev.data.get("session")
        if who == session:
            if last is None:
                last = dict(ev.data)
        elif isinstance(who, str) and not who.startswith("subagent:"):
            ctx = ev.data.get("context")
            if isinstance(ctx, str):
                others.add(ctx)
    return last or {}, others


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def record_turn(
    ws: Workspace,
    session: str,
    transcript: str,
    task_id: str | None,
    reader: Reader | None = None,
    *,
    window: int | None = None,
    exact: Callable[[], int | None] | None = None,
    owner: str | None = None,
) -> int:
    """Record what entered the context since this session's last ``hook.ledger``; the entries.
    ``reader`` attributes the transcript (default: Claude Code's, :func:`attribute`); ``window``
    is the one the session's client works with, recorded with the context the entries went to
    (``cairn budget`` measures that context against it). ``exact``: the tokens the client itself
    reported for what ``reader`` reads (a subagent's own usage; asked only when there is something
    new), recorded instead of its estimate, as the growth since the last stop (None: none).

    The entries go to the session's own newest context, the one its SessionStart (startup,
    compact, clear) began with the session id as note (hooks.py), though another session in the
    workspace started one since; a subagent's to its parent's, ``owner``. Only a session with no
    context of its own (hooks installed mid-session, or before contexts were noted) goes by the
    newest context, and its first turn to a context of its own when that one holds another
    session's turns (a new session is a new window). The system prompt is counted once per
    context (:data:`SYSTEM`)."""
    from cairn.domain import budget

    subagent = session.startswith("subagent:")
    last, others = _last_event(ws, session)
    after = last.get("upto")
    sizes, newest = (reader or attribute)(transcript, after if isinstance(after, str) else None)
    if newest is None:
        return 0
    system = sizes.pop(SYSTEM, 0) or _int(last.get("system"))
    owner = owner if subagent else session
    with ws.store.read() as tx:
        row = tx.ledger.newest_context(note=owner) if owner else None
        own = row is not None
        if row is None:
            row = tx.ledger.current_context()
    current = row.id if row is not None else None
    if not subagent and not last and not own and current in others:
        current = budget.new_context(ws, "session", task_id=task_id, note=session)
    items = [(cat, max(1, chars // 4), src, False) for (cat, src), chars in sizes.items() if chars]
    extra: dict[str, object] = {}
    reported = exact() if exact is not None else None
    if reported is not None:
        before = _int(last.get("tokens"))
        label = next((src for (_, src) in sizes), "subagent")
        grown = reported - before
        items = [(budget.OUTSIDE, grown, label, True)] if grown > 0 else []
        extra["tokens"] = max(reported, before)
        extra["exact"] = True
    counted = _int(last.get("system_counted")) if last.get("context") == current else 0
    if system > counted and not subagent:
        items.append((SYSTEM[0], max(1, (system - counted) // 4), SYSTEM[1], False))
    if system and not subagent:
        extra.update(system=system, system_counted=max(system, counted))
    if items:
        entries = budget.record_many(
            ws, items, task_id=task_id, context_id=current, render=False, journal=False
        )
        current = entries[0].context_id
    if current is not None and (items or last.get("context") == current):
        extra["context"] = current
        if window:
            extra["window"] = window
    ws.record_event(
        task_id, budget.SESSION_EVENT, session=session, upto=newest, entries=len(items), **extra
    )
    return len(items)


def subagent_work(reader: Reader, label: str, report: str) -> Reader:
    """``reader`` over a subagent's own transcript, summed into one ``subagent_work`` entry
    (outside the context) less what the parent's context holds too and counts there: the task it
    was handed (its ``user`` prompt, the parent's tool call) and ``report``, its last message (the
    parent's tool result, ``subagent_summaries``)."""

    def read(path: str, after: str | None) -> tuple[Counter[tuple[str, str]], str | None]:
        sizes, newest = reader(path, after)
        own = sum(n for (category, _), n in sizes.items() if category != "user")
        return Counter({("subagent_work", label[:80]): max(0, own - len(report))}), newest

    return read


def sidechain_attribute(
    path: str, after: str | None
) -> tuple[Counter[tuple[str, str]], str | None]:
    """:func:`attribute` over a Claude Code subagent's own transcript."""
    return attribute(path, after, sidechain=True)


def final_tokens(path: str, client: str) -> int | None:
    """The tokens in a (subagent's) context at its newest response, as its client reported them:
    Claude ``message.usage`` input, cache and output (the figure Claude Code 2.1.332 hands the
    parent as ``<usage><subagent_tokens>``), Codex ``last_token_usage.total_tokens``; None when
    it reports none."""
    from cairn.integrations.transcripts import read_tail

    try:
        usage = read_tail(path).usage
    except OSError:
        return None
    if usage is None:
        return None
    # A Claude usage's context is its input side; a Codex total already holds the output.
    total = usage.context + usage.output if client == "claude" else usage.context
    return total or None


def record_subagent(
    ws: Workspace,
    base: Reader,
    agent_id: str,
    transcript: str,
    payload: dict[str, Any],
    *,
    exact: Callable[[], int | None] | None = None,
) -> int:
    """SubagentStop: the subagent's own work since its last stop, read from its own transcript
    with ``base`` (the client's reader), as ``subagent_work`` (the point read is a ``hook.ledger``
    event keyed ``subagent:<agent_id>``): ``exact``, the tokens its client reported for its
    context (:func:`final_tokens`), when there are any, else the estimate."""
    kind = payload.get("agent_type")
    report = payload.get("last_assistant_message")
    reader = subagent_work(
        base,
        f"subagent {kind}" if isinstance(kind, str) and kind else "subagent",
        report if isinstance(report, str) else "",
    )
    active = ws.active_tasks()
    task = active[0].id if active else None
    parent = payload.get("session_id")
    return record_turn(
        ws,
        f"subagent:{agent_id}",
        transcript,
        task,
        reader,
        exact=exact,
        owner=parent if isinstance(parent, str) and parent else None,
    )
