"""Reviews and the plan gate, through the CLI and the Python API, with a fake model registered like
a real provider (enqueued replies through the real registry)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from cairn.domain.reviews import answer_review, list_reviews, request_review, rounds
from cairn.domain.workspace import Workspace
from cairn.models import Completion, Model, ModelTimeout, register_provider, unregister_provider
from helpers.cli import run

FAKEBIN = Path(__file__).parent / "fakebin"

PLAN = """# Finding #4 Implementation Plan

**Task**: Best-of-N sampling
**Files to modify**: scripts/generate_preference_pairs_logprob.py
**Approach**: add k; sample; rank by critic. GPU cost bounded by k <= 4.
**Tests needed**: tests/test_best_of_n.py
**Estimated time**: 3 hours
"""
APPROVE = json.dumps(
    {"approved": True, "recommendation": "Proceed.", "concerns": ["log GPU hours"]}
)
REJECT = json.dumps(
    {"approved": False, "recommendation": "Bound k first.", "concerns": ["GPU cost"]}
)


class FakeModel(Model):
    provider = "fake"

    def __init__(self, name: str, settings: Mapping[str, Any], queue: list[Any]) -> None:
        super().__init__(name, settings)
        self.queue = queue
        self.prompts: list[tuple[str, str | None]] = []

    def complete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_tokens: int = 2000,
        timeout: float = 600,
    ) -> Completion:
        self.prompts.append((prompt, system))
        reply = self.queue.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return Completion(reply, 100, 10, self.name or "fake-1", self.provider)


@pytest.fixture
def fake() -> Iterator[FakeModel]:
    queue: list[Any] = []
    made: list[FakeModel] = []

    def factory(model: str, settings: Mapping[str, Any]) -> Model:
        m = FakeModel(model, settings, queue)
        made.append(m)
        return m

    register_provider("fake", factory)
    holder = FakeModel("", {}, queue)
    holder.prompts = _Prompts(made)  # type: ignore[assignment]
    yield holder
    unregister_provider("fake")


class _Prompts(list[tuple[str, str | None]]):
    """All prompts any FakeModel instance received, in order."""

    def __init__(self, made: list[FakeModel]) -> None:
        super().__init__()
        self.made = made

    def all(self) -> list[tuple[str, str | None]]:
        return [p for m in self.made for p in m.prompts]


@pytest.fixture
def ws(ws_path: Path) -> Iterator[Workspace]:
    w = Workspace.open(ws_path)
    w.create_task("finding4", phases=["plan", "implement", "test"], gates=["implement"])
    yield w
    w.close()


def _refusal(capsys: pytest.CaptureFixture[str], root: Path) -> str:
    r = run(capsys, root, "phase", "start", "finding4", "implement")
    assert r.code == 2, r.out
    return r.err


def test_the_gate_follows_the_review_rounds(
    capsys: pytest.CaptureFixture[str], ws: Workspace
) -> None:
    root = ws.root
    err = _refusal(capsys, root)
    assert "has no plan yet" in err and "cairn checkpoint write finding4 plan" in err
    run(capsys, root, "checkpoint", "write", "finding4", "plan", stdin=PLAN)
    err = _refusal(capsys, root)
    assert "review: missing" in err and "cairn review request --task finding4" in err

    r = run(
        capsys, root, "review", "request", "--task", "finding4", "--topic", "finding4_approach",
        "--question", "Is this approach sound?", "--context", "artifacts/finding4_plan.md",
        "--concern", "GPU cost", "--concern", "complexity", "--reviewer", "human", "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    first = r.json()
    assert first["state"] == "pending" and first["round"] == 1 and first["plan_version"] == 1
    rid = first["id"]
    err = _refusal(capsys, root)
    assert "review: pending" in err and f"cairn review answer {rid}" in err
    assert (root / first["request_path"]).read_text().count("GPU cost") >= 1

    r = run(capsys, root, "review", "list", "--pending", "--json")
    assert [x["id"] for x in r.json()["reviews"]] == [rid]

    r = run(
        capsys, root, "review", "answer", rid, "--reject", "--recommendation", "Bound k first.",
        "--concern", "GPU cost unbounded",
    )  # fmt: skip
    assert r.code == 0, r.err
    err = _refusal(capsys, root)
    assert "review: rejected" in err and "request round 2" in err

    r = run(capsys, root, "review", "answer", rid, "--approve")
    assert r.code == 2 and "already rejected" in r.err

    run(capsys, root, "checkpoint", "write", "finding4", "plan", stdin=PLAN + "k <= 4\n")
    err = _refusal(capsys, root)
    assert "revised since" in err and "round 2" in err
    r = run(
        capsys, root, "review", "request", "--topic", "finding4_approach", "--task", "finding4",
        "--question", "Revised: sound now?", "--reviewer", "human", "--json",
    )  # fmt: skip
    second = r.json()
    assert second["round"] == 2 and second["plan_version"] == 2  # the plan is sent by default
    assert second["request_path"].endswith("_finding4_approach_r2.md")
    r = run(capsys, root, "review", "answer", second["id"], "--approve", "--recommendation", "Go.")
    assert r.code == 0, r.err

    approved = ws.checkpoint("finding4", "plan_approved")
    assert approved.source == "review" and "k <= 4" in approved.content  # type: ignore[operator]
    assert second["id"] in (approved.content or "")
    assert run(capsys, root, "phase", "start", "finding4", "implement").code == 0

    shown = run(capsys, root, "review", "show", "finding4_approach", "--json").json()
    assert [x["state"] for x in shown["rounds"]] == ["rejected", "approved"]
    assert shown["rounds"][0]["verdict"] == {
        "approved": False,
        "recommendation": "Bound k first.",
        "concerns": ["GPU cost unbounded"],
        "reviewer": "human",
        "kind": "human",
        "model": None,
    }
    assert shown["plan_gate"] == {"finding4": "approved"}
    text = run(capsys, root, "review", "show", rid).out
    assert "round 1" in text and "round 2" in text and "Bound k first." in text
    responses = sorted(p.name for p in (root / "reviews" / "responses").iterdir())
    assert len(responses) == 2 and all(n.endswith("_human.md") for n in responses)
    types = [e.type for e in ws.events("finding4", limit=100)]
    assert types.count("review.requested") == 2
    assert "review.rejected" in types and "review.approved" in types


def test_a_plan_changed_after_approval_closes_the_gate_again(
    capsys: pytest.CaptureFixture[str], ws: Workspace, fake: FakeModel
) -> None:
    ws.write_checkpoint("finding4", "plan", PLAN)
    fake.queue.append(APPROVE)
    review = request_review(ws, "finding4", "finding4_approach", "Sound?", reviewer="fake:m")
    assert review.state == "approved" and review.verdict is not None
    assert review.verdict.model == "m" and review.verdict.concerns == ("log GPU hours",)
    ws.write_checkpoint("finding4", "plan", PLAN + "\nmore\n")
    err = _refusal(capsys, ws.root)
    assert "review: stale" in err and "plan is now v2" in err


def test_an_invalid_reply_is_repaired_once(ws: Workspace, fake: FakeModel) -> None:
    ws.write_checkpoint("finding4", "plan", PLAN)
    fake.queue += ["Looks fine to me, approved!", "```json\n" + APPROVE + "\n```"]
    review = request_review(ws, "finding4", "finding4_approach", "Sound?", reviewer="fake")
    assert review.state == "approved"
    resp = review.verdict
    assert resp is not None and resp.attempts == 2 and len(resp.raw) == 2
    prompts = fake.prompts.all()  # type: ignore[attr-defined]
    assert "could not be read as a review verdict" in prompts[1][0]
    assert "Looks fine to me, approved!" in prompts[1][0]
    assert prompts[1][0].startswith(prompts[0][0])  # the repair keeps the original request


def test_two_invalid_replies_are_a_failed_reviewer_never_an_approval(
    capsys: pytest.CaptureFixture[str], ws: Workspace, fake: FakeModel
) -> None:
    ws.write_checkpoint("finding4", "plan", PLAN)
    fake.queue += ["approved", '{"approved": "true", "recommendation": "ok", "concerns": []}']
    r = run(
        capsys, ws.root, "review", "request", "--task", "finding4", "--topic", "t1",
        "--question", "Sound?", "--reviewer", "fake", "--json",
    )  # fmt: skip
    assert r.code == 1 and "no verdict" in r.err
    data = r.json()
    assert data["state"] == "failed" and data["verdict"] is None
    (resp,) = data["responses"]
    assert resp["approved"] is None and resp["outcome"] == "failed"
    assert resp["raw"] == [
        "approved",
        '{"approved": "true", "recommendation": "ok", "concerns": []}',
    ]
    assert "no valid verdict after a repair prompt" in resp["error"]
    text = (ws.root / resp["path"]).read_text()
    assert "REVIEWER FAILED" in text and "not an approval" in text
    assert '{"approved": "true"' in text  # the raw reply is kept
    assert not ws.has_checkpoint("finding4", "plan_approved")
    err = _refusal(capsys, ws.root)
    assert "reviewer failed" in err and "cairn review answer" in err
    # A person may step in on a failed review.
    answer_review(ws, data["id"], approved=True, recommendation="Checked by hand.")
    assert run(capsys, ws.root, "phase", "start", "finding4", "implement").code == 0


def test_a_timeout_leaves_the_gate_closed_and_says_so(
    capsys: pytest.CaptureFixture[str], ws: Workspace, fake: FakeModel
) -> None:
    ws.write_checkpoint("finding4", "plan", PLAN)
    fake.queue.append(ModelTimeout("fake:m did not answer within 600 s"))
    review = request_review(ws, "finding4", "finding4_approach", "Sound?", reviewer="fake:m")
    assert review.state == "failed"
    assert review.verdict is not None and "did not answer within" in (review.verdict.error or "")
    fake.queue.append(RuntimeError("boom"))
    review = request_review(ws, "finding4", "finding4_approach", "Sound?", reviewer="fake:m")
    assert review.state == "failed" and "RuntimeError: boom" in (review.verdict.error or "")  # type: ignore[union-attr]
    assert "reviewer failed" in _refusal(capsys, ws.root)


def test_context_is_capped_in_tokens_with_a_stated_cut(ws: Workspace, fake: FakeModel) -> None:
    cfg = ws.root / ".cairn" / "config.toml"
    cfg.write_text(cfg.read_text() + "\n[reviews]\ncontext_max_tokens = 60\n")
    ws = Workspace.open(ws.root)
    (ws.root / "big.md").write_text("".join(f"line {i} of the analysis\n" for i in range(200)))
    (ws.root / "later.md").write_text("never sent\n")
    fake.queue.append(APPROVE)
    review = request_review(
        ws, "finding4", "midpoint", "Continue?", ["big.md", "later.md"], ["scope"], "fake"
    )
    big, later = review.context
    assert big["truncated"] and big["sent_tokens"] <= 60 < big["tokens"]
    assert later["truncated"] and later["sent_tokens"] == 0
    prompt = fake.prompts.all()[0][0]  # type: ignore[attr-defined]
    assert (
        f"cairn cut big.md here: sent {big['sent_tokens']} of its {big['tokens']} tokens" in prompt
    )
    assert "cairn did not send later.md" in prompt and "never sent" not in prompt
    assert "line 199" not in prompt
    request = (ws.root / review.request_path).read_text()
    assert "truncated: sent" in request
    assert review.plan_version is None  # a midpoint review of other files is not a plan review
    ws.close()


@pytest.mark.parametrize("bad", ["../outside.md", "/etc/hostname", "link.md"])
def test_context_paths_must_stay_inside_the_workspace(
    capsys: pytest.CaptureFixture[str], ws: Workspace, bad: str
) -> None:
    (ws.root.parent / "outside.md").write_text("secret")
    os.symlink(ws.root.parent / "outside.md", ws.root / "link.md")
    r = run(
        capsys, ws.root, "review", "request", "--task", "finding4", "--topic", "t",
        "--question", "q", "--context", bad,
    )  # fmt: skip
    assert r.code == 2 and "outside the workspace" in r.err
    assert list_reviews(ws) == []


def test_override_is_journaled_with_the_review_state(
    capsys: pytest.CaptureFixture[str], ws: Workspace
) -> None:
    ws.write_checkpoint("finding4", "plan", PLAN)
    request_review(ws, "finding4", "finding4_approach", "Sound?", reviewer="human")
    r = run(capsys, ws.root, "phase", "start", "finding4", "implement", "--override", "demo day")
    assert r.code == 0, r.err
    (ev,) = ws.events("finding4", types=["gate.overridden"])
    assert ev.data["reason"] == "demo day" and ev.data["review_state"] == "pending"


def test_the_checklist_is_the_default_reviewer(
    capsys: pytest.CaptureFixture[str], ws: Workspace
) -> None:
    run(capsys, ws.root, "checkpoint", "template", "plan")
    ws.write_checkpoint("finding4", "plan", "# Plan\n**Task**: [Brief description]\n")
    bare = request_review(ws, "finding4", "finding4_approach", "Sound?")
    assert bare.reviewer == "checklist" and bare.state == "rejected"
    assert bare.verdict is not None and "Structural check only" in (
        bare.verdict.recommendation or ""
    )
    ws.write_checkpoint("finding4", "plan", PLAN)
    good = request_review(ws, "finding4", "finding4_approach", "Sound?", concerns=["GPU cost"])
    assert good.state == "approved" and good.round == 2
    assert ws.has_checkpoint("finding4", "plan_approved")


def test_codex_reviews_through_its_cli(
    capsys: pytest.CaptureFixture[str], ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{FAKEBIN}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_REPLY", REJECT)
    ws.write_checkpoint("finding4", "plan", PLAN)
    r = run(
        capsys, ws.root, "review", "request", "--task", "finding4", "--topic",
        "finding4_approach", "--question", "Sound?", "--reviewer", "codex",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert "not approved" in r.out and "Bound k first." in r.out
    (resp,) = list((ws.root / "reviews" / "responses").iterdir())
    assert resp.name.endswith("_finding4_approach_codex.md")
    assert "**Tokens**: 1234 in, 56 out" in resp.read_text()


def test_status_file_lists_open_reviews(ws: Workspace) -> None:
    ws.write_checkpoint("finding4", "plan", PLAN)
    review = request_review(ws, "finding4", "finding4_approach", "Sound?", reviewer="human")
    status = (ws.root / "CURRENT_WORK_STATUS.md").read_text()
    assert "## Reviews" in status and f"cairn review answer {review.id}" in status
    answer_review(ws, review.id, approved=True, recommendation="ok")
    status = (ws.root / "CURRENT_WORK_STATUS.md").read_text()
    assert f"✅ {review.id}" in status


def test_rounds_accept_an_id_or_a_topic(ws: Workspace) -> None:
    a = request_review(ws, "finding4", "topic_a", "q1", reviewer="human")
    b = request_review(ws, "finding4", "topic_a", "q2", reviewer="human")
    assert [x.id for x in rounds(ws, a.id)] == [a.id, b.id] == [x.id for x in rounds(ws, "topic_a")]
    with pytest.raises(Exception, match="no review or topic"):
        rounds(ws, "nope")


def test_migration_creates_the_review_tables(ws: Workspace) -> None:
    with ws.store.read() as tx:
        cols = {t: tx.records.fields(t) for t in ("reviews", "review_responses")}
    assert cols["reviews"] == [
        "id", "task_id", "topic", "round", "question", "concerns", "context", "reviewer",
        "plan_version", "prompt", "state", "request_path", "created_at", "updated_at",
    ]  # fmt: skip
    assert cols["review_responses"] == [
        "id", "review_id", "reviewer", "provider", "model", "outcome", "approved",
        "recommendation", "concerns", "error", "raw", "attempts", "input_tokens",
        "output_tokens", "response_path", "created_at",
    ]  # fmt: skip
    assert "0002_reviews" in ws.store.applied_migrations()


def test_a_verdict_file_is_read_strictly(capsys: pytest.CaptureFixture[str], ws: Workspace) -> None:
    ws.write_checkpoint("finding4", "plan", PLAN)
    review = request_review(ws, "finding4", "finding4_approach", "Sound?", reviewer="file")
    assert review.state == "pending"
    (ws.root / "reply.md").write_text("I'd say yes, approved.")
    r = run(capsys, ws.root, "review", "answer", review.id, "--verdict-file", "reply.md")
    assert r.code == 2 and "holds no valid verdict" in r.err
    (ws.root / "reply.md").write_text("Codex says:\n```json\n" + REJECT + "\n```\n")
    r = run(capsys, ws.root, "review", "answer", review.id, "--verdict-file", "reply.md", "--json")
    assert r.code == 0, r.err
    data = r.json()
    assert data["state"] == "rejected" and data["verdict"]["reviewer"] == "file"
    assert data["responses"][0]["raw"] == ["Codex says:\n```json\n" + REJECT + "\n```\n"]
    r = run(capsys, ws.root, "review", "answer", review.id, "--verdict-file", "../x.md")
    assert r.code == 2


def test_a_superseded_round_is_closed_to_answers_and_leaves_the_open_lists(
    capsys: pytest.CaptureFixture[str], ws: Workspace
) -> None:
    ws.write_checkpoint("finding4", "plan", PLAN)
    old = request_review(ws, "finding4", "finding4_approach", "Sound?", reviewer="human")
    ws.write_checkpoint("finding4", "plan", PLAN + "\nRevised: k <= 2.\n")
    new = request_review(ws, "finding4", "finding4_approach", "Sound now?", reviewer="checklist")
    assert new.state == "approved" and new.round == 2
    # The late answer to round 1 would otherwise overwrite plan_approved with plan v1.
    r = run(
        capsys, ws.root, "review", "answer", old.id, "--approve", "--recommendation", "late",
    )  # fmt: skip
    assert r.code == 2 and "superseded by round 2" in r.err and new.id in r.err
    assert "Revised: k <= 2." in ws.checkpoint("finding4", "plan_approved").content
    assert list_reviews(ws, pending=True) == []
    status = (ws.root / "CURRENT_WORK_STATUS.md").read_text()
    assert f"cairn review answer {old.id}" not in status


def test_a_late_approval_of_an_older_plan_review_does_not_replace_the_approved_plan(
    ws: Workspace,
) -> None:
    ws.write_checkpoint("finding4", "plan", PLAN)
    old = request_review(ws, "finding4", "topic_a", "Sound?", reviewer="human")
    ws.write_checkpoint("finding4", "plan", PLAN + "\nRevised: k <= 2.\n")
    request_review(ws, "finding4", "topic_b", "Sound now?", reviewer="checklist")
    answered = answer_review(ws, old.id, approved=True, recommendation="v1 was fine")
    assert answered.state == "approved"  # the verdict is kept in the history
    approved = ws.checkpoints("finding4")
    assert "Revised: k <= 2." in ws.checkpoint("finding4", "plan_approved").content
    assert [c.version for c in ws.history("finding4", "plan_approved")] == [1], approved


def test_a_rejection_without_a_recommendation_says_what_is_missing(
    capsys: pytest.CaptureFixture[str], ws: Workspace
) -> None:
    review = request_review(ws, "finding4", "finding4_approach", "Sound?", reviewer="human")
    r = run(capsys, ws.root, "review", "answer", review.id, "--reject")
    assert r.code == 2 and "a rejection needs a recommendation" in r.err
    assert list_reviews(ws, pending=True)[0].id == review.id  # nothing recorded


def test_a_folder_as_context_is_named_as_a_folder(
    capsys: pytest.CaptureFixture[str], ws: Workspace
) -> None:
    (ws.root / "notes").mkdir()
    r = run(
        capsys, ws.root, "review", "request", "--task", "finding4", "--topic", "t",
        "--question", "q", "--context", "notes",
    )  # fmt: skip
    assert r.code == 2 and "is a folder" in r.err
    assert list_reviews(ws) == []


@pytest.mark.parametrize("line", ["context_max_tokens = 0", "timeout = -1", "max_tokens = 0"])
def test_review_settings_that_would_send_nothing_are_refused(
    capsys: pytest.CaptureFixture[str], ws: Workspace, line: str
) -> None:
    ws.write_checkpoint("finding4", "plan", PLAN)
    cfg = ws.root / ".cairn" / "config.toml"
    cfg.write_text(cfg.read_text() + f"\n[reviews]\n{line}\n")
    r = run(
        capsys, ws.root, "review", "request", "--task", "finding4", "--topic", "t",
        "--question", "q",
    )  # fmt: skip
    assert r.code == 2 and line.split(" = ")[0] in r.err and "is below" in r.err
    assert list_reviews(ws) == []


def test_review_files_are_projected_and_a_missing_one_comes_back(
    capsys: pytest.CaptureFixture[str], ws: Workspace
) -> None:
    ws.write_checkpoint("finding4", "plan", PLAN)
    review = request_review(ws, "finding4", "finding4_approach", "Sound?", reviewer="human")
    request = ws.root / review.request_path
    assert f"**Review**: {review.id} (round 1)" in request.read_text()
    answered = answer_review(ws, review.id, approved=True, recommendation="Proceed.")
    response = ws.root / answered.responses[0].path
    assert "**Verdict**: APPROVED" in response.read_text()
    before = (request.read_bytes(), response.read_bytes())
    request.unlink()
    response.unlink()
    r = run(capsys, ws.root, "review", "list")
    assert r.code == 0, r.err
    assert (request.read_bytes(), response.read_bytes()) == before
    assert not ws.events("finding4", types=["review.hand_edit_kept"])


def test_the_full_refresh_writes_a_missing_review_file_back(
    capsys: pytest.CaptureFixture[str], ws: Workspace
) -> None:
    review = request_review(ws, "finding4", "finding4_approach", "Sound?", reviewer="human")
    request = ws.root / review.request_path
    before = request.read_bytes()
    request.unlink()
    r = run(capsys, ws.root, "refresh")
    assert r.code == 0, r.err
    assert request.read_bytes() == before


def test_a_hand_edited_review_file_is_kept_aside_and_the_record_put_back(
    capsys: pytest.CaptureFixture[str], ws: Workspace
) -> None:
    review = request_review(ws, "finding4", "finding4_approach", "Sound?", reviewer="human")
    answered = answer_review(ws, review.id, approved=False, recommendation="Bound k first.")
    response = ws.root / answered.responses[0].path
    original = response.read_text()
    response.write_text(original.replace("NOT APPROVED", "APPROVED"))
    r = run(capsys, ws.root, "review", "list")
    assert r.code == 0 and "edited by hand" in r.err, r.err
    assert response.read_text() == original
    (event,) = ws.events("finding4", types=["review.hand_edit_kept"])
    aside = ws.root / event.data["kept_as"]
    assert event.data["path"] == answered.responses[0].path
    assert "**Verdict**: APPROVED" in aside.read_text()
    r = run(capsys, ws.root, "review", "list")  # noticed once: the record's file is back
    assert r.code == 0 and "edited by hand" not in r.err
    assert len(ws.events("finding4", types=["review.hand_edit_kept"])) == 1


def test_review_files_are_not_written_through_a_symlinked_folder(
    ws: Workspace, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside")
    (ws.root / "reviews").mkdir(exist_ok=True)
    (ws.root / "reviews" / "requests").symlink_to(outside, target_is_directory=True)
    with pytest.raises(Exception, match="outside the workspace"):
        request_review(ws, "finding4", "finding4_approach", "Sound?", reviewer="human")
    assert list(outside.iterdir()) == []
    assert list_reviews(ws)  # the record is committed; only its file was refused
