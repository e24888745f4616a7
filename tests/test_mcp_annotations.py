"""Every MCP tool says what it does to the world (annotations), and budget_record takes every
category it advertises."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

pytest.importorskip("mcp")

from mcp import Client, StdioServerParameters

from cairn.mcp_tools import ANNOTATIONS


def _params(root: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable, args=["-m", "cairn", "-C", str(root), "mcp"]
    )


def test_every_tool_is_annotated_and_every_advertised_category_is_taken(ws_path: Path) -> None:
    async def session() -> dict[str, Any]:
        out: dict[str, Any] = {"recorded": {}}
        async with Client(_params(ws_path), read_timeout_seconds=60) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            out["tools"] = tools
            described = tools["budget_record"].input_schema["properties"]["category"]
            out["description"] = described["description"]
            names = re.match(r"one of ([^(]+) \(aliases: (.*)\)", described["description"])
            assert names is not None, described["description"]
            wanted = [n.strip() for n in re.split(r",|\bor\b", names.group(1)) if n.strip()]
            wanted += re.findall(r"'([^']+)'", names.group(2))
            for name in wanted:
                out["recorded"][name] = await client.call_tool(
                    "budget_record", {"category": name, "source": "test", "tokens": 1}
                )
        return out

    out = anyio.run(session)
    tools = out["tools"]
    assert set(tools) == set(ANNOTATIONS), "a tool without annotations (or a stale entry)"
    for name, tool in tools.items():
        a = tool.annotations
        assert a is not None, name
        read_only, destructive, idempotent, open_world = ANNOTATIONS[name]
        assert (a.read_only_hint, a.destructive_hint, a.idempotent_hint, a.open_world_hint) == (
            read_only,
            destructive,
            idempotent,
            open_world,
        )
    assert tools["status"].annotations.read_only_hint is True
    assert tools["checkpoint_write"].annotations.read_only_hint is False
    assert len(out["recorded"]) >= 6, out["description"]
    for name, result in out["recorded"].items():
        assert not result.is_error, (name, result.content)
