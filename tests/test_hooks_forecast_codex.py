"""The compaction forecast for Codex sessions: the context from the rollout's token_count records,
Codex's compaction point from its window and settings, and the installed PostToolUse hook run as
Codex runs it (a fresh process, on what the real Codex 0.171.0 sent: the recorded fixture)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from cairn.domain.workspace import Workspace
from cairn.integrations import codex_forecast
from cairn.integrations.install import hook_command

HOOK = hook_command([sys.executable, "-m", "cairn"], "post-tool-use", "codex").split()
RECORDED = Path(__file__).parent / "fixtures" / "hooks" / "codex-0.171.0" / "post_tool_use.json"


def token_count(total: int, window: int = 258_400) -> dict[str, Any]:
    usage = {"input_tokens": total - 10, "cached_input_tokens": 0, "output_tokens": 10}
    info = {
        "total_token_usage": {**usage, "total_tokens": total * 3},
        "last_token_usage": {**usage, "total_tokens": total},
        "model_context_window": window,
    }
    return {
        "timestamp": "2026-12-01T10:00:00.000Z",
        "type": "event_msg",
        "payload": {"type": "token_count", "info": info, "rate_limits": {}},
    }


def rollout(path: Path, total: int, *, after: int = 0, window: int = 258_400) -> Path:
    rows: list[dict[str, Any]] = [
        {"timestamp": "t", "type": "session_meta", "payload": {"id": "s", "cwd": "/x"}},
        token_count(1_000, window),
        token_count(total, window),
        # A rate-limit-only update: no usage in it, the scan goes past it.
        {"timestamp": "t", "type": "event_msg", "payload": {"type": "token_count", "info": None}},
    ]
    if after:  # a big tool output after the usage record
        item = {"type": "function_call_output", "call_id": "c", "output": "x" * after}
        rows.append({"timestamp": "t", "type": "response_item", "payload": item})
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))
    return path


def post_tool_use(root: Path, path: Path, codex_home: Path, session: str = "s1") -> Any:
    data = json.loads(RECORDED.read_text())
    data.update(session_id=session, transcript_path=str(path), cwd=str(root))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAIRN_", "CODEX_"))}
    proc = subprocess.run(
        HOOK,
        input=json.dumps(data).encode(),
        capture_output=True,
        timeout=60,
        env={**env, "CODEX_HOME": str(codex_home)},
    )
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    out = proc.stdout.decode().strip()
    return json.loads(out) if out else None


def test_codex_compacts_at_90_percent_of_the_window_or_the_configured_limit() -> None:
    # 0.171 reports 95 % of gpt-5.5's 272k window and compacts at 90 % of it: 244,800.
    assert codex_forecast.compaction_point(258_400, {}) == 244_800
    assert codex_forecast.compaction_point(0, {}) == 244_800
    limit = {b"model_auto_compact_token_limit": 50_000}
    assert codex_forecast.compaction_point(258_400, limit) == 50_000
    # A limit above 90 % of the window is not honoured; a configured window replaces Codex's.
    assert codex_forecast.compaction_point(258_400, {b"model_auto_compact_token_limit": 10**7}) == (
        244_800
    )
    assert codex_forecast.compaction_point(258_400, {b"model_context_window": 100_000}) == 90_000


def test_the_settings_come_from_the_project_the_profile_and_the_user_config(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Measured on 0.171.0: ``--profile NAME`` layers ``$CODEX_HOME/NAME.config.toml`` over the
    user config, the project's config and ``-c`` stay above it, a missing file is no error, and
    the old ``profile =`` selector or a selected ``[profiles.NAME]`` table stops Codex at start."""
    home, project = tmp_path / "home", tmp_path / "project"
    (project / ".codex").mkdir(parents=True)
    home.mkdir()
    (home / "config.toml").write_text(
        "model_context_window = 400_000\nmodel_auto_compact_token_limit = 99\n"
        "[mcp_servers.x]\nmodel_context_window = 1\n"
    )
    (home / "long.config.toml").write_text(
        "model_auto_compact_token_limit = 300_000  # a comment\n"
    )
    line: dict[bytes, bytes] = {}
    monkeypatch.setattr(codex_forecast, "command_line", lambda keys: dict(line))
    env = {"CODEX_HOME": str(home)}
    assert codex_forecast.settings(env, str(project)) == {
        b"model_auto_compact_token_limit": 99,
        b"model_context_window": 400_000,
    }
    line[codex_forecast.PROFILE] = b"long"
    found = codex_forecast.settings(env, str(project))
    assert found == {b"model_auto_compact_token_limit": 300_000, b"model_context_window": 400_000}
    (project / ".codex" / "config.toml").write_text("model_auto_compact_token_limit = 120000\n")
    found = codex_forecast.settings(env, str(project))
    assert found[b"model_auto_compact_token_limit"] == 120_000
    line[b"model_auto_compact_token_limit"] = b"5_000"
    assert codex_forecast.settings(env, str(project))[b"model_auto_compact_token_limit"] == 5_000
    line[codex_forecast.PROFILE] = b"../long"  # not a file name in CODEX_HOME: not read
    del line[b"model_auto_compact_token_limit"]
    (project / ".codex" / "config.toml").unlink()
    assert codex_forecast.settings(env, str(project))[b"model_auto_compact_token_limit"] == 99


