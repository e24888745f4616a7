"""Where the real Claude Code compacts by itself, for each setting, against cairn's forecast rule
(:mod:`cairn.integrations.claude_forecast`): the scripted usage climbs in 1,000-token steps across
the point cairn computes, and the compaction must come on the step that crosses it, not before and
not after. The forecast hook itself, run by Claude Code with the session's own environment,
records the same point in its nudge (``hook.forecast``), before the compaction."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from cairn.integrations.claude_forecast import compaction_point
from real_clients.claude.anthropic_server import Reply
from real_clients.claude.conftest import AUTO_COMPACT, Claude
from real_clients.claude.scripts import SUMMARY, is_compaction

pytestmark = pytest.mark.real_client
MODEL = "claude-sonnet-4-5"
STEP = 1_000


class Climb:
    """The model: a tool call per request, reporting the next usage of ``values``; once the
    context is compacted it reports little and stops. With ``refuse_over``, a request whose usage
    would pass it is refused the way the API refuses an over-long prompt."""

    def __init__(self, values: list[int], refuse_over: int | None = None) -> None:
        self.values = values
        self.refuse_over = refuse_over
        self.log: list[tuple[str, int]] = []
        self.compacted_after: int | None = None
        self._i = 0
        self._last = 0
        self._lock = threading.Lock()

    def __call__(self, req: dict[str, Any]) -> Reply:
        with self._lock:
            if is_compaction(req):
                if self.compacted_after is None:
                    self.compacted_after = self._last
                return Reply(text=SUMMARY, input_tokens=3_000, output_tokens=200)
            if not req.get("tools"):
                return Reply(text="ok", input_tokens=100, output_tokens=5)
            if self.compacted_after is not None or self._i >= len(self.values):
                return Reply(text="Done.", input_tokens=3_000)
            tokens = self.values[self._i]
            self._i += 1
            if self.refuse_over is not None and tokens > self.refuse_over:
                self.log.append(("refused", tokens))
                message = f"prompt is too long: {tokens} tokens > {self.refuse_over} maximum"
                return Reply(error=(400, "invalid_request_error", message))
            self._last = tokens
            self.log.append(("sent", tokens))
            return Reply(tool_calls=[("Bash", {"command": "true"})], input_tokens=tokens)

    def sent(self) -> list[int]:
        return [t for kind, t in self.log if kind == "sent"]


def climb_to(point: int, past: int = 3) -> list[int]:
    """A small start, a step past 80 % of ``point`` (the forecast's nudge), then ``STEP``s from
    three below ``point`` to ``past`` above it."""
    start = point - point % STEP - 3 * STEP
    return [2_000, int(point * 0.81), *range(start, point + past * STEP + 1, STEP)]


def run(claude: Claude, env: dict[str, str], *, stream: bool = False) -> str:
    argv = ["claude", "-p", "--model", MODEL, "--allowedTools", "Bash"]  # variadic: prompt first
    full = {k: v for k, v in claude.env.items() if k not in AUTO_COMPACT}
    full.update(env)
    if stream:
        argv += ["--input-format", "stream-json", "--output-format", "stream-json", "--verbose"]
        message = {"type": "user", "message": {"role": "user", "content": "work"}}
        feed: str | None = json.dumps(message) + "\n"
    else:
        argv[2:2] = ["work"]
        argv += ["--output-format", "json"]
        feed = None
    proc = subprocess.run(
        argv,
        cwd=claude.root,
        env=full,
        input=feed,
        stdin=None if stream else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )  # the exit code is the scenario's business: a session that hit its wall exits 1
    return f"exit {proc.returncode}: {proc.stdout[-1500:]} {proc.stderr[-1500:]}"


def hook_env(claude: Claude, env: dict[str, str]) -> dict[str, str]:
    """What the hooks see of the session: its environment and its project folder."""
    return {"HOME": str(claude.home), "CLAUDE_PROJECT_DIR": str(claude.root), **env}


def forecast_point(claude: Claude) -> int:
    (event,) = claude.journal("hook.forecast")  # one nudge on this climb
    return int(event["data"]["point"])


SETTINGS: dict[str, tuple[dict[str, str], dict[str, Any], bool]] = {
    # id: (environment, ~/.claude/settings.json additions, stream-json input)
    "window-env": ({"CLAUDE_CODE_AUTO_COMPACT_WINDOW": "200000"}, {}, False),
    "window-env-150k": ({"CLAUDE_CODE_AUTO_COMPACT_WINDOW": "150k"}, {}, False),
    "window-and-percent": (
        {"CLAUDE_CODE_AUTO_COMPACT_WINDOW": "200000", "CLAUDE_AUTOCOMPACT_PCT_OVERRIDE": "50"},
        {},
        False,
    ),
    "max-output": (
        {"CLAUDE_CODE_AUTO_COMPACT_WINDOW": "200000", "CLAUDE_CODE_MAX_OUTPUT_TOKENS": "8000"},
        {},
        False,
    ),
    "settings-window": ({}, {"autoCompactWindow": 150_000}, False),
    "settings-env-block": ({}, {"env": {"CLAUDE_CODE_AUTO_COMPACT_WINDOW": "150000"}}, False),
    "stream-json-window": ({"CLAUDE_CODE_AUTO_COMPACT_WINDOW": "200000"}, {}, True),
}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_claude_code_compacts_where_the_forecast_says(
    claude: Claude, name: str, claude_version_tested: str
) -> None:
    env, settings, stream = SETTINGS[name]
    path = claude.home / ".claude" / "settings.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), **settings}))
    seen_env = {**env, **{k: str(v) for k, v in settings.get("env", {}).items()}}
    point = compaction_point(MODEL, hook_env(claude, seen_env))
    claude.active_phase()
    climb = Climb(climb_to(point))
    claude.server.script = climb
    said = run(claude, env, stream=stream)
    # No compaction on the steps below the point; it comes right after the step that reaches it
    # (Claude Code adds the tool result's estimate, under one step, to the newest usage).
    assert climb.compacted_after is not None, (name, point, climb.log, said)
    assert point <= climb.compacted_after < point + STEP, (name, point, climb.log)
    assert forecast_point(claude) == point
    (row,) = json.loads(claude.cairn("hooks", "compactions", "--json").stdout)["compactions"]
    assert row["trigger"] == "auto"
    claude.check_fixtures(claude_version_tested)


def test_without_a_window_claude_code_compacts_only_when_the_api_refuses(
    claude: Claude, claude_version_tested: str
) -> None:
    """No window set (the `auto` source): no threshold compaction at any usage, the percentage
    alone changes nothing; Claude Code compacts when the API answers "prompt is too long", so
    the point is the model's window, and the forecast nudged before it."""
    env = {"CLAUDE_AUTOCOMPACT_PCT_OVERRIDE": "50"}
    point = compaction_point(MODEL, hook_env(claude, env))
    assert point == 200_000
    claude.active_phase()
    climb = Climb([2_000, 90_000, 120_000, 165_000, 185_000, 199_000, 205_000], refuse_over=point)
    claude.server.script = climb
    run(claude, env)
    assert climb.sent() == [2_000, 90_000, 120_000, 165_000, 185_000, 199_000]
    assert climb.log[-1] == ("refused", 205_000)
    assert climb.compacted_after == 199_000  # compacted on the refusal, then the work went on
    assert forecast_point(claude) == point
    (row,) = json.loads(claude.cairn("hooks", "compactions", "--json").stdout)["compactions"]
    assert row["trigger"] == "auto"
    claude.check_fixtures(claude_version_tested)


def test_with_auto_compaction_off_the_session_stops_at_the_forecast_point(claude: Claude) -> None:
    env = {"DISABLE_AUTO_COMPACT": "1", "CLAUDE_CODE_AUTO_COMPACT_WINDOW": "150000"}
    point = compaction_point(MODEL, hook_env(claude, env))
    assert point == 177_000  # the model's 200k less the reserve and 3k: the window is ignored
    claude.active_phase()
    climb = Climb(climb_to(point))
    claude.server.script = climb
    run(claude, env)
    assert climb.compacted_after is None
    assert point <= climb.sent()[-1] < point + STEP, climb.log  # nothing sent after it
    assert forecast_point(claude) == point


def test_auto_compaction_off_in_claude_json_stops_where_the_forecast_says(claude: Claude) -> None:
    """``autoCompactEnabled: false`` in ``~/.claude.json`` (where ``/config`` keeps it): Claude
    Code does not compact at its window's point but stops at the model's wall, and the forecast
    nudges against that stop, saying that no compaction will come."""
    env = {"CLAUDE_CODE_AUTO_COMPACT_WINDOW": "150000"}
    state = claude.home / ".claude.json"
    old = json.loads(state.read_text()) if state.exists() else {}
    state.write_text(json.dumps({**old, "autoCompactEnabled": False}))
    point = compaction_point(MODEL, hook_env(claude, env))
    assert point == 177_000  # not 117k: the window would count only with compaction on
    claude.active_phase()
    climb = Climb(climb_to(point))
    claude.server.script = climb
    run(claude, env)
    assert climb.compacted_after is None, climb.log
    assert point <= climb.sent()[-1] < point + STEP, climb.log  # nothing sent after it
    (event,) = claude.journal("hook.forecast")
    assert event["data"]["point"] == point and event["data"]["auto_compact"] is False
    nudged = [r for r in claude.server.requests if "auto-compaction is off" in json.dumps(r)]
    assert nudged, "the nudge did not reach the model"


def merge_json(path: Path, **more: Any) -> None:
    old = json.loads(path.read_text()) if path.exists() else {}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**old, **more}))


