"""cairn as a Codex plugin from a local marketplace, installed with the real `codex plugin`
commands: its skill, MCP server and (trusted) hooks all work in plain `codex exec`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .conftest import Codex, run
from .responses_server import Reply, Request, function_call, message
from .test_codex_cli import start_task


def codex_cmd(codex: Codex, *args: str) -> str:
    proc = run(["codex", *args], cwd=codex.project, env=codex.env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def test_the_plugin_installs_with_codex_and_its_parts_work(codex: Codex, tmp_path: Path) -> None:
    start_task(codex)
    market = tmp_path / "market"
    codex.cairn("hooks", "plugin", "codex", str(market))
    codex_cmd(codex, "plugin", "marketplace", "add", str(market))
    assert "Added plugin `cairn`" in codex_cmd(codex, "plugin", "add", "cairn@cairn-local")

    (answer,) = codex.app_server(("hooks/list", {"cwds": [str(codex.project)]}))
    hooks = answer["data"][0]["hooks"]
    assert len(hooks) == 6 and all(h["pluginId"] == "cairn@cairn-local" for h in hooks)
    assert all(h["trustStatus"] == "trusted" for h in hooks), hooks
    seen: dict[str, Any] = {}

    def script(req: Request) -> Reply:
        if req.index == 0:
            seen["first"] = req.text()
            args = {"text": "Plugin step", "state": "done", "task": "f4"}
            return Reply([function_call("progress", args, namespace="mcp__cairn")])
        seen["out"] = req.outputs("function_call_output")[-1]["output"]
        return Reply([message("Done.")])

    proc, _server = codex.exec(script, "record a step")
    assert proc.returncode == 0, proc.stderr
    assert "# Recovery brief: f4" in seen["first"]  # the plugin's SessionStart hook ran
    assert "cairn-checkpoints" in seen["first"] and "mcp__cairn" in seen["first"]
    assert "requires approval" not in json.dumps(seen["out"])
    assert "Plugin step" in codex.cairn("task", "show", "f4").stdout
