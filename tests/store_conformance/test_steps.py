"""Progress steps: growing ids, the newest-N view, lookups by text."""

from __future__ import annotations

import pytest

from cairn.store import Store
from cairn.store.contract import MissingRow

from .conftest import ts


def test_ids_grow_across_tasks_and_views_are_oldest_first(store: Store, task: str) -> None:
    with store.write() as tx:
        tx.tasks.create("T2", "", ts(0))
        made = [
            tx.steps.add(task if i % 2 == 0 else "T2", "a", f"step {i}", "done", ts(i))
            for i in range(8)
        ]
    ids = [s.id for s in made]
    assert ids == sorted(ids) and len(set(ids)) == 8
    with store.read() as tx:
        mine = tx.steps.of_task(task)
        assert [s.text for s in mine] == ["step 0", "step 2", "step 4", "step 6"]
        assert [s.text for s in tx.steps.of_task(task, limit=2)] == ["step 4", "step 6"]
        assert tx.steps.count(task) == 4 and tx.steps.count("T2") == 4
        assert tx.steps.of_task(task, phase="b") == []


def test_update_and_by_text(store: Store, task: str) -> None:
    with store.write() as tx:
        first = tx.steps.add(task, None, "same", "active", ts(1))
        tx.steps.add(task, None, "other", "todo", ts(2))
        again = tx.steps.add(task, None, "same", "todo", ts(3))
        updated = tx.steps.update(first.id, state="done", phase="a", ts=ts(4))
        assert (updated.state, updated.phase, updated.updated_at) == ("done", "a", ts(4))
        assert updated.created_at == ts(1)
        with pytest.raises(MissingRow):
            tx.steps.update(10_000, state="done", phase=None, ts=ts(5))
    with store.read() as tx:
        hit = tx.steps.by_text(task, "same")
        assert hit is not None and hit.id == again.id  # the newest with that text
        assert tx.steps.by_text(task, "SAME") is None  # text matches exactly
        assert [s.phase for s in tx.steps.of_task(task, phase="a")] == ["a"]


def test_open_before(store: Store, task: str) -> None:
    with store.write() as tx:
        made = [
            tx.steps.add(task, None, f"s{i}", "done" if i % 3 else "todo", ts(i)) for i in range(10)
        ]
    with store.read() as tx:
        open_ = tx.steps.open_before(task, made[7].id, limit=5)
        assert [s.text for s in open_] == ["s0", "s3", "s6"]
        assert [s.text for s in tx.steps.open_before(task, made[7].id, limit=1)] == ["s0"]


def test_the_progress_doc_is_replaced_in_place(store: Store, task: str) -> None:
    with store.read() as tx:
        assert tx.steps.doc(task) is None
    with store.write() as tx:
        tx.steps.put_doc(task, "one", "h1", ts(1))
        tx.steps.put_doc(task, "two", "h2", ts(2))
    with store.read() as tx:
        doc = tx.steps.doc(task)
        assert doc is not None
        assert (doc.task_id, doc.content, doc.hash, doc.updated_at) == (task, "two", "h2", ts(2))


def test_count_follows_new_steps_not_updates(store: Store, task: str) -> None:
    with store.write() as tx:
        first = tx.steps.add(task, None, "a", "active", ts(1))
        tx.steps.add(task, None, "b", "todo", ts(2))
        tx.steps.update(first.id, state="done", phase=None, ts=ts(3))
    with store.read() as tx:
        assert tx.steps.count(task) == 2
        assert tx.steps.count("nobody") == 0


def test_lines_are_the_rows_as_plain_tuples(store: Store, task: str) -> None:
    with store.write() as tx:
        made = [
            tx.steps.add(task, "a" if i % 2 else None, f"s{i}", "done" if i % 3 else "todo", ts(i))
            for i in range(10)
        ]
    with store.read() as tx:
        every = [(s.id, s.state, s.text, s.phase) for s in made]
        assert [tuple(r) for r in tx.steps.lines(task)] == every
        assert [tuple(r) for r in tx.steps.lines(task, limit=3)] == every[-3:]
        opened = tx.steps.open_lines_before(task, made[7].id, limit=5)
        assert [tuple(r) for r in opened] == [every[0], every[3], every[6]]
        assert tx.steps.lines("nobody") == []


def test_tails_are_the_newest_steps_and_the_count_of_each_task(store: Store, task: str) -> None:
    with store.write() as tx:
        tx.tasks.create("T2", "", ts(0))
        tx.tasks.create("T3", "", ts(0))  # no steps
        for i in range(7):
            tx.steps.add(task if i % 3 else "T2", "a", f"step {i}", "done", ts(i))
        tx.steps.update(1, state="active", phase="b", ts=ts(9))  # an update counts no step
    with store.read() as tx:
        ids = [task, "T2", "T3", "nobody"]
        got = tx.steps.tails(ids, limit=3)
        assert got == {t: (tx.steps.of_task(t, limit=3), tx.steps.count(t)) for t in ids}
        assert {t: ([s.text for s in rows], n) for t, (rows, n) in got.items()} == {
            task: (["step 2", "step 4", "step 5"], 4),
            "T2": (["step 0", "step 3", "step 6"], 3),
            "T3": ([], 0),
            "nobody": ([], 0),
        }
        assert tx.steps.tails([], limit=3) == {}
