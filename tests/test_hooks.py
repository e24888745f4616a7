"""The hook command, driven as the agent drives it: a fresh process, the documented JSON on stdin."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cairn.domain.workspace import Workspace
from cairn.integrations.hooks import CONTEXT_CAP_CHARS, fit_context
from cairn.integrations.transcripts import count_tool_calls_since
from helpers import sqlitedb
from helpers.stored import records

FIXTURES = Path(__file__).parent / "fixtures" / "hooks"


def fixture(
    name: str,
    cwd: Path,
    transcript: Path | str = "/nonexistent/t.jsonl",
    session: str | None = None,
) -> str:
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    data["cwd"] = str(cwd)
    data["transcript_path"] = str(transcript)
    if session is not None:
        data["session_id"] = session
    return json.dumps(data)


def run_hook(
    event: str, stdin: str, *extra: str, cwd: Path | None = None
) -> tuple[int, dict[str, Any] | None, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "cairn", "hook", event, *extra],
        input=stdin.encode(),
        capture_output=True,
        cwd=cwd,
        timeout=60,
    )
    out = proc.stdout.decode().strip()
    return proc.returncode, (json.loads(out) if out else None), proc.stderr.decode()


def iso(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def claude_transcript(path: Path, calls_before: int, calls_after: int, pivot: datetime) -> Path:
    """A Claude Code session transcript: assistant records with tool_use blocks, and results."""
    lines: list[dict[str, Any]] = [
        {
            "type": "summary",
            "summary": "an older session",
            "leafUuid": "0",
        }
    ]

    def turn(i: int, ts: datetime, n_calls: int) -> None:
        blocks: list[dict[str, Any]] = [{"type": "text", "text": f"step {i}"}]
        blocks += [
            {
                "type": "tool_use",
                "id": f"toolu_{i}_{k}",
                "name": "Read",
                "input": {"file_path": f"/p/f{k}.py"},
            }
            for k in range(n_calls)
        ]
        common = {
            "parentUuid": None,
            "isSidechain": False,
            "userType": "external",
            "cwd": "/p",
            "sessionId": "s",
            "version": "2.0.14",
            "gitBranch": "main",
        }
        lines.append(
            {
                **common,
                "type": "assistant",
                "message": {
                    "id": f"msg_{i}",
                    "type": "message",
                    "role": "assistant",
                    "model": "claude-sonnet-4-5",
                    "content": blocks,
                    "stop_reason": "tool_use",
                    "usage": {
                        "input_tokens": 10,
                        "cache_creation_input_tokens": 100,
                        "cache_read_input_tokens": 1000,
                        "output_tokens": 50,
                    },
                },
                "requestId": f"req_{i}",
                "uuid": f"a{i}",
                "timestamp": iso(ts),
            }
        )
        for k in range(n_calls):
            lines.append(
                {
                    **common,
                    "type": "user",
                    "message": {
                        "role": "user",
                        "content": [
                            {
                                "tool_use_id": f"toolu_{i}_{k}",
                                "type": "tool_result",
                                # Text that mentions tool_use must not be counted as a call.
                                "content": 'x = {"type": "tool_use"}\n' * 3,
                            }
                        ],
                    },
                    "uuid": f"u{i}_{k}",
                    "timestamp": iso(ts + timedelta(milliseconds=5)),
                }
            )

    for i in range(calls_before):
        turn(i, pivot - timedelta(minutes=30) + timedelta(milliseconds=i), 1)
    for i in range(calls_after):
        turn(1000 + i, pivot + timedelta(seconds=1 + i), 2 if i == 0 else 1)
    path.write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    return path


def codex_rollout(path: Path, calls_before: int, calls_after: int, pivot: datetime) -> Path:
    lines: list[dict[str, Any]] = [
        {
            "timestamp": iso(pivot - timedelta(hours=1)),
            "type": "session_meta",
            "payload": {"id": "019a", "cwd": "/p", "cli_version": "0.60.0"},
        }
    ]

    def call(ts: datetime, i: int) -> None:
        lines.append(
            {
                "timestamp": iso(ts),
                "type": "response_item",
                "payload": {
                    "type": "function_call",
                    "name": "shell",
                    "arguments": json.dumps({"command": ["cat", f"f{i}.py"]}),
                    "call_id": f"call_{i}",
                },
            }
        )
        lines.append(
            {
                "timestamp": iso(ts),
                "type": "response_item",
                "payload": {"type": "function_call_output", "call_id": f"call_{i}", "output": "."},
            }
        )
        lines.append(
            {
                "timestamp": iso(ts),
                "type": "event_msg",
                "payload": {"type": "token_count", "info": None},
            }
        )

    for i in range(calls_before):
        call(pivot - timedelta(minutes=20) + timedelta(seconds=i), i)
    for i in range(calls_after):
        call(pivot + timedelta(seconds=1 + i), 100 + i)
    path.write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    return path


@pytest.fixture
def active_ws(ws_path: Path) -> Path:
    with Workspace.open(ws_path) as ws:
        ws.create_task("finding4", "Best-of-N", ["analysis", "plan", "implement"])
        ws.start_phase("finding4", "analysis")
    return ws_path


def compaction_rows(root: Path) -> list[dict[str, Any]]:
    with Workspace.open(root) as ws, ws.store.read() as tx:
        return records(tx, "compactions")


# -- the full cycle ------------------------------------------------------------------------------
def test_mid_phase_compaction_cycle(active_ws: Path, tmp_path: Path) -> None:
    pivot = datetime.now(UTC)
    transcript = claude_transcript(tmp_path / "session.jsonl", 4, 3, pivot)

    code, out, err = run_hook(
        "pre-compact", fixture("claude_pre_compact_auto", active_ws, transcript)
    )
    assert (code, err) == (0, "")
    assert out is not None and "suboptimal compaction" in out["systemMessage"]
    assert "4 tool calls" in out["systemMessage"]  # 2 + 1 + 1 after the phase began
    (row,) = compaction_rows(active_ws)
    assert row["trigger"] == "auto" and row["agent"] == "claude"
    assert row["safe_point"] == 0 and row["task_id"] == "finding4" and row["phase"] == "analysis"
    assert row["tool_calls_since_checkpoint"] == 4 and row["tool_calls_exact"] == 1
    assert row["session_id"] == "8f3c2a10-5b7e-4d1a-9c3e-2f6b1a7d9e01"
    assert row["transcript_path"] == str(transcript)
    assert "nothing checkpointed since phase 'analysis' started" in row["reason"]
    assert row["seconds_since_checkpoint"] >= 0
    status = (active_ws / "CURRENT_WORK_STATUS.md").read_text()
    assert "## Compactions (1, 1 suboptimal)" in status and "SUBOPTIMAL" in status

    code, out, err = run_hook("post-compact", fixture("claude_post_compact", active_ws))
    assert (code, out, err) == (0, None, "")
    (row,) = compaction_rows(active_ws)
    assert row["summary"].startswith("The user asked to implement Best-of-N")

    code, out, err = run_hook(
        "session-start", fixture("claude_session_start_compact", active_ws, transcript)
    )
    assert (code, err) == (0, "")
    assert out is not None
    spec = out["hookSpecificOutput"]
    assert spec["hookEventName"] == "SessionStart"
    ctx = spec["additionalContext"]
    assert "context was just compacted" in ctx
    assert "came mid-phase (suboptimal)" in ctx and "4 tool calls" in ctx
    assert "# Recovery brief: finding4" in ctx and "**Phase**: analysis (active)" in ctx
    assert len(ctx) <= CONTEXT_CAP_CHARS

    with Workspace.open(active_ws) as ws:
        rec = ws.recoveries()[-1]
    assert rec.trigger == "compact" and rec.safe_point is False
    assert rec.note is not None and "4 tool calls" in rec.note
    (row,) = compaction_rows(active_ws)
    assert row["recovered_at"] is not None and row["recovery_trigger"] == "compact"
    log = (active_ws / "logs" / "compaction_recovery.log").read_text()
    assert "SUBOPTIMAL: mid-phase" in log
    assert "(1, 1 suboptimal)" in (active_ws / "CURRENT_WORK_STATUS.md").read_text()


def test_safe_point_after_checkpoint_then_unsafe_after_a_step_begins(
    active_ws: Path, tmp_path: Path
) -> None:
    with Workspace.open(active_ws) as ws:
        ws.write_checkpoint("finding4", "analysis", "# Analysis\n")
    code, out, _ = run_hook(
        "pre-compact", fixture("claude_pre_compact_manual", active_ws, session="s1")
    )
    assert (code, out) == (0, None)  # safe: nothing to say
    row = compaction_rows(active_ws)[-1]
    assert row["safe_point"] == 1 and row["trigger"] == "manual"
    assert row["custom_instructions"] == "Keep the list of files already modified"
    assert "checkpoint analysis v1 recorded" in row["reason"]
    assert row["tool_calls_since_checkpoint"] is None  # the transcript path did not exist

    with Workspace.open(active_ws) as ws:
        ws.progress("finding4", "implement ranking", "active")  # a step begins ⏳
    run_hook("pre-compact", fixture("claude_pre_compact_auto", active_ws, session="s2"))
    row = compaction_rows(active_ws)[-1]
    assert row["safe_point"] == 0 and "step ⏳ 'implement ranking' began" in row["reason"]

    with Workspace.open(active_ws) as ws:
        ws.progress("finding4", "implement ranking", "done")  # ... and ends ✅
    run_hook("pre-compact", fixture("claude_pre_compact_auto", active_ws, session="s3"))
    assert compaction_rows(active_ws)[-1]["safe_point"] == 1

    with Workspace.open(active_ws) as ws:
        ws.finish_phase("finding4", "analysis")  # between phases
    run_hook("pre-compact", fixture("claude_pre_compact_auto", active_ws, session="s4"))
    row = compaction_rows(active_ws)[-1]
    assert row["safe_point"] == 1 and row["phase"] is None


def test_repeated_pre_compact_of_one_compaction_is_recorded_once(active_ws: Path) -> None:
    for _ in range(3):
        assert run_hook("pre-compact", fixture("claude_pre_compact_auto", active_ws))[0] == 0
    assert len(compaction_rows(active_ws)) == 1
    run_hook("session-start", fixture("claude_session_start_compact", active_ws))
    run_hook("pre-compact", fixture("claude_pre_compact_auto", active_ws))  # the next one
    assert len(compaction_rows(active_ws)) == 2


def test_codex_fixtures_count_rollout_calls(active_ws: Path, tmp_path: Path) -> None:
    pivot = datetime.now(UTC)
    rollout = codex_rollout(tmp_path / "rollout-2026-11-28T00-00-00-019a.jsonl", 5, 2, pivot)
    code, out, err = run_hook(
        "pre-compact", fixture("codex_pre_compact", active_ws, rollout), "--agent", "codex"
    )
    assert (code, err) == (0, "") and out is not None
    row = compaction_rows(active_ws)[-1]
    assert row["agent"] == "codex" and row["tool_calls_since_checkpoint"] == 2
    # Codex's PostCompact has no summary: the row is completed with an empty one.
    run_hook("post-compact", fixture("codex_post_compact", active_ws, rollout), "--agent", "codex")
    assert compaction_rows(active_ws)[-1]["summary_at"] is not None
    code, out, err = run_hook(
        "session-start", fixture("codex_session_start", active_ws, rollout), "--agent", "codex"
    )
    assert (code, err) == (0, "") and out is not None
    ctx = out["hookSpecificOutput"]["additionalContext"]
    assert "trigger: resume" in ctx and "context was just compacted" not in ctx
    with Workspace.open(active_ws) as ws:
        assert ws.recoveries()[-1].trigger == "resume"


def test_startup_without_tasks_prints_the_brief_and_logs_nothing(ws_path: Path) -> None:
    code, out, err = run_hook("session-start", fixture("claude_session_start_startup", ws_path))
    assert (code, err) == (0, "") and out is not None
    assert "No task yet" in out["hookSpecificOutput"]["additionalContext"]
    with Workspace.open(ws_path) as ws:
        assert ws.recoveries() == []


def test_brief_is_cut_to_the_cap_with_a_marker(active_ws: Path) -> None:
    cfg = active_ws / ".cairn" / "config.toml"
    cfg.write_text(cfg.read_text() + "\n[hooks]\nbrief_max_tokens = 50000\n")
    body = "".join(f"- line {i}: " + "detail " * 12 + "\n" for i in range(600))
    with Workspace.open(active_ws) as ws:
        ws.write_checkpoint("finding4", "analysis", "# Analysis\n" + body)
    code, out, _ = run_hook("session-start", fixture("claude_session_start_compact", active_ws))
    assert code == 0 and out is not None
    ctx = out["hookSpecificOutput"]["additionalContext"]
    assert len(ctx) == CONTEXT_CAP_CHARS
    assert ctx.endswith("run `cairn recover --no-log` for the whole brief]")
    assert fit_context("short") == "short"


# -- stop reminders ------------------------------------------------------------------------------
def _set_hooks_config(root: Path, text: str) -> None:
    cfg = root / ".cairn" / "config.toml"
    cfg.write_text(cfg.read_text() + "\n[hooks]\n" + text + "\n")


def test_stop_reminds_without_blocking(active_ws: Path) -> None:
    _set_hooks_config(active_ws, "checkpoint_reminder_minutes = 0.0001")
    code, out, err = run_hook("stop", fixture("claude_stop", active_ws))
    assert (code, err) == (0, "") and out is not None
    assert set(out) == {"systemMessage"}
    assert "nothing was checkpointed" in out["systemMessage"]
    with Workspace.open(active_ws) as ws:
        assert [e.type for e in ws.events("finding4", types=("hook.reminder",))] == [
            "hook.reminder"
        ]
    # Never when the agent is already continuing because of a stop hook.
    again = fixture("claude_stop", active_ws).replace(
        '"stop_hook_active": false', '"stop_hook_active": true'
    )
    assert run_hook("stop", again)[:2] == (0, None)


def test_stop_quiet_within_the_interval_and_blocking_when_configured(
    active_ws: Path, ws_path: Path
) -> None:
    code, out, _ = run_hook("stop", fixture("codex_stop", active_ws), "--agent", "codex")
    assert (code, out) == (0, None)  # default 30 min: the phase just began
    _set_hooks_config(active_ws, "checkpoint_reminder_minutes = 0.0001\nstop_block = true")
    code, out, _ = run_hook("stop", fixture("claude_stop", active_ws))
    assert out is not None and out["decision"] == "block" and "checkpoint" in out["reason"]


def test_stop_without_an_active_phase_is_silent(ws_path: Path) -> None:
    _set_hooks_config(ws_path, "checkpoint_reminder_minutes = 0.0001")
    assert run_hook("stop", fixture("claude_stop", ws_path)) == (0, None, "")


# -- failing open --------------------------------------------------------------------------------
def test_outside_a_workspace_is_silent(tmp_path: Path) -> None:
    for name, event in (
        ("claude_session_start_compact", "session-start"),
        ("claude_pre_compact_auto", "pre-compact"),
        ("claude_post_compact", "post-compact"),
        ("claude_stop", "stop"),
    ):
        assert run_hook(event, fixture(name, tmp_path), cwd=tmp_path) == (0, None, "")


def test_bad_input_and_a_broken_store_fail_open(active_ws: Path) -> None:
    code, out, err = run_hook("pre-compact", "{not json", cwd=active_ws)
    assert (code, out) == (0, None)
    assert err.count("\n") == 1 and "JSONDecodeError" in err and "the agent goes on" in err
    code, out, err = run_hook("bogus-event", "{}", cwd=active_ws)
    assert (code, out) == (0, None) and "unknown event" in err
    # The event in the input must match the command's.
    code, out, err = run_hook("stop", fixture("claude_post_compact", active_ws))
    assert (code, out) == (0, None) and "PostCompact" in err
    (active_ws / ".cairn" / "cairn.db").write_bytes(b"this is not a database" * 100)
    for f in (active_ws / ".cairn").glob("cairn.db-*"):
        f.unlink()
    code, out, err = run_hook("session-start", fixture("claude_session_start_compact", active_ws))
    assert (code, out) == (0, None)
    assert err.count("\n") == 1 and "StoreError" in err


def test_cairn_hook_with_bad_arguments_fails_open(
    active_ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`cairn hook` (what `hooks install --command cairn` installs) never exits 2: Claude Code
    reads 2 as "block"."""
    from cairn.cli import main

    for argv in (["hook"], ["hook", "stop", "--bogus"], ["hook", "stop", "--agent"]):
        assert main(["-C", str(active_ws), *argv]) == 0, argv
        err = capsys.readouterr().err
        assert "the agent goes on" in err
    with pytest.raises(SystemExit) as exc:
        main(["hook", "--help"])
    assert exc.value.code == 0
    with pytest.raises(SystemExit) as exc:  # other commands keep their usage errors
        main(["-C", str(active_ws), "phase", "bogus"])
    assert exc.value.code == 2


