"""cairn with the real Claude Code, headless, against a scripted model (issue 10): the startup
brief, an MCP tool round trip, an automatic and a manual compaction with their verdicts and the
compact brief once, resumes that do not pile up briefs, the Stop reminder that blocks once, and
the compaction forecast that makes the compaction land at a safe point."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from real_clients.claude.anthropic_server import Reply
from real_clients.claude.conftest import COMPACTS_AT, Claude
from real_clients.claude.scripts import texts

pytestmark = pytest.mark.real_client

BRIEF = "# Recovery brief: t1"
COMPACT_LEAD = "the context was just compacted"


def compactions(claude: Claude) -> list[dict[str, Any]]:
    data = json.loads(claude.cairn("hooks", "compactions", "--json").stdout)
    rows = data["compactions"] if isinstance(data, dict) else data
    return list(rows)


def test_startup_brief_and_an_mcp_tool_round_trip(
    claude: Claude, claude_version_tested: str
) -> None:
    claude.active_phase()
    call = ("mcp__cairn__progress", {"text": "read the spec", "state": "done"})
    claude.agent.script(Reply(tool_calls=[call]), Reply(text="Recorded."))
    result = claude.run("record the step")
    assert result["result"] == "Recorded."
    first, *rest = claude.agent.main
    assert "SessionStart hook additional context: " + BRIEF in texts(first)
    # Claude Code offered cairn's tool once ToolSearch loaded it; the call reached cairn and its
    # answer came back to the model.
    assert "mcp__cairn__progress" in [t["name"] for t in rest[-1]["tools"]]
    assert "read the spec" in json.dumps(rest[-1]["messages"][-1])
    (step,) = claude.journal("step.recorded")
    assert step["data"]["text"] == "read the spec"
    (recovery,) = claude.journal("recovery")
    assert recovery["data"]["trigger"] == "startup"
    # The Stop hook put the turn in the budget ledger: the prompt, the agent's work.
    budget = json.loads(claude.cairn("budget", "--json").stdout)
    used = {c["category"]: c["used"] for c in budget["categories"]}
    assert used["user"] > 0 and used["orchestration"] > 0, used
    claude.check_fixtures(claude_version_tested)


def test_auto_compaction_is_recorded_and_the_compact_brief_arrives_once(
    claude: Claude, claude_version_tested: str
) -> None:
    claude.active_phase()
    # Claude Code takes a large first response for a large fixed prefix (system prompt and
    # tools), which no compaction can shrink: the usage climbs from a small start, as it does.
    bash = ("Bash", {"command": "true"})
    claude.agent.script(
        Reply(tool_calls=[bash], input_tokens=2_000),
        Reply(tool_calls=[bash], input_tokens=COMPACTS_AT + 5_000),
        Reply(text="Going on after the compaction.", input_tokens=3_000),
    )
    claude.run("work")
    assert len(claude.agent.compactions) == 1
    (row,) = compactions(claude)
    assert (row["trigger"], row["safe_point"], row["tool_calls_since_checkpoint"]) == (
        "auto",
        False,
        2,
    )
    after = claude.agent.main[-1]
    assert texts(after).count(COMPACT_LEAD) == 1
    assert texts(after).count(BRIEF) == 1  # the compact brief only: the startup one went with it
    assert [r["data"]["trigger"] for r in claude.journal("recovery")] == ["startup", "compact"]
    claude.check_fixtures(claude_version_tested)


def system_prompt(claude: Claude, *args: str) -> int:
    """The tokens the ledger counted for the system prompt in the newest context (or ``--all``)."""
    got = json.loads(claude.cairn("budget", "--json", *args).stdout)
    (orch,) = [c for c in got["categories"] if c["category"] == "orchestration"]
    return sum(t["tokens"] for t in orch["top_sources"] if t["source"] == "system prompt")


def test_manual_compact_and_resumes_never_pile_up_briefs(
    claude: Claude, claude_version_tested: str
) -> None:
    claude.active_phase()
    claude.agent.script(Reply(text="Started."))
    sid = claude.run("start")["session_id"]
    first = system_prompt(claude)
    assert first > 5_000  # the system prompt and tools, ~19k tokens
    claude.agent.script(Reply(text="Resumed once."))
    claude.run("go on", resume=sid)
    assert system_prompt(claude) == first  # the same context: not again
    once = texts(claude.agent.main[-1])
    assert once.count(BRIEF) == 1 and "cairn: resumed. Nothing changed" in once
    claude.run("/compact keep the plan", resume=sid)
    (row,) = compactions(claude)
    assert row["trigger"] == "manual" and row["summary_chars"]
    (pre,) = claude.hook_inputs("PreCompact")
    assert pre["custom_instructions"] == "keep the plan"
    claude.cairn("progress", "t1", "wrote the parser", "--state", "done")
    claude.agent.script(Reply(text="Resumed after the compaction."))
    claude.run("go on", resume=sid)
    last = texts(claude.agent.main[-1])
    # One full brief (the compact one), and the resume note says what changed since it.
    assert last.count(BRIEF) == 1 and last.count(COMPACT_LEAD) == 1
    assert "step.recorded" in last and "wrote the parser" in last
    triggers = [r["data"]["trigger"] for r in claude.journal("recovery")]
    assert triggers == ["startup", "compact"]  # resumes hand out no second brief
    # The compaction started a context: the system prompt is in it once, and in both once each.
    assert abs(system_prompt(claude) - first) <= first // 10
    assert abs(system_prompt(claude, "--all") - 2 * first) <= first // 5
    claude.check_fixtures(claude_version_tested)


def test_the_stop_reminder_blocks_once(claude: Claude, claude_version_tested: str) -> None:
    claude.active_phase()
    claude.configure("[hooks]\nstop_block = true\ncheckpoint_reminder_minutes = 0.001")
    checkpoint = ("mcp__cairn__checkpoint_write", {"kind": "progress-notes", "content": "# done"})
    claude.agent.script(
        Reply(text="All done."), Reply(tool_calls=[checkpoint]), Reply(text="Saved.")
    )
    result = claude.run("finish")
    assert result["result"] == "Saved."
    reminders = claude.journal("hook.reminder")
    assert len(reminders) == 1
    told = [r for r in claude.agent.main if "nothing was checkpointed" in texts(r)]
    assert told and "nothing was checkpointed" not in texts(claude.agent.main[0])
    stops = claude.hook_inputs("Stop")
    assert [s["stop_hook_active"] for s in stops] == [False, True]
    claude.check_fixtures(claude_version_tested)


def test_the_forecast_makes_the_compaction_land_at_a_safe_point(
    claude: Claude, claude_version_tested: str
) -> None:
    claude.active_phase()
    checkpoint = ("mcp__cairn__checkpoint_write", {"kind": "progress-notes", "content": "# saved"})
    bash = ("Bash", {"command": "true"})
    saved: list[int] = []

    def work_or_checkpoint(tokens: int) -> Any:
        """A tool call at ``tokens``; once the forecast came, the checkpoint first."""

        def step(req: dict[str, Any]) -> Reply:
            called = '"name": "mcp__cairn__checkpoint_write"' in json.dumps(req["messages"])
            if "checkpoint now" in texts(req) and not called:
                saved.append(len(claude.agent.main))
                return Reply(tool_calls=[checkpoint], input_tokens=tokens)
            return Reply(tool_calls=[bash], input_tokens=tokens)

        return step

    # The usage climbs past 80 % of the 90k point (72k) over a few calls, then past the point.
    claude.agent.script(
        Reply(tool_calls=[bash], input_tokens=2_000),
        Reply(tool_calls=[bash], input_tokens=74_000),
        work_or_checkpoint(78_000),
        work_or_checkpoint(82_000),
        work_or_checkpoint(86_000),
        Reply(tool_calls=[bash], input_tokens=COMPACTS_AT + 5_000),
        Reply(text="Done.", input_tokens=3_000),
    )
    claude.run("work")
    assert saved, "no forecast reached the model"
    assert len(claude.agent.compactions) >= 1
    (forecast,) = claude.journal("hook.forecast")  # once on this climb
    assert forecast["data"]["context"] >= 72_000
    (row,) = compactions(claude)
    assert row["safe_point"] is True, row
    cps = claude.journal("checkpoint.written")
    assert cps and cps[0]["ts"] < row["ts"]
    claude.check_fixtures(claude_version_tested)


def test_a_budget_record_in_the_first_turn_is_counted_in_the_new_session(
    claude: Claude,
) -> None:
    """SessionStart starts the session's budget context, so what the agent records in its first
    turn is counted in it, not in the context of the session before."""
    claude.active_phase()
    claude.cairn("budget", "record", "specs", "500", "--source", "the session before")
    before = json.loads(claude.cairn("budget", "--json").stdout)["context"]
    record = f"{sys.executable} -m cairn budget record specs 70 --source first-turn"
    claude.agent.script(Reply(tool_calls=[("Bash", {"command": record})]), Reply(text="Noted."))
    sid = claude.run("record what you read")["session_id"]
    got = json.loads(claude.cairn("budget", "--json").stdout)
    assert got["context"] != before
    (specs,) = [c for c in got["categories"] if c["category"] == "specs"]
    assert specs["used"] == 70 and specs["top_sources"] == [{"source": "first-turn", "tokens": 70}]
    (started,) = claude.journal("budget.context")[-1:]
    assert started["data"] == {"context": got["context"], "kind": "session", "note": sid}
    # The Stop hook recorded the rest of the turn into that same context.
    (ledger,) = claude.journal("hook.ledger")
    assert ledger["data"]["context"] == got["context"]
