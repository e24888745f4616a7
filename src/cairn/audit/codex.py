"""Codex CLI rollouts: ``~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl``.

Each line is ``{"timestamp", "type", "payload"}`` with type:

- ``session_meta``: id, cwd, cli_version, originator, source (a subagent's source names it);
- ``turn_context``: the model in use for the following turn;
- ``response_item``: message (user / assistant / developer), reasoning, function_call,
  function_call_output, custom_tool_call(_output) (apply_patch), local_shell_call, ...;
- ``event_msg``: ``token_count`` (``info.last_token_usage``, ``info.total_token_usage``,
  ``info.model_context_window``; ``info`` is null on rate-limit-only updates; early versions put the
  usage fields straight in the payload), ``context_compacted``, and UI events that repeat the
  response items (user_message, agent_message, agent_reasoning) and are not counted twice;
- ``compacted``: the summary (``message``) that replaced the history.

The earliest rollouts had no envelope: a first line with ``id``/``timestamp``/``instructions`` and
bare response items after it (``{"type": "message", ...}``), plus ``{"record_type": "state"}``.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from cairn.audit.analysis import (
    PendingCall,
    SessionAnalyzer,
    as_str,
    cairn_command,
    is_artifact_path,
    is_cairn_checkpoint_tool,
    shorten,
)
from cairn.audit.estimate import IMAGE_TOKENS
from cairn.integrations.transcripts import (
    CODEX_CALLS,
    CODEX_ENVELOPES,
    CODEX_IGNORED,
    CODEX_ITEMS,
    Usage,
    codex_tokens,
    summary_of,
)
from cairn.integrations.transcripts import looks_like_codex as looks_like_codex

ENVELOPE_TYPES = CODEX_ENVELOPES
RESPONSE_TYPES = CODEX_ITEMS
_ASSISTANT_ITEMS = frozenset(
    {"reasoning", "function_call", "custom_tool_call", "local_shell_call", "web_search_call"}
)
SUBAGENT_TOOLS = frozenset({"spawn_agent", "wait", "send_input"})  # Codex multi-agent tools
SHELL_TOOLS = frozenset({"shell", "container.exec", "exec_command", "shell_command", "local_shell"})
_READ_PROGRAMS = frozenset({"cat", "head", "tail", "nl", "less", "more", "bat", "sed"})
_MERGE_LINES = 5  # a compacted item and a context_compacted event this close are one compaction
_INJECTED_PREFIXES = (
    "<environment_context>",
    "<user_instructions>",
    "# AGENTS.md",
    "<INSTRUCTIONS>",
)


def _command_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        parts = [str(v) for v in value]
        # ["bash", "-lc", "script"] → the script
        if len(parts) >= 3 and parts[1] in ("-lc", "-c"):
            return parts[2]
        return " ".join(shlex.quote(p) for p in parts)
    return ""


def _reads_file(command: str) -> bool:
    head = command.strip().split("|", 1)[0].split("&&", 1)[0].strip()
    try:
        words = shlex.split(head)
    except ValueError:
        words = head.split()
    if not words:
        return False
    prog = words[0].rsplit("/", 1)[-1]
    if prog == "sed":
        return "-n" in words
    return prog in _READ_PROGRAMS


def _patch_paths(patch: str) -> list[str]:
    out = []
    for ln in patch.splitlines():
        for marker in ("*** Add File: ", "*** Update File: ", "*** Delete File: "):
            if ln.startswith(marker):
                out.append(ln[len(marker) :].strip())
    return out


def _content_text(content: Any) -> tuple[str, int]:
    """The text of a message's content list and the tokens of its images."""
    if isinstance(content, str):
        return content, 0
    texts: list[str] = []
    images = 0
    if isinstance(content, list):
        for b in content:
            if not isinstance(b, dict):
                continue
            if isinstance(b.get("text"), str):
                texts.append(b["text"])
            elif str(b.get("type", "")).endswith("image"):
                images += IMAGE_TOKENS
    return "\n".join(texts), images


