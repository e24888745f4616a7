"""The CLI (`--json` and its confirmations) and the MCP tools answer in the same shapes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

pytest.importorskip("mcp")

from mcp import Client, StdioServerParameters

from cairn.cli import main


def cli(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> str:
    capsys.readouterr()
    assert main(["-C", str(root), *argv]) == 0
    return capsys.readouterr().out


def cli_json(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(cli(capsys, root, *argv, "--json"))
    return data


def mcp_session(root: Path, calls: list[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    """Each call's answer by its label: the structured content, or the text of a text tool."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "cairn", "mcp"], cwd=str(root), env={"HOME": str(root)}
    )

    async def session() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with Client(params, read_timeout_seconds=60) as client:
            for label, tool, args in calls:
                r = await client.call_tool(tool, args)
                text = "\n".join(getattr(c, "text", "") for c in r.content)
                assert not r.is_error, (tool, text)
                sc = r.structured_content
                out[label] = text if sc is None or set(sc) == {"result"} else sc
        return out

    return anyio.run(session)


def test_cli_json_and_mcp_tools_give_the_same_shapes(
    ws_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = ws_path
    (root / "notes.py").write_text("x = 1\n")
    got = mcp_session(
        root,
        [
            ("task_new", "task_new", {"task": "f4", "phases": ["analysis", "plan"], "title": "F4"}),
            ("start", "phase_start", {"phase": "analysis"}),
            (
                "cp_write",
                "checkpoint_write",
                {"kind": "analysis", "content": "# Analysis\n\nfound\n", "reload": ["notes.py"]},
            ),
            ("step", "progress", {"text": "read the scripts", "as_json": True}),
            ("step_text", "progress", {"text": "ranked the results"}),
            ("next", "next_action", {"text": "write the plan"}),
            ("done", "phase_done", {"phase": "analysis"}),
            ("budget", "budget_record", {"category": "specs", "source": "spec", "tokens": 120}),
            (
                "review",
                "review_request",
                {"topic": "f4_plan", "question": "Sound?", "task": "f4", "reviewer": "human"},
            ),
            # reads, compared with the CLI's answers for the same state below
            ("show", "task_show", {"task": "f4"}),
            ("list", "task_list", {}),
            ("cp_read", "checkpoint_read", {"kind": "analysis", "task": "f4"}),
            ("cp_list", "checkpoint_list", {"task": "f4"}),
            ("status", "status", {"as_json": True}),
            ("brief", "recover", {"task": "f4", "log": False, "as_json": True}),
            ("rounds", "review_show", {"review": "f4_plan"}),
            ("pending", "review_show", {"pending": True}),
        ],
    )

    # Reads of the same state: the same documents.
    assert got["show"] == cli_json(capsys, root, "task", "show", "f4")
    assert got["show"]["schema"] == "cairn.task/1"
    assert [s["text"] for s in got["show"]["steps"]] == ["read the scripts", "ranked the results"]
    assert {c["kind"]: c["versions"] for c in got["show"]["checkpoints"]}["analysis"] == 1
    assert got["list"] == cli_json(capsys, root, "task", "list")
    assert got["cp_read"] == cli_json(capsys, root, "checkpoint", "show", "f4", "analysis")
    assert got["cp_list"] == cli_json(capsys, root, "checkpoint", "list", "f4")
    status = json.loads(got["status"])
    cli_status = cli_json(capsys, root, "status")
    assert status["schema"] == "cairn.status/1"
    assert {**status, "generated_at": None} == {**cli_status, "generated_at": None}
    brief = cli_json(capsys, root, "recover", "--task", "f4", "--no-log")
    assert brief["schema"] == "cairn.brief/1"

    def untimed(b: dict[str, Any]) -> dict[str, Any]:
        # The heading says when the brief was built, and its token count follows those digits.
        assert isinstance(b["tokens"], int)
        return {**b, "text": b["text"].split("\n", 1)[1], "tokens": None}

    assert untimed(json.loads(got["brief"])) == untimed(brief)
    assert got["rounds"] == cli_json(capsys, root, "review", "show", "f4_plan")
    assert got["pending"] == cli_json(capsys, root, "review", "list", "--pending")

    # Writes of the same kind of thing: the same fields (ids and times differ).
    cli(capsys, root, "task", "new", "g", "--phases", "a,b")
    cli(capsys, root, "phase", "start", "g", "a")
    (root / "c.md").write_text("# C\n")
    made = {
        "task_new": cli_json(capsys, root, "task", "new", "h", "--phases", "x,y", "--title", "H"),
        "cp_write": cli_json(
            capsys, root, "checkpoint", "write", "g", "analysis", "--file", "c.md"
        ),
        "step": cli_json(capsys, root, "progress", "g", "read the scripts"),
        "budget": cli_json(capsys, root, "budget", "record", "specs", "120", "--source", "spec"),
    }
    for label, cli_doc in made.items():
        mcp_doc = got[label] if label != "step" else json.loads(got[label])
        assert mcp_doc["schema"] == cli_doc["schema"], label
        assert set(cli_doc) <= set(mcp_doc), label
        if label != "budget":  # budget_record keeps its older `context` key beside context_id
            assert set(mcp_doc) == set(cli_doc), label
    # ... and the same confirmations in text.
    assert got["start"] == "f4: phase analysis active"
    assert cli(capsys, root, "progress", "g", "ranked the results").strip() == (
        got["step_text"].replace("f4", "g")
    )
    assert cli(capsys, root, "next", "g", "write the plan").strip() == (
        got["next"].replace("f4", "g")
    )
    assert cli(capsys, root, "phase", "done", "g", "a").strip() == (
        got["done"].replace("f4", "g").replace("analysis", "a").replace("plan", "b")
    )
