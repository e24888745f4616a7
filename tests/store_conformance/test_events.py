"""The journal: growing ids, filters, the newest-N window, data round-trips."""

from __future__ import annotations

from pathlib import Path

from cairn.store import Store

from .conftest import ts


def test_append_and_query(store: Store, task: str) -> None:
    with store.write() as tx:
        ids = [
            tx.events.append(task if i % 2 else None, f"t{i % 3}", ts(i), {"i": i})
            for i in range(9)
        ]
    assert ids == list(range(ids[0], ids[0] + 9))
    with store.read() as tx:
        assert tx.events.last_id() == ids[-1]
        window = tx.events.query(limit=3)
        assert [e.data["i"] for e in window] == [6, 7, 8]  # the newest, oldest first
        mine = tx.events.query(task_id=task)
        assert [e.data["i"] for e in mine] == [1, 3, 5, 7]
        typed = tx.events.query(types=("t0", "t2"))
        assert [e.type for e in typed] == ["t0", "t2", "t0", "t2", "t0", "t2"]
        after = tx.events.query(after=ids[6])
        assert [e.data["i"] for e in after] == [7, 8]
        assert tx.events.count() == 9
        assert tx.events.count(task_id=task, types=("t1",)) == 2
        assert tx.events.count(after=ids[6]) == 2


def test_data_round_trips_as_json(store: Store) -> None:
    with store.write() as tx:
        eid = tx.events.append(
            None, "x", ts(1), {"text": "日本語 🧱", "n": [1, 2], "path": Path("a/b")}
        )
    with store.read() as tx:
        (event,) = tx.events.query()
    assert event.id == eid and event.task_id is None and event.ts == ts(1)
    assert dict(event.data) == {"text": "日本語 🧱", "n": [1, 2], "path": "a/b"}


def test_empty_journal(store: Store) -> None:
    with store.read() as tx:
        assert tx.events.last_id() == 0
        assert tx.events.query() == []