class CodexReader:
    """Feeds one Codex rollout's records into a :class:`SessionAnalyzer`."""

    def __init__(self, analyzer: SessionAnalyzer) -> None:
        self.an = analyzer
        self.an.format = "codex"
        self._in_assistant = False
        self._last_total: Usage | None = None
        self._last_compaction_line: int | None = None

    def finish(self) -> None:
        return None

    def handle(self, rec: dict[str, Any], line: int) -> None:
        an = self.an
        t = rec.get("type")
        ts = rec.get("timestamp") if isinstance(rec.get("timestamp"), str) else None
        payload = rec.get("payload")
        if t in ENVELOPE_TYPES and isinstance(payload, dict):
            if t == "session_meta":
                self._meta(payload)
            elif t == "turn_context":
                an.note_model(payload.get("model"))
                an.ignored["turn_context"] += 1
            elif t == "response_item":
                self._item(payload, line)
            elif t == "event_msg":
                self._event(payload, line, ts)
            else:  # compacted
                self._compacted(summary_of(rec), line, ts)
            return
        if t in CODEX_IGNORED:
            an.ignored[str(t)] += 1
            return
        # the earliest rollouts: no envelope
        if "record_type" in rec:
            an.ignored[f"record_type:{rec.get('record_type')}"] += 1
        elif t is None and "id" in rec and ("instructions" in rec or "git" in rec):
            self._meta(rec)
        elif isinstance(t, str) and t in RESPONSE_TYPES:
            self._item(rec, line)
        else:
            an.unknown[t if isinstance(t, str) else "<no type>"] += 1

    # -- records -------------------------------------------------------------------------------
    def _meta(self, p: dict[str, Any]) -> None:
        an = self.an
        if an.session_id is None and isinstance(p.get("id"), str):
            an.session_id = p["id"]
        an.note_version(p.get("cli_version"))
        src = p.get("source")
        if isinstance(src, dict) and "subagent" in src:
            an.is_subagent = True
            an.agent_id = an.session_id
            parent = _find_key(src, "parent_thread_id")
            if isinstance(parent, str):
                an.parent_session_id = parent
        an.ignored["session_meta"] += 1

    def _turn_step(self, assistant: bool) -> None:
        if assistant and not self._in_assistant:
            self.an.begin_turn()
        self._in_assistant = assistant

    def _item(self, p: dict[str, Any], line: int) -> None:
        an = self.an
        it = p.get("type")
        if it == "message":
            role = p.get("role")
            text, images = _content_text(p.get("content"))
            if role == "assistant":
                self._turn_step(True)
                an.last_assistant_text_tokens = an.add_text(
                    "assistant", text, line, "assistant text"
                )
            else:
                self._turn_step(False)
                injected = role in ("developer", "system") or text.lstrip().startswith(
                    _INJECTED_PREFIXES
                )
                cat = "injected" if injected else "user_text"
                an.add_text(cat, text, line, shorten(text, 60))
                an.add(cat, images, line, "image")
        elif it == "reasoning":
            self._turn_step(True)
            summary = p.get("summary")
            text, _ = _content_text(summary)
            an.add_text("assistant", text, line, "reasoning summary")
        elif it in CODEX_CALLS:
            self._turn_step(True)
            self._call(p, line)
        elif it in ("function_call_output", "custom_tool_call_output"):
            self._turn_step(False)
            self._output(p, line)
        elif isinstance(it, str) and it in RESPONSE_TYPES:
            if it in _ASSISTANT_ITEMS:
                self._turn_step(True)
            an.ignored[f"response_item:{it}"] += 1
        else:
            an.unknown[f"response_item:{it}"] += 1

    def _call(self, p: dict[str, Any], line: int) -> None:
        an = self.an
        it = p.get("type")
        name = as_str(p.get("name"))
        args: Any = {}
        raw = ""
        if it == "function_call":
            raw = as_str(p.get("arguments"))
            try:
                args = json.loads(raw) if raw else {}
            except ValueError:
                args = {}
        elif it == "custom_tool_call":
            raw = as_str(p.get("input"))
            args = {"input": raw}
        elif it == "tool_search_call":  # Codex looking up deferred (e.g. MCP) tools
            name = "tool_search"
            args = p.get("arguments") if isinstance(p.get("arguments"), dict) else {}
            raw = json.dumps(args)
        else:  # local_shell_call
            name = "local_shell"
            action = p.get("action")
            args = action if isinstance(action, dict) else {}
            raw = json.dumps(args)
        if not isinstance(args, dict):
            args = {}
        command = ""
        if name in SHELL_TOOLS:
            command = _command_text(args.get("command") or args.get("cmd"))
        patch = ""
        if name == "apply_patch":
            patch = as_str(args.get("input")) or raw
        elif command.lstrip().startswith("apply_patch"):
            patch = command
        if patch:
            paths = _patch_paths(patch)
            cat, label = "edits", "apply_patch " + ", ".join(paths[:3])
        elif command:
            cat = "file_reads" if _reads_file(command) else "command_output"
            label = f"$ {command}"
        elif name in SUBAGENT_TOOLS:
            cat, label = "subagent_results", name
            if name == "spawn_agent":
                an.subagent_calls += 1
        else:
            cat, label = "other_tools", name or str(it)
        label = shorten(label)
        an.add_text("edits" if cat == "edits" else "assistant", raw, line, f"{label} (call)")
        an.remember_call(p.get("call_id") or p.get("id"), PendingCall(name, cat, label))
        if name and is_cairn_checkpoint_tool(name):
            an.checkpoint(line, f"tool {name}")
        elif command and (sub := cairn_command(command)):
            an.checkpoint(line, f"cairn {sub}")
        elif patch and any(is_artifact_path(pth) for pth in _patch_paths(patch)):
            an.checkpoint(line, label)
        elif command and is_artifact_path(command) and ">" in command:
            an.checkpoint(line, f"$ {shorten(command, 60)}")

    def _output(self, p: dict[str, Any], line: int) -> None:
        an = self.an
        pending = an.take_call(p.get("call_id"))
        out = p.get("output")
        if isinstance(out, dict):  # early versions: {"content": ..., "success": ...}
            out = out.get("content")
        text, images = _content_text(out) if not isinstance(out, str) else (out, 0)
        cat = pending.category if pending else "other_tools"
        label = pending.label if pending else "tool output"
        an.add(cat, an.est(text) + images, line, label)

    def _event(self, p: dict[str, Any], line: int, ts: str | None) -> None:
        an = self.an
        et = p.get("type")
        if et == "token_count":
            self._token_count(p, line, ts)
        elif et == "context_compacted":
            self._compaction("codex_context_compacted", "context_compacted", line, ts)
        else:
            an.ignored[f"event_msg:{et}"] += 1

    def _token_count(self, p: dict[str, Any], line: int, ts: str | None) -> None:
        an = self.an
        tokens = codex_tokens(p)
        if tokens is None:
            an.ignored["event_msg:token_count (no info)"] += 1
            return
        if tokens.window is not None:
            an.context_window = tokens.window
        total, last = tokens.total, tokens.last
        if total is not None:
            if total == self._last_total:
                return  # the same reading again
            self._last_total = total
            an.spend["input"] = total.input
            an.spend["cache_read"] = total.cache_read
            an.spend["output"] = total.output
        elif last is not None:
            an.spend["input"] += last.input
            an.spend["cache_read"] += last.cache_read
            an.spend["output"] += last.output
        if last is not None and last.context > 0:
            an.context_point(last.context, line, ts)

    def _compacted(self, summary: str | None, line: int, ts: str | None) -> None:
        if summary:
            self.an.add_text("compaction_summaries", summary, line, "compacted summary")
        self._compaction("codex_compacted", "compacted", line, ts)

    def _compaction(self, kind: str, source: str, line: int, ts: str | None) -> None:
        an = self.an
        prev = an.compactions[-1] if an.compactions else None
        if (
            prev is not None
            and self._last_compaction_line is not None
            and line - self._last_compaction_line <= _MERGE_LINES
            and prev.turn == an.turn
            and source not in prev.sources
        ):
            prev.sources.append(source)
            if source == "compacted":
                prev.kind = kind
            self._last_compaction_line = line
            return
        an.compaction(kind, line, ts, source=source)
        self._last_compaction_line = line
        self._in_assistant = False


def _find_key(value: Any, key: str, depth: int = 0) -> Any:
    if depth > 4 or not isinstance(value, dict):
        return None
    if key in value:
        return value[key]
    for v in value.values():
        found = _find_key(v, key, depth + 1)
        if found is not None:
            return found
    return None