def test_the_profile_and_settings_are_read_from_codexs_own_arguments() -> None:
    keys = (b"model_auto_compact_token_limit", codex_forecast.PROFILE)
    found: dict[bytes, bytes] = {}
    argv = [b"/x/codex", b"exec", b"-p", b"long", b"-c", b"model_auto_compact_token_limit='9'"]
    codex_forecast.parse_argv([*argv, b"prompt", b""], keys, found)
    assert found == {codex_forecast.PROFILE: b"long", b"model_auto_compact_token_limit": b"9"}
    found = {}
    codex_forecast.parse_argv([b"codex", b"--profile=deep", b"exec", b"hi", b""], keys, found)
    assert found == {codex_forecast.PROFILE: b"deep"}


def test_the_rollout_gives_the_newest_usage_past_a_big_tool_output(tmp_path: Path) -> None:
    path = rollout(tmp_path / "r.jsonl", 200_000, after=300_000)
    assert codex_forecast.rollout_tokens(str(path)) == (200_000, 258_400)
    (tmp_path / "empty.jsonl").write_text('{"type":"session_meta","payload":{}}\n')
    assert codex_forecast.rollout_tokens(str(tmp_path / "empty.jsonl")) is None


def test_the_codex_hook_nudges_once_per_climb_mid_phase(ws_path: Path, tmp_path: Path) -> None:
    ws = Workspace.open(ws_path)
    ws.create_task("t1", "", ["plan", "implement"])
    ws.start_phase("t1", "plan")
    ws.close()
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text("model_auto_compact_token_limit = 100000\n")
    below = rollout(tmp_path / "below.jsonl", 70_000)
    assert post_tool_use(ws_path, below, home) is None  # 70 % of the 100k point
    above = rollout(tmp_path / "above.jsonl", 85_000, after=200_000)
    out = post_tool_use(ws_path, above, home)
    assert out is not None
    text = out["hookSpecificOutput"]["additionalContext"]
    assert out["hookSpecificOutput"]["hookEventName"] == "PostToolUse"
    assert "~85,000 tokens, 85 % of the ~100,000" in text and "t1" in text
    assert post_tool_use(ws_path, above, home) is None  # once per climb
    with Workspace.open(ws_path) as ws:
        (ev,) = ws.events("t1", types=("hook.forecast",))
    assert ev.data["point"] == 100_000 and ev.data["context"] == 85_000
    assert post_tool_use(ws_path, below, home) is None  # a compaction: below again, re-armed
    assert post_tool_use(ws_path, above, home) is not None


def test_cairn_hook_post_tool_use_forecasts_codex_the_same_way(
    ws_path: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    """The plugin's command (`cairn hook post-tool-use --agent codex`): the same forecast."""
    import io

    from cairn.integrations.hooks import run_hook

    with Workspace.open(ws_path) as ws:
        ws.create_task("t1", "", ["plan"])
        ws.start_phase("t1", "plan")
    home = tmp_path / "codex-home"
    home.mkdir()
    (home / "config.toml").write_text("model_auto_compact_token_limit = 100000\n")
    monkeypatch.setenv("CODEX_HOME", str(home))
    monkeypatch.delenv("CAIRN_SPAWNED", raising=False)
    data = json.loads(RECORDED.read_text())
    data.update(transcript_path=str(rollout(tmp_path / "r.jsonl", 90_000)), cwd=str(ws_path))
    out = io.StringIO()
    stdin = io.BytesIO(json.dumps(data).encode())
    assert run_hook("post-tool-use", agent="codex", stdin=stdin, stdout=out) == 0
    context = json.loads(out.getvalue())["hookSpecificOutput"]["additionalContext"]
    assert "~90,000 tokens, 90 % of the ~100,000" in context
