"""The one reader of agent transcripts: Claude Code sessions and Codex CLI rollouts (JSONL).

Used by the hooks, which read a transcript backwards from its end (tool calls since a point, the
newest usage, the newest compaction summary: :func:`read_tail`), and by the audit, which streams a
whole file forwards (:class:`Records`) and asks this module what each record says (its format, its
usage, its compaction summary). What a record *means* for the audit's report stays in
``cairn.audit``; how records are read and told apart lives here only.

Claude Code records: ``{"type": "assistant" | "user" | "system" | ..., "timestamp", "message":
{"content": [blocks], "usage"}}``; tool calls are ``tool_use`` blocks of assistant messages.
Codex rollouts: ``{"timestamp", "type": "session_meta" | "response_item" | "event_msg" | ...,
"payload"}``; tool calls are ``function_call`` / ``custom_tool_call`` / ``local_shell_call`` /
``tool_search_call`` (Codex's search for deferred tools such as MCP servers') response items, usage is an ``event_msg`` ``token_count``. Imported by the hooks at start-up, so
only the standard library is imported here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

TRANSCRIPT_SCAN_BYTES = 64 * 1024 * 1024
# A summary or a usage record is written at the very end of a transcript; looking further back for
# one that is not there would only cost time.
TAIL_SCAN_BYTES = 8 * 1024 * 1024
_CHUNK = 1024 * 1024
_PARSE_LIMIT = 1_000_000  # bigger records (a tool result of megabytes) are scanned, not parsed
CODEX_CALLS = frozenset(
    {"function_call", "custom_tool_call", "local_shell_call", "tool_search_call"}
)
# Patterns for records too big to parse, compiled on the first such record (most hooks see none).
_TS_PATTERN = rb'"timestamp"\s*:\s*"([^"]{10,40})"'
_CLAUDE_USE_PATTERN = rb'"type"\s*:\s*"tool_use"'
_CODEX_USE_PATTERN = (
    rb'"type"\s*:\s*"(?:function_call|custom_tool_call|local_shell_call|tool_search_call)"'
)

# Claude Code record types that carry nothing for cairn but are known (not "unknown").
CLAUDE_IGNORED = frozenset(
    {
        "summary",
        "progress",
        "file-history-snapshot",
        "queue-operation",
        "pr-link",
        "custom-title",
        "attachment",
        "tag",
        "agent-name",
        "last-prompt",
    }
)
# Codex rollout records that carry nothing for cairn but are known (Codex 0.171: the thread's state
# snapshot and a per-response usage record that duplicates event_msg token_count).
CODEX_IGNORED = frozenset({"world_state", "token_usage_record"})
CODEX_ENVELOPES = frozenset(
    {"session_meta", "response_item", "event_msg", "turn_context", "compacted"}
)
CODEX_ITEMS = frozenset(
    {
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
        "custom_tool_call",
        "custom_tool_call_output",
        "local_shell_call",
        "web_search_call",
        "ghost_snapshot",
        "compaction",
        "compaction_summary",
        "tool_search_call",
        "tool_search_output",
        "image_generation_call",
        "other",
    }
)


def parse_ts(value: object) -> datetime | None:
    """An ISO 8601 timestamp (``Z`` or an offset; naive means UTC), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def transcript_file(path: object) -> str | None:
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


def client_file(path: object, roots: tuple[str, ...]) -> str | None:
    """:func:`transcript_file`, and only when the file, links resolved, lies under one of
    ``roots`` (the workspace, the client's own home): a path from a hook's input is never read
    through a link that leads elsewhere."""
    found = transcript_file(path)
    if found is None:
        return None
    real = os.path.realpath(found)
    for root in roots:
        base = os.path.realpath(root)
        if real == base or real.startswith(base.rstrip(os.sep) + os.sep):
            return found
    return None


# -- formats -------------------------------------------------------------------------------------
def looks_like_claude(rec: dict[str, Any]) -> bool:
    t = rec.get("type")
    if t in ("user", "assistant", "system") and ("sessionId" in rec or "uuid" in rec):
        return True
    return t in CLAUDE_IGNORED and "payload" not in rec


def looks_like_codex(rec: dict[str, Any]) -> bool:
    if rec.get("type") in CODEX_ENVELOPES and "payload" in rec:
        return True
    if "record_type" in rec:
        return True
    if "type" not in rec and "id" in rec and ("instructions" in rec or "git" in rec):
        return True
    return rec.get("type") in CODEX_ITEMS and ("role" in rec or "call_id" in rec)


def detect(rec: dict[str, Any]) -> str | None:
    """``"codex"``, ``"claude"`` or None when one record does not tell."""
    if looks_like_codex(rec):
        return "codex"
    if looks_like_claude(rec):
        return "claude"
    return None


