"""The whole checkpoint write in one step (``checkpoints.write``): the version, the path's claim, the
task's touch and the journal entry, alike on every backend, in a transaction of its own
(``last``) or inside a bigger one."""

from __future__ import annotations

import pytest

from cairn.store import Store
from cairn.store.contract.checkpoints import WRITTEN, WRITTEN_KEYS, CheckpointWrite

from .conftest import ts

PATH = "artifacts/T1_plan.md"


class Refused(Exception):
    """What a caller raises when the path is taken (the domain's ValidationError)."""


def _write(
    store: Store,
    text: str,
    n: int,
    *,
    kind: str = "plan",
    path: str = PATH,
    task: str = "T1",
    last: bool = True,
    phase: str | None = None,
    files: tuple[str, ...] = (),
) -> CheckpointWrite:
    with store.write(task=task) as tx:
        done = tx.checkpoints.write(
            task,
            kind,
            text,
            hash=f"h-{text}",
            size=len(text),
            phase=phase,
            source="write",
            files=files,
            ts=ts(n),
            path=path,
            last=last,
        )
        if done.added is None and done.unchanged is None:
            raise Refused
        return done


@pytest.mark.parametrize("last", [True, False])
def test_a_write_adds_claims_touches_and_journals(store: Store, task: str, last: bool) -> None:
    with store.write() as tx:
        tx.tasks.set_phase_state(task, "a", "active", ts(0))
        before = tx.events.last_id()
    done = _write(store, "p1", 1, last=last, files=("src/x.py",))
    row = done.added
    assert row is not None and done.unchanged is None and done.owner is None
    assert (row.version, row.seq, row.phase, row.content, row.files) == (
        1,
        1,
        "a",
        "p1",
        ("src/x.py",),
    )
    second = _write(store, "p2", 2, last=last, phase="b").added
    assert second is not None and (second.version, second.seq, second.phase) == (2, 2, "b")
    with store.read() as tx:
        stored = tx.checkpoints.get(task, "plan", 1)
        assert stored is not None and (stored.phase, stored.files, stored.content) == (
            "a",
            ("src/x.py",),
            "p1",
        )
        owner = tx.projections.owner(PATH)
        assert owner is not None and (owner.task_id, owner.kind, owner.hash) == (
            task,
            "plan",
            "h-p2",
        )
        t = tx.tasks.get(task)
        assert t is not None and t.updated_at == ts(2)
        events = tx.events.query(after=before)
        assert [e.type for e in events] == [WRITTEN, WRITTEN]
        assert list(events[0].data) == list(WRITTEN_KEYS)
        assert events[0].data == {
            "kind": "plan",
            "version": 1,
            "hash": "h-p1",
            "size": 2,
            "phase": "a",
            "source": "write",
            "path": PATH,
        }
        assert events[1].data["phase"] == "b" and events[1].data["version"] == 2
        assert tx.checkpoints.count() == 2


def test_the_same_content_again_writes_nothing(store: Store, task: str) -> None:
    _write(store, "p1", 1)
    with store.read() as tx:
        before = tx.events.last_id()
    again = _write(store, "p1", 2)
    assert again.added is None and again.unchanged is not None
    newest = again.unchanged
    assert (newest.version, newest.hash, newest.created_at, newest.content) == (
        1,
        "h-p1",
        ts(1),
        None,
    )
    assert again.owner is not None and (again.owner.task_id, again.owner.kind) == (task, "plan")
    other_files = _write(store, "p1", 3, files=("a.txt",))
    assert other_files.added is not None and other_files.added.version == 2
    with store.read() as tx:
        assert tx.events.last_id() == before + 1  # only the version with other files
        t = tx.tasks.get(task)
        assert t is not None and t.updated_at == ts(3)


def test_a_path_taken_by_another_task_refuses_and_leaves_nothing(store: Store, task: str) -> None:
    with store.write() as tx:
        tx.tasks.create("T2", "", ts(0))
    _write(store, "mine", 1, task="T2", path=PATH)
    with store.read() as tx:
        before = (tx.events.last_id(), tx.checkpoints.count())
    for last in (True, False):
        with pytest.raises(Refused):
            _write(store, "p1", 2, last=last)
    with store.read() as tx:
        assert (tx.events.last_id(), tx.checkpoints.count()) == before
        assert tx.checkpoints.newest(task, "plan") is None
        owner = tx.projections.owner(PATH.upper())  # matched case-insensitively
        assert owner is not None and owner.task_id == "T2"


def test_inside_a_bigger_transaction(store: Store, task: str) -> None:
    with store.write() as tx:
        tx.tasks.set_next_action(task, "first", ts(1))
        done = tx.checkpoints.write(
            task,
            "plan",
            "p1",
            hash="h-p1",
            size=2,
            phase=None,
            source="write",
            files=(),
            ts=ts(2),
            path=PATH,
        )
        assert done.added is not None
        event = tx.events.append(task, "after", ts(3), {})
    with store.read() as tx:
        assert tx.events.last_id() == event
        assert [e.type for e in tx.events.query(limit=2)] == [WRITTEN, "after"]
        assert tx.checkpoints.count() == 1
