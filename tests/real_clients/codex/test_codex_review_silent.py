"""`cairn review request --reviewer codex` through the real `codex exec` with cairn's Codex hooks
installed and trusted, `stop_block = true` and a phase active (issue 14): the reviewer's session
gets nothing from cairn's hooks (no brief, no recovery, no reminder, no block, nothing in the
journal), the verdict recorded is the scripted reviewer's, and the model is the one Codex used.
The same hooks do run in the agent's own `codex exec` afterwards: the silence is the marker's."""

from __future__ import annotations

import json

from .conftest import MODEL, Codex
from .responses_server import Reply, Request, message

QUESTION = "Q-9: is the caching plan sound?"
VERDICT = {"approved": True, "recommendation": "Proceed.", "concerns": []}


def test_a_codex_review_leaves_no_hook_activity(codex: Codex) -> None:
    codex.cairn("task", "new", "t1", "--phases", "analysis,plan")
    codex.cairn("phase", "start", "t1", "analysis")
    codex.cairn("checkpoint", "write", "t1", "plan", stdin="# Plan\n\ncache the index.\n")
    codex.cairn("hooks", "install", "codex")
    with (codex.project / ".cairn" / "config.toml").open("a") as f:
        f.write("\n[hooks]\nstop_block = true\ncheckpoint_reminder_minutes = 0.001\n")
    before = len(json.loads(codex.cairn("log", "--json", "--limit", "5000").stdout)["events"])
    seen: list[str] = []

    def reviewer(req: Request) -> Reply:
        seen.append(req.text())
        return Reply([message(json.dumps(VERDICT))])

    with codex.server(reviewer):
        proc = codex.cairn(
            "review", "request", "--task", "t1", "--topic", "t1_plan", "--question", QUESTION,
            "--reviewer", "codex", "--json", check=False,
        )  # fmt: skip
    review = json.loads(proc.stdout)
    assert review["state"] == "approved", review
    assert seen and QUESTION in seen[0]
    assert not [t for t in seen if "Recovery brief" in t or "nothing was checkpointed" in t]
    events = json.loads(codex.cairn("log", "--json", "--limit", "5000").stdout)["events"]
    added = [e["type"] for e in events[before:]]
    assert not [t for t in added if t == "recovery" or t.startswith("hook.")], added
    shown = json.dumps(json.loads(codex.cairn("review", "show", "t1_plan", "--json").stdout))
    assert f'"model": "{MODEL}"' in shown, shown
    # The agent's own session (no marker) does get cairn's hooks: a startup recovery is logged.
    proc, _ = codex.exec(lambda req: Reply([message("Looked.")]), "look at the status")
    assert proc.returncode == 0, proc.stderr
    events = json.loads(codex.cairn("log", "--json", "--limit", "5000").stdout)["events"]
    assert "recovery" in [e["type"] for e in events[before:]]
