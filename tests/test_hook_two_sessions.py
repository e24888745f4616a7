"""Two client sessions at once in one workspace (two Claude Code windows, or Claude Code and
Codex): each one's turns land in its own budget context, though the other started one since, run
through the hook entry point the clients call (``python -m cairn.hooks``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cairn.domain.workspace import Workspace
from test_client_budget import (
    MODEL,
    budget,
    claude_rows,
    codex_rollout,
    hook,
    stop_input,
    subagent_input,
    write,
)


def start(root: Path, session: str, source: str = "startup", agent: str = "claude") -> None:
    payload = {
        "session_id": session,
        "cwd": str(root),
        "hook_event_name": "SessionStart",
        "source": source,
    }
    hook("session-start", payload, agent=agent)


def own_context(root: Path, session: str) -> str:
    with Workspace.open(root) as ws, ws.store.read() as tx:
        row = tx.ledger.newest_context(note=session)
    assert row is not None, f"no context of session {session}"
    return row.id


def used(report: dict[str, Any]) -> dict[str, int]:
    return {c["category"]: c["used"] for c in report["categories"] if c["used"]}


def rows(session: str, prompt: int) -> list[dict[str, Any]]:
    out = claude_rows(MODEL)
    for r in out:
        r["sessionId"] = session
    out[0]["message"]["content"] = "p" * prompt
    return out


def test_two_sessions_in_one_workspace_each_keep_their_own_context(
    ws_path: Path, tmp_path: Path
) -> None:
    start(ws_path, "A")
    start(ws_path, "B")  # B's context is now the workspace's newest
    a, b = own_context(ws_path, "A"), own_context(ws_path, "B")
    assert a != b
    a_log = write(tmp_path / "A.jsonl", rows("A", 400))
    b_log = write(tmp_path / "B.jsonl", rows("B", 2000))
    hook("stop", stop_input(ws_path, a_log, "A"))
    hook("stop", stop_input(ws_path, b_log, "B"))
    got_a, got_b = budget(ws_path, "--context", a), budget(ws_path, "--context", b)
    assert used(got_a)["user"] == 100 and used(got_b)["user"] == 500  # each its own prompt
    assert got_b["total_in_context"] - got_a["total_in_context"] == 400  # and nothing else
    for got in (got_a, got_b):  # the window the session's client works with, recorded per context
        assert got["settings"]["window"] == 200_000

    # A compaction in A starts A's next context; A goes on there, B stays in its own.
    start(ws_path, "A", source="compact")
    a2 = own_context(ws_path, "A")
    assert a2 not in (a, b)
    start(ws_path, "C")  # a third session starts after it
    prompt = {"role": "user", "content": "q" * 80}
    more = {"type": "user", "uuid": "u9", "timestamp": "2026-12-01T10:00:09.000Z"}
    write(a_log, [{**more, "sessionId": "A", "message": prompt}])
    write(b_log, [{**more, "sessionId": "B", "message": {**prompt, "content": "q" * 120}}])
    hook("stop", stop_input(ws_path, a_log, "A"))
    hook("stop", stop_input(ws_path, b_log, "B"))
    assert used(budget(ws_path, "--context", a2))["user"] == 20
    assert used(budget(ws_path, "--context", b))["user"] == 500 + 30
    assert budget(ws_path, "--context", a) == got_a  # A's first context is closed

    # A subagent of A (its SubagentStop names A's session) counts in A's context.
    sub = write(tmp_path / "agent-a1.jsonl", claude_rows(MODEL, sidechain=True))
    hook("subagent-stop", {**subagent_input(ws_path, sub, "R" * 800), "session_id": "A"})
    with Workspace.open(ws_path) as ws, ws.store.read() as tx:
        assert "subagent_work" in tx.ledger.totals(a2)
        assert "subagent_work" not in tx.ledger.totals(own_context(ws_path, "C"))
        others = [json.dumps(tx.ledger.totals(c)) for c in (a, b)]
    assert all("subagent_work" not in t for t in others)


def test_a_session_with_no_context_of_its_own_goes_by_the_newest(
    ws_path: Path, tmp_path: Path
) -> None:
    """A session that started before its hooks (or before contexts were noted with the session)
    has no context of its own: its turns go to the newest one, as before."""
    start(ws_path, "B")
    hook("stop", stop_input(ws_path, write(tmp_path / "old.jsonl", rows("old", 400)), "old"))
    report = budget(ws_path)
    assert report["context"] == own_context(ws_path, "B") and used(report)["user"] == 100


def test_claude_code_and_codex_at_once_each_keep_their_own_context(
    ws_path: Path, tmp_path: Path
) -> None:
    home = tmp_path / "codex-home"
    home.mkdir()
    start(ws_path, "claude-1")
    start(ws_path, "codex-1", agent="codex")
    hook(
        "stop", stop_input(ws_path, write(tmp_path / "c.jsonl", rows("claude-1", 2000)), "claude-1")
    )
    rollout = codex_rollout(tmp_path / "rollout-1.jsonl", 258_400)  # a 400-character prompt
    stop = stop_input(ws_path, rollout, "codex-1")
    hook("stop", stop, agent="codex", CODEX_HOME=str(home))
    mine = budget(ws_path, "--context", own_context(ws_path, "claude-1"))
    theirs = budget(ws_path, "--context", own_context(ws_path, "codex-1"))
    assert used(mine)["user"] == 500 and used(theirs)["user"] == 100
    # Each measured against its own client's window: Claude's model's, Codex's reported one.
    assert (mine["settings"]["window"], theirs["settings"]["window"]) == (200_000, 272_000)
