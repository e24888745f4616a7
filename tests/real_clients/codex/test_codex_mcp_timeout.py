"""What the real Codex CLI does with a long cairn MCP call: it asks for progress (every request
carries a progressToken) and cairn sends it, but Codex waits only `tool_timeout_sec` (default 300 s)
whatever the progress, then fails the call and cancels it. cairn's review_request therefore
answers "pending" a little before that limit, which it reads as Codex does (here from `-c` on
Codex's command line), and the agent polls the verdict. The JSON-RPC traffic is observed with a
`tee` between Codex and `cairn mcp`."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from .conftest import Codex
from .responses_server import Reply, Request, function_call, message
from .test_codex_review import QUESTION, VERDICT, gated_task, is_reviewer

LIMIT = 6  # seconds: -c mcp_servers.cairn.tool_timeout_sec


def tee_server(codex: Codex, tmp_path: Path) -> tuple[Path, Path]:
    """Put a `tee` of both directions between Codex and cairn's MCP server."""
    sent, answered = tmp_path / "to_cairn.jsonl", tmp_path / "from_cairn.jsonl"
    wrapper = tmp_path / "cairn-mcp.sh"
    wrapper.write_text(f"#!/bin/sh\ntee {sent} | {sys.executable} -m cairn mcp | tee {answered}\n")
    wrapper.chmod(0o755)
    cfg = codex.home / "config.toml"
    text, n = re.subn(
        r'(\[mcp_servers\.cairn\]\n)command = "[^"]*"\nargs = \[[^\]]*\]',
        lambda m: f'{m.group(1)}command = "{wrapper}"\nargs = []',
        cfg.read_text(),
    )
    assert n == 1, text
    cfg.write_text(text)
    return sent, answered


def messages(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def test_a_long_review_request_answers_pending_within_codexs_tool_timeout(
    codex: Codex, tmp_path: Path
) -> None:
    gated_task(codex)
    sent, answered = tee_server(codex, tmp_path)
    seen: dict[str, Any] = {}

    def script(req: Request) -> Reply:
        if is_reviewer(req):
            time.sleep(LIMIT + 4)  # longer than Codex waits for the tool
            return Reply([message(json.dumps(VERDICT))])
        outputs = req.outputs("function_call_output")
        if not outputs:
            seen["asked"] = time.monotonic()
            args = {"topic": "f4_plan", "question": QUESTION, "task": "f4", "reviewer": "codex"}
            call = function_call("review_request", {**args, "wait_s": 60}, namespace="mcp__cairn")
            return Reply([call])
        if "first" not in seen:
            seen["first"], seen["answered"] = outputs[-1]["output"], time.monotonic()
        elif "approved" in json.dumps(outputs[-1]["output"]) or seen.get("polls", 0) >= 30:
            seen["polled"] = outputs[-1]["output"]
            return Reply([message("The plan is approved.")])
        seen["polls"] = seen.get("polls", 0) + 1
        time.sleep(2)
        return Reply([function_call("review_show", {"review": "f4_plan"},
                                    namespace="mcp__cairn")])  # fmt: skip

    proc, _server = codex.exec(
        script, "get the plan reviewed", f"mcp_servers.cairn.tool_timeout_sec={LIMIT}", timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    first = seen["first"]  # Codex's "Wall time: …\nOutput:\n" and cairn's answer
    assert isinstance(first, str) and "timed out" not in first, first
    review = json.loads(first.split("Output:\n", 1)[1])
    assert review["state"] == "pending" and review["waiting"]["poll"] == "review_show"
    assert seen["answered"] - seen["asked"] < LIMIT + 3  # answered, not cut off
    assert "approved" in json.dumps(seen["polled"])
    # Codex asked for progress on the call and cairn reported it while it waited.
    (call,) = [m for m in messages(sent) if m.get("method") == "tools/call"
               and m["params"]["name"] == "review_request"]  # fmt: skip
    token = call["params"]["_meta"]["progressToken"]
    progress = [m for m in messages(answered) if m.get("method") == "notifications/progress"]
    assert progress and all(p["params"]["progressToken"] == token for p in progress)
    assert not [m for m in messages(sent) if m.get("method") == "notifications/cancelled"]
    codex.cairn("phase", "start", "f4", "plan")
