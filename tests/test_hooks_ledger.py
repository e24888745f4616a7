"""The session's own context ledger: the Stop hook attributes what a Claude Code turn put into the
context to the seed's budget categories, once per turn; a compaction starts a new context."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from cairn.domain.workspace import Workspace


def rec(kind: str, ts: str, content: Any, **extra: Any) -> dict[str, Any]:
    role = "assistant" if kind == "assistant" else "user"
    message = {"role": role, "content": content, "model": "m"}
    return {
        "type": kind,
        "sessionId": "s",
        "uuid": ts,
        "timestamp": ts,
        "message": message,
        **extra,
    }


def tool_use(i: str, name: str, **args: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": i, "name": name, "input": args}


def result(i: str, text: str) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": i, "content": text}


def turn(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("a") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)


def stop(root: Path, transcript: Path) -> None:
    data = {
        "session_id": "s",
        "transcript_path": str(transcript),
        "cwd": str(root),
        "hook_event_name": "Stop",
        "stop_hook_active": False,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "cairn.hooks", "stop"],
        input=json.dumps(data).encode(),
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0 and not proc.stderr, proc.stderr


def used(root: Path) -> dict[str, int]:
    proc = subprocess.run(
        [sys.executable, "-m", "cairn", "-C", str(root), "budget", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return {c["category"]: c["used"] for c in json.loads(proc.stdout)["categories"]}


def test_a_turn_is_attributed_to_the_seed_categories_once(ws_path: Path, tmp_path: Path) -> None:
    ws = Workspace.open(ws_path)
    ws.create_task("t1", "", ["plan"])
    ws.close()
    path = tmp_path / "s.jsonl"
    turn(
        path,
        [
            rec("user", "2026-01-01T00:00:01.000Z", "x" * 400),  # the user's prompt
            rec(
                "assistant",
                "2026-01-01T00:00:02.000Z",
                [
                    tool_use("a", "Read", file_path="/p/docs/SPEC.md"),
                    tool_use("b", "Agent", prompt="look"),
                    tool_use("c", "Bash", command="ls"),
                ],
            ),
            rec(
                "user",
                "2026-01-01T00:00:03.000Z",
                [result("a", "s" * 4000), result("b", "r" * 800), result("c", "o" * 40)],
            ),
            rec("user", "2026-01-01T00:00:04.000Z", "sub", isSidechain=True),  # not this context
        ],
    )
    stop(ws_path, path)
    first = used(ws_path)
    assert first["specs"] == 1000 and first["user"] == 100 and first["subagent_summaries"] == 200
    assert first["orchestration"] > 10
    stop(ws_path, path)  # nothing new: nothing counted again
    assert used(ws_path) == first
    turn(path, [rec("user", "2026-01-01T00:00:05.000Z", "y" * 800)])
    stop(ws_path, path)
    assert used(ws_path)["user"] == 300