@pytest.mark.parametrize("where", ["user", "project"])
def test_auto_compaction_off_in_a_settings_file_stops_where_the_forecast_says(
    claude: Claude, where: str
) -> None:
    """``autoCompactEnabled: false`` in ``~/.claude/settings.json`` or the project's
    ``.claude/settings.json`` is honoured as in ``~/.claude.json``: no compaction at the window's
    point, the session stops at the model's wall, where the forecast put it."""
    env = {"CLAUDE_CODE_AUTO_COMPACT_WINDOW": "150000"}
    base = claude.home if where == "user" else claude.root
    merge_json(base / ".claude" / "settings.json", autoCompactEnabled=False)
    point = compaction_point(MODEL, hook_env(claude, env))
    assert point == 177_000
    claude.active_phase()
    climb = Climb(climb_to(point))
    claude.server.script = climb
    run(claude, env)
    assert climb.compacted_after is None, climb.log
    assert point <= climb.sent()[-1] < point + STEP, climb.log  # nothing sent after it
    (event,) = claude.journal("hook.forecast")
    assert event["data"]["point"] == point and event["data"]["auto_compact"] is False


def test_auto_compaction_on_in_settings_wins_over_claude_json(claude: Claude) -> None:
    """A settings file that turns auto-compaction on outweighs ``~/.claude.json``'s off: Claude
    Code compacts at the window's point (150k less the 20k reserve and 13k), as forecast."""
    env = {"CLAUDE_CODE_AUTO_COMPACT_WINDOW": "150000"}
    merge_json(claude.home / ".claude.json", autoCompactEnabled=False)
    merge_json(claude.home / ".claude" / "settings.json", autoCompactEnabled=True)
    point = compaction_point(MODEL, hook_env(claude, env))
    assert point == 117_000
    claude.active_phase()
    climb = Climb(climb_to(point))
    claude.server.script = climb
    run(claude, env)
    assert climb.compacted_after is not None, climb.log
    assert point <= climb.compacted_after < point + STEP, (point, climb.log)
    assert forecast_point(claude) == point
