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
# Claude Code given a 200k window: it compacts at 167k (200k - 20k output reserve - 13k).
WINDOW = {"CLAUDE_CODE_AUTO_COMPACT_WINDOW": "200000"}


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
        env={**{k: v for k, v in os.environ.items() if k != "CAIRN_SPAWNED"}, **WINDOW, **env},
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
    """The rule measured on Claude Code 2.1.332 (tests/real_clients/claude/test_claude_forecast.py
    checks each setting against the real binary)."""
    home = {"HOME": "/nonexistent"}
    # No window set: no threshold; the API's refusal at the model's window compacts.
    assert compaction_point("claude-sonnet-4-5", b"", home) == 200_000
    assert compaction_point("claude-opus-4-6[1m]", b"", home) == 1_000_000
    pct = {**home, "CLAUDE_AUTOCOMPACT_PCT_OVERRIDE": "50"}
    assert compaction_point("claude-sonnet-4-5", b"", pct) == 200_000  # the override alone: none
    window = {**home, "CLAUDE_CODE_AUTO_COMPACT_WINDOW": "200000"}
    assert compaction_point("m", b"", window) == 200_000 - 20_000 - 13_000
    assert compaction_point("m", b"", {**window, "CLAUDE_AUTOCOMPACT_PCT_OVERRIDE": "50"}) == 90_000
    assert (
        compaction_point("m", b"", {**window, "CLAUDE_AUTOCOMPACT_PCT_OVERRIDE": "95"}) == 167_000
    )
    assert (
        compaction_point("m", b"", {**home, "CLAUDE_CODE_AUTO_COMPACT_WINDOW": "500k"}) == 167_000
    )
    assert (
        compaction_point("m", b"", {**home, "CLAUDE_CODE_AUTO_COMPACT_WINDOW": "50000"}) == 67_000
    )
    assert compaction_point("claude-3-5-haiku-20241022", b"", window) == 200_000 - 8_192 - 13_000
    out = {**window, "CLAUDE_CODE_MAX_OUTPUT_TOKENS": "8000"}
    assert compaction_point("m", b"", out) == 179_000
    # Auto-compaction off: nothing compacts; the session stops 3k short of the window's usable part.
    assert compaction_point("m", b"", {**window, "DISABLE_AUTO_COMPACT": "1"}) == 177_000
    # cairn's own [hooks] context_window stands in for a window Claude Code was not given.
    assert compaction_point("m", b"[hooks]\ncontext_window = 100000\n", home) == 67_000


def test_the_window_is_read_from_claude_code_s_settings_files(tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    (home / ".claude").mkdir(parents=True)
    (project / ".claude").mkdir(parents=True)
    env = {"HOME": str(home), "CLAUDE_PROJECT_DIR": str(project)}
    user = home / ".claude" / "settings.json"
    user.write_text(json.dumps({"autoCompactWindow": 150_000, "model": "x"}))
    assert compaction_point("m", b"", env) == 117_000
    local = project / ".claude" / "settings.local.json"
    local.write_text(
        json.dumps({"modelSettings": {"claude-opus-4-6": {"autoCompactWindow": "300k"}}})
    )
    assert compaction_point("claude-opus-4-6", b"", env) == 167_000  # capped by the model's 200k
    assert compaction_point("m", b"", env) == 117_000
    assert compaction_point("m", b"", {**env, "CLAUDE_CODE_AUTO_COMPACT_WINDOW": "200k"}) == 167_000
    (project / ".claude" / "settings.json").write_text(json.dumps({"autoCompactEnabled": False}))
    assert compaction_point("m", b"", env) == 177_000
    user.write_text(json.dumps({"autoCompactWindow": "auto"}))
    local.unlink()
    (project / ".claude" / "settings.json").write_text("{not json")
    assert compaction_point("m", b"", env) == 200_000


def test_the_managed_settings_are_read_where_each_platform_keeps_them(tmp_path: Path) -> None:
    """macOS: /Library/Application Support/ClaudeCode/managed-settings.json, Linux:
    /etc/claude-code/managed-settings.json (code.claude.com/docs/en/settings); no other place,
    here under a stand-in root."""
    from cairn.integrations import claude_forecast as cf

    env = {"HOME": str(tmp_path / "home")}
    mac = tmp_path / "Library" / "Application Support" / "ClaudeCode" / "managed-settings.json"
    mac.parent.mkdir(parents=True)
    mac.write_text(json.dumps({"autoCompactEnabled": False, "autoCompactWindow": 150_000}))
    root = str(tmp_path)
    assert cf.settings_files(env, "darwin", root)[-1] == str(mac)
    assert cf.from_settings("m", env, "darwin", root) == (150_000, False)
    assert cf.from_settings("m", env, "linux", root) == (None, None)  # not the Linux path
    linux = tmp_path / "etc" / "claude-code" / "managed-settings.json"
    linux.parent.mkdir(parents=True)
    linux.write_text(json.dumps({"autoCompactWindow": 120_000}))
    assert cf.from_settings("m", env, "linux", root) == (120_000, None)
    assert cf.settings_files(env, "freebsd", root) == [
        str(tmp_path / "home" / ".claude" / "settings.json")
    ]
    assert cf.managed_settings("darwin") == (
        "/Library/Application Support/ClaudeCode/managed-settings.json"
    )
    # The managed file comes last: it outweighs the user's own.
    (tmp_path / "home" / ".claude").mkdir(parents=True)
    (tmp_path / "home" / ".claude" / "settings.json").write_text('{"autoCompactEnabled": true}')
    assert cf.from_settings("m", env, "darwin", root) == (150_000, False)


def test_the_windows_managed_settings_path(tmp_path: Path) -> None:
    """Windows: C:\\Program Files\\ClaudeCode\\managed-settings.json, the folder Claude Code
    2.1.332 names itself (not the C:\\ProgramData of older docs); under a stand-in root the
    drive goes and the path is kept."""
    from cairn.integrations import claude_forecast as cf

    assert cf.managed_settings("win32") == "C:\\Program Files\\ClaudeCode\\managed-settings.json"
    env = {"HOME": str(tmp_path / "home")}
    win = tmp_path / "Program Files" / "ClaudeCode" / "managed-settings.json"
    assert cf.managed_settings("win32", str(tmp_path)) == str(win)
    assert cf.settings_files(env, "win32", str(tmp_path))[-1] == str(win)
    assert cf.from_settings("m", env, "win32", str(tmp_path)) == (None, None)
    win.parent.mkdir(parents=True)
    win.write_text(json.dumps({"autoCompactEnabled": False, "autoCompactWindow": 130_000}))
    assert cf.from_settings("m", env, "win32", str(tmp_path)) == (130_000, False)
    assert cf.from_settings("m", env, "linux", str(tmp_path)) == (None, None)  # not there
    old = tmp_path / "ProgramData" / "ClaudeCode" / "managed-settings.json"
    old.parent.mkdir(parents=True)
    old.write_text(json.dumps({"autoCompactWindow": 110_000}))
    win.unlink()
    assert cf.from_settings("m", env, "win32", str(tmp_path)) == (None, None)


def test_the_model_asked_for_names_the_window(tmp_path: Path) -> None:
    """Claude Code's transcript keeps the API's model name and, after it, the one asked for."""
    row = {
        "type": "assistant",
        "message": {"model": "claude-sonnet-4-5", "usage": {"input_tokens": 5, "output_tokens": 1}},
        "requestedModel": "claude-sonnet-4-5[1m]",
    }
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(row, separators=(",", ":")) + "\n")
    assert context_tokens(str(path)) == (6, "claude-sonnet-4-5[1m]")


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


