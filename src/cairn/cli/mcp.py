"""``cairn mcp``: serve the workspace to an agent over MCP (stdio only)."""

from __future__ import annotations

import argparse
from typing import Any

ORDER = 60


def register(sub: Any) -> None:
    p = sub.add_parser(
        "mcp",
        help="serve this workspace as an MCP server over stdio (tools: status, recover, "
        "checkpoints, phases, progress, …); register it with `cairn hooks install`",
    )
    p.set_defaults(func=cmd_mcp)


def cmd_mcp(args: argparse.Namespace) -> int:
    try:
        from cairn.mcp_start import serve
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("mcp", "pydantic"):
            from cairn.core.errors import UsageError

            raise UsageError(
                "the MCP server needs the mcp SDK: pip install 'cairn-agent[mcp]'"
            ) from exc
        raise
    serve(args.workspace)
    return 0
