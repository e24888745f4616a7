"""The scripted model behind the real Claude Code: a queue of replies for the main conversation,
a summary for Claude Code's compaction requests, and a record of which request was which.

A step that calls an MCP tool Claude Code has not offered yet (it defers MCP tools behind its
ToolSearch tool) is preceded by the ToolSearch call that loads it, as a real model would do.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from real_clients.claude.anthropic_server import Reply

Step = Reply | Callable[[dict[str, Any]], Reply]
# Claude Code asks again when the reply has no <summary> block (2.1.332).
SUMMARY = (
    "<analysis>The user asked for work on t1.</analysis>\n"
    "<summary>Summary of the session so far: the plan phase of t1 is under way.</summary>"
)


def texts(req: dict[str, Any]) -> str:
    """Every text the request carries (system prompt and messages), for searching."""
    return json.dumps(req.get("system", "")) + json.dumps(req.get("messages", []))


def last_user_text(req: dict[str, Any]) -> str:
    msgs = req.get("messages") or []
    for m in reversed(msgs):
        if m.get("role") != "user":
            continue
        c = m.get("content")
        if isinstance(c, str):
            return c
        return "\n".join(b.get("text", "") for b in c if isinstance(b, dict))
    return ""


def is_compaction(req: dict[str, Any]) -> bool:
    tail = last_user_text(req)
    return "summary of the conversation" in tail.lower() or "<analysis>" in tail


def tool_names(req: dict[str, Any]) -> list[str]:
    return [str(t.get("name")) for t in req.get("tools") or [] if isinstance(t, dict)]


class Agent:
    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.summary = SUMMARY
        self.context = 1200  # input tokens reported when a step says nothing else
        self.main: list[dict[str, Any]] = []
        self.compactions: list[dict[str, Any]] = []
        self.side: list[dict[str, Any]] = []
        self.last_usage = self.context
        self._lock = threading.Lock()

    def script(self, *steps: Step) -> None:
        with self._lock:
            self.steps = list(steps)

    def __call__(self, req: dict[str, Any]) -> Reply:
        with self._lock:
            if is_compaction(req):
                self.compactions.append(req)
                self.last_usage = self.context
                return Reply(text=self.summary, input_tokens=self.context, output_tokens=200)
            if not req.get("tools"):
                self.side.append(req)  # a title, a topic check: not the conversation
                return Reply(text="ok", input_tokens=100, output_tokens=5)
            self.main.append(req)
            if not self.steps:
                return Reply(text="Done.", input_tokens=self.last_usage)
            step = self.steps[0]
            reply = step(req) if callable(step) else step
            offered = tool_names(req)
            for name, _ in reply.tool_calls:
                if name.startswith("mcp__") and name not in offered and "ToolSearch" in offered:
                    return Reply(
                        tool_calls=[("ToolSearch", {"query": f"select:{name}"})],
                        input_tokens=self.last_usage,
                    )
            self.steps.pop(0)
            self.last_usage = reply.input_tokens
            return reply