# -- transcripts ---------------------------------------------------------------------------------
def test_count_tool_calls_reads_only_the_tail(tmp_path: Path) -> None:
    pivot = datetime.now(UTC)
    path = claude_transcript(tmp_path / "t.jsonl", 3000, 3, pivot)
    assert count_tool_calls_since(path, pivot) == (4, True)
    assert count_tool_calls_since(path, pivot - timedelta(hours=2)) == (3004, True)
    # A bounded read stops early and says the count is a lower bound.
    count, exact = count_tool_calls_since(path, pivot - timedelta(hours=2), max_bytes=1)
    assert not exact and count < 3004
    # A huge record (a multi-megabyte tool result) is scanned, not parsed.
    big = {
        "type": "assistant",
        "timestamp": iso(pivot + timedelta(minutes=5)),
        "message": {"content": [{"type": "tool_use", "id": "t", "name": "Bash", "input": {}}]},
        "pad": "y" * 1_500_000,
    }
    with path.open("a") as f:
        f.write(json.dumps(big) + "\n")
        f.write("not json at all\n")
    assert count_tool_calls_since(path, pivot) == (5, True)


def test_compactions_in_status_json_and_listing(
    active_ws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cairn.cli import main

    run_hook("pre-compact", fixture("claude_pre_compact_auto", active_ws, session="a"))
    with Workspace.open(active_ws) as ws:
        ws.write_checkpoint("finding4", "analysis", "# A\n")
    run_hook("pre-compact", fixture("claude_pre_compact_manual", active_ws, session="b"))
    assert main(["-C", str(active_ws), "status", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    comp = data["sections"]["compactions"]
    assert comp["schema"] == "cairn.compactions/1"
    assert (comp["total"], comp["suboptimal"]) == (2, 1)
    assert [c["safe_point"] for c in comp["recent"]] == [True, False]  # newest first
    assert main(["-C", str(active_ws), "hooks", "compactions"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "SUBOPTIMAL" in lines[0] and "safe" in lines[1]
    assert main(["-C", str(active_ws), "hooks", "compactions", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["compactions"]
    assert [r["trigger"] for r in rows] == ["auto", "manual"]


def test_a_compaction_with_no_active_phase_reads_plainly_in_the_status(ws_path: Path) -> None:
    run_hook("pre-compact", fixture("claude_pre_compact_auto", ws_path))
    status = (ws_path / "CURRENT_WORK_STATUS.md").read_text()
    assert "(claude) during no active phase: ✅ safe point" in status
    assert "— / —" not in status


def test_session_start_uses_only_a_recent_record_of_another_session(active_ws: Path) -> None:
    old = iso(datetime.now(UTC) - timedelta(hours=2))
    with Workspace.open(active_ws) as ws, ws.store.write() as tx:
        tx.compactions.add(
            ts=old,
            agent="claude",
            session_id="other",
            transcript_path=None,
            trigger="auto",
            custom_instructions=None,
            task_id=None,
            phase=None,
            safe_point=False,
            reason="old one",
            last_checkpoint_at=None,
            seconds_since_checkpoint=None,
            tool_calls_since_checkpoint=None,
            tool_calls_exact=None,
            summary=None,
        )
    run_hook("session-start", fixture("claude_session_start_compact", active_ws, session="new"))
    with Workspace.open(active_ws) as ws:
        assert ws.recoveries()[-1].safe_point is None
    assert compaction_rows(active_ws)[0]["recovered_at"] is None
    # A recent record of another session id (e.g. the agent changed it) is taken.
    run_hook("pre-compact", fixture("claude_pre_compact_auto", active_ws, session="x"))
    run_hook("session-start", fixture("claude_session_start_compact", active_ws, session="y"))
    with Workspace.open(active_ws) as ws:
        assert ws.recoveries()[-1].safe_point is False
    assert compaction_rows(active_ws)[1]["recovered_at"] is not None


# -- what differs between the agents, and what they share -----------------------------------------
def test_codex_post_compact_reads_the_summary_from_the_rollout(
    active_ws: Path, tmp_path: Path
) -> None:
    pivot = datetime.now(UTC)
    rollout = codex_rollout(tmp_path / "rollout-2026-11-28T00-00-00-019a.jsonl", 3, 1, pivot)
    run_hook("pre-compact", fixture("codex_pre_compact", active_ws, rollout), "--agent", "codex")
    # Codex writes the summary as a `compacted` record once the compaction is done.
    with rollout.open("a") as f:
        for rec in (
            {
                "timestamp": iso(datetime.now(UTC) + timedelta(seconds=1)),
                "type": "compacted",
                "payload": {"message": "Summary: the analysis of finding4 is half done."},
            },
            {
                "timestamp": iso(datetime.now(UTC) + timedelta(seconds=1)),
                "type": "event_msg",
                "payload": {
                    "type": "token_count",
                    "info": {"last_token_usage": {"input_tokens": 900, "output_tokens": 10}},
                },
            },
        ):
            f.write(json.dumps(rec) + "\n")
    run_hook("post-compact", fixture("codex_post_compact", active_ws, rollout), "--agent", "codex")
    row = compaction_rows(active_ws)[-1]
    assert row["summary"] == "Summary: the analysis of finding4 is half done."
    # An older compaction's summary is not taken for a later compaction's.
    # Planted: every compaction dated after the summary the next hook finds, and none summarised.
    with sqlitedb.connect(active_ws) as conn:
        conn.execute(
            "UPDATE compactions SET ts = ?", (iso(datetime.now(UTC) + timedelta(hours=1)),)
        )
        conn.execute("UPDATE compactions SET summary = NULL, summary_at = NULL")
    run_hook("post-compact", fixture("codex_post_compact", active_ws, rollout), "--agent", "codex")
    row = compaction_rows(active_ws)[-1]
    assert row["summary_at"] is not None and row["summary"] is None


def test_pre_compact_notes_the_context_size_from_the_transcript(
    active_ws: Path, tmp_path: Path
) -> None:
    transcript = claude_transcript(tmp_path / "session.jsonl", 2, 2, datetime.now(UTC))
    run_hook("pre-compact", fixture("claude_pre_compact_auto", active_ws, transcript))
    with Workspace.open(active_ws) as ws:
        (event,) = ws.events("finding4", types=("compaction",))
    # The newest assistant record: 10 input + 100 cache creation + 1000 cache read tokens.
    assert event.data["context_tokens"] == 1110 and event.data["tool_calls"] == 3


def test_the_installer_and_the_runner_follow_one_event_table(ws_path: Path, tmp_path: Path) -> None:
    from cairn.integrations.events import EVENTS, find
    from cairn.integrations.hooks import HANDLERS
    from cairn.integrations.install import merge_hooks

    for agent in ("claude", "codex"):
        settings = merge_hooks({}, ["cairn"], agent)["hooks"]
        rows = [(e, h) for e in EVENTS if (h := e.hook(agent)) is not None]
        assert sorted(settings) == sorted(h.event for _, h in rows)
        for e, h in rows:
            (group,) = settings[h.event]
            assert group.get("matcher") == h.matcher
            (handler,) = group["hooks"]
            assert handler["timeout"] == e.timeout
            assert f"hook {e.arg}" in handler["command"]
            assert find(e.arg) is e and find(h.event) is e
    assert set(HANDLERS) == {e.arg for e in EVENTS}
    # Every installed event name is one the runner accepts as the input's hook_event_name.
    code, _, err = run_hook("stop", json.dumps({"hook_event_name": "Stop", "cwd": str(ws_path)}))
    assert (code, err) == (0, "")
    _, _, err = run_hook("stop", json.dumps({"hook_event_name": "PreCompact"}), cwd=ws_path)
    assert "input is for PreCompact, not Stop" in err


def test_a_transcript_is_read_only_under_the_workspace_or_the_clients_home(
    active_ws: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    pivot = datetime.now(UTC)
    outside = claude_transcript(elsewhere / "session.jsonl", 4, 3, pivot)
    link = active_ws / "linked.jsonl"
    link.symlink_to(outside)  # in the workspace, but it leads elsewhere
    for session, path in (("s-out", outside), ("s-link", link)):
        run_hook("pre-compact", fixture("claude_pre_compact_auto", active_ws, path, session))
    rows = compaction_rows(active_ws)
    assert len(rows) == 2 and all(r["tool_calls_since_checkpoint"] is None for r in rows), rows
