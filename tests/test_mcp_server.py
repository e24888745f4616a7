"""The MCP server through a real stdio client session of the official SDK (a child process)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

pytest.importorskip("mcp")

from mcp import Client, StdioServerParameters

from cairn.domain.workspace import Workspace


def _params(root: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "cairn", "mcp"], cwd=str(root), env={"HOME": str(root)}
    )


def _text(result: Any) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)


def _server_inet_sockets() -> list[str] | None:
    """TCP/UDP sockets held by our `cairn mcp` child, from /proc (None where there is no /proc)."""
    proc = Path("/proc")
    if not (proc / "net" / "tcp").exists():
        return None
    me = str(os.getpid())
    pids = []
    for d in proc.iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0")
            ppid = (d / "stat").read_text().rsplit(")", 1)[1].split()[1]
        except OSError:
            continue
        if ppid == me and b"mcp" in cmd and b"cairn" in cmd:
            pids.append(d)
    assert pids, "the server child process was not found"
    inodes = set()
    for d in pids:
        for fd in (d / "fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        path = proc / "net" / table
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            cols = line.split()
            if len(cols) > 9 and cols[9] in inodes:
                found.append(f"{table} {cols[1]} state {cols[3]}")
    return found


def test_stdio_session_tools_errors_and_resources(ws_path: Path) -> None:
    (ws_path / "notes.py").write_text("x = 1\n")

    async def session() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with Client(_params(ws_path), read_timeout_seconds=30) as client:
            tools = await client.list_tools()
            out["tools"] = {t.name: t for t in tools.tools}

            r = await client.call_tool(
                "task_new", {"task": "finding4", "phases": ["analysis", "plan"], "title": "F4"}
            )
            out["task_new"] = r
            out["inet"] = _server_inet_sockets()
            out["start"] = await client.call_tool("phase_start", {"phase": "analysis"})
            out["cp"] = await client.call_tool(
                "checkpoint_write",
                {"kind": "analysis", "content": "# Analysis\n\nfound it\n", "reload": ["notes.py"]},
            )
            # Bad arguments: a wrong type, a missing required one, a domain error.
            out["bad_type"] = await client.call_tool("progress", {"text": "x", "state": "maybe"})
            out["bad_missing"] = await client.call_tool("checkpoint_write", {"kind": "plan"})
            out["bad_domain"] = await client.call_tool(
                "checkpoint_read", {"kind": "plan", "task": "finding4"}
            )
            out["bad_path"] = await client.call_tool(
                "checkpoint_write", {"kind": "plan", "content": "p", "reload": ["../../etc/passwd"]}
            )
            # ... and the server is still up and answers the next call.
            out["progress"] = await client.call_tool("progress", {"text": "read the scripts"})
            out["next"] = await client.call_tool("next_action", {"text": "write the plan"})
            out["read"] = await client.call_tool("checkpoint_read", {"kind": "analysis"})
            out["list"] = await client.call_tool("checkpoint_list", {})
            out["status"] = await client.call_tool("status", {})
            out["recover"] = await client.call_tool("recover", {"trigger": "compact"})
            out["done"] = await client.call_tool("phase_done", {"phase": "analysis"})
            out["show"] = await client.call_tool("task_show", {"task": "finding4"})
            resources = await client.list_resources()
            out["resources"] = {str(r.uri) for r in resources.resources}
            templates = await client.list_resource_templates()
            out["templates"] = {t.uri_template for t in templates.resource_templates}
            art = await client.read_resource("cairn://artifacts/finding4/analysis")
            out["artifact"] = art.contents[0].text  # type: ignore[union-attr]
            st = await client.read_resource("cairn://status")
            out["status_res"] = st.contents[0].text  # type: ignore[union-attr]
        return out

    out = anyio.run(session)
    expected = {
        "status",
        "recover",
        "task_new",
        "task_show",
        "task_list",
        "phase_start",
        "phase_done",
        "phase_fail",
        "checkpoint_write",
        "checkpoint_read",
        "checkpoint_list",
        "progress",
        "next_action",
    }
    assert expected <= set(out["tools"])
    schema = out["tools"]["progress"].input_schema
    assert schema["required"] == ["text"]
    assert '"enum": ["done", "active", "todo", "failed"]' in json.dumps(
        schema["properties"]["state"]
    )

    assert not out["task_new"].is_error
    assert out["inet"] in (None, [])  # stdio only: no TCP or UDP socket at all
    assert not out["start"].is_error
    assert not out["cp"].is_error
    assert out["cp"].structured_content["path"] == "artifacts/finding4_analysis.md"

    for key in ("bad_type", "bad_missing", "bad_domain", "bad_path"):
        assert out[key].is_error, key
    assert "state" in _text(out["bad_type"])
    assert "content" in _text(out["bad_missing"])
    assert "no checkpoint 'plan'" in _text(out["bad_domain"])
    assert "analysis" in _text(out["bad_domain"])  # says what exists instead
    assert "outside the workspace" in _text(out["bad_path"])

    assert not out["progress"].is_error
    assert "read the scripts" in _text(out["progress"])
    assert out["read"].structured_content["content"] == "# Analysis\n\nfound it\n"
    kinds = {c["kind"] for c in out["list"].structured_content["checkpoints"]}
    assert kinds == {"analysis", "progress"}
    assert "finding4" in _text(out["status"])
    brief = _text(out["recover"])
    assert "Recovery brief: finding4" in brief and "notes.py" in brief
    assert "next phase: plan" in _text(out["done"])
    steps = out["show"].structured_content["steps"]
    assert [s["text"] for s in steps] == ["read the scripts"]

    assert {"cairn://status", "cairn://recovery-log", "cairn://artifacts"} <= out["resources"]
    assert "cairn://artifacts/{task}/{kind}" in out["templates"]
    assert out["artifact"] == "# Analysis\n\nfound it\n"
    assert "# Current Work Status" in out["status_res"]

    # The tool calls went to the store: the same state through the library.
    with Workspace.open(ws_path) as ws:
        assert ws.task("finding4").next_action == "write the plan"
        assert ws.recoveries()[-1].trigger == "compact"
        assert (ws_path / "artifacts" / "finding4_analysis.md").exists()


def test_server_outside_a_workspace_reports_it_as_a_tool_error(tmp_path: Path) -> None:
    async def session() -> Any:
        async with Client(_params(tmp_path), read_timeout_seconds=30) as client:
            first = await client.call_tool("status", {})
            second = await client.call_tool("task_list", {})
            return first, second

    first, second = anyio.run(session)
    assert first.is_error and "cairn init" in _text(first)
    assert second.is_error  # still serving


def test_review_budget_and_advise_tools(ws_path: Path) -> None:
    async def session() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with Client(_params(ws_path), read_timeout_seconds=60) as client:
            names = {t.name for t in (await client.list_tools()).tools}
            out["names"] = names
            await client.call_tool("task_new", {"task": "f4", "phases": ["plan", "implement"]})
            await client.call_tool("phase_start", {"phase": "plan"})
            await client.call_tool(
                "checkpoint_write", {"kind": "plan", "content": "# Plan\n\n**Approach**: k\n"}
            )
            out["advise"] = await client.call_tool("advise", {"read_lines": 900})
            out["advise_bad"] = await client.call_tool("advise", {"read_lines": -1})
            out["rec"] = await client.call_tool(
                "budget_record", {"category": "specs", "source": "docs/spec.md", "tokens": 1200}
            )
            out["rec_text"] = await client.call_tool(
                "budget_record", {"category": "user", "source": "chat", "text": "hello there"}
            )
            out["rec_bad"] = await client.call_tool(
                "budget_record", {"category": "specs", "source": "x"}
            )
            out["show"] = await client.call_tool("budget_show", {})
            out["review"] = await client.call_tool(
                "review_request",
                {
                    "topic": "f4_approach",
                    "question": "Is this approach sound?",
                    "task": "f4",
                    "reviewer": "human",
                },
            )
            out["list"] = await client.call_tool("review_show", {"pending": True})
        return out

    out = anyio.run(session)
    assert {
        "review_request",
        "review_answer",
        "review_show",
        "budget_record",
        "budget_show",
        "advise",
    } <= out["names"]
    assert not out["advise"].is_error
    advice = out["advise"].structured_content
    assert advice["decision"] == "delegate" and advice["rule"] == "read-lines"
    assert advice["text"].startswith("Delegate to a subagent")
    assert out["advise_bad"].is_error and "read_lines" in _text(out["advise_bad"])
    assert out["rec"].structured_content["tokens"] == 1200
    assert out["rec_text"].structured_content["tokens"] > 0
    assert out["rec_bad"].is_error and "tokens or text" in _text(out["rec_bad"])
    assert "specs" in _text(out["show"])
    assert not out["review"].is_error, _text(out["review"])
    review = out["review"].structured_content
    assert review["state"] == "pending" and review["topic"] == "f4_approach"
    assert [r["id"] for r in out["list"].structured_content["reviews"]] == [review["id"]]


def test_unknown_arguments_are_refused_and_the_server_goes_on(ws_path: Path) -> None:
    async def session() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with Client(_params(ws_path), read_timeout_seconds=30) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            out["schema"] = tools["review_show"].input_schema
            # A misspelt optional argument must not silently list every review instead.
            out["typo"] = await client.call_tool("review_show", {"topic_or_id": "f4"})
            out["ok"] = await client.call_tool("review_show", {"pending": True})
            out["status"] = await client.call_tool("status", {})
        return out

    out = anyio.run(session)
    assert out["schema"].get("additionalProperties") is False
    assert out["typo"].is_error and "topic_or_id" in _text(out["typo"])
    assert not out["ok"].is_error and not out["status"].is_error
