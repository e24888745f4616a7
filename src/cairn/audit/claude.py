"""Claude Code session transcripts: ``~/.claude/projects/<project>/<session>.jsonl``.

Records handled (older and newer versions):

- ``assistant``: ``message.usage`` (input_tokens, cache_creation_input_tokens,
  cache_read_input_tokens, output_tokens). One API response is written as one line per content block,
  all with the same ``message.id``, so a turn is a distinct message id.
- ``user``: text, ``tool_result`` blocks (with the client-side ``toolUseResult``: ``agentId``,
  ``totalTokens``, ``totalToolUseCount`` for Task/Agent), ``isMeta`` injections and the
  ``isCompactSummary`` message that follows a compaction.
- ``system`` with ``subtype`` ``compact_boundary`` (``compactMetadata``: trigger, preTokens,
  postTokens) and ``microcompact_boundary`` (``microcompactMetadata``: trigger, preTokens,
  tokensSaved). Versions before compact_boundary only left the ``isCompactSummary`` message.
- Subagents: ``<session>/subagents/agent-*.jsonl`` (2.1), ``agent-*.jsonl`` next to the session
  (2.0), or ``isSidechain`` records inline in the session file (1.x).
- Ignored but known: ``summary`` (titles), ``progress``, ``file-history-snapshot``,
  ``queue-operation`` and the like. Anything else is counted as unknown.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from cairn.audit.analysis import (
    PendingCall,
    SessionAnalyzer,
    as_dict,
    as_str,
    cairn_command,
    is_artifact_path,
    is_cairn_checkpoint_tool,
    shorten,
)
from cairn.audit.estimate import IMAGE_TOKENS
from cairn.integrations.transcripts import (
    CLAUDE_IGNORED,
    claude_usage,
    first_text,
    summary_of,
)
from cairn.integrations.transcripts import looks_like_claude as looks_like_claude

KNOWN_IGNORED = CLAUDE_IGNORED
READ_TOOLS = frozenset({"Read", "NotebookRead"})
CMD_TOOLS = frozenset({"Bash", "BashOutput", "KillShell", "KillBash"})
EDIT_TOOLS = frozenset({"Edit", "Write", "MultiEdit", "NotebookEdit"})
SUBAGENT_TOOLS = frozenset({"Task", "Agent"})
_INJECTED_PREFIXES = ("<command-", "<local-command", "<system-reminder>", "Caveat:")
_SUMMARY_AFTER_BOUNDARY = 10  # lines within which an isCompactSummary belongs to a boundary


def prompt_key(text: str) -> str:
    return hashlib.blake2b(
        text.strip().encode("utf-8", "surrogatepass"), digest_size=12
    ).hexdigest()


def _strings(value: Any, depth: int = 0) -> list[str]:
    if isinstance(value, str):
        return [value]
    if depth > 3:
        return []
    out: list[str] = []
    if isinstance(value, dict):
        for v in value.values():
            out.extend(_strings(v, depth + 1))
    elif isinstance(value, list):
        for v in value:
            out.extend(_strings(v, depth + 1))
    return out


class ClaudeReader:
    """Feeds one Claude Code transcript's records into a :class:`SessionAnalyzer`."""

    def __init__(
        self,
        analyzer: SessionAnalyzer,
        new_sidechain: Callable[[str], SessionAnalyzer] | None = None,
    ) -> None:
        self.an = analyzer
        self.an.format = "claude"
        self._new_sidechain = new_sidechain
        self._mid: str | None = None
        self._mid_output = 0
        self._last_boundary_line: int | None = None
        self._task_prompts: dict[str, str] = {}
        self._sidechains: dict[str, tuple[SessionAnalyzer, ClaudeReader]] = {}
        self._current_side: str | None = None
        self._side_seq = 0

    # -- entry ---------------------------------------------------------------------------------
    def handle(self, rec: dict[str, Any], line: int) -> None:
        an = self.an
        if rec.get("isSidechain") is True and not an.is_subagent and self._new_sidechain:
            self._sidechain(rec, line)
            return
        t = rec.get("type")
        if an.session_id is None and isinstance(rec.get("sessionId"), str):
            an.session_id = rec["sessionId"]
        if an.is_subagent and an.agent_id is None and isinstance(rec.get("agentId"), str):
            an.agent_id = rec["agentId"]
        an.note_version(rec.get("version"))
        if isinstance(rec.get("uuid"), str):
            an.tail_uuids.append(rec["uuid"])
        ts = rec.get("timestamp") if isinstance(rec.get("timestamp"), str) else None
        if t == "assistant":
            self._assistant(rec, line, ts)
        elif t == "user":
            self._user(rec, line, ts)
        elif t == "system":
            self._system(rec, line, ts)
        elif isinstance(t, str) and t in KNOWN_IGNORED:
            an.ignored[t] += 1
        else:
            an.unknown[t if isinstance(t, str) else "<no type>"] += 1

    def finish(self) -> None:
        self._flush_output()
        for key, (side, reader) in self._sidechains.items():
            reader.finish()
            self.an.merge_subagent(side.as_subagent(key, "sidechain"))

    # -- records -------------------------------------------------------------------------------
    def _flush_output(self) -> None:
        self.an.spend["output"] += self._mid_output
        self._mid_output = 0

    def _assistant(self, rec: dict[str, Any], line: int, ts: str | None) -> None:
        an = self.an
        msg = rec.get("message")
        if not isinstance(msg, dict):
            an.ignored["assistant:no message"] += 1
            return
        mid = msg.get("id") or rec.get("requestId") or rec.get("uuid") or f"line{line}"
        usage = claude_usage(msg.get("usage"))
        synthetic = msg.get("model") == "<synthetic>"  # written by Claude Code, not a model call
        if synthetic:
            an.ignored["assistant:synthetic"] += 1
        else:
            an.note_model(msg.get("model"))
        if mid != self._mid and not synthetic:
            self._flush_output()
            self._mid = str(mid)
            an.begin_turn()
            an.spend["input"] += usage.input
            an.spend["cache_creation"] += usage.cache_creation
            an.spend["cache_read"] += usage.cache_read
            if usage.context > 0:
                an.context_point(usage.context, line, ts)
            an.last_assistant_text_tokens = None
        self._mid_output = max(self._mid_output, usage.output)
        content = msg.get("content")
        if isinstance(content, str):
            an.last_assistant_text_tokens = an.add_text(
                "assistant", content, line, "assistant text"
            )
            return
        if not isinstance(content, list):
            return
        for block in content:
            if not isinstance(block, dict):
                continue
            bt = block.get("type")
            if bt == "text" and isinstance(block.get("text"), str):
                n = an.add_text("assistant", block["text"], line, "assistant text")
                an.last_assistant_text_tokens = (an.last_assistant_text_tokens or 0) + n
            elif bt == "thinking" and isinstance(block.get("thinking"), str):
                an.add_text("assistant", block["thinking"], line, "thinking")
            elif bt == "tool_use":
                self._tool_use(block, line)

    def _tool_use(self, block: dict[str, Any], line: int) -> None:
        an = self.an
        name = as_str(block.get("name")) or "?"
        inp = as_dict(block.get("input"))
        path = as_str(inp.get("file_path") or inp.get("notebook_path") or inp.get("path"))
        command = as_str(inp.get("command"))
        if name in READ_TOOLS:
            cat, label = "file_reads", f"Read {path}"
        elif name in CMD_TOOLS:
            cat, label = "command_output", f"$ {command}" if command else name
        elif name in EDIT_TOOLS:
            cat, label = "edits", f"{name} {path}"
        elif name in SUBAGENT_TOOLS:
            desc = inp.get("description") or inp.get("subagent_type") or ""
            cat, label = "subagent_results", f"{name} {desc}".strip()
        else:
            cat, label = "other_tools", name
        label = shorten(label)
        text = "".join(_strings(inp))
        an.add_text("edits" if cat == "edits" else "assistant", text, line, f"{label} (call)")
        agent_type = as_str(inp.get("subagent_type")) or None
        an.remember_call(
            block.get("id"), PendingCall(name, cat, label, name in SUBAGENT_TOOLS, agent_type)
        )
        if name in SUBAGENT_TOOLS:
            an.subagent_calls += 1
            prompt = inp.get("prompt")
            if isinstance(prompt, str) and isinstance(block.get("id"), str):
                self._task_prompts[prompt_key(prompt)] = str(block["id"])
                if len(self._task_prompts) > 10_000:
                    self._task_prompts.pop(next(iter(self._task_prompts)))
        # a checkpoint written at this turn?
        if is_cairn_checkpoint_tool(name):
            an.checkpoint(line, f"tool {name}")
        elif name in CMD_TOOLS and command and (sub := cairn_command(command)):
            an.checkpoint(line, f"cairn {sub}")
        elif name in EDIT_TOOLS and path and is_artifact_path(path):
            an.checkpoint(line, f"{name} {path}")

    def _user(self, rec: dict[str, Any], line: int, ts: str | None) -> None:
        an = self.an
        msg = rec.get("message")
        content = msg.get("content") if isinstance(msg, dict) else None
        summary = summary_of(rec)
        if summary is not None:
            an.add_text("compaction_summaries", summary, line, "summary")
            near = self._last_boundary_line
            if near is None or line - near > _SUMMARY_AFTER_BOUNDARY:
                c = an.compaction("compact_summary", line, ts, source="isCompactSummary")
                c.link = _link(rec)
            return
        injected = rec.get("isMeta") is True
        if isinstance(content, str):
            self._user_text(content, injected, line)
            return
        if not isinstance(content, list):
            return
        tur = rec.get("toolUseResult")
        for block in content:
            if not isinstance(block, dict):
                continue
            bt = block.get("type")
            if bt == "tool_result":
                self._tool_result(block, tur if isinstance(tur, dict) else None, line)
            elif bt == "text" and isinstance(block.get("text"), str):
                self._user_text(block["text"], injected, line)
            elif bt == "image":
                an.add("user_text", IMAGE_TOKENS, line, "image")

    def _user_text(self, text: str, injected: bool, line: int) -> None:
        if injected or text.lstrip().startswith(_INJECTED_PREFIXES):
            self.an.add_text("injected", text, line, shorten(text, 60))
        else:
            self.an.add_text("user_text", text, line, shorten(text, 60))

    def _tool_result(self, block: dict[str, Any], tur: dict[str, Any] | None, line: int) -> None:
        an = self.an
        call_id = block.get("tool_use_id")
        pending = an.take_call(call_id)
        cat = pending.category if pending else "other_tools"
        label = pending.label if pending else "tool result"
        body = block.get("content")
        n = 0
        if isinstance(body, str):
            n = an.est(body)
        elif isinstance(body, list):
            for b in body:
                if not isinstance(b, dict):
                    continue
                if isinstance(b.get("text"), str):
                    n += an.est(b["text"])
                elif b.get("type") == "image":
                    n += IMAGE_TOKENS
        an.add(cat, n, line, label)
        if pending is not None and pending.is_subagent:
            self._subagent_result(str(call_id), tur, n, label, pending.agent_type)

    def _subagent_result(
        self,
        call_id: str,
        tur: dict[str, Any] | None,
        returned: int,
        label: str,
        agent_type: str | None,
    ) -> None:
        from cairn.audit.analysis import SubagentStat

        an = self.an
        agent_id = None
        if tur is not None and isinstance(tur.get("agentId"), str):
            agent_id = tur["agentId"]
        key = agent_id or f"task:{call_id}"
        stat = an.subagents.get(key)
        if stat is None:
            # a sidechain linked by prompt may already be keyed task:<id>
            stat = an.subagents.pop(f"task:{call_id}", None)
            if stat is not None:
                stat.agent_id = key
            else:
                stat = SubagentStat(agent_id=key, source="result")
            an.subagents[key] = stat
        stat.returned_tokens = returned
        stat.returned_from = "tool_result"
        stat.description = label
        if tur is not None and isinstance(tur.get("agentType"), str):
            agent_type = tur["agentType"]
        stat.agent_type = stat.agent_type or agent_type
        if tur is not None:
            total = tur.get("totalTokens")
            if isinstance(total, int):
                stat.reported_total_tokens = total
            uses = tur.get("totalToolUseCount")
            if isinstance(uses, int):
                stat.tool_uses = uses

    def _system(self, rec: dict[str, Any], line: int, ts: str | None) -> None:
        an = self.an
        sub = rec.get("subtype")
        if sub == "compact_boundary":
            meta = rec.get("compactMetadata")
            meta = meta if isinstance(meta, dict) else {}
            c = an.compaction(
                "compact",
                line,
                ts,
                source="compact_boundary",
                trigger=meta.get("trigger"),
                pre_tokens=meta.get("preTokens"),
                post_tokens=meta.get("postTokens"),
            )
            c.link = _link(rec)
            self._last_boundary_line = line
        elif sub == "microcompact_boundary":
            meta = rec.get("microcompactMetadata")
            meta = meta if isinstance(meta, dict) else {}
            an.compaction(
                "microcompact",
                line,
                ts,
                source="microcompact_boundary",
                trigger=meta.get("trigger"),
                pre_tokens=meta.get("preTokens"),
                tokens_saved=meta.get("tokensSaved"),
            )
        else:
            an.ignored[f"system:{sub}" if isinstance(sub, str) else "system"] += 1

    # -- inline sidechains (1.x) ---------------------------------------------------------------
    def _sidechain(self, rec: dict[str, Any], line: int) -> None:
        assert self._new_sidechain is not None
        key: str | None = rec.get("agentId") if isinstance(rec.get("agentId"), str) else None
        if key is None:
            if rec.get("parentUuid") is None or self._current_side is None:
                msg = rec.get("message")
                text = first_text(msg.get("content") if isinstance(msg, dict) else None)
                linked = self._task_prompts.get(prompt_key(text)) if text else None
                if linked is not None:
                    key = f"task:{linked}"
                else:
                    self._side_seq += 1
                    key = f"sidechain-{self._side_seq}"
                self._current_side = key
            else:
                key = self._current_side
        entry = self._sidechains.get(key)
        if entry is None:
            side = self._new_sidechain(key)
            side.agent_id = key
            entry = (side, ClaudeReader(side))
            self._sidechains[key] = entry
        side, reader = entry
        side.records += 1
        reader.handle(rec, line)


def _link(rec: dict[str, Any]) -> str | None:
    for key in ("logicalParentUuid", "parentUuid"):
        if isinstance(rec.get(key), str):
            return str(rec[key])
    return None
