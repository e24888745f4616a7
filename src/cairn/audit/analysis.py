"""What the audit accumulates for one transcript file, whatever agent wrote it.

The format readers (:mod:`.claude`, :mod:`.codex`) turn records into calls on
:class:`SessionAnalyzer`: a new model turn, a context-size reading, content that entered the context
(with a category), a checkpoint write, a compaction. Everything kept is bounded: the timeline is
down-sampled as it grows, malformed lines and the largest items are capped lists, pending tool calls
are a capped map.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass
from typing import Any

from cairn.audit.estimate import Estimator

CATEGORIES = (
    "user_text",
    "file_reads",
    "command_output",
    "edits",
    "subagent_results",
    "other_tools",
    "assistant",
    "compaction_summaries",
    "injected",
)
CATEGORY_LABELS = {
    "user_text": "user text",
    "file_reads": "file reads",
    "command_output": "command output",
    "edits": "edits",
    "subagent_results": "subagent results",
    "other_tools": "other tool results",
    "assistant": "assistant text + tool calls",
    "compaction_summaries": "compaction summaries",
    "injected": "injected (meta, instructions)",
}

MAX_MALFORMED = 50
MAX_TOP_ITEMS = 10
MAX_PENDING = 20_000
MAX_VERSIONS = 20
TAIL_UUIDS = 32  # the last record ids of a file, to find the file a continuation follows

# A cairn checkpoint written through the CLI: `cairn [opts] checkpoint write`, `cairn progress`,
# `cairn phase done`, also via `python -m cairn`.
_CAIRN_CMD = re.compile(
    r"\bcairn\b[^|;&\n]*?\b(checkpoint\s+write|progress|phase\s+done)\b", re.IGNORECASE
)
_CAIRN_TOOL_READS = ("read", "list", "show", "history", "get", "template")
_PHASE_END = ("done", "finish", "complete")
_ARTIFACT_PATH = re.compile(r"(?:^|[/\\\s>'\"])artifacts[/\\]")


def is_cairn_checkpoint_tool(name: str) -> bool:
    """An MCP tool of cairn's that saves work: a checkpoint write, a progress step, a phase done."""
    low = name.lower()
    if "cairn" not in low:
        return False
    tail = low.rsplit("cairn", 1)[-1]
    if any(w in tail for w in _CAIRN_TOOL_READS):
        return False
    if "checkpoint" in tail or "progress" in tail:
        return True
    return "phase" in tail and any(w in tail for w in _PHASE_END)


def cairn_command(command: str) -> str | None:
    """The cairn sub-command a shell command runs that writes a checkpoint, if any."""
    m = _CAIRN_CMD.search(command)
    return re.sub(r"\s+", " ", m.group(1).lower()) if m else None


def is_artifact_path(path: str) -> bool:
    return bool(_ARTIFACT_PATH.search(path))


def shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Compaction:
    # compact | microcompact | compact_summary | codex_compacted | codex_context_compacted
    kind: str
    sources: list[str]
    line: int
    ts: str | None
    turn: int
    trigger: str | None = None
    pre_tokens: int | None = None
    pre_tokens_from: str | None = None  # "metadata" | "last_usage"
    post_tokens: int | None = None
    tokens_saved: int | None = None
    safe: bool = False
    checkpoint: dict[str, Any] | None = None
    turns_since_checkpoint: int | None = None
    link: str | None = None  # the record it continues (logicalParentUuid), maybe in another file

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "sources": list(self.sources),
            "line": self.line,
            "ts": self.ts,
            "turn": self.turn,
            "trigger": self.trigger,
            "pre_tokens": self.pre_tokens,
            "pre_tokens_from": self.pre_tokens_from,
            "post_tokens": self.post_tokens,
            "tokens_saved": self.tokens_saved,
            "placement": "safe" if self.safe else "mid_phase",
            "checkpoint": self.checkpoint,
            "turns_since_checkpoint": self.turns_since_checkpoint,
        }


