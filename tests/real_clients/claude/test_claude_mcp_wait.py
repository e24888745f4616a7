"""A long cairn MCP call through the real Claude Code (2.1.332). Claude Code aborts a tool call
after ``MCP_TOOL_TIMEOUT`` ms whatever the progress (it hands the variable on to the servers it
starts), and after ``CLAUDE_CODE_MCP_TOOL_IDLE_TIMEOUT`` ms without an answer or a progress
notification (checked every 30 s; 30 min for a stdio server by default). cairn's review_request
answers "pending" 2 s before the first, and its progress reports keep the second from firing."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from real_clients.claude.anthropic_server import Reply
from real_clients.claude.conftest import Claude
from real_clients.claude.scripts import last_user_text

pytestmark = pytest.mark.real_client

QUESTION = "Q-9: is the sampling plan sound?"
VERDICT = {"approved": True, "recommendation": "Go ahead.", "concerns": []}
TOOL = "mcp__cairn__review_request"


def review_takes(claude: Claude, seconds: float, **call: Any) -> str:
    """The model asks for a review by a `claude -p` reviewer that answers after ``seconds``;
    returns the tool result the model got."""
    agent = claude.agent

    def script(req: dict[str, Any]) -> Reply:
        if QUESTION in last_user_text(req) and len(req.get("messages") or []) == 1:
            time.sleep(seconds)  # the reviewer's own session: a slow model
            return Reply(text=json.dumps(VERDICT))
        return agent(req)

    claude.server.script = script
    args = {"topic": "t1_plan", "question": QUESTION, "task": "t1"}
    args.update(reviewer="claude:claude-sonnet-4-5", **call)
    agent.script(Reply(tool_calls=[(TOOL, args)]), Reply(text="Asked."))
    claude.run("go", timeout=180)
    return json.dumps(agent.main[-1]["messages"][-1])


def test_a_review_answers_pending_within_claude_code_s_tool_timeout(claude: Claude) -> None:
    claude.active_phase()
    claude.env["MCP_TOOL_TIMEOUT"] = "6000"
    answer = review_takes(claude, 9)  # longer than the limit, shorter than [reviews] mcp_wait
    assert "timed out" not in answer, answer
    assert '\\"state\\":\\"pending\\"' in answer and "has not answered yet" in answer, answer
    assert '\\"waited_s\\":4' in answer, answer  # 6 s less 2


def test_progress_keeps_a_long_review_past_the_idle_limit(claude: Claude) -> None:
    """35 s of reviewer against a 10 s idle limit: only the progress reports (every 5 s) keep
    Claude Code from aborting the call at its 30 s check."""
    claude.active_phase()
    claude.env["CLAUDE_CODE_MCP_TOOL_IDLE_TIMEOUT"] = "10000"
    answer = review_takes(claude, 35, wait_s=60)
    assert "sent no response or progress" not in answer, answer
    assert '\\"state\\":\\"approved\\"' in answer, answer
