"""Reviews against hostile input (issue 11): a reply with verdicts that disagree never opens a gate
(defect 6), and a 10 KB topic, id or path is not echoed back whole in an error."""

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


LONG = "t" * 10_000


@pytest.mark.parametrize(
    "argv",
    [
        ["review", "request", "--task", "finding4", "--topic", LONG, "--question", "q"],
        ["review", "request", "--task", "finding4", "--topic", "t1", "--question", "q",
         "--context", LONG + "/x.md"],
        ["review", "show", LONG],
        ["review", "answer", LONG, "--approve", "--recommendation", "ok"],
    ],
)  # fmt: skip
def test_an_error_echoes_a_long_value_as_a_prefix_and_its_length(
    capsys: pytest.CaptureFixture[str], ws: Workspace, argv: list[str]
) -> None:
    ws.write_checkpoint("finding4", "plan", PLAN)
    r = run(capsys, ws.root, *argv)
    assert r.code != 0
    assert len(r.err) < 400, r.err[:400]
    assert "'tttttttttt" in r.err
    assert "characters" in r.err


def _require(ws: Workspace, who: str) -> None:
    cfg = ws.root / ".cairn" / "config.toml"
    cfg.write_text(cfg.read_text() + f'\n[reviews]\ngate_requires = "{who}"\n')


def _ask(capsys: pytest.CaptureFixture[str], ws: Workspace, *argv: str) -> dict[str, object]:
    r = run(
        capsys, ws.root, "review", "request", "--task", "finding4", "--topic", "finding4_approach",
        "--question", "Sound?", *argv, "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    data: dict[str, object] = r.json()
    return data


def test_a_checklist_approval_is_labelled_as_structural_wherever_it_shows(
    capsys: pytest.CaptureFixture[str], ws: Workspace
) -> None:
    ws.write_checkpoint("finding4", "plan", PLAN)
    r = run(
        capsys, ws.root, "review", "request", "--task", "finding4", "--topic", "finding4_approach",
        "--question", "Sound?",
    )  # fmt: skip
    assert "approved by a structural checklist, not a judgement" in r.out
    assert "gated phases may start" in r.out
    shown = run(capsys, ws.root, "review", "show", "finding4_approach", "--json").json()
    (rnd,) = shown["rounds"]
    assert rnd["verdict"]["kind"] == "checklist" and rnd["responses"][0]["kind"] == "checklist"
    assert shown["plan_gate"] == {"finding4": "approved"}
    text = run(capsys, ws.root, "review", "show", "finding4_approach").out
    assert "verdict: approved by a structural checklist, not a judgement" in text
    listed = run(capsys, ws.root, "review", "list").out
    assert "(structural checklist, not a judgement)" in listed
    assert run(capsys, ws.root, "phase", "start", "finding4", "implement").code == 0


def test_gate_requires_model_keeps_a_checklist_approval_from_opening_the_gate(
    capsys: pytest.CaptureFixture[str], ws: Workspace, fake: FakeModel
) -> None:
    _require(ws, "model")
    ws.write_checkpoint("finding4", "plan", PLAN)
    first = _ask(capsys, ws)
    assert first["state"] == "approved" and first["reviewer"] == "checklist"
    assert not ws.has_checkpoint("finding4", "plan_approved")
    err = _refusal(capsys, ws.root)
    assert "review: insufficient" in err and "by the structural checklist" in err
    assert "structural checklist, not a judgement" in err and "gate_requires" in err
    shown = run(capsys, ws.root, "review", "show", "finding4_approach", "--json").json()
    assert shown["plan_gate"] == {"finding4": "insufficient"}
    # A person's approval does not count either; a model's opens the gate.
    pending = _ask(capsys, ws, "--reviewer", "human")
    r = run(capsys, ws.root, "review", "answer", str(pending["id"]), "--approve",
            "--recommendation", "fine")  # fmt: skip
    assert "gated phases stay closed" in r.out and "approved by a person" in r.out
    assert "review: insufficient" in _refusal(capsys, ws.root)
    fake.queue.append(APPROVE)
    assert _ask(capsys, ws, "--reviewer", "fake")["state"] == "approved"
    assert ws.has_checkpoint("finding4", "plan_approved")
    assert run(capsys, ws.root, "phase", "start", "finding4", "implement").code == 0


def test_gate_requires_human_wants_a_person_s_answer(
    capsys: pytest.CaptureFixture[str], ws: Workspace, fake: FakeModel
) -> None:
    _require(ws, "human")
    ws.write_checkpoint("finding4", "plan", PLAN)
    fake.queue.append(APPROVE)
    assert _ask(capsys, ws, "--reviewer", "fake")["state"] == "approved"
    assert "by a model" in _refusal(capsys, ws.root)
    pending = _ask(capsys, ws, "--reviewer", "human")
    r = run(capsys, ws.root, "review", "answer", str(pending["id"]), "--approve",
            "--recommendation", "checked by hand")  # fmt: skip
    assert r.code == 0 and "gated phases may start" in r.out
    assert run(capsys, ws.root, "phase", "start", "finding4", "implement").code == 0


def test_an_unknown_gate_requirement_is_refused(
    capsys: pytest.CaptureFixture[str], ws: Workspace
) -> None:
    _require(ws, "robots")
    ws.write_checkpoint("finding4", "plan", PLAN)
    r = run(capsys, ws.root, "review", "request", "--task", "finding4", "--topic", "t",
            "--question", "q")  # fmt: skip
    assert r.code == 2 and "gate_requires" in r.err and '"model"' in r.err
