"""What opens a plan gate: a reply with verdicts that disagree never does (issue 11, defect 6)."""

from __future__ import annotations

import pytest

from cairn.domain.reviews import request_review
from cairn.domain.workspace import Workspace
from helpers.cli import run
from test_reviews import APPROVE, PLAN, REJECT, FakeModel, _refusal, fake, ws

__all__ = ["fake", "ws"]  # the fixtures, shared with test_reviews


def test_a_reply_quoting_an_approval_after_a_rejection_keeps_the_gate_closed(
    capsys: pytest.CaptureFixture[str], ws: Workspace, fake: FakeModel
) -> None:
    ws.write_checkpoint("finding4", "plan", PLAN)
    both = f"My verdict: {REJECT}\n\nFor the record, the last round said {APPROVE}"
    fake.queue += [both, both]
    review = request_review(ws, "finding4", "finding4_approach", "Sound?", reviewer="fake")
    assert review.state == "failed"
    assert review.verdict is not None and "disagree" in (review.verdict.error or "")
    assert "disagree" in fake.prompts.all()[1][0]  # type: ignore[attr-defined]
    assert not ws.has_checkpoint("finding4", "plan_approved")
    assert "reviewer failed" in _refusal(capsys, ws.root)
    # The repair round may settle it: one clear verdict is then recorded.
    fake.queue += [both, REJECT]
    again = request_review(ws, "finding4", "finding4_approach", "Sound?", reviewer="fake")
    assert again.state == "rejected"
    assert run(capsys, ws.root, "phase", "start", "finding4", "implement").code == 2
