"""The budget ledger: contexts (the newest one is current), append-only entries, sums."""

from __future__ import annotations

import pytest

from cairn.store import Store
from cairn.store.contract import DuplicateKey

from .conftest import ts


def _context(store: Store, cid: str, at: int, kind: str = "session") -> None:
    with store.write() as tx:
        tx.ledger.new_context(cid, ts=ts(at), kind=kind, task_id=None, run_id=None, note=None)


def _add(store: Store, cid: str, category: str, source: str, tokens: int, exact: bool) -> int:
    with store.write() as tx:
        return tx.ledger.add(
            ts=ts(5),
            context_id=cid,
            task_id="T1",
            category=category,
            source=source,
            tokens=tokens,
            exact=exact,
        ).id


def test_the_newest_context_is_current_and_ids_are_unique(store: Store) -> None:
    with store.read() as tx:
        assert tx.ledger.current_context() is None and tx.ledger.is_empty()
    _context(store, "ctx-a", 1)
    _context(store, "ctx-b", 2, kind="phase")
    _context(store, "ctx-c", 2)  # same millisecond: the one made last wins
    with store.read() as tx:
        current = tx.ledger.current_context()
        assert current is not None and current.id == "ctx-c"
        b = tx.ledger.context("ctx-b")
        assert b is not None and b.kind == "phase" and b.started_at == ts(2)
        assert tx.ledger.context("nope") is None
    with pytest.raises(DuplicateKey), store.write() as tx:
        tx.ledger.new_context("ctx-a", ts=ts(9), kind="x", task_id=None, run_id=None, note=None)


def test_entries_sum_by_context_and_category(store: Store, task: str) -> None:
    _context(store, "c1", 1)
    _context(store, "c2", 2)
    ids = [
        _add(store, "c1", "specs", "README.md", 100, True),
        _add(store, "c1", "specs", "README.md", 50, False),
        _add(store, "c1", "specs", "docs/a.md", 120, True),
        _add(store, "c1", "specs", "docs/b.md", 10, True),
        _add(store, "c1", "specs", "docs/c.md", 10, True),
        _add(store, "c2", "user", "chat", 7, True),
        _add(store, "c2", "subagent_work", "w1", 1000, True),
    ]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    with store.read() as tx:
        assert not tx.ledger.is_empty()
        assert tx.ledger.totals("c1") == {"specs": (290, False)}
        assert tx.ledger.totals("c2") == {"user": (7, True), "subagent_work": (1000, True)}
        assert tx.ledger.totals(None)["specs"] == (290, False)
        assert tx.ledger.totals("c-none") == {}
        assert tx.ledger.exact_totals("c1") == {"specs": 240}  # the 50 was an estimate
        assert tx.ledger.exact_totals(None) == {"specs": 240, "user": 7, "subagent_work": 1000}
        assert tx.ledger.exact_totals("c-none") == {}
        top = tx.ledger.top_sources("c1", per_category=3)
        assert top == {"specs": [("README.md", 150), ("docs/a.md", 120), ("docs/b.md", 10)]}
        assert set(tx.ledger.top_sources(None, per_category=1)) == {
            "specs",
            "user",
            "subagent_work",
        }
        assert tx.ledger.category_total("subagent_work") == 1000
        assert tx.ledger.category_total("buffer") == 0


def test_the_newest_context_of_a_note_is_that_sessions_own(store: Store) -> None:
    """Two client sessions in one workspace: each finds its own newest context by its note (the
    session id its hooks write), whatever the other started since."""

    def make(cid: str, at: int, note: str | None, kind: str = "session") -> None:
        with store.write() as tx:
            tx.ledger.new_context(cid, ts=ts(at), kind=kind, task_id=None, run_id=None, note=note)

    with store.read() as tx:
        assert tx.ledger.newest_context(note="A") is None
    make("ctx-a1", 1, "A")
    make("ctx-b1", 2, "B")
    make("ctx-a2", 3, "A", kind="compact")
    make("ctx-a3", 3, "A", kind="clear")  # same millisecond: the one made last wins
    make("ctx-b2", 4, "B")
    make("ctx-x", 5, None)
    with store.read() as tx:
        a = tx.ledger.newest_context(note="A")
        b = tx.ledger.newest_context(note="B")
        assert a is not None and (a.id, a.kind, a.note) == ("ctx-a3", "clear", "A")
        assert b is not None and b.id == "ctx-b2" and b.started_at == ts(4)
        assert tx.ledger.newest_context(note="C") is None
        current = tx.ledger.current_context()
        assert current is not None and current.id == "ctx-x"
