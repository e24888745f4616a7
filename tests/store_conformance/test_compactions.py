"""Compactions: growing ids, the summary and recovery marks, the per-session lookups."""

from __future__ import annotations

from typing import Any

from cairn.store import Store
from cairn.store.contract.compactions import CompactionRow

from .conftest import ts


def _add(store: Store, n: int, session: str | None, **over: Any) -> CompactionRow:
    fields: dict[str, Any] = {
        "ts": ts(n),
        "agent": "codex" if n % 2 else "claude",
        "session_id": session,
        "transcript_path": f"/t/{session}.jsonl" if session else None,
        "trigger": "auto",
        "custom_instructions": None,
        "task_id": "T1",
        "phase": "a",
        "safe_point": n % 2 == 0,
        "reason": f"reason {n}",
        "last_checkpoint_at": ts(0) if n else None,
        "seconds_since_checkpoint": 1.5 * n,
        "tool_calls_since_checkpoint": n,
        "tool_calls_exact": n != 3,
        "summary": None,
        **over,
    }
    with store.write() as tx:
        return tx.compactions.add(**fields)


def test_add_get_and_the_window(store: Store) -> None:
    rows = [_add(store, n, "s1" if n < 3 else "s2") for n in range(5)]
    ids = [r.id for r in rows]
    assert ids == sorted(ids) and len(set(ids)) == 5
    with store.read() as tx:
        got = tx.compactions.get(ids[3])
        assert got == rows[3]
        assert got is not None and got.safe_point is False and got.tool_calls_exact is False
        assert got.summary is None and got.summary_at is None and got.recovered_at is None
        assert tx.compactions.get(10_000) is None
        assert [r.id for r in tx.compactions.recent(2)] == ids[3:]
        assert tx.compactions.recent(0) == []
        assert tx.compactions.count() == 5
        assert tx.compactions.count(suboptimal=True) == 2  # n = 1 and 3


def test_a_summary_given_at_once_is_stamped(store: Store) -> None:
    row = _add(store, 1, None, summary="")
    assert row.summary == "" and row.summary_at == row.ts


def test_summary_and_recovery_marks_and_lookups(store: Store) -> None:
    a = _add(store, 0, "s1")
    b = _add(store, 1, "s1")
    c = _add(store, 2, None)
    with store.read() as tx:
        assert tx.compactions.newest_open("s1") == b
        assert tx.compactions.newest_open("other") is None
        assert tx.compactions.awaiting_summary("s1") == b
        assert tx.compactions.awaiting_summary(None) == c  # of no session, not of any
        assert tx.compactions.newest_unrecovered("s1") == b
        assert tx.compactions.newest_unrecovered() == c
    with store.write() as tx:
        tx.compactions.set_summary(b.id, "what happened", ts(10))
        tx.compactions.set_recovered(c.id, ts(11), "compact")
    with store.read() as tx:
        got = tx.compactions.get(b.id)
        assert got is not None and (got.summary, got.summary_at) == ("what happened", ts(10))
        assert tx.compactions.awaiting_summary("s1") == a
        assert tx.compactions.newest_open("s1") == a
        newest = tx.compactions.newest_unrecovered()
        assert newest is not None and newest.id == b.id
        done = tx.compactions.get(c.id)
        assert done is not None and (done.recovered_at, done.recovery_trigger) == (
            ts(11),
            "compact",
        )
    with store.write() as tx:  # not recovered after all
        tx.compactions.set_recovered(c.id, None, None)
    with store.read() as tx:
        assert tx.compactions.newest_unrecovered() == c


def test_a_failed_write_leaves_no_compaction(store: Store) -> None:
    _add(store, 0, "s1")
    try:
        with store.write() as tx:
            row = tx.compactions.add(
                ts=ts(5),
                agent="claude",
                session_id="s1",
                transcript_path=None,
                trigger=None,
                custom_instructions=None,
                task_id=None,
                phase=None,
                safe_point=True,
                reason="gone",
                last_checkpoint_at=None,
                seconds_since_checkpoint=None,
                tool_calls_since_checkpoint=None,
                tool_calls_exact=None,
                summary=None,
            )
            tx.compactions.set_summary(row.id, "x", ts(6))
            raise RuntimeError
    except RuntimeError:
        pass
    with store.read() as tx:
        assert tx.compactions.count() == 1
        newest = tx.compactions.newest_open("s1")
        assert newest is not None and newest.reason == "reason 0"


def test_empty(store: Store) -> None:
    with store.read() as tx:
        assert tx.compactions.count() == 0 and tx.compactions.recent(5) == []
        assert tx.compactions.newest_unrecovered() is None
        assert tx.compactions.awaiting_summary(None) is None
