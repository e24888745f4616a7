"""A subagent's own work, with the real Claude Code: the parent hands a task to its Agent tool, the
subagent runs a command and reports; Claude Code's SubagentStop names the subagent's own
transcript, and cairn records what it read there as subagent work outside the context, without the
task and the report the parent's context holds (and counts) too."""

from __future__ import annotations

import json
import re
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
            return Reply(text=REPORT, input_tokens=5_000, cache_read_tokens=2_000)
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
    # The subagent's work is what Claude Code itself reports to the parent, exactly: the
    # <task-notification>'s <usage><subagent_tokens>, its newest response's input, cache and
    # output tokens (5,000 + 2,000 + 40; not the sum over its requests).
    (notice,) = [
        r
        for r in map(json.loads, Path(stop["transcript_path"]).read_text().splitlines())
        if r.get("type") == "user" and "<task-notification>" in json.dumps(r)
    ]
    found = re.search(r"<subagent_tokens>(\d+)</subagent_tokens>", json.dumps(notice))
    assert found is not None and int(found.group(1)) == 7_040, notice
    assert got["subagent_work"] == 7_040, got
    assert (got["subagent_work_exact_tokens"], got["subagent_work_estimated_tokens"]) == (7_040, 0)
    used = {c["category"]: c["used"] for c in got["categories"]}
    # The report reaches the parent once, in a <task-notification> (the Agent call runs in the
    # background; its tool result only says it started): the report and ~2k characters around.
    assert len(REPORT) // 4 <= used["subagent_summaries"] < (len(REPORT) + 2_500) // 4, used
    assert (got["settings"]["window"], got["settings"]["window_from"]) == (200_000, "session")
    (sub,) = [e for e in claude.journal("hook.ledger") if e["data"]["session"].startswith("sub")]
    assert sub["data"]["session"] == f"subagent:{stop['agent_id']}"
    assert sub["data"]["exact"] is True and sub["data"]["tokens"] == 7_040
    # The parent's system prompt and tools, once (Claude Code wrote copies with its requests).
    (orch,) = [c for c in got["categories"] if c["category"] == "orchestration"]
    system = {t["source"]: t["tokens"] for t in orch["top_sources"]}.get("system prompt", 0)
    first = next(r for r in claude.server.requests if r.get("tools") and not has_result(r))
    blocks = first.get("system") or []
    sent = sum(len(b.get("text", "")) for b in blocks if isinstance(b, dict))
    sent += sum(len(json.dumps(t, ensure_ascii=False)) for t in first["tools"])
    assert abs(system - sent // 4) <= sent // 40, (system, sent)  # within 10 % of what was sent
    # What this version sends at SubagentStop (the subagent's own PostToolUse carries its
    # agent_id and agent_type too, and the parent's transcript_path).
    fixture = FIXTURES / f"claude-{claude_version_tested}" / "SubagentStop.json"
    assert sorted(stop) == sorted([*json.loads(fixture.read_text()), "_cairn_spawned"])
    (inner, *_) = [p for p in claude.hook_inputs("PostToolUse") if p.get("agent_id")]
    assert (
        inner["agent_id"] == stop["agent_id"]
        and inner["transcript_path"] == stop["transcript_path"]
    )
