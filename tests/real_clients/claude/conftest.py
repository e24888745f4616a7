"""The real Claude Code, headless, against a scripted Anthropic server on 127.0.0.1.

Each test gets a cairn workspace with cairn's hooks and MCP server installed the way a user
installs them (`cairn hooks install claude`), a throw-away HOME (so nothing of the machine's own
Claude Code settings, sessions or credentials is read or written), a dummy API key, and a "user's
own" recording hook on every event, which keeps what Claude Code sent to each hook (the fixtures
under tests/fixtures/hooks/claude-<version>/ are checked against it). Claude Code refuses
``--dangerously-skip-permissions`` as root, so the tools a scenario needs are allowed by name.

The binary is found on PATH (`bash .ci/setup` installs the pinned version); without it these tests
skip on a developer's machine and fail in CI (tests/services.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from real_clients.claude.anthropic_server import ScriptedAnthropic
from real_clients.claude.scripts import Agent
from services import need

PINNED = "2.1.332"  # .ci/setup.d/30-claude-code.sh
RECORDER = Path(__file__).with_name("record_hook.py")
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "hooks"
# Headless (`-p`), Claude Code compacts automatically only when the window is set explicitly
# (2.1.332: without CLAUDE_CODE_AUTO_COMPACT_WINDOW the check is skipped whatever the usage);
# with it and the override, it compacts at 50 % of (200k - 20k output reserve) = 90k tokens.
AUTO_COMPACT = {
    "CLAUDE_CODE_AUTO_COMPACT_WINDOW": "200000",
    "CLAUDE_AUTOCOMPACT_PCT_OVERRIDE": "50",
}
COMPACTS_AT = 90_000


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "real_client: drives a real agent CLI (Claude Code, Codex)")


def claude_version() -> str | None:
    exe = shutil.which("claude")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.split()[0] if out.returncode == 0 and out.stdout.split() else None


@pytest.fixture(scope="session")
def claude_version_tested() -> str:
    version = claude_version()
    need("Claude Code", version is not None, "install it: npm install -g @anthropic-ai/claude-code")
    assert version is not None
    return version


def cairn(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "cairn", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"cairn {' '.join(args)}: {proc.stdout}{proc.stderr}")
    return proc


class Claude:
    """One project driven through the real `claude -p`; :attr:`agent` is the scripted model."""

    def __init__(self, root: Path, home: Path, agent: Agent, server: ScriptedAnthropic) -> None:
        self.root = root
        self.home = home
        self.agent = agent
        self.server = server
        self.hook_log = root.parent / "hook-inputs.jsonl"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "ANTHROPIC_BASE_URL": server.url,
            "ANTHROPIC_API_KEY": "sk-ant-test-dummy-key",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "RECORD_HOOKS_TO": str(self.hook_log),
            **AUTO_COMPACT,
        }

    def run(
        self,
        prompt: str,
        *args: str,
        resume: str | None = None,
        env: dict[str, str] | None = None,
        allow: tuple[str, ...] = ("ToolSearch", "Bash", "mcp__cairn"),
        timeout: float = 120,
    ) -> dict[str, Any]:
        argv = ["claude", "-p", prompt, "--output-format", "json", "--model", "claude-sonnet-4-5"]
        argv += ["--allowedTools", ",".join(allow)]
        if resume:
            argv += ["--resume", resume]
        proc = subprocess.run(
            [*argv, *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, f"claude exited {proc.returncode}: {proc.stderr[-2000:]}"
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        assert result.get("is_error") is False, result
        return result

    def hook_inputs(self, event: str | None = None) -> list[dict[str, Any]]:
        if not self.hook_log.exists():
            return []
        rows = [json.loads(line) for line in self.hook_log.read_text().splitlines() if line]
        return [r for r in rows if event is None or r.get("hook_event_name") == event]

    def cairn(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return cairn(self.root, *args, check=check)

    def journal(self, *types: str) -> list[dict[str, Any]]:
        argv = ["log", "--json", "--limit", "5000"]
        for t in types:
            argv += ["--type", t]
        data = json.loads(self.cairn(*argv).stdout)
        events = data["events"] if isinstance(data, dict) else data
        return list(events)

    def cairn_with_claude(self, *args: str) -> subprocess.CompletedProcess[str]:
        """cairn run with this Claude Code set-up (HOME, server, key), as a user would run it."""
        return subprocess.run(
            [sys.executable, "-m", "cairn", *args],
            cwd=self.root,
            env={**self.env, "BLOCK_STOP_ONCE": str(self.root.parent / "stop-blocked")},
            capture_output=True,
            text=True,
            timeout=300,
        )

    def active_phase(self, task: str = "t1") -> None:
        self.cairn("task", "new", task, "--phases", "plan,implement")
        self.cairn("phase", "start", task, "plan")

    def configure(self, text: str) -> None:
        with (self.root / ".cairn" / "config.toml").open("a", encoding="utf-8") as f:
            f.write("\n" + text + "\n")

    def check_fixtures(self, version: str) -> list[str]:
        """What this client version sent to each hook against tests/fixtures/hooks/claude-<v>/:
        the same fields (values differ run to run). CAIRN_RECORD_HOOK_FIXTURES=1 (re)writes them.
        Returns the fixture names seen."""
        folder = FIXTURES / f"claude-{version}"
        seen: list[str] = []
        for data in self.hook_inputs():
            data.pop("_cairn_spawned", None)
            event = str(data.get("hook_event_name"))
            kind = data.get("source") or data.get("trigger")
            name = f"{event}-{kind}" if kind else event
            if name in seen:
                continue
            seen.append(name)
            path = folder / f"{name}.json"
            if os.environ.get("CAIRN_RECORD_HOOK_FIXTURES") == "1":
                folder.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(scrub(data, self), indent=2, sort_keys=True) + "\n")
                continue
            assert path.exists(), f"no fixture {path.name} for what Claude Code {version} sent"
            recorded = json.loads(path.read_text())
            assert sorted(data) == sorted(recorded), f"{name}: fields changed"
        return seen


def scrub(data: dict[str, Any], claude: Claude) -> dict[str, Any]:
    text = json.dumps(data)
    for path, mark in ((claude.home, "__HOME__"), (claude.root, "__CWD__")):
        text = text.replace(str(path), mark)
    out: dict[str, Any] = json.loads(text)
    return out


def user_hooks() -> dict[str, Any]:
    """The user's own hooks (in ~/.claude/settings.json): record every input, print nothing."""
    command = f"{sys.executable} {RECORDER}"
    events = [
        "SessionStart",
        "PreCompact",
        "PostCompact",
        "Stop",
        "SubagentStop",
        "PostToolUse",
        "UserPromptSubmit",
    ]
    return {
        e: [{"hooks": [{"type": "command", "command": command, "timeout": 10}]}] for e in events
    }


@pytest.fixture
def claude(tmp_path: Path, claude_version_tested: str) -> Iterator[Claude]:
    root = tmp_path / "project"
    home = tmp_path / "home"
    root.mkdir()
    (home / ".claude").mkdir(parents=True)
    # The user approved the project's .mcp.json server, and has hooks of their own.
    settings = {"enabledMcpjsonServers": ["cairn"], "hooks": user_hooks()}
    (home / ".claude" / "settings.json").write_text(json.dumps(settings, indent=2))
    cairn(root, "init")
    cairn(root, "hooks", "install", "claude")
    agent = Agent()
    server = ScriptedAnthropic(agent)
    try:
        yield Claude(root, home, agent, server)
    finally:
        server.close()