@dataclass
class SubagentStat:
    agent_id: str
    source: str  # "file" | "sidechain" | "result" (known only from the parent's tool result)
    path: str | None = None
    turns: int = 0
    spend_tokens: int = 0
    peak_context: int = 0
    returned_tokens: int | None = None
    returned_from: str | None = None  # "tool_result" | "final_message"
    reported_total_tokens: int | None = None
    tool_uses: int | None = None
    compactions: int = 0
    description: str | None = None
    agent_type: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "source": self.source,
            "path": self.path,
            "description": self.description,
            "agent_type": self.agent_type,
            "turns": self.turns,
            "spend_tokens": self.spend_tokens,
            "peak_context": self.peak_context,
            "returned_tokens": self.returned_tokens,
            "returned_from": self.returned_from,
            "reported_total_tokens": self.reported_total_tokens,
            "tool_uses": self.tool_uses,
            "compactions": self.compactions,
        }


class Timeline:
    """Context readings, down-sampled by turn as they arrive: at most ``cap`` points, peaks kept."""

    def __init__(self, cap: int) -> None:
        self.cap = max(cap, 2)
        self.width = 1
        self.points: list[tuple[int, int, str | None, int]] = []  # (turn, line, ts, context)
        self.total = 0

    def add(self, turn: int, line: int, ts: str | None, context: int) -> None:
        self.total += 1
        p = (turn, line, ts, context)
        pts = self.points
        if pts and pts[-1][0] // self.width == turn // self.width:
            if context >= pts[-1][3]:
                pts[-1] = p
            return
        pts.append(p)
        if len(pts) > self.cap:
            self.width *= 2
            merged: list[tuple[int, int, str | None, int]] = []
            for q in pts:
                if merged and merged[-1][0] // self.width == q[0] // self.width:
                    if q[3] >= merged[-1][3]:
                        merged[-1] = q
                else:
                    merged.append(q)
            self.points = merged


@dataclass
class PendingCall:
    name: str
    category: str
    label: str
    is_subagent: bool = False
    agent_type: str | None = None