# -- what a record says --------------------------------------------------------------------------
# NamedTuples rather than frozen dataclasses: a hook process builds these classes at start-up, and
# a NamedTuple class costs a tenth as much to create.
class Usage(NamedTuple):
    """Tokens of one model response (Claude ``message.usage``, Codex ``token_count``)."""

    input: int = 0  # input tokens not read from a cache
    cache_creation: int = 0
    cache_read: int = 0
    output: int = 0
    context: int = 0  # tokens in the context window at that response

    def to_json(self) -> dict[str, int]:
        return {
            "input": self.input,
            "cache_creation": self.cache_creation,
            "cache_read": self.cache_read,
            "output": self.output,
            "context": self.context,
        }


def _num(v: Any) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def claude_usage(usage: object) -> Usage:
    """A Claude ``message.usage`` object (missing fields are 0)."""
    u = usage if isinstance(usage, dict) else {}
    inp, cc = _num(u.get("input_tokens")), _num(u.get("cache_creation_input_tokens"))
    cr = _num(u.get("cache_read_input_tokens"))
    return Usage(inp, cc, cr, _num(u.get("output_tokens")), inp + cc + cr)


def codex_usage(usage: object) -> Usage | None:
    """A Codex usage object (``last_token_usage``, ``total_token_usage`` or the early flat form)."""
    if not isinstance(usage, dict) or not usage:
        return None
    inp, cached = _num(usage.get("input_tokens")), _num(usage.get("cached_input_tokens"))
    out = _num(usage.get("output_tokens"))
    return Usage(inp - cached, 0, cached, out, _num(usage.get("total_tokens")) or inp + out)


class CodexTokens(NamedTuple):
    """A Codex ``token_count`` event: the session's running total and the last response's usage."""

    total: Usage | None
    last: Usage | None
    window: int | None


def codex_tokens(payload: dict[str, Any]) -> CodexTokens | None:
    """None for a rate-limit-only update (``info`` null)."""
    info = payload.get("info")
    if "info" in payload and not isinstance(info, dict):
        return None
    if isinstance(info, dict):
        window = info.get("model_context_window")
        return CodexTokens(
            codex_usage(info.get("total_token_usage")),
            codex_usage(info.get("last_token_usage")),
            window if isinstance(window, int) and window > 0 else None,
        )
    return CodexTokens(None, codex_usage(payload), None)  # early flat form: the last response


def usage_of(rec: dict[str, Any]) -> Usage | None:
    """The usage a record reports, for either agent; None when it reports none."""
    kind = rec.get("type")
    if kind == "assistant":
        msg = rec.get("message")
        if isinstance(msg, dict) and msg.get("model") != "<synthetic>" and msg.get("usage"):
            return claude_usage(msg.get("usage"))
    elif kind == "event_msg":
        payload = rec.get("payload")
        if isinstance(payload, dict) and payload.get("type") == "token_count":
            tokens = codex_tokens(payload)
            return tokens.last if tokens is not None else None
    return None


def first_text(content: Any) -> str:
    """A message's text: the string itself, or its first text block."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        for b in content:
            if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str):
                return str(b["text"])
    return ""


def summary_of(rec: dict[str, Any]) -> str | None:
    """The compaction summary a record holds (Claude ``isCompactSummary``, Codex ``compacted``)."""
    kind = rec.get("type")
    if kind == "user" and rec.get("isCompactSummary") is True:
        msg = rec.get("message")
        content = msg.get("content") if isinstance(msg, dict) else None
        return first_text(content) or str(content)
    if kind == "compacted":
        payload = rec.get("payload")
        message = payload.get("message") if isinstance(payload, dict) else None
        return message if isinstance(message, str) and message else None
    return None


def tool_calls_of(rec: dict[str, Any]) -> int:
    """How many tool calls a record makes (Claude ``tool_use`` blocks, Codex call items)."""
    kind = rec.get("type")
    if kind == "assistant":
        msg = rec.get("message")
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, list):
            return sum(1 for b in content if isinstance(b, dict) and b.get("type") == "tool_use")
    elif kind == "response_item":
        payload = rec.get("payload")
        if isinstance(payload, dict) and payload.get("type") in CODEX_CALLS:
            return 1
    return 0


# -- reading forwards (the audit) ----------------------------------------------------------------
class Records:
    """Every record of a transcript, oldest first: ``(line number, record, error)``.

    One line is held at a time, whatever the file's size. A line that is not a JSON object (a crash
    mid-write leaves a half line) comes with ``record`` None and the reason; blank lines are skipped
    but counted in :attr:`lines`. An unreadable file raises :class:`OSError` from the iteration.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self.lines = 0

    def __iter__(self) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
        from pathlib import Path

        with Path(self.path).open("rb") as f:
            for raw in f:
                self.lines += 1
                if not raw.strip():
                    continue
                try:
                    rec = json.loads(raw)
                except (ValueError, RecursionError) as exc:
                    msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                    yield self.lines, None, msg[:160]
                    continue
                if not isinstance(rec, dict):
                    yield self.lines, None, f"a JSON {type(rec).__name__}, not an object"
                    continue
                yield self.lines, rec, None


