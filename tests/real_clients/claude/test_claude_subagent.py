"""A subagent's own work, with the real Claude Code: the parent hands a task to its Agent tool, the
subagent runs a command and reports; Claude Code's SubagentStop names the subagent's own
transcript, and cairn records what it read there as subagent work outside the context, without the
task and the report the parent's context holds (and counts) too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from real_clients.claude.anthropic_server import Reply
from real_clients.claude.conftest import FIXTURES, Claude
from real_clients.claude.scripts import tool_names

pytestmark = pytest.mark.real_client
SUBTASK = "SUBTASK: count the lines of the data"
REPORT = "SUBAGENT REPORT: 4000 bytes. " + "r" * 1600
OUTPUT_BYTES = 4000


def first_user_text(req: dict[str, Any]) -> str:
    for m in req.get("messages") or []:
        if m.get("role") == "user":
            return json.dumps(m.get("content"))
    return ""


def has_result(req: dict[str, Any]) -> bool:
    return '"tool_result"' in json.dumps((req.get("messages") or [])[-1:])


def test_a_subagents_own_work_is_recorded_at_subagent_stop(
    claude: Claude, claude_version_tested: str
) -> None:
    tool: dict[str, str] = {}

    def script(req: dict[str, Any]) -> Reply:
        if not req.get("tools"):
            return Reply(text="ok", input_tokens=100, output_tokens=5)
        if SUBTASK in first_user_text(req):  # the subagent's own conversation
            if not has_result(req):
                cmd = f"head -c {OUTPUT_BYTES} /dev/zero | tr '\\0' o"
                return Reply(tool_calls=[("Bash", {"command": cmd})], input_tokens=3_000)
            return Reply(text=REPORT, input_tokens=5_000)
        if not tool:  # the parent's first request: hand the task over
            name = next(n for n in ("Agent", "Task") if n in tool_names(req))
            tool["name"] = name
            args = {"description": "count", "prompt": SUBTASK, "subagent_type": "general-purpose"}
            return Reply(tool_calls=[(name, args)], input_tokens=2_000)
        return Reply(text="Done.", input_tokens=7_000)

    claude.server.script = script
    claude.run("work", allow=("Agent", "Task", "Bash"), timeout=240)
    (stop,) = claude.hook_inputs("SubagentStop")
    path = Path(stop["agent_transcript_path"])
    assert path.is_file() and claude.home in path.parents, stop
    assert path.parent.name == "subagents" and path.name.startswith("agent-")
    assert stop["last_assistant_message"] == REPORT and stop["agent_id"]
    got = json.loads(claude.cairn("budget", "--json").stdout)
    # The command's call and output and what Claude Code attached to the subagent's context
    # (its environment, skill and tool listings: ~20k characters), not its task nor its report.
    assert OUTPUT_BYTES // 4 <= got["subagent_work"] <= 10_000, got
    used = {c["category"]: c["used"] for c in got["categories"]}
    # The report reaches the parent once, in a <task-notification> (the Agent call runs in the
    # background; its tool result only says it started): the report and ~2k characters around.
    assert len(REPORT) // 4 <= used["subagent_summaries"] < (len(REPORT) + 2_500) // 4, used
    assert (got["settings"]["window"], got["settings"]["window_from"]) == (200_000, "session")
    (sub,) = [e for e in claude.journal("hook.ledger") if e["data"]["session"].startswith("sub")]
    assert sub["data"]["session"] == f"subagent:{stop['agent_id']}"
    # What this version sends at SubagentStop (the subagent's own PostToolUse carries its
    # agent_id and agent_type too, and the parent's transcript_path).
    fixture = FIXTURES / f"claude-{claude_version_tested}" / "SubagentStop.json"
    assert sorted(stop) == sorted([*json.loads(fixture.read_text()), "_cairn_spawned"])
    (inner, *_) = [p for p in claude.hook_inputs("PostToolUse") if p.get("agent_id")]
    assert (
        inner["agent_id"] == stop["agent_id"]
        and inner["transcript_path"] == stop["transcript_path"]
    )
