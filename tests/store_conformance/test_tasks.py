"""Tasks and phases: case rules, ordering, the phase state stamps."""

from __future__ import annotations

import pytest

from cairn.store import Store
from cairn.store.contract import DuplicateKey, MissingRow

from .conftest import TS, ts


def test_get_matches_any_case_and_keeps_the_created_case(store: Store) -> None:
    with store.write() as tx:
        created = tx.tasks.create("Finding4", "title", TS)
    assert created.id == "Finding4" and created.next_action is None
    with store.read() as tx:
        for asked in ("Finding4", "FINDING4", "finding4"):
            row = tx.tasks.get(asked)
            assert row is not None and row.id == "Finding4" and row.title == "title"
        assert tx.tasks.get("finding") is None


def test_ids_differing_only_in_case_are_one_key(store: Store) -> None:
    with store.write() as tx:
        tx.tasks.create("abc", "", TS)
    with pytest.raises(DuplicateKey), store.write() as tx:
        tx.tasks.create("ABC", "", TS)
    with store.read() as tx:
        assert tx.tasks.count() == 1


def test_recent_orders_by_update_then_creation(store: Store) -> None:
    with store.write() as tx:
        for i, name in enumerate(("a", "b", "c", "d")):
            tx.tasks.create(name, "", ts(i))
        tx.tasks.touch("a", ts(100))
        tx.tasks.create("e", "", ts(100))  # same instant as a's touch: newer creation first
    with store.read() as tx:
        assert [t.id for t in tx.tasks.recent()] == ["e", "a", "d", "c", "b"]
        assert [t.id for t in tx.tasks.recent(limit=2)] == ["e", "a"]
        seqs = [t.seq for t in sorted(tx.tasks.recent(), key=lambda t: t.created_at)]
        assert seqs == sorted(seqs) and len(set(seqs)) == 5


def test_next_action_sets_and_touches(store: Store, task: str) -> None:
    with store.write() as tx:
        tx.tasks.set_next_action(task, "write the plan", ts(5000))
    with store.read() as tx:
        row = tx.tasks.get(task)
        assert row is not None
        assert (row.next_action, row.updated_at) == ("write the plan", ts(5000))


def test_phases_keep_their_positions(store: Store, task: str) -> None:
    with store.write() as tx:
        tx.tasks.add_phase(task, "c", gated=False)
        with pytest.raises(DuplicateKey):
            tx.tasks.add_phase(task, "a", gated=False)
    with store.read() as tx:
        phases = tx.tasks.phases(task)
        assert [(p.name, p.position, p.state, p.gated) for p in phases] == [
            ("a", 1, "pending", False),
            ("b", 2, "pending", True),
            ("c", 3, "pending", False),
        ]
        assert tx.tasks.phase(task, "b") == phases[1]
        assert tx.tasks.phase(task, "zz") is None
        assert tx.tasks.phases_of([task, "nope"]) == {task: phases, "nope": []}


def test_phase_state_stamps(store: Store, task: str) -> None:
    with store.write() as tx:
        active = tx.tasks.set_phase_state(task, "a", "active", ts(1))
        assert (active.started_at, active.finished_at, active.error) == (ts(1), None, None)
        failed = tx.tasks.set_phase_state(task, "a", "failed", ts(2), "boom")
        assert (failed.started_at, failed.finished_at, failed.error) == (ts(1), ts(2), "boom")
        again = tx.tasks.set_phase_state(task, "a", "active", ts(3))
        assert (again.started_at, again.finished_at, again.error) == (ts(3), None, None)
        reset = tx.tasks.set_phase_state(task, "a", "pending", ts(4))
        assert (reset.started_at, reset.finished_at, reset.error) == (None, None, None)
        with pytest.raises(MissingRow):
            tx.tasks.set_phase_state(task, "zz", "active", ts(5))


def test_active_and_unfinished_tasks(store: Store) -> None:
    with store.write() as tx:
        for i, name in enumerate(("idle", "busy", "done", "bare")):
            tx.tasks.create(name, "", ts(i))
        for name in ("idle", "busy", "done"):
            tx.tasks.add_phase(name, "p", gated=False)
        tx.tasks.set_phase_state("busy", "p", "active", ts(10))
        tx.tasks.set_phase_state("done", "p", "done", ts(11))
        tx.tasks.set_phase_state("idle", "p", "failed", ts(12), "x")
    with store.read() as tx:
        assert [t.id for t in tx.tasks.active()] == ["busy"]
        assert tx.tasks.active_phase("busy") is not None
        assert tx.tasks.active_phase("idle") is None
        assert [p.task_id for p in tx.tasks.active_phases(limit=5)] == ["busy"]
        assert [p.task_id for p in tx.tasks.failed_phases(limit=5)] == ["idle"]
        assert [t.id for t in tx.tasks.unfinished()] == ["busy", "idle"]
        assert [t.id for t in tx.tasks.unfinished(phaseless=True)] == ["bare", "busy", "idle"]
        assert [t.id for t in tx.tasks.unfinished(limit=1)] == ["busy"]


def test_phases_can_be_regated_reordered_and_removed(store: Store, task: str) -> None:
    with store.write() as tx:
        tx.tasks.add_phase(task, "c", gated=False)
        tx.tasks.set_gated(task, "a", True)
        tx.tasks.remove_phase(task, "b")
        tx.tasks.set_position(task, "c", 1)
        tx.tasks.set_position(task, "a", 2)
        with pytest.raises(MissingRow):
            tx.tasks.remove_phase(task, "b")
    with store.read() as tx:
        assert [(p.name, p.position, p.gated) for p in tx.tasks.phases(task)] == [
            ("c", 1, False),
            ("a", 2, True),
        ]


def test_get_many_finds_tasks_by_their_stored_ids(store: Store, task: str) -> None:
    with store.write() as tx:
        tx.tasks.create("Two", "second", TS)
        tx.tasks.set_state("Two", "archived", TS)  # any state, as get
    with store.read() as tx:
        got = tx.tasks.get_many(["Two", task, "nope", task])
        assert got == {"Two": tx.tasks.get("Two"), task: tx.tasks.get(task)}
        assert tx.tasks.get_many(["two"]) == {}  # the stored spelling, not a user's
        assert tx.tasks.get_many([]) == {}
