"""`cairn review request --reviewer claude` through the real `claude -p` (issue 14): with cairn's
hooks installed, `stop_block = true` and a phase active, the reviewer's session gets no brief, no
reminder and no block from cairn, leaves nothing in the journal, while the user's own hooks run
there as usual; the verdict recorded is the reviewer's answer to cairn's question even when a
user's Stop hook makes the session go on, and the model is the one Claude Code reports."""

from __future__ import annotations

import json

import pytest

from real_clients.claude.anthropic_server import Reply
from real_clients.claude.conftest import Claude
from real_clients.claude.scripts import texts

pytestmark = pytest.mark.real_client

QUESTION = "Q-7: is the ranking plan sound?"
VERDICT = {"approved": True, "recommendation": "Proceed with k=4.", "concerns": ["GPU cost"]}


def test_a_claude_review_is_cairn_s_own_call_not_the_agent_s_work(claude: Claude) -> None:
    claude.active_phase()
    claude.cairn("checkpoint", "write", "t1", "plan", "--file", str(plan(claude)))
    claude.configure("[hooks]\nstop_block = true\ncheckpoint_reminder_minutes = 0.001")
    before = [e["type"] for e in claude.journal()]
    claude.agent.script(Reply(text=json.dumps(VERDICT)), Reply(text="Yes, I am sure."))
    proc = claude.cairn_with_claude(
        "review", "request", "--task", "t1", "--topic", "t1_plan", "--question", QUESTION,
        "--reviewer", "claude:claude-sonnet-4-5", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    review = json.loads(proc.stdout)
    # The answer to cairn's question, not the last thing said after the user's hook.
    assert review["state"] == "approved", review
    asked = claude.agent.main
    assert len(asked) == 2 and QUESTION in texts(asked[0])
    assert "user hook: say whether you are sure." in texts(asked[1])
    shown = json.dumps(json.loads(claude.cairn("review", "show", "t1_plan", "--json").stdout))
    assert '"model": "claude-sonnet-4-5"' in shown, shown
    # No brief went to the reviewer, and nothing of cairn's hooks ran there.
    assert "Recovery brief" not in texts(asked[0]) and "nothing was checkpointed" not in texts(
        asked[1]
    )
    added = [e["type"] for e in claude.journal()][len(before) :]
    assert not [t for t in added if t == "recovery" or t.startswith("hook.")], added
    assert claude.cairn("log", "--type", "recovery", "--json").stdout.count('"recovery"') == 0
    log = claude.root / "logs" / "compaction_recovery.log"
    assert not log.exists() or "startup" not in log.read_text()
    # The user's own hooks did run in the reviewer's session, which carried cairn's marker.
    seen = {(h["hook_event_name"], h["_cairn_spawned"]) for h in claude.hook_inputs()}
    assert ("SessionStart", "review") in seen and ("Stop", "review") in seen


def plan(claude: Claude) -> object:
    path = claude.root.parent / "plan.md"
    path.write_text("# Plan\n\n**Approach**: sample k=4 and rank.\n")
    return path
