"""Two Claude Code sessions in one workspace, interleaved (A starts, B starts, A goes on): each
one's Stop records into its own budget context, not the newest one in the workspace (B's)."""

from __future__ import annotations

import json

import pytest

from real_clients.claude.anthropic_server import Reply
from real_clients.claude.conftest import Claude

pytestmark = pytest.mark.real_client


def test_two_sessions_keep_their_own_budget_contexts(claude: Claude) -> None:
    claude.active_phase()
    claude.agent.script(Reply(text="A started."))
    a = claude.run("session A")["session_id"]
    claude.agent.script(Reply(text="B started."))
    b = claude.run("session B")["session_id"]
    claude.agent.script(Reply(text="A again."))
    claude.run("A goes on: " + "a" * 4000, resume=a)
    assert a != b
    started = {e["data"]["note"]: e["data"]["context"] for e in claude.journal("budget.context")}
    assert started[a] != started[b]
    went: dict[str, set[str]] = {}
    for e in claude.journal("hook.ledger"):
        went.setdefault(e["data"]["session"], set()).add(e["data"]["context"])
    assert went == {a: {started[a]}, b: {started[b]}}

    def user(session: str) -> int:
        got = json.loads(claude.cairn("budget", "--json", "--context", started[session]).stdout)
        return sum(c["used"] for c in got["categories"] if c["category"] == "user")

    assert user(a) >= 1000 > user(b) > 0  # A's second prompt is in A's context only
