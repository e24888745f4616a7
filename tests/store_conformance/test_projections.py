"""Projection bookkeeping: hashes roll over, stats are conditional, paths unique by case."""

from __future__ import annotations

import pytest

from cairn.store import Store
from cairn.store.contract import MissingRow


def test_record_rolls_the_hash_and_clears_the_stat(store: Store, task: str) -> None:
    path = "artifacts/T1_plan.md"
    with store.write() as tx:
        tx.projections.record(path, task, "plan", "h1")
        tx.projections.set_stat(path, 111, 10)
    with store.read() as tx:
        row = tx.projections.get(path)
        assert row is not None
        assert (row.hash, row.prev_hash, row.mtime_ns, row.size) == ("h1", None, 111, 10)
    with store.write() as tx:
        tx.projections.record(path, task, "plan", "h2")
    with store.read() as tx:
        row = tx.projections.get(path)
        assert row is not None
        assert (row.hash, row.prev_hash, row.mtime_ns, row.size) == ("h2", "h1", None, None)
    with store.write() as tx:  # h2 never reached the file (no stat): h1 is still what it holds
        tx.projections.record(path, task, "plan", "h3")
    with store.read() as tx:
        row = tx.projections.get(path)
        assert row is not None and (row.hash, row.prev_hash) == ("h3", "h1")


def test_set_stat_with_a_hash_only_if_it_still_holds(store: Store, task: str) -> None:
    path = "artifacts/T1_plan.md"
    with store.write() as tx:
        tx.projections.record(path, task, "plan", "h2")
        tx.projections.set_stat(path, 1, 1, hash="h1")  # stale: ignored
    with store.read() as tx:
        row = tx.projections.get(path)
        assert row is not None and row.mtime_ns is None
    with store.light_write() as tx:
        tx.projections.set_stat(path, 2, 3, hash="h2")
    with store.read() as tx:
        assert tx.projections.stats() == tx.projections.stats(task_id=task, kind="plan")
        (stat,) = tx.projections.stats()
        assert (stat.path, stat.mtime_ns, stat.size) == (path, 2, 3)
        assert tx.projections.stats(task_id=task, kind="analysis") == []


def test_owner_is_case_insensitive(store: Store, task: str) -> None:
    with store.write() as tx:
        tx.projections.record("artifacts/T1_plan.md", task, "plan", "h")
    with store.read() as tx:
        owner = tx.projections.owner("ARTIFACTS/t1_PLAN.md")
        assert owner is not None and owner.path == "artifacts/T1_plan.md"
        assert tx.projections.get("ARTIFACTS/t1_PLAN.md") is None
        assert tx.projections.owner("artifacts/T1_plan2.md") is None


def test_move(store: Store, task: str) -> None:
    with store.write() as tx:
        tx.projections.record("artifacts/old.md", task, "plan", "h")
        tx.projections.set_stat("artifacts/old.md", 1, 1)
        tx.projections.move("artifacts/old.md", "artifacts/new.md")
        with pytest.raises(MissingRow):
            tx.projections.move("artifacts/old.md", "artifacts/x.md")
    with store.read() as tx:
        assert tx.projections.get("artifacts/old.md") is None
        row = tx.projections.get("artifacts/new.md")
        assert row is not None and (row.hash, row.mtime_ns) == ("h", None)
        assert [r.path for r in tx.projections.all()] == ["artifacts/new.md"]


def test_claim_records_for_its_owner_only(store: Store, task: str) -> None:
    path = "artifacts/T1_plan.md"
    with store.write() as tx:
        assert tx.projections.claim(path, task, "plan", "h1") is None
        tx.projections.set_stat(path, 1, 1)
        assert tx.projections.claim(path, task, "plan", "h2") is None  # rolls like record
        taken = tx.projections.claim(path, task, "analysis", "x")  # another kind: refused
        assert taken is not None and (taken.kind, taken.hash) == ("plan", "h2")
        case = tx.projections.claim("ARTIFACTS/t1_plan.md", task, "plan", "y")  # case twin
        assert case is not None and case.path == path
    with store.read() as tx:
        row = tx.projections.get(path)
        assert row is not None
        assert (row.kind, row.hash, row.prev_hash, row.mtime_ns) == ("plan", "h2", "h1", None)
        assert [r.path for r in tx.projections.all()] == [path]


def test_stats_of_tasks_are_each_tasks_stats_in_the_order_asked(store: Store, task: str) -> None:
    with store.write() as tx:
        tx.tasks.create("T2", "", "2026-01-01T00:00:00.000Z")
        for path, owner, kind in (
            ("artifacts/T1_plan.md", task, "plan"),
            ("artifacts/T2_plan.md", "T2", "plan"),
            ("artifacts/T1_analysis.md", task, "analysis"),
        ):
            tx.projections.record(path, owner, kind, "h")
        tx.projections.set_stat("artifacts/T1_plan.md", 5, 6)
    with store.read() as tx:
        got = tx.projections.stats_of_tasks(["T2", task, "nobody", "T2"])
        assert got[:1] == tx.projections.stats(task_id="T2")
        mine = sorted(tx.projections.stats(task_id=task), key=lambda s: s.path)
        assert sorted(got[1:], key=lambda s: s.path) == mine and len(got) == 3
        assert {(s.path, s.mtime_ns, s.size) for s in mine} == {
            ("artifacts/T1_plan.md", 5, 6),
            ("artifacts/T1_analysis.md", None, None),
        }
        assert tx.projections.stats_of_tasks([]) == []
