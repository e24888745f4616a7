"""A Codex session's own context ledger: what entered the context, read from the rollout.

The Stop hook (``--agent codex``) hands the rollout to :func:`attribute`, through the same
bookkeeping as Claude Code's (:func:`cairn.integrations.ledger.record_turn`: a ``hook.ledger``
event per session marks the point read). What Codex 0.171 puts into the context, by the seed's
categories (sizes are characters / 4, estimates):

- ``user``: the user's messages;
- ``specs``: documents read: a shell command that prints a Markdown / text file or a path naming
  specs, docs, a design or a README (``cat``, ``sed -n``, ``head``, …), and the project's
  AGENTS.md instructions Codex injects;
- ``subagent_summaries``: what subagents hand back: ``wait_agent`` results and the
  ``<subagent_notification>`` message Codex adds when one finishes (each subagent's own work is in
  its own rollout and fires SubagentStart / SubagentStop, never Stop);
- ``orchestration``: the rest: the agent's messages, reasoning summaries and tool calls, other
  tool output, the environment context, developer messages (instructions, hook context such as
  cairn's brief), compaction summaries and, once per context, the base instructions
  (``session_meta``'s ``base_instructions``: Codex's system prompt).

Rollout lines carry an ``ordinal`` (0.171), so the point read is ``<timestamp>#<ordinal>`` and a
record written in the same millisecond is still counted once.
"""

from __future__ import annotations

import json
import shlex
from collections import Counter
from typing import Any

from cairn.integrations.ledger import SYSTEM, _is_doc, after_compaction, records_after
from cairn.integrations.transcripts import CODEX_CALLS

SUBAGENT_RESULTS = frozenset(
    {"wait_agent", "wait"}
)  # multi_agent_v1 tools whose output is a report
READERS = frozenset({"cat", "sed", "head", "tail", "nl", "less", "more", "bat", "awk"})
_OUTPUTS = frozenset({"function_call_output", "custom_tool_call_output", "tool_search_output"})


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(b.get("text", "")) for b in content if isinstance(b, dict) and "text" in b
        )
    return ""


def _read_doc(arguments: Any) -> str | None:
    """The document a shell call prints (``{"cmd": "sed -n 1,80p docs/x.md"}``), or None."""
    try:
        args = json.loads(arguments) if isinstance(arguments, str) else arguments
    except ValueError:
        return None
    cmd = args.get("cmd") or args.get("command") if isinstance(args, dict) else None
    if isinstance(cmd, list):
        cmd = " ".join(str(c) for c in cmd)
    if not isinstance(cmd, str):
        return None
    try:
        words = shlex.split(cmd.split("|")[0].split("&&")[0])
    except ValueError:
        return None
    if not words or words[0].rsplit("/", 1)[-1] not in READERS:
        return None
    docs = [w for w in words[1:] if not w.startswith("-") and _is_doc(w)]
    return docs[0] if docs else None


def _position(after: str | None) -> tuple[str | None, int | None]:
    if after is None:
        return None, None
    ts, _, ordinal = after.partition("#")
    return ts, int(ordinal) if ordinal.isdigit() else None


def _is_before(rec: dict[str, Any], ts_after: str | None, ord_after: int | None) -> bool:
    """Whether ``rec`` was read already."""
    ordinal = rec.get("ordinal")
    if ord_after is not None and isinstance(ordinal, int):
        return ordinal <= ord_after
    ts = rec.get("timestamp")
    return ts_after is not None and isinstance(ts, str) and ts <= ts_after


def attribute(path: str, after: str | None) -> tuple[Counter[tuple[str, str]], str | None]:
    """Characters per ``(category, source)`` in the rollout records after ``after``, and the
    position of the newest one (None when there was nothing new)."""
    ts_after, ord_after = _position(after)

    def seen(rec: dict[str, Any]) -> bool:
        if ts_after is None and ord_after is None:
            return False
        return _is_before(rec, ts_after, ord_after)

    newer = records_after(path, seen)
    out: Counter[tuple[str, str]] = Counter()
    calls: dict[str, tuple[str, str | None]] = {}  # call_id -> (tool, document read)
    newest: str | None = None
    for rec in newer:
        ts = rec.get("timestamp")
        if isinstance(ts, str):
            ordinal = rec.get("ordinal")
            newest = f"{ts}#{ordinal}" if isinstance(ordinal, int) else ts
        payload = rec.get("payload")
        if not isinstance(payload, dict):
            continue
        if rec.get("type") == "session_meta":
            # Codex 0.171 sends these as the first developer message of every request and writes
            # them only here (counted once per context by record_turn); the tools it sends
            # (~11k characters) are in no local record at all, so they go uncounted
            # (docs/codex.md).
            base = payload.get("base_instructions")
            text = base.get("text") if isinstance(base, dict) else None
            if isinstance(text, str) and text:
                out[SYSTEM] = len(text)
            continue
        if rec.get("type") == "compacted":
            after_compaction(out)
            out[("orchestration", "compaction summary")] += len(str(payload.get("message", "")))
            continue
        if rec.get("type") != "response_item":
            continue
        _item(payload, calls, out)
    return out, newest


def _item(
    item: dict[str, Any], calls: dict[str, tuple[str, str | None]], out: Counter[tuple[str, str]]
) -> None:
    kind = item.get("type")
    if kind == "message":
        text = _text(item.get("content"))
        role = item.get("role")
        if role == "assistant":
            out[("orchestration", "agent")] += len(text)
        elif role == "developer":
            out[("orchestration", "instructions and hook context")] += len(text)
        elif text.startswith("<subagent_notification>"):
            out[("subagent_summaries", "subagent notification")] += len(text)
        elif text.startswith("<environment_context>"):
            out[("orchestration", "environment")] += len(text)
        elif text.startswith(("# AGENTS.md instructions", "<user_instructions>")):
            out[("specs", "AGENTS.md")] += len(text)
        else:
            out[("user", "prompt")] += len(text)
    elif kind == "reasoning":
        out[("orchestration", "reasoning")] += len(_text(item.get("summary")))
    elif kind in CODEX_CALLS:
        name = str(item.get("name") or kind)
        args = item.get("arguments") if "arguments" in item else item.get("input")
        calls[str(item.get("call_id"))] = (name, _read_doc(args))
        out[("orchestration", "agent")] += len(name) + len(
            args if isinstance(args, str) else json.dumps(args or "")
        )
    elif kind in _OUTPUTS:
        name, doc = calls.get(str(item.get("call_id")), ("tool", None))
        raw = item.get("output") if kind != "tool_search_output" else item.get("tools")
        size = len(raw if isinstance(raw, str) else json.dumps(raw or ""))
        if name in SUBAGENT_RESULTS:
            out[("subagent_summaries", name)] += size
        elif doc is not None:
            out[("specs", f"Read {doc.rsplit('/', 1)[-1]}"[:80])] += size
        else:
            out[("orchestration", name[:80])] += size
