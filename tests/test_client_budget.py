"""What a client session's hooks tell the budget: the window that client really works with (Claude
Code: its model's; Codex: its config's or its rollout's), and a subagent's own work, read from its
own transcript at SubagentStop, outside the context and without what the parent holds too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cairn.domain.workspace import Workspace

MODEL = "claude-sonnet-4-5"


def hook(event: str, data: dict[str, Any], *, agent: str = "claude", **env: str) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("CAIRN_", "CODEX_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "cairn.hooks", event, "--agent", agent],
        input=json.dumps(data).encode(),
        capture_output=True,
        timeout=60,
        env={**base, **env},
    )
    assert proc.returncode == 0 and not proc.stderr, proc.stderr


def budget(root: Path, *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "cairn", "-C", str(root), "budget", "--json", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


def claude_rows(model: str, *, sidechain: bool = False) -> list[dict[str, Any]]:
    def row(kind: str, n: int, content: Any, **more: Any) -> dict[str, Any]:
        message = {"role": kind, "content": content, "model": model, **more}
        return {
            "type": kind,
            "sessionId": "s",
            "uuid": f"u{n}",
            "timestamp": f"2026-12-01T10:00:0{n}.000Z",
            "isSidechain": sidechain,
            "message": message,
        }

    usage = {"input_tokens": 10, "cache_read_input_tokens": 5_000, "output_tokens": 40}
    return [
        row("user", 1, "p" * 400),  # the task (for a subagent: the parent's tool call)
        row("assistant", 2, [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}]),
        row("user", 3, [{"type": "tool_result", "tool_use_id": "t1", "content": "o" * 4000}]),
        row("assistant", 4, [{"type": "text", "text": "R" * 800}], usage=usage),
    ]


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    return path


def stop_input(root: Path, transcript: Path, session: str = "s") -> dict[str, Any]:
    return {
        "session_id": session,
        "transcript_path": str(transcript),
        "cwd": str(root),
        "hook_event_name": "Stop",
        "stop_hook_active": False,
    }


def test_a_claude_session_is_measured_against_its_models_window(
    ws_path: Path, tmp_path: Path
) -> None:
    assert budget(ws_path)["settings"]["window_from"] == "default"  # nothing recorded yet
    hook("stop", stop_input(ws_path, write(tmp_path / "s.jsonl", claude_rows(MODEL))))
    got = budget(ws_path)
    assert got["settings"]["window"] == 200_000 and got["settings"]["window_from"] == "session"
    assert got["categories"][0]["allocated"] == 10_000  # the seed's 50k of 1M, scaled
    # A compaction starts a new context (noted with the session): the same client's window.
    from cairn.domain import budget as budget_mod

    with Workspace.open(ws_path) as ws:
        fresh = budget_mod.new_context(ws, "compact", note="s")
        budget_mod.new_context(ws, "session", note="another")
    assert budget(ws_path, "--context", fresh)["settings"]["window"] == 200_000
    assert budget(ws_path)["settings"]["window_from"] == "default"  # nothing of that session
    # Asked for explicitly, or set for the workspace, the window is that.
    assert budget(ws_path, "--window", "50000")["settings"]["window"] == 50_000
    (ws_path / ".cairn" / "config.toml").write_text("[budget]\nwindow = 300000\n")
    assert budget(ws_path)["settings"]["window_from"] == "config"


def test_a_1m_claude_model_is_measured_against_1m(ws_path: Path, tmp_path: Path) -> None:
    rows = claude_rows(MODEL)
    rows[-1]["requestedModel"] = MODEL + "[1m]"
    hook("stop", stop_input(ws_path, write(tmp_path / "s.jsonl", rows)))
    assert budget(ws_path)["settings"]["window"] == 1_000_000


def codex_rollout(path: Path, usable: int) -> Path:
    ts = "2026-12-01T10:00:00.000Z"
    info = {"last_token_usage": {"total_tokens": 5_000}, "model_context_window": usable}
    return write(
        path,
        [
            {"timestamp": ts, "ordinal": 0, "type": "session_meta", "payload": {"id": "s"}},
            {
                "timestamp": ts,
                "ordinal": 1,
                "type": "response_item",
                "payload": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "u" * 400}],
                },
            },
            {
                "timestamp": ts,
                "ordinal": 2,
                "type": "event_msg",
                "payload": {"type": "token_count", "info": info},
            },
        ],
    )


def test_a_codex_session_is_measured_against_the_window_codex_uses(
    ws_path: Path, tmp_path: Path
) -> None:
    home = tmp_path / "codex-home"
    home.mkdir()
    # Codex 0.171 reports 95 % of gpt-5.5's 272k as the rollout's model_context_window.
    rollout = codex_rollout(tmp_path / "rollout-1.jsonl", 258_400)
    hook("stop", stop_input(ws_path, rollout), agent="codex", CODEX_HOME=str(home))
    assert budget(ws_path)["settings"]["window"] == 272_000
    # A window set in Codex's config is the one it works with; each context keeps its own.
    from cairn.domain import budget as budget_mod

    with Workspace.open(ws_path) as ws:
        budget_mod.new_context(ws, note="compacted")
    (home / "config.toml").write_text("model_context_window = 400_000\n")
    more = codex_rollout(tmp_path / "rollout-2.jsonl", 258_400)
    hook("stop", stop_input(ws_path, more, "s2"), agent="codex", CODEX_HOME=str(home))
    assert budget(ws_path)["settings"]["window"] == 400_000


def subagent_input(root: Path, path: Path, report: str, agent_id: str = "a1") -> dict[str, Any]:
    return {
        "session_id": "s",
        "transcript_path": str(root / "s.jsonl"),
        "agent_transcript_path": str(path),
        "cwd": str(root),
        "hook_event_name": "SubagentStop",
        "stop_hook_active": False,
        "agent_id": agent_id,
        "agent_type": "general-purpose",
        "last_assistant_message": report,
    }


def subagent_work(root: Path) -> int:
    return int(budget(root)["subagent_work"])


def ledger_events(root: Path) -> list[dict[str, Any]]:
    with Workspace.open(root) as ws:
        return [e.data for e in ws.events(None, limit=100, types=("hook.ledger",))]


def test_a_subagents_own_work_is_recorded_once_without_what_the_parent_holds(
    ws_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("home")
    path = home / ".claude" / "projects" / "p" / "s" / "subagents" / "agent-a1.jsonl"
    rows = claude_rows(MODEL, sidechain=True)
    del rows[-1]["message"]["usage"]  # no usage reported: the estimate
    write(path, rows)
    hook("subagent-stop", subagent_input(ws_path, path, "R" * 800), HOME=str(home))
    # Its tool call and the tool's output; not its task (the parent's tool call) nor its report
    # (the parent's tool result, counted there as subagent summaries).
    got = subagent_work(ws_path)
    tool_call = len(json.dumps({"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}))
    assert got == (4000 + tool_call) // 4, got
    assert budget(ws_path)["total_in_context"] == 0  # outside the context
    hook("subagent-stop", subagent_input(ws_path, path, "R" * 800), HOME=str(home))
    assert subagent_work(ws_path) == got  # read once
    assert "exact" not in ledger_events(ws_path)[-1]
    report = budget(ws_path)
    assert (report["subagent_work_exact_tokens"], report["subagent_work_estimated_tokens"]) == (
        0,
        got,
    )


def test_a_subagents_reported_usage_is_its_work_exactly(
    ws_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """What Claude Code hands the parent as <usage><subagent_tokens> is the subagent's newest
    usage (input, cache and output): the figure recorded when its transcript has it, and at a
    later stop of the same subagent (resumed) only what it grew by."""
    home = tmp_path_factory.mktemp("home")
    path = home / ".claude" / "projects" / "p" / "s" / "subagents" / "agent-a1.jsonl"
    write(path, claude_rows(MODEL, sidechain=True))
    hook("subagent-stop", subagent_input(ws_path, path, "R" * 800), HOME=str(home))
    assert subagent_work(ws_path) == 10 + 5_000 + 40
    (event,) = ledger_events(ws_path)
    assert event["exact"] is True and event["tokens"] == 5_050
    more = claude_rows(MODEL, sidechain=True)[-1]
    more["timestamp"] = "2026-12-01T10:00:09.000Z"
    more["message"]["usage"] = {"input_tokens": 10, "cache_read_input_tokens": 7_000}
    write(path, [more])
    hook("subagent-stop", subagent_input(ws_path, path, "R" * 800), HOME=str(home))
    assert subagent_work(ws_path) == 7_010
    with Workspace.open(ws_path) as ws, ws.store.read() as tx:
        assert tx.ledger.totals(None)["subagent_work"] == (7_010, True)  # every entry exact
    assert ledger_events(ws_path)[-1]["tokens"] == 7_010


def test_a_subagent_transcript_elsewhere_or_through_a_link_is_not_read(
    ws_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home, elsewhere = tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("elsewhere")
    outside = write(elsewhere / "agent-a1.jsonl", claude_rows(MODEL, sidechain=True))
    hook("subagent-stop", subagent_input(ws_path, outside, ""), HOME=str(home))
    link = home / ".claude" / "projects" / "agent-a2.jsonl"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    hook("subagent-stop", subagent_input(ws_path, link, "", "a2"), HOME=str(home))
    assert subagent_work(ws_path) == 0


def test_a_codex_subagents_rollout_counts_as_its_work(
    ws_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("codex-home")
    path = codex_rollout(home / "sessions" / "rollout-sub.jsonl", 258_400)
    ts = "2026-12-01T10:00:01.000Z"
    out = {"type": "function_call_output", "call_id": "c1", "output": "o" * 2000}
    write(path, [{"timestamp": ts, "ordinal": 3, "type": "response_item", "payload": out}])
    data = subagent_input(ws_path, path, "")
    hook("subagent-stop", data, agent="codex", CODEX_HOME=str(home))
    # Its rollout's newest token_count (last_token_usage.total_tokens), exactly.
    assert subagent_work(ws_path) == 5_000
    bare = [r for r in map(json.loads, path.read_text().splitlines()) if r["type"] != "event_msg"]
    other = home / "sessions" / "rollout-sub2.jsonl"
    write(other, bare)
    hook(
        "subagent-stop",
        subagent_input(ws_path, other, "", "a2"),
        agent="codex",
        CODEX_HOME=str(home),
    )
    assert subagent_work(ws_path) == 5_000 + 2000 // 4  # no usage: the estimate, not its task
    # `cairn budget --json` says which part Codex reported and which part cairn estimated.
    report = budget(ws_path)
    assert (report["subagent_work_exact_tokens"], report["subagent_work_estimated_tokens"]) == (
        5_000,
        500,
    )
    text = subprocess.run(
        [sys.executable, "-m", "cairn", "-C", str(ws_path), "budget"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    assert "5,500 tokens (5,000 reported by the client, ~500 estimated)" in text, text


def system_tokens(root: Path, *args: str) -> int:
    (orch,) = [c for c in budget(root, *args)["categories"] if c["category"] == "orchestration"]
    return sum(t["tokens"] for t in orch["top_sources"] if t["source"] == "system prompt")


def test_a_background_agents_report_is_a_summary_and_the_system_prompt_counts_once(
    ws_path: Path, tmp_path: Path
) -> None:
    """Claude Code 2.1.332: an Agent call's report comes back as a <task-notification> inside a
    reminder, and a copy of the system prompt and tools is written with most requests (a
    ``prompt_snapshot``), and what the API was sent whenever it changes (``api-request-shape``):
    they hold their place in the context once, so they count once per context."""
    rows = claude_rows(MODEL)
    note = "<system-reminder>\n<task-notification><result>" + "R" * 800 + "</result>"
    rows[2]["message"]["content"] = [{"type": "text", "text": note}]
    snapshot = {"type": "prompt_snapshot", "systemPrompt": ["s" * 60_000]}

    def at(second: int, **rec: Any) -> dict[str, Any]:
        return {"timestamp": f"2026-12-01T10:00:{second:02d}.000Z", **rec}

    rows += [at(5, type="attachment", attachment=snapshot)] * 2  # one per request
    path = write(tmp_path / "s.jsonl", rows)
    hook("stop", stop_input(ws_path, path))
    used = {c["category"]: c["used"] for c in budget(ws_path)["categories"]}
    assert used["subagent_summaries"] == len(note) // 4
    assert system_tokens(ws_path) == 15_000  # once, not per request
    assert used["orchestration"] < 16_000, used
    # The next turn's copy is the same prompt: nothing more. What was sent (the shape, the
    # system blocks and the tools) is preferred, and what it grew by is added.
    shape = {"system": [{"type": "text", "text": "s" * 60_000}], "tools": [{"d": "t" * 7_991}]}
    write(path, [at(6, type="attachment", attachment=snapshot), at(7, type="user", message={})])
    hook("stop", stop_input(ws_path, path))
    assert system_tokens(ws_path) == 15_000
    write(path, [at(8, type="api-request-shape", shape=shape)])
    hook("stop", stop_input(ws_path, path))
    assert len(json.dumps(shape["tools"][0])) == 8_000
    assert system_tokens(ws_path) == 15_000 + 2_000
    # A compaction starts a new context: the prompt is in it again, though Claude Code writes no
    # new copy (the shape did not change).
    from cairn.domain import budget as budget_mod

    with Workspace.open(ws_path) as ws:
        fresh = budget_mod.new_context(ws, "compact", note="s")
    prompt = {"role": "user", "content": "after the compaction"}
    write(path, [at(9, type="user", sessionId="s", uuid="u9", message=prompt)])
    hook("stop", stop_input(ws_path, path))
    assert budget(ws_path)["context"] == fresh
    assert system_tokens(ws_path) == 17_000
    assert system_tokens(ws_path, "--all") == 34_000


def test_a_new_session_is_a_new_context(ws_path: Path, tmp_path: Path) -> None:
    """A session's first turn goes to a context of its own when the newest one holds another
    session's turns; a context nothing was recorded in yet (a reset) is taken as it is."""
    hook("stop", stop_input(ws_path, write(tmp_path / "s1.jsonl", claude_rows(MODEL)), "s1"))
    first = budget(ws_path)
    hook("stop", stop_input(ws_path, write(tmp_path / "s2.jsonl", claude_rows(MODEL)), "s2"))
    second = budget(ws_path)
    assert second["context"] != first["context"]
    assert second["total_in_context"] == first["total_in_context"]  # the same turn, not twice
    from cairn.domain import budget as budget_mod

    with Workspace.open(ws_path) as ws:
        reset = budget_mod.new_context(ws, "session", note="the user's reset")
    hook("stop", stop_input(ws_path, write(tmp_path / "s3.jsonl", claude_rows(MODEL)), "s3"))
    assert budget(ws_path)["context"] == reset


def test_a_compaction_in_the_turn_leaves_only_what_followed_it_in_the_new_context(
    ws_path: Path, tmp_path: Path
) -> None:
    from cairn.domain import budget as budget_mod

    rows = claude_rows(MODEL)  # a 4,000-character tool output, then the compaction
    summary = {"role": "user", "content": "S" * 2_000}
    rows.append(
        {
            "type": "user",
            "sessionId": "s",
            "uuid": "u5",
            "timestamp": "2026-12-01T10:00:05.000Z",
            "isCompactSummary": True,
            "message": summary,
        }
    )
    with Workspace.open(ws_path) as ws:
        fresh = budget_mod.new_context(ws, "compact", note="s")  # SessionStart(compact) did
    hook("stop", stop_input(ws_path, write(tmp_path / "s.jsonl", rows)))
    got = budget(ws_path)
    used = {c["category"]: c["used"] for c in got["categories"]}
    assert got["context"] == fresh
    assert used["orchestration"] == 2_000 // 4 and used["user"] == 0, used
