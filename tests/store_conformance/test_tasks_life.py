"""The life of a task in the store: archived and deleted tasks leave the lists, a rename files every
record under the new id."""

from __future__ import annotations

import pytest

from cairn.store import Store
from cairn.store.contract import DuplicateKey, MissingRow

from .conftest import TS, ts


def _tasks(store: Store) -> None:
    with store.write() as tx:
        for n, name in enumerate(("keep", "old", "gone")):
            tx.tasks.create(name, name.upper(), ts(n))
            tx.tasks.add_phase(name, "a", gated=False)
            tx.tasks.set_phase_state(name, "a", "active", ts(10 + n))
        tx.tasks.add_phase("keep", "b", gated=False)
        tx.tasks.set_phase_state("keep", "b", "failed", ts(20), "x")
        tx.tasks.add_phase("old", "b", gated=False)
        tx.tasks.set_phase_state("old", "b", "failed", ts(21), "x")


def test_archived_and_deleted_tasks_leave_every_list_but_get(store: Store) -> None:
    _tasks(store)
    with store.write() as tx:
        archived = tx.tasks.set_state("old", "archived", ts(30))
        tx.tasks.set_state("gone", "deleted", ts(31))
    assert archived.state == "archived" and archived.id == "old"
    with store.read() as tx:
        assert [t.id for t in tx.tasks.recent()] == ["keep"]
        assert tx.tasks.count() == 1
        assert [t.id for t in tx.tasks.active()] == ["keep"]
        assert [t.id for t in tx.tasks.unfinished(phaseless=True)] == ["keep"]
        assert [p.task_id for p in tx.tasks.active_phases(limit=9)] == ["keep"]
        assert [p.task_id for p in tx.tasks.failed_phases(limit=9)] == ["keep"]
        assert [t.id for t in tx.tasks.archived()] == ["old"]
        got = tx.tasks.get("OLD")
        assert got is not None and got.state == "archived" and got.title == "OLD"
        gone = tx.tasks.get("gone")
        assert gone is not None and gone.state == "deleted"
        assert tx.tasks.get("keep") is not None and tx.tasks.get("keep").state == "open"  # type: ignore[union-attr]
        assert [p.name for p in tx.tasks.phases("old")] == ["a", "b"]  # kept whole
    with store.write() as tx:
        tx.tasks.set_state("old", "open", ts(40))
        with pytest.raises(DuplicateKey):
            tx.tasks.create("GONE", "", ts(41))  # a deleted task's id stays taken
        with pytest.raises(MissingRow):
            tx.tasks.set_state("nobody", "archived", ts(42))
    with store.read() as tx:
        assert {t.id for t in tx.tasks.recent()} == {"keep", "old"}
        assert tx.tasks.archived() == []


def test_archived_lists_the_most_recently_archived_first(store: Store) -> None:
    _tasks(store)
    with store.write() as tx:
        tx.tasks.set_state("keep", "archived", ts(50))
        tx.tasks.set_state("old", "archived", ts(60))
    with store.read() as tx:
        assert [t.id for t in tx.tasks.archived()] == ["old", "keep"]
        assert [t.id for t in tx.tasks.archived(limit=1)] == ["old"]


def test_rename_files_every_record_under_the_new_id(store: Store, task: str) -> None:
    with store.write() as tx:
        tx.tasks.create("other", "", TS)
        tx.tasks.set_phase_state(task, "a", "active", ts(1))
        cp = tx.checkpoints.add(
            task, "plan", "the plan", hash="h1", size=8, phase="a", source="write", files=(),
            ts=ts(2),
        )  # fmt: skip
        tx.checkpoints.add(
            "other", "plan", "not mine", hash="h2", size=8, phase=None, source="write", files=(),
            ts=ts(2),
        )  # fmt: skip
        step = tx.steps.add(task, "a", "did a thing", "done", ts(3))
        tx.events.append(task, "x.happened", ts(4), {"n": 1})
        tx.events.append("other", "x.happened", ts(4), {"n": 2})
        tx.projections.record("artifacts/T1_plan.md", task, "plan", "h1")
        tx.runs.start(
            task_id=task, name="w", kind="local", spec="{}", spec_hash="s", run_id="run-1",
            owner_pid=1, owner_start=None, ts=ts(5), log_path="logs/w.log", outputs=(),
        )  # fmt: skip
        renamed = tx.tasks.rename(task, "Renamed")
    assert renamed.id == "Renamed" and renamed.title == "first" and renamed.seq == 1
    with store.read() as tx:
        assert tx.tasks.get(task) is None
        assert [p.name for p in tx.tasks.phases("Renamed")] == ["a", "b"]
        assert tx.tasks.phases(task) == []
        assert tx.tasks.active_phase("Renamed") is not None
        newest = tx.checkpoints.newest("Renamed", "plan")
        assert newest is not None and newest.content == "the plan" and newest.hash == cp.hash
        assert newest.version == cp.version and newest.created_at == cp.created_at
        assert tx.checkpoints.newest(task, "plan") is None
        other = tx.checkpoints.newest("other", "plan")
        assert other is not None and other.content == "not mine"
        assert [s.id for s in tx.steps.of_task("Renamed")] == [step.id]
        assert [e.data["n"] for e in tx.events.query(task_id="Renamed")] == [1]
        assert [e.data["n"] for e in tx.events.query(task_id="other")] == [2]
        row = tx.projections.get("artifacts/T1_plan.md")
        assert row is not None and row.task_id == "Renamed"
        w = tx.runs.worker("Renamed", "w")
        assert w is not None and w.run_id == "run-1"
        assert {t.id for t in tx.tasks.recent()} == {"Renamed", "other"}


def test_rename_refuses_a_taken_key_and_allows_a_change_of_case(store: Store, task: str) -> None:
    with store.write() as tx:
        tx.tasks.create("other", "", TS)
    with pytest.raises(DuplicateKey), store.write() as tx:
        tx.tasks.rename(task, "OTHER")
    with pytest.raises(MissingRow), store.write() as tx:
        tx.tasks.rename("nobody", "someone")
    with store.write() as tx:
        assert tx.tasks.rename(task, "t1").id == "t1"
    with store.read() as tx:
        got = tx.tasks.get("T1")
        assert got is not None and got.id == "t1"
        assert [p.name for p in tx.tasks.phases("t1")] == ["a", "b"]


def test_forget_drops_only_that_tasks_projections(store: Store, task: str) -> None:
    with store.write() as tx:
        tx.tasks.create("other", "", TS)
        tx.projections.record("artifacts/T1_plan.md", task, "plan", "h1")
        tx.projections.record("artifacts/T1_analysis.md", task, "analysis", "h2")
        tx.projections.record("artifacts/other_plan.md", "other", "plan", "h3")
        gone = tx.projections.forget(task)
    assert sorted(gone) == ["artifacts/T1_analysis.md", "artifacts/T1_plan.md"]
    with store.read() as tx:
        assert [r.path for r in tx.projections.all()] == ["artifacts/other_plan.md"]