# -- reading backwards (the hooks) ---------------------------------------------------------------
class Tail:
    """What the end of a transcript says, newest first, down to the point the scan stopped at."""

    __slots__ = ("exact", "summary", "tool_calls", "usage")

    def __init__(self) -> None:
        self.tool_calls = 0
        self.exact = True  # False: the scan stopped at its byte bound; tool_calls is a lower bound
        self.usage: Usage | None = None  # the newest usage reported
        self.summary: str | None = None  # the newest compaction summary


# A record the backwards scan needs whole has one of these in its bytes (its type, or the
# compaction summary's flag); any other (a tool result, the bulk of a transcript) only gives its
# timestamp, read without parsing it. A false match only costs a parse.
_WANTED = (
    b'"assistant"',
    b'"response_item"',
    b'"token_count"',
    b"isCompactSummary",
    b'"compacted"',
)
_TS_KEYS = (b'"timestamp":"', b'"timestamp": "')  # Claude Code's compact JSON; json.dumps' own


def _scan_line(line: bytes) -> tuple[datetime | None, int, dict[str, Any] | None]:
    """A record's timestamp, its tool calls, and the record itself unless it is huge (or of no
    use to the scan)."""
    if not any(w in line for w in _WANTED):
        for key in _TS_KEYS:
            at = line.rfind(key)  # the last, as for a huge line: nested objects come first
            end = line.find(b'"', at + len(key)) if at >= 0 else -1
            if end > 0:
                return parse_ts(line[at + len(key) : end].decode("ascii", "replace")), 0, None
    if len(line) <= _PARSE_LIMIT:
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError):
            return None, 0, None
        if not isinstance(rec, dict):
            return None, 0, None
        return parse_ts(rec.get("timestamp")), tool_calls_of(rec), rec
    import re  # cached compiled patterns after the first call

    found = re.findall(_TS_PATTERN, line)
    ts = parse_ts(found[-1].decode("ascii", "replace")) if found else None
    if b'"type":"assistant"' in line or b'"type": "assistant"' in line:
        return ts, len(re.findall(_CLAUDE_USE_PATTERN, line)), None
    if b'"response_item"' in line:
        return ts, min(1, len(re.findall(_CODEX_USE_PATTERN, line))), None
    return ts, 0, None


class _Backwards:
    """A file's non-blank lines, newest first, in 1 MiB reads, for at most ``max_bytes``."""

    def __init__(self, f: Any, max_bytes: int) -> None:
        self.f = f
        self.max_bytes = max_bytes
        self.complete = False  # True once the start of the file was reached

    def __iter__(self) -> Iterator[bytes]:
        f = self.f
        f.seek(0, os.SEEK_END)
        pos = f.tell()
        carry = b""
        read = 0
        while pos > 0:
            if read >= self.max_bytes:
                return
            n = min(_CHUNK, pos)
            pos -= n
            f.seek(pos)
            chunk = f.read(n)
            read += n
            lines = (chunk + carry).split(b"\n")
            carry = lines[0] if pos > 0 else b""
            for line in reversed(lines if pos == 0 else lines[1:]):
                if line.strip():
                    yield line
        self.complete = True


def read_tail(
    path: str | os.PathLike[str],
    since: datetime | None = None,
    *,
    summary: bool = False,
    max_bytes: int | None = None,
) -> Tail:
    """Read a transcript backwards from its end.

    With ``since``: down to the first record older than it, counting tool calls (and noting the
    newest usage and, with ``summary``, the newest compaction summary on the way). Without it: only
    until the newest usage (and summary) is found. The cost follows the work since that point, not
    the transcript's size; past ``max_bytes`` (64 MiB with ``since``, else 8 MiB) the scan stops and
    the count is reported as a lower bound (``exact`` False).
    """
    if max_bytes is None:
        max_bytes = TRANSCRIPT_SCAN_BYTES if since is not None else TAIL_SCAN_BYTES
    tail = Tail()
    with open(path, "rb") as f:
        lines = _Backwards(f, max_bytes)
        for line in lines:
            ts, calls, rec = _scan_line(line)
            if since is not None and ts is not None and ts < since:
                return tail
            tail.tool_calls += calls
            if rec is not None:
                if tail.usage is None:
                    tail.usage = usage_of(rec)
                if summary and tail.summary is None:
                    tail.summary = summary_of(rec)
            if since is None and tail.usage is not None and (tail.summary or not summary):
                return tail
        tail.exact = lines.complete
    return tail


def count_tool_calls_since(
    path: str | os.PathLike[str], since: datetime, *, max_bytes: int = TRANSCRIPT_SCAN_BYTES
) -> tuple[int, bool]:
    """Tool calls recorded in a transcript after ``since``: ``(count, exact)``."""
    tail = read_tail(path, since, max_bytes=max_bytes)
    return tail.tool_calls, tail.exact
