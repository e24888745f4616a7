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


def test_a_subagents_own_work_is_recorded_once_without_what_the_parent_holds(
    ws_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("home")
    path = home / ".claude" / "projects" / "p" / "s" / "subagents" / "agent-a1.jsonl"
    write(path, claude_rows(MODEL, sidechain=True))
    hook("subagent-stop", subagent_input(ws_path, path, "R" * 800), HOME=str(home))
    # Its tool call and the tool's output; not its task (the parent's tool call) nor its report
    # (the parent's tool result, counted there as subagent summaries).
    got = subagent_work(ws_path)
    tool_call = len(json.dumps({"type": "tool_use", "id": "t1", "name": "Bash", "input": {}}))
    assert got == (4000 + tool_call) // 4, got
    assert budget(ws_path)["total_in_context"] == 0  # outside the context
    hook("subagent-stop", subagent_input(ws_path, path, "R" * 800), HOME=str(home))
    assert subagent_work(ws_path) == got  # read once


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
    assert subagent_work(ws_path) == 2000 // 4  # the task (a user message) is the parent's


def test_a_background_agents_report_is_a_summary_and_prompt_snapshots_are_not_context(
    ws_path: Path, tmp_path: Path
) -> None:
    """Claude Code 2.1.332: an Agent call's report comes back as a <task-notification> inside a
    reminder, and a copy of the system prompt is written with every request."""
    rows = claude_rows(MODEL)
    note = "<system-reminder>\n<task-notification><result>" + "R" * 800 + "</result>"
    rows[2]["message"]["content"] = [{"type": "text", "text": note}]
    snapshot = {"type": "prompt_snapshot", "systemPrompt": ["s" * 60_000]}
    rows.append(
        {"type": "attachment", "timestamp": "2026-12-01T10:00:05.000Z", "attachment": snapshot}
    )
    hook("stop", stop_input(ws_path, write(tmp_path / "s.jsonl", rows)))
    used = {c["category"]: c["used"] for c in budget(ws_path)["categories"]}
    assert used["subagent_summaries"] == len(note) // 4
    assert used["orchestration"] < 1_000, used  # the agent's calls and text, no snapshot
