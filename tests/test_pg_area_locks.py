"""The lock calls of the PostgreSQL areas whose SQL is shared with SQLite (ledger, meta, leases,
records): each store-wide write is refused in a write scoped to a task, and in a rows-only light
write, naming itself, before it sends anything; what only reads, or renews rows by key, runs
there. (A fold of these areas once dropped these calls; this pins every one of them.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cairn.core.errors import StoreError
from cairn.store import open_store

TS = "2026-01-01T00:00:00.000Z"

# The area's name for itself in the refusal, and a call of it.
STORE_WIDE: list[tuple[str, Callable[[Any], object]]] = [
    (
        "ledger.new_context",
        lambda tx: tx.ledger.new_context(
            "c2", ts=TS, kind="session", task_id=None, run_id=None, note=None
        ),
    ),
    (
        "ledger.add",
        lambda tx: tx.ledger.add(
            ts=TS,
            context_id="c1",
            task_id=None,
            category="files",
            source="a.md",
            tokens=3,
            exact=True,
        ),
    ),
    ("meta.put", lambda tx: tx.meta.put("k", "v2")),
    ("meta.delete", lambda tx: tx.meta.delete("k")),
    ("leases.acquire", lambda tx: tx.leases.acquire("k2", "h", host="m", pid=1, ttl_s=30)),
    ("leases.release", lambda tx: tx.leases.release("k1", "h")),
    ("records.load", lambda tx: tx.records.load("meta", ["key", "value"], [["k3", "v"]])),
    ("records.clear", lambda tx: tx.records.clear()),
    ("records.derive", lambda tx: tx.records.derive()),
]

READS: list[Callable[[Any], object]] = [
    lambda tx: tx.ledger.context("c1"),
    lambda tx: tx.ledger.current_context(),
    lambda tx: tx.ledger.newest_context(note="s1"),
    lambda tx: tx.ledger.totals(None),
    lambda tx: tx.ledger.top_sources("c1", per_category=3),
    lambda tx: tx.ledger.category_total("files"),
    lambda tx: tx.ledger.is_empty(),
    lambda tx: tx.meta.get("k"),
    lambda tx: tx.meta.holds("budget_ledger"),
    lambda tx: tx.meta.holding(("budget_ledger", "reviews")),
    lambda tx: tx.meta.change_token(),
    lambda tx: tx.leases.get("k1"),
    lambda tx: tx.leases.many(["k1", "k9"]),
    lambda tx: tx.leases.all(),
    lambda tx: tx.leases.renew([("k1", "h")], 30),
    lambda tx: tx.records.count("meta"),
    lambda tx: list(tx.records.rows("meta")),
    lambda tx: tx.records.fields("budget_contexts"),
    lambda tx: tx.records.migrations(),
]


@pytest.fixture
def store(pg_url: str) -> Any:
    s = open_store(pg_url, create=True)
    with s.write() as tx:
        tx.tasks.create("T1", "t", TS)
        tx.ledger.new_context("c1", ts=TS, kind="session", task_id=None, run_id=None, note=None)
        tx.meta.put("k", "v")
        tx.leases.acquire("k1", "h", host="m", pid=1, ttl_s=30)
    yield s
    s.close()


def _snapshot(store: Any) -> tuple[Any, ...]:
    with store.read() as tx:
        return (
            tx.ledger.totals(None),
            tx.ledger.context("c2"),
            tx.meta.get("k"),
            tx.meta.get("k3"),
            [(r.key, r.holder) for r in tx.leases.all()],
            tx.records.count("tasks"),
        )


@pytest.mark.parametrize("what, call", STORE_WIDE, ids=[w for w, _ in STORE_WIDE])
def test_store_wide_writes_are_refused_in_a_scoped_write(store: Any, what: str, call: Any) -> None:
    before = _snapshot(store)
    with (
        pytest.raises(StoreError, match=rf"^{what} needs the whole store's write lock.*task 'T1'"),
        store.write(task="T1") as tx,
    ):
        call(tx)
    with (
        pytest.raises(StoreError, match=rf"^{what} needs the whole store's write lock.*by key"),
        store.light_write(rows_only=True) as tx,
    ):
        call(tx)
    assert _snapshot(store) == before
    with store.write() as tx:  # the same call in a plain write goes through
        call(tx)


def test_reads_and_renewals_run_in_scoped_writes(store: Any) -> None:
    for call in READS:
        with store.write(task="T1") as tx:
            call(tx)
        with store.light_write(rows_only=True) as tx:
            call(tx)
    with store.light_write(rows_only=True) as tx:
        assert tx.leases.renew([("k9", "h"), ("k1", "h")], 30) == ["k1"]
