"""Recoveries: append-only rows with growing ids and the newest-N window."""

from __future__ import annotations

from cairn.store import Store

from .conftest import ts


def _add(store: Store, n: int, stamp: str) -> int:
    with store.write() as tx:
        return tx.recoveries.add(
            ts=stamp,
            trigger="manual" if n % 2 else "compact",
            task_id="T1" if n % 2 else None,
            phase=None,
            checkpoint=f"artifacts/T1_plan.md v{n}" if n else None,
            reloaded=("a.md", "b.md"),
            safe_point=None if n == 0 else n % 2 == 1,
            note=None,
            last_event=n * 10,
        ).id


def test_recent_newest_and_counts(store: Store) -> None:
    ids = [_add(store, n, ts(n // 2)) for n in range(6)]
    assert ids == sorted(ids) and len(set(ids)) == 6
    with store.read() as tx:
        recent = tx.recoveries.recent(3)
        assert [r.id for r in recent] == ids[3:]
        newest = tx.recoveries.newest()
        assert newest is not None and newest.id == ids[-1] and newest.last_event == 50
        assert newest.reloaded == ("a.md", "b.md") and newest.safe_point is True
        assert recent[1].safe_point is False
        assert tx.recoveries.count() == 6
        assert tx.recoveries.count(before_id=ids[2]) == 2
        assert tx.recoveries.count_at(ts(2), after_id=ids[0]) == 2
        assert tx.recoveries.count_at(ts(2), after_id=ids[4]) == 1


def test_empty(store: Store) -> None:
    with store.read() as tx:
        assert tx.recoveries.newest() is None
        assert tx.recoveries.recent(5) == []
        assert tx.recoveries.count() == 0
