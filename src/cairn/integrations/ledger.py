"""A Claude Code session's own context ledger: what entered the context, by the seed's categories.

The Stop hook (once per turn) reads the transcript backwards to the point it read last time and
records, in the budget ledger, what the turn put into the context: the user's prompts (``user``),
documents read (``specs``: a Read of a Markdown / text file, or of a path naming specs, docs, a
design or a README), what subagents handed back (``subagent_summaries``: Agent / Task tool results)
and the rest of the work (``orchestration``: the agent's own text and tool calls, other tool
results, hook context). Sizes are estimates (characters / 4, ``exact`` false). The point reached is
a ``hook.ledger`` journal event per session, so a turn is counted once.
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
# Attachments Claude Code (2.1.332) records beside the conversation that add nothing to it: a copy
# of the system prompt and tools with every request (measured: one per request, ~60k characters).
NOT_CONTEXT = frozenset({"prompt_snapshot"})


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
    for rec in newer:
        if rec.get("isSidechain") is True and not sidechain:
            continue  # a subagent's own context, not this one
        ts = rec.get("timestamp")
        if isinstance(ts, str):
            newest = ts
        kind = rec.get("type")
        if kind == "assistant":
            for b in _blocks(rec):
                if isinstance(b, dict) and b.get("type") == "tool_use":
                    raw = b.get("input")
                    args: dict[str, Any] = raw if isinstance(raw, dict) else {}
                    target = str(args.get("file_path") or args.get("path") or "")
                    tools[str(b.get("id"))] = (str(b.get("name")), target)
                out[("orchestration", "agent")] += _chars(b)
        elif kind == "user":
            if rec.get("isCompactSummary") is True:
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
            if isinstance(att, dict) and att.get("type") in NOT_CONTEXT:
                continue
            out[("orchestration", "hook context")] += _chars(att)
    return out, newest


def record_turn(
    ws: Workspace,
    session: str,
    transcript: str,
    task_id: str | None,
    reader: Reader | None = None,
    *,
    window: int | None = None,
) -> int:
    """Record what entered the context since this session's last ``hook.ledger``; the entries.
    ``reader`` attributes the transcript (default: Claude Code's, :func:`attribute`); ``window``
    is the one the session's client works with, recorded with the context the entries went to
    (``cairn budget`` measures that context against it)."""
    from cairn.domain import budget

    after = None
    for ev in reversed(ws.events(None, limit=500, types=(budget.SESSION_EVENT,))):
        if ev.data.get("session") == session:
            after = ev.data.get("upto")
            break
    sizes, newest = (reader or attribute)(transcript, after if isinstance(after, str) else None)
    items = [(cat, max(1, chars // 4), src, False) for (cat, src), chars in sizes.items() if chars]
    if newest is None:
        return 0
    extra: dict[str, object] = {}
    if items:
        entries = budget.record_many(ws, items, task_id=task_id, render=False, journal=False)
        extra["context"] = entries[0].context_id
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


def record_subagent(
    ws: Workspace, base: Reader, agent_id: str, transcript: str, payload: dict[str, Any]
) -> int:
    """SubagentStop: the subagent's own work since its last stop, read from its own transcript
    with ``base`` (the client's reader), as ``subagent_work`` (the point read is a ``hook.ledger``
    event keyed ``subagent:<agent_id>``)."""
    kind = payload.get("agent_type")
    report = payload.get("last_assistant_message")
    reader = subagent_work(
        base,
        f"subagent {kind}" if isinstance(kind, str) and kind else "subagent",
        report if isinstance(report, str) else "",
    )
    active = ws.active_tasks()
    task = active[0].id if active else None
    return record_turn(ws, f"subagent:{agent_id}", transcript, task, reader)
