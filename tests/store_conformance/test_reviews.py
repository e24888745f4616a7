"""Reviews: rounds per topic (a newer round supersedes), states, append-only responses."""

from __future__ import annotations

import pytest

from cairn.store import Store
from cairn.store.contract import DuplicateKey, MissingRow
from cairn.store.contract.reviews import ReviewRow

from .conftest import ts


def _review(
    rid: str, topic: str, round_: int, at: int, *, task: str | None = "T1", plan: int | None = None
) -> ReviewRow:
    return ReviewRow(
        id=rid,
        task_id=task,
        topic=topic,
        round=round_,
        question="Sound?",
        concerns=("GPU cost",),
        context=(
            {"path": "artifacts/T1_plan.md", "tokens": 9, "sent_tokens": 9, "truncated": False},
        ),
        reviewer="human",
        plan_version=plan,
        state="pending",
        request_path=f"reviews/requests/{rid}.md",
        created_at=ts(at),
        updated_at=ts(at),
        prompt="the prompt ✓",
    )


def _add(store: Store, *rows: ReviewRow) -> None:
    with store.write() as tx:
        for row in rows:
            tx.reviews.add(row)


def test_add_get_and_rounds(store: Store, task: str) -> None:
    _add(store, _review("r1-001", "approach", 1, 1, plan=1), _review("r1-002", "approach", 2, 2))
    with store.read() as tx:
        got = tx.reviews.get("r1-001")
        assert got == _review("r1-001", "approach", 1, 1, plan=1)
        assert got is not None and got.prompt == "the prompt ✓" and got.context[0]["tokens"] == 9
        assert tx.reviews.get("nope") is None
        assert tx.reviews.count_ids("r1-") == 2 and tx.reviews.count_ids("r2-") == 0
        assert tx.reviews.last_round("approach") == 2 and tx.reviews.last_round("x") == 0
        newer = tx.reviews.newer_round("approach", 1)
        assert newer is not None and newer.id == "r1-002"
        assert tx.reviews.newer_round("approach", 2) is None
        assert [r.id for r in tx.reviews.of_topic("approach")] == ["r1-001", "r1-002"]
    with pytest.raises(DuplicateKey), store.write() as tx:
        tx.reviews.add(_review("r1-001", "other", 1, 3))


def test_open_waiting_answered_and_the_plan_review(store: Store, task: str) -> None:
    _add(
        store,
        _review("r-001", "a", 1, 1, plan=1),  # superseded by r-002
        _review("r-002", "a", 2, 2, plan=2),
        _review("r-003", "b", 1, 3),
        _review("r-004", "c", 1, 4, task=None),
    )
    with store.write() as tx:
        tx.reviews.set_state("r-003", "failed", ts(5))
        tx.reviews.set_state("r-004", "approved", ts(6))
    with store.read() as tx:
        assert [r.id for r in tx.reviews.newest()] == ["r-004", "r-003", "r-002", "r-001"]
        assert [r.id for r in tx.reviews.newest(limit=2)] == ["r-004", "r-003"]
        assert [r.id for r in tx.reviews.newest(open_only=True)] == ["r-002"]
        assert [r.id for r in tx.reviews.newest(task_id="T1")] == ["r-003", "r-002", "r-001"]
        assert [r.id for r in tx.reviews.waiting(5)] == ["r-003", "r-002"]
        answered = tx.reviews.answered(3)
        assert [r.id for r in answered] == ["r-004"] and answered[0].updated_at == ts(6)
        plan = tx.reviews.newest_of_plan("T1")
        assert plan is not None and plan.id == "r-002"
        assert tx.reviews.newest_of_plan("T-none") is None
    with pytest.raises(MissingRow), store.write() as tx:
        tx.reviews.set_state("nope", "approved", ts(7))


def test_responses_are_appended_in_order(store: Store, task: str) -> None:
    _add(store, _review("r-001", "a", 1, 1))

    def respond(reviewer: str, approved: bool | None) -> int:
        with store.write() as tx:
            return tx.reviews.add_response(
                review_id="r-001",
                reviewer=reviewer,
                provider=reviewer,
                model=None,
                outcome="failed" if approved is None else ("approved" if approved else "rejected"),
                approved=approved,
                recommendation=None if approved is None else "Proceed.",
                concerns=() if approved is None else ("log GPU hours",),
                error="timeout" if approved is None else None,
                raw=("reply 1", "reply 2"),
                attempts=2,
                input_tokens=100,
                output_tokens=None,
                response_path=f"reviews/responses/a_{reviewer}.md",
                ts=ts(2),
            ).id

    ids = [respond("codex", None), respond("human", True), respond("codex", False)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    with store.read() as tx:
        got = tx.reviews.responses("r-001")
        assert [r.id for r in got] == ids
        assert got[0].approved is None and got[0].error == "timeout" and got[0].concerns == ()
        assert got[1].approved is True and got[1].concerns == ("log GPU hours",)
        assert got[2].approved is False and got[2].raw == ("reply 1", "reply 2")
        assert got[1].input_tokens == 100 and got[1].output_tokens is None
        assert tx.reviews.count_responses("r-001", "codex") == 2
        assert tx.reviews.count_responses("r-001", "file") == 0
        assert tx.reviews.responses("nope") == []
