"""review_request keeps within the MCP client's hard tool timeout (Claude Code's MCP_TOOL_TIMEOUT,
which progress does not extend): it answers "pending" 2 s before it. The real Claude Code in
tests/real_clients/claude/test_claude_mcp_wait.py."""

from __future__ import annotations

import math

from cairn.mcp_tools import client_wait_limit


def test_the_wait_stops_two_seconds_short_of_the_client_s_timeout() -> None:
    assert client_wait_limit({"MCP_TOOL_TIMEOUT": "6000"}) == 4.0
    assert client_wait_limit({"MCP_TOOL_TIMEOUT": "1500"}) == 0.0  # pending at once
    assert math.isinf(client_wait_limit({}))
    assert math.isinf(client_wait_limit({"MCP_TOOL_TIMEOUT": "soon"}))
    assert math.isinf(client_wait_limit({"MCP_TOOL_TIMEOUT": "0"}))
