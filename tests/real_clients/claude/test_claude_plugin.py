"""cairn as a Claude Code plugin (plugins/claude/), with the real `claude plugin …` commands: the
manifest and the marketplace validate, the plugin installs from the local marketplace, and in a
session its hooks hand over the brief, its slash command reaches the model, its skill is offered
and its MCP server's tools round-trip, with no `cairn hooks install` in the project."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from real_clients.claude.anthropic_server import Reply
from real_clients.claude.conftest import Claude
from real_clients.claude.scripts import texts

pytestmark = pytest.mark.real_client

MARKETPLACE = Path(__file__).resolve().parents[3] / "plugins" / "claude"
TOOL = "mcp__plugin_cairn_cairn__checkpoint_write"


def plugin(claude: Claude, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["claude", "plugin", *args],
        cwd=claude.root,
        env=claude.env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_the_plugin_installs_from_the_local_marketplace_and_works(claude: Claude) -> None:
    # The plugin's hooks and server start `cairn` from PATH, as after `pipx install cairn`.
    claude.env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + claude.env["PATH"]
    claude.cairn("hooks", "uninstall", "claude")
    assert (
        not (claude.root / ".mcp.json").exists()
        or "cairn" not in (claude.root / ".mcp.json").read_text()
    )
    plugin(claude, "validate", "--strict", str(MARKETPLACE / "cairn"))
    plugin(claude, "validate", "--strict", str(MARKETPLACE))
    plugin(claude, "marketplace", "add", str(MARKETPLACE))
    plugin(claude, "install", "cairn@cairn")
    listed = plugin(claude, "list").stdout
    assert "cairn@cairn" in listed, listed

    claude.active_phase()
    done = {"kind": "progress-notes", "content": "# Parser\n\nDone; tests next."}
    claude.agent.script(Reply(tool_calls=[(TOOL, done)]), Reply(text="Checkpointed."))
    result = claude.run("/cairn:checkpoint progress-notes the parser", allow=("ToolSearch", TOOL))
    assert result["result"] == "Checkpointed."
    first = texts(claude.agent.main[0])
    assert "# Recovery brief: t1" in first  # the plugin's SessionStart hook
    assert "Write a checkpoint of the current work" in first  # the slash command's body
    assert "checkpoint-workflow" in first  # the skill is offered
    (cp,) = claude.journal("checkpoint.written")
    assert cp["data"]["kind"] == "progress-notes"
    offered = [t["name"] for t in claude.agent.main[-1]["tools"]]
    assert TOOL in offered, offered
    assert json.loads(claude.cairn("status", "--json").stdout)


def status(claude: Claude) -> tuple[int, dict[str, dict[str, str]]]:
    proc = subprocess.run(
        [sys.executable, "-m", "cairn", "hooks", "status", "--json"],
        cwd=claude.root,
        env=claude.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    checks = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
    return proc.returncode, checks


def test_install_refuses_beside_the_enabled_plugin(claude: Claude) -> None:
    """The plugin and `cairn hooks install claude` run the same hooks: never both."""
    claude.env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + claude.env["PATH"]
    claude.cairn("hooks", "uninstall", "claude")
    plugin(claude, "marketplace", "add", str(MARKETPLACE))
    plugin(claude, "install", "cairn@cairn")
    # `cairn` reads the same HOME as Claude Code here.
    proc = subprocess.run(
        [sys.executable, "-m", "cairn", "hooks", "install", "claude"],
        cwd=claude.root,
        env=claude.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "cairn@cairn" in proc.stderr and "claude plugin disable cairn@cairn" in proc.stderr
    assert "hooks" not in json.loads((claude.root / ".claude" / "settings.json").read_text())
    code, checks = status(claude)
    assert code == 0 and checks["claude plugin"]["outcome"] == "ok", checks
    assert checks["claude mcp"]["outcome"] == "ok", (
        checks
    )  # the plugin's server: plugin:cairn:cairn
    plugin(claude, "disable", "cairn@cairn")
    again = subprocess.run(
        [sys.executable, "-m", "cairn", "hooks", "install", "claude"],
        cwd=claude.root,
        env=claude.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr


def test_plugin_and_installed_hooks_together_run_each_hook_once(
    claude: Claude, claude_version_tested: str
) -> None:
    """Enabled after `cairn hooks install claude` (which cannot see it coming): Claude Code runs
    both copies of every hook; the second does nothing, and doctor says how to end it."""
    claude.env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + claude.env["PATH"]
    plugin(claude, "marketplace", "add", str(MARKETPLACE))
    plugin(claude, "install", "cairn@cairn")
    claude.active_phase()
    claude.configure("[hooks]\nstop_block = true\ncheckpoint_reminder_minutes = 0.001")
    claude.agent.script(Reply(text="All done."), Reply(text="Still done."))
    claude.run("go")
    first = texts(claude.agent.main[0])
    assert first.count("# Recovery brief: t1") == 1
    assert [e["data"]["trigger"] for e in claude.journal("recovery")] == ["startup"]
    assert len(claude.journal("hook.brief")) == 1
    assert len(claude.journal("hook.reminder")) == 1  # the Stop hook blocked once, not twice
    starts = claude.hook_inputs("SessionStart")
    assert len(starts) == 1  # the user's recorder: one event, whatever ran cairn's hooks
    code, checks = status(claude)
    assert code == 1 and checks["claude plugin"]["outcome"] == "fail", checks
    assert "twice" in checks["claude plugin"]["detail"]
    assert checks["claude plugin"]["fix"].startswith("cairn hooks uninstall claude")
    claude.check_fixtures(claude_version_tested)
