"""The compaction forecast (PostToolUse), resumes that hand over only what changed, and silence in
the sessions cairn itself starts: each hook run as the agent runs it, a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from cairn.domain.workspace import Workspace
from cairn.integrations.forecast import compaction_point, context_tokens
from cairn.integrations.install import hook_command

HOOK = hook_command([sys.executable, "-m", "cairn"], "post-tool-use", "claude").split()


def transcript(path: Path, context: int, *, after: int = 0) -> Path:
    usage = {"input_tokens": 10, "cache_read_input_tokens": context - 60, "output_tokens": 50}
    rows: list[dict[str, Any]] = [
        {
            "type": "assistant",
            "sessionId": "s",
            "uuid": "a",
            "message": {"model": "m", "usage": {}},
        },
        {
            "type": "assistant",
            "sessionId": "s",
            "uuid": "b",
            "message": {"model": "m", "usage": usage},
        },
    ]
    if after:  # a big tool result after the usage record, as after a Read
        rows.append({"type": "user", "sessionId": "s", "message": {"content": "x" * after}})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def post_tool_use(root: Path, path: Path, session: str = "s1", **env: str) -> dict[str, Any] | None:
    data = {
        "session_id": session,
        "transcript_path": str(path),
        "cwd": str(root),
        "hook_event_name": "PostToolUse",
        "tool_name": "Bash",
    }
    proc = subprocess.run(
        HOOK,
        input=json.dumps(data).encode(),
        capture_output=True,
        timeout=60,
        env={**{k: v for k, v in os.environ.items() if k != "CAIRN_SPAWNED"}, **env},
    )
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    out = proc.stdout.decode().strip()
    return json.loads(out) if out else None


def active(root: Path) -> Workspace:
    ws = Workspace.open(root)
    ws.create_task("t1", "", ["plan", "implement"])
    ws.start_phase("t1", "plan")
    return ws


def test_the_compaction_point_follows_claude_codes_window_and_override() -> None:
    assert compaction_point("claude-sonnet-4-5", b"", {}) == 200_000 - 20_000 - 13_000
    assert compaction_point("claude-opus-4-6[1m]", b"", {}) == 1_000_000 - 33_000
    env = {"CLAUDE_CODE_AUTO_COMPACT_WINDOW": "200000", "CLAUDE_AUTOCOMPACT_PCT_OVERRIDE": "50"}
    assert compaction_point("m", b"", env) == 90_000
    assert compaction_point("m", b"[hooks]\ncontext_window = 100000\n", {}) == 67_000


def test_context_is_read_from_the_newest_usage_past_a_big_tool_result(tmp_path: Path) -> None:
    path = transcript(tmp_path / "t.jsonl", 120_000, after=300_000)
    assert context_tokens(str(path)) == (120_000, "m")


def test_below_the_threshold_the_hook_imports_nothing_of_cairn(
    ws_path: Path, tmp_path: Path
) -> None:
    active(ws_path).close()
    path = transcript(tmp_path / "t.jsonl", 50_000)
    data = json.dumps({"session_id": "s", "transcript_path": str(path), "cwd": str(ws_path)})
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *HOOK[1:]],
        input=data.encode(),
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout == b""
    imported = [line.split("|")[-1].strip() for line in proc.stderr.decode().splitlines()]
    assert "forecast" in imported
    assert not [m for m in imported if m.startswith(("cairn", "sqlite3", "json", "re"))], imported


def test_the_forecast_nudges_once_per_climb_and_only_mid_phase(
    ws_path: Path, tmp_path: Path
) -> None:
    ws = active(ws_path)
    path = tmp_path / "t.jsonl"
    assert post_tool_use(ws_path, transcript(path, 100_000)) is None  # 60 % of 167k
    out = post_tool_use(ws_path, transcript(path, 140_000))
    assert out is not None
    text = out["hookSpecificOutput"]["additionalContext"]
    assert out["hookSpecificOutput"]["hookEventName"] == "PostToolUse"
    assert "checkpoint now" in text and "t1" in text and "167,000" in text
    assert post_tool_use(ws_path, transcript(path, 150_000)) is None  # once per climb
    (ev,) = ws.events("t1", types=("hook.forecast",))
    assert ev.data["context"] == 140_000 and ev.data["session"] == "s1"
    # A compaction brings the context down; the next climb nudges again.
    assert post_tool_use(ws_path, transcript(path, 20_000)) is None
    assert post_tool_use(ws_path, transcript(path, 140_000)) is not None
    # At a safe point (a checkpoint after the work began) there is nothing to say.
    ws.write_checkpoint("t1", "progress-notes", "# saved")
    assert post_tool_use(ws_path, transcript(path, 140_000), session="s2") is None
    # [hooks] forecast_percent moves the threshold.
    ws.close()
    with (ws_path / ".cairn" / "config.toml").open("a") as f:
        f.write("\n[hooks]\nforecast_percent = 95\n")
    ws = Workspace.open(ws_path)
    ws.progress("t1", "next step", "active")
    ws.close()
    assert post_tool_use(ws_path, transcript(path, 150_000), session="s3") is None
    assert post_tool_use(ws_path, transcript(path, 160_000), session="s3") is not None


def hook(event: str, payload: dict[str, Any], root: Path, **env: str) -> dict[str, Any] | None:
    proc = subprocess.run(
        [sys.executable, "-m", "cairn.hooks", event],
        input=json.dumps({**payload, "cwd": str(root)}).encode(),
        capture_output=True,
        timeout=60,
        env={**{k: v for k, v in os.environ.items() if k != "CAIRN_SPAWNED"}, **env},
    )
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    out = proc.stdout.decode().strip()
    return json.loads(out) if out else None


def context(out: dict[str, Any] | None) -> str:
    assert out is not None
    return str(out["hookSpecificOutput"]["additionalContext"])


def test_a_resume_gets_what_changed_never_a_second_full_brief(ws_path: Path) -> None:
    active(ws_path).close()
    start = {"session_id": "s1", "hook_event_name": "SessionStart", "source": "startup"}
    assert "# Recovery brief: t1" in context(hook("session-start", start, ws_path))
    resume = {**start, "source": "resume"}
    again = context(hook("session-start", resume, ws_path))
    assert "# Recovery brief" not in again and "Nothing changed" in again
    ws = Workspace.open(ws_path)
    ws.progress("t1", "wrote the parser", "done")
    ws.set_next("t1", "write the tests")
    ws.close()
    delta = context(hook("session-start", resume, ws_path))
    assert "# Recovery brief" not in delta
    assert "wrote the parser" in delta and "next action: write the tests" in delta
    assert "Nothing changed" in context(hook("session-start", resume, ws_path))
    # Another session that was never given a brief gets the whole brief.
    other = {**resume, "session_id": "s2"}
    assert "# Recovery brief: t1" in context(hook("session-start", other, ws_path))
    ws = Workspace.open(ws_path)
    triggers = [e.data["trigger"] for e in ws.events("t1", types=("recovery",))]
    ws.close()
    assert triggers == ["startup", "resume"]  # s1's resumes logged no recovery


def test_cairn_s_own_sessions_get_no_hook_at_all(ws_path: Path, tmp_path: Path) -> None:
    ws = active(ws_path)
    ws.close()
    with (ws_path / ".cairn" / "config.toml").open("a") as f:
        f.write("\n[hooks]\nstop_block = true\ncheckpoint_reminder_minutes = 0.001\n")
    base = {"session_id": "rev", "transcript_path": str(transcript(tmp_path / "t.jsonl", 140_000))}
    for marker in ({"CAIRN_SPAWNED": "review"}, {"CAIRN_WORKER": "w1"}):
        for event, name in (
            ("session-start", "SessionStart"),
            ("pre-compact", "PreCompact"),
            ("stop", "Stop"),
        ):
            assert hook(event, {**base, "hook_event_name": name}, ws_path, **marker) is None
        assert post_tool_use(ws_path, tmp_path / "t.jsonl", **marker) is None
    ws = Workspace.open(ws_path)
    types = {e.type for e in ws.events(None, limit=1000)}
    ws.close()
    assert types == {"task.created", "phase.added", "phase.started"}
    # Without the marker the same Stop blocks: the silence is the marker's doing.
    out = hook("stop", {**base, "hook_event_name": "Stop"}, ws_path)
    assert out is not None and out["decision"] == "block"


def test_cairn_hook_post_tool_use_forecasts_the_same_way(ws_path: Path, tmp_path: Path) -> None:
    """The plugin's command (`cairn hook post-tool-use`): the same forecast."""
    active(ws_path).close()
    path = tmp_path / "t.jsonl"

    def run(context: int) -> str:
        data = {"session_id": "p1", "transcript_path": str(transcript(path, context))}
        proc = subprocess.run(
            [sys.executable, "-m", "cairn", "hook", "post-tool-use"],
            input=json.dumps({**data, "cwd": str(ws_path)}).encode(),
            capture_output=True,
            timeout=60,
        )
        assert proc.returncode == 0 and not proc.stderr, proc.stderr
        return proc.stdout.decode()

    assert run(100_000) == ""
    assert "checkpoint now" in run(140_000)
    assert run(150_000) == ""
