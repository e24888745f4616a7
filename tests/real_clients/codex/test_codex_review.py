"""The seed's Codex review through the real `codex exec`: from the CLI (an approving verdict opens
the gate, a reply that is not a verdict keeps it closed) and from cairn's MCP tool inside a real
Codex session (the tool answers "pending" within its wait, the agent polls for the verdict)."""

from __future__ import annotations

import json
import time
from typing import Any

from .conftest import MODEL, Codex
from .responses_server import Reply, Request, function_call, message

QUESTION = "Q-7: is the Best-of-N plan sound?"
PLAN = "# Plan\n\n**Approach**: sample k=4 and rank.\n"
VERDICT = {"approved": True, "recommendation": "Proceed with k=4.", "concerns": ["GPU cost"]}


def gated_task(codex: Codex) -> None:
    codex.cairn("task", "new", "f4", "--phases", "analysis,plan", "--gate", "plan")
    codex.cairn("phase", "start", "f4", "analysis")
    codex.cairn("checkpoint", "write", "f4", "plan", stdin=PLAN)
    codex.cairn("phase", "done", "f4", "analysis")
    codex.cairn("hooks", "install", "codex")


def is_reviewer(req: Request) -> bool:
    """The request of the Codex that cairn runs as the reviewer (not of the agent's session)."""
    return QUESTION in req.text() and not req.outputs("function_call")


def request_review(codex: Codex) -> dict[str, Any]:
    proc = codex.cairn(
        "review", "request", "--task", "f4", "--topic", "f4_plan", "--question", QUESTION,
        "--reviewer", "codex", "--json", check=False,
    )  # fmt: skip
    assert proc.stdout.strip(), proc.stderr
    review: dict[str, Any] = json.loads(proc.stdout)
    return review


def test_an_approving_codex_verdict_opens_the_gate(codex: Codex) -> None:
    gated_task(codex)
    assert codex.cairn("phase", "start", "f4", "plan", check=False).returncode != 0
    with codex.server(lambda req: Reply([message(json.dumps(VERDICT))])) as server:
        review = request_review(codex)
    assert review["state"] == "approved", review
    reviewer_requests = [r for r in server.requests if is_reviewer(r)]
    assert reviewer_requests and "k=4 and rank" in reviewer_requests[0].text()
    # cairn's own MCP server (required since install) was switched off for the reviewer: Codex
    # neither waited for it nor offered its tools.
    assert "mcp__cairn" not in reviewer_requests[0].text()
    shown = json.loads(codex.cairn("review", "show", review["id"], "--json").stdout)
    response = json.dumps(shown)
    assert f'"model": "{MODEL}"' in response, response  # the model Codex used, not a default
    codex.cairn("phase", "start", "f4", "plan")


def test_a_reply_that_is_not_a_verdict_keeps_the_gate_closed(codex: Codex) -> None:
    gated_task(codex)
    with codex.server(lambda req: Reply([message("Looks fine to me, mostly.")])):
        review = request_review(codex)
    assert review["state"] != "approved", review
    proc = codex.cairn("phase", "start", "f4", "plan", check=False)
    assert proc.returncode != 0 and "review" in (proc.stdout + proc.stderr).lower()


def test_mcp_review_request_answers_pending_and_the_agent_polls_the_verdict(
    codex: Codex,
) -> None:
    gated_task(codex)
    seen: dict[str, Any] = {}

    def script(req: Request) -> Reply:
        if is_reviewer(req):
            time.sleep(4)  # longer than the tool waits: it must answer "pending"
            return Reply([message(json.dumps(VERDICT))])
        outputs = req.outputs("function_call_output")
        if not outputs:
            args = {"topic": "f4_plan", "question": QUESTION, "task": "f4", "reviewer": "codex"}
            return Reply([function_call("review_request", {**args, "wait_s": 1},
                                        namespace="mcp__cairn")])  # fmt: skip
        if "first" not in seen:
            seen["first"] = outputs[-1]["output"]
            seen["first_at"] = time.monotonic()
        else:
            seen["polled"] = outputs[-1]["output"]
            seen["polls"] = seen.get("polls", 0) + 1
            if "approved" in json.dumps(seen["polled"]) or seen["polls"] >= 40:
                return Reply([message("The plan is approved.")])
        time.sleep(3)  # the agent waits a little and polls, as the tool's answer says
        return Reply([function_call("review_show", {"review": "f4_plan"},
                                    namespace="mcp__cairn")])  # fmt: skip

    started = time.monotonic()
    proc, _server = codex.exec(script, "get the plan reviewed by codex", timeout=300)
    assert proc.returncode == 0, proc.stderr
    first = json.dumps(seen["first"])
    assert "pending" in first and "review_show" in first, first
    assert seen["first_at"] - started < 60  # well inside what an MCP client waits for a tool
    assert "approved" in json.dumps(seen["polled"]), seen["polled"]
    codex.cairn("phase", "start", "f4", "plan")