class SessionAnalyzer:
    """Accumulates one transcript (a main session, a subagent file, or an inline sidechain)."""

    def __init__(
        self,
        path: str,
        estimator: Estimator,
        *,
        window: int = 5,
        max_points: int = 2000,
        is_subagent: bool = False,
    ) -> None:
        self.path = path
        self.est = estimator
        self.window = window
        self.format: str | None = None
        self.session_id: str | None = None
        self.agent_id: str | None = None
        self.parent_session_id: str | None = None
        self.is_subagent = is_subagent
        self.versions: list[str] = []
        self.models: list[str] = []
        self.context_window: int | None = None
        self.lines = 0
        self.records = 0
        self.ignored: Counter[str] = Counter()
        self.unknown: Counter[str] = Counter()
        self.malformed: list[dict[str, Any]] = []
        self.malformed_count = 0
        self.turn = 0
        self.timeline = Timeline(max_points)
        self.last_context: int | None = None
        self.peak_context = 0
        self.peak_turn = 0
        self.compactions: list[Compaction] = []
        self.categories: dict[str, list[int]] = {c: [0, 0] for c in CATEGORIES}
        self._top: list[tuple[int, int, str, str]] = []  # min-heap (tokens, line, category, label)
        self.checkpoint_writes = 0
        self.last_checkpoint: dict[str, Any] | None = None
        self.spend = {"input": 0, "cache_creation": 0, "cache_read": 0, "output": 0}
        self.pending: OrderedDict[str, PendingCall] = OrderedDict()
        self.subagents: dict[str, SubagentStat] = {}
        self.subagent_calls = 0
        self.last_assistant_text_tokens: int | None = None
        self.tail_uuids: deque[str] = deque(maxlen=TAIL_UUIDS)

    # -- bookkeeping ---------------------------------------------------------------------------
    def note_version(self, version: Any) -> None:
        ok = isinstance(version, str) and version and version not in self.versions
        if ok and len(self.versions) < MAX_VERSIONS:
            self.versions.append(version)

    def note_model(self, model: Any) -> None:
        ok = isinstance(model, str) and model and model not in self.models
        if ok and len(self.models) < MAX_VERSIONS:
            self.models.append(model)

    def bad_line(self, line: int, error: str) -> None:
        self.malformed_count += 1
        if len(self.malformed) < MAX_MALFORMED:
            self.malformed.append({"line": line, "error": error})

    def begin_turn(self) -> None:
        self.turn += 1

    def context_point(self, context: int, line: int, ts: str | None) -> None:
        if context < 0:
            return
        self.last_context = context
        if context > self.peak_context:
            self.peak_context = context
            self.peak_turn = self.turn
        self.timeline.add(self.turn, line, ts, context)

    def add(self, category: str, tokens: int, line: int, label: str = "") -> None:
        if tokens <= 0:
            return
        slot = self.categories[category]
        slot[0] += tokens
        slot[1] += 1
        item = (tokens, line, category, label)
        if len(self._top) < MAX_TOP_ITEMS:
            heapq.heappush(self._top, item)
        elif tokens > self._top[0][0]:
            heapq.heapreplace(self._top, item)

    def add_text(self, category: str, text: str, line: int, label: str = "") -> int:
        n = self.est(text)
        self.add(category, n, line, label)
        return n

    def remember_call(self, call_id: Any, pending: PendingCall) -> None:
        if not isinstance(call_id, str):
            return
        self.pending[call_id] = pending
        if len(self.pending) > MAX_PENDING:
            self.pending.popitem(last=False)

    def take_call(self, call_id: Any) -> PendingCall | None:
        if not isinstance(call_id, str):
            return None
        return self.pending.pop(call_id, None)

    def checkpoint(self, line: int, what: str) -> None:
        self.checkpoint_writes += 1
        self.last_checkpoint = {"line": line, "turn": self.turn, "what": shorten(what, 120)}

    def compaction(
        self,
        kind: str,
        line: int,
        ts: str | None,
        *,
        source: str,
        trigger: Any = None,
        pre_tokens: Any = None,
        post_tokens: Any = None,
        tokens_saved: Any = None,
    ) -> Compaction:
        pre = _int_or_none(pre_tokens)
        pre_from = "metadata" if pre is not None else None
        if pre is None and self.last_context is not None:
            pre, pre_from = self.last_context, "last_usage"
        c = Compaction(
            kind=kind,
            sources=[source],
            line=line,
            ts=ts,
            turn=self.turn,
            trigger=trigger if isinstance(trigger, str) else None,
            pre_tokens=pre,
            pre_tokens_from=pre_from,
            post_tokens=_int_or_none(post_tokens),
            tokens_saved=_int_or_none(tokens_saved),
        )
        cp = self.last_checkpoint
        if cp is not None:
            c.checkpoint = dict(cp)
            c.turns_since_checkpoint = self.turn - int(cp["turn"])
            c.safe = c.turns_since_checkpoint <= self.window
        self.compactions.append(c)
        return c

    def continues(self, c: Compaction, parent: SessionAnalyzer) -> None:
        """``c`` opens this file and follows ``parent``'s last records (a new session file after an
        auto-compaction): judge it by the checkpoints written at the end of ``parent``."""
        cp = parent.last_checkpoint
        if c.pre_tokens is None and parent.last_context is not None:
            c.pre_tokens, c.pre_tokens_from = parent.last_context, "last_usage"
        if cp is None:
            return
        name = parent.path.rsplit("/", 1)[-1]
        c.checkpoint = dict(cp, what=f"{cp['what']} (in {name})")
        c.turns_since_checkpoint = parent.turn - int(cp["turn"]) + c.turn
        c.safe = c.turns_since_checkpoint <= self.window

    # -- results -------------------------------------------------------------------------------
    @property
    def spend_total(self) -> int:
        return sum(self.spend.values())

    def top_items(self) -> list[dict[str, Any]]:
        return [
            {"tokens": t, "line": ln, "category": cat, "label": label}
            for t, ln, cat, label in sorted(self._top, reverse=True)
        ]

    def as_subagent(self, agent_id: str, source: str) -> SubagentStat:
        return SubagentStat(
            agent_id=agent_id,
            source=source,
            path=self.path if source == "file" else None,
            turns=self.turn,
            spend_tokens=self.spend_total,
            peak_context=self.peak_context,
            returned_tokens=self.last_assistant_text_tokens,
            returned_from="final_message" if self.last_assistant_text_tokens is not None else None,
            compactions=len(self.compactions),
        )

    def merge_subagent(self, stat: SubagentStat) -> None:
        """Add what a subagent file or sidechain says to what the parent's tool result said."""
        have = self.subagents.get(stat.agent_id)
        if have is None:
            self.subagents[stat.agent_id] = stat
            return
        have.source = stat.source
        have.path = stat.path or have.path
        have.turns = stat.turns
        have.spend_tokens = stat.spend_tokens
        have.peak_context = stat.peak_context
        have.compactions = stat.compactions
        have.agent_type = have.agent_type or stat.agent_type
        have.description = have.description or stat.description
        if have.returned_tokens is None:
            have.returned_tokens = stat.returned_tokens
            have.returned_from = stat.returned_from

    def to_json(self) -> dict[str, Any]:
        total_ctx = sum(v[0] for v in self.categories.values())
        subs = sorted(self.subagents.values(), key=lambda s: -s.spend_tokens)
        safe = sum(1 for c in self.compactions if c.safe)
        return {
            "path": self.path,
            "format": self.format,
            "session_id": self.session_id,
            "is_subagent": self.is_subagent,
            "agent_id": self.agent_id,
            "versions": list(self.versions),
            "models": list(self.models),
            "context_window": self.context_window,
            "lines": self.lines,
            "records": self.records,
            "malformed_count": self.malformed_count,
            "malformed": list(self.malformed),
            "ignored": dict(sorted(self.ignored.items())),
            "unknown": dict(sorted(self.unknown.items())),
            "unknown_count": sum(self.unknown.values()),
            "turns": self.turn,
            "peak_context": self.peak_context,
            "peak_turn": self.peak_turn,
            "final_context": self.last_context,
            "timeline": [
                {"turn": t, "line": ln, "ts": ts, "context": c}
                for t, ln, ts, c in self.timeline.points
            ],
            "timeline_points_total": self.timeline.total,
            "timeline_bucket_turns": self.timeline.width,
            "compactions": [c.to_json() for c in self.compactions],
            "compaction_counts": {
                "total": len(self.compactions),
                "safe": safe,
                "mid_phase": len(self.compactions) - safe,
            },
            "checkpoint_writes": self.checkpoint_writes,
            "context_by_category": {
                c: {
                    "tokens": v[0],
                    "items": v[1],
                    "share": round(v[0] / total_ctx, 4) if total_ctx else 0.0,
                }
                for c, v in self.categories.items()
            },
            "largest_items": self.top_items(),
            "spend": dict(self.spend, total=self.spend_total),
            "subagents": {
                "count": len(subs),
                "calls": self.subagent_calls,
                "spend_tokens": sum(s.spend_tokens for s in subs),
                "returned_tokens": sum(s.returned_tokens or 0 for s in subs),
                "agents": [s.to_json() for s in subs],
            },
        }


def _int_or_none(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v == v:
        return int(v)
    return None


def as_dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def as_str(v: Any) -> str:
    return v if isinstance(v, str) else ""


__all__ = [
    "CATEGORIES",
    "CATEGORY_LABELS",
    "Compaction",
    "PendingCall",
    "SessionAnalyzer",
    "SubagentStat",
    "Timeline",
    "as_dict",
    "as_str",
    "cairn_command",
    "is_artifact_path",
    "is_cairn_checkpoint_tool",
]