def test_auto_compaction_off_in_claude_json_is_read_and_said(ws_path: Path, tmp_path: Path) -> None:
    """``/config`` keeps the auto-compact switch in ``~/.claude.json``; a settings file that sets
    it wins. Off, the session stops at the point instead of compacting, and the nudge says so."""
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    env = {"HOME": str(home), **WINDOW}
    assert compaction_point("m", b"", env) == 167_000
    (home / ".claude.json").write_text(json.dumps({"numStartups": 3, "autoCompactEnabled": False}))
    assert compaction_point("m", b"", env) == 177_000  # the stop, as DISABLE_AUTO_COMPACT
    (home / ".claude" / "settings.json").write_text(json.dumps({"autoCompactEnabled": True}))
    assert compaction_point("m", b"", env) == 167_000
    (home / ".claude" / "settings.json").write_text("{}")
    ws = active(ws_path)
    ws.close()
    path = tmp_path / "t.jsonl"
    assert post_tool_use(ws_path, transcript(path, 140_000), HOME=str(home)) is None  # 79 %
    text = context(post_tool_use(ws_path, transcript(path, 145_000), HOME=str(home)))
    assert "177,000" in text and "auto-compaction is off" in text and "no compaction" in text
    with Workspace.open(ws_path) as ws:
        (ev,) = ws.events("t1", types=("hook.forecast",))
    assert ev.data["point"] == 177_000 and ev.data["auto_compact"] is False
    # On, the same context is past 80 % of the compaction point: that is what the nudge says.
    (home / ".claude.json").write_text(json.dumps({"autoCompactEnabled": True}))
    text = context(post_tool_use(ws_path, transcript(path, 145_000), "s2", HOME=str(home)))
    assert "167,000 at which the client compacts it automatically" in text


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
            env={**os.environ, **WINDOW},
        )
        assert proc.returncode == 0 and not proc.stderr, proc.stderr
        return proc.stdout.decode()

    assert run(100_000) == ""
    assert "checkpoint now" in run(140_000)
    assert run(150_000) == ""


def test_a_transcript_outside_the_workspace_and_the_clients_home_is_not_read(
    ws_path: Path, tmp_path_factory: Any
) -> None:
    active(ws_path).close()
    home, elsewhere = tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("elsewhere")
    outside = transcript(elsewhere / "t.jsonl", 140_000)
    assert post_tool_use(ws_path, outside, HOME=str(home)) is None
    link = home / ".claude" / "projects" / "t.jsonl"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)  # under the home, but it leads elsewhere
    assert post_tool_use(ws_path, link, HOME=str(home)) is None
    inside = transcript(home / ".claude" / "projects" / "u.jsonl", 140_000)
    assert post_tool_use(ws_path, inside, HOME=str(home)) is not None


def test_the_one_field_scanner_reads_json_scalars_as_the_json_module_does() -> None:
    import json

    from cairn.integrations.tail_read import field, int_field

    line = json.dumps(
        {"n": 172000, "f": 0.5, "on": False, "yes": True, "s": "150k", "esc": 'a"b', "nil": None}
    ).encode()
    for key in ("n", "f", "on", "yes", "s"):
        assert field(line, key.encode()) == json.loads(line)[key]
    assert type(field(line, b"n")) is int
    assert field(line, b"esc") is None  # escapes are left to the json module
    assert field(line, b"nil") is None
    assert field(line, b"absent") is None
    assert int_field(line, b"n") == 172000
    assert int_field(line, b"f") == 0  # not a whole number
    assert int_field(line, b"s") == 0
