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
