"""The PostgreSQL store's write locks: a write scoped to a task (a checkpoint) lets writers of
other tasks through and only those; a plain write excludes them all; a scoped write that reaches
beyond its task is refused before it changes anything; a server restart between writes is seen
on the idle connection and costs no failed write."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from cairn.core.errors import StoreError
from cairn.store import open_store
from pg import drop_database, new_database

TS = "2026-01-01T00:00:00.000Z"


@pytest.fixture
def store(pg_url: str) -> Any:
    s = open_store(pg_url, create=True)
    with s.write() as tx:
        for name in ("T1", "T2"):
            tx.tasks.create(name, name, TS)
    yield s
    s.close()


def _add(tx: Any, task: str, text: str) -> int:
    row = tx.checkpoints.add(
        task, "plan", text, hash=text, size=len(text), phase=None, source="write", files=(), ts=TS
    )
    return int(row.version)


def _held(store: Any, task: str | None, release: threading.Event, began: threading.Event) -> None:
    with store.write(task=task) as tx:
        if task is not None:
            _add(tx, task, "held")
        else:
            tx.steps.add("T1", None, "held", "done", TS)
        began.set()
        release.wait(30)


def _finishes_while_held(store: Any, held_task: str | None, task: str | None) -> bool:
    """Whether a write scoped to ``task`` (None: plain) commits while another, scoped to
    ``held_task``, is open."""
    release, began = threading.Event(), threading.Event()
    holder = threading.Thread(target=_held, args=(store, held_task, release, began))
    holder.start()
    assert began.wait(30)
    done = threading.Event()

    def other() -> None:
        with store.write(task=task) as tx:
            if task is not None:
                _add(tx, task, f"other-{time.monotonic()}")
            else:
                tx.steps.add("T2", None, "other", "done", TS)
        done.set()

    t = threading.Thread(target=other)
    t.start()
    finished = done.wait(1.5)
    release.set()
    holder.join(30)
    t.join(30)
    assert done.is_set()  # it went through once the holder committed, in any case
    return finished


def test_writers_of_other_tasks_run_at_once(store: Any) -> None:
    assert _finishes_while_held(store, "T1", "T2")


def test_writers_of_one_task_take_turns(store: Any) -> None:
    assert not _finishes_while_held(store, "T1", "T1")


def test_a_plain_write_excludes_scoped_ones_and_back(store: Any) -> None:
    assert not _finishes_while_held(store, "T1", None)
    assert not _finishes_while_held(store, None, "T2")


def test_stats_and_renewals_run_beside_writers(store: Any) -> None:
    """A rows-only light write (the projector's stats, a lease renewal) neither waits for a
    scoped writer nor stops one; a plain write still excludes it."""
    with store.write() as tx:
        tx.projections.record("a/T2.md", "T2", "plan", "h1")
        tx.leases.acquire("k", "h", host="m1", pid=1, ttl_s=30)
    release, began = threading.Event(), threading.Event()
    holder = threading.Thread(target=_held, args=(store, "T1", release, began))
    holder.start()
    assert began.wait(30)
    try:
        t0 = time.monotonic()
        with store.light_write(rows_only=True) as tx:
            tx.projections.set_stat("a/T2.md", 5, 6, hash="h1")
            assert tx.leases.renew([("k", "h")], 30) == ["k"]
        assert time.monotonic() - t0 < 1.0
    finally:
        release.set()
        holder.join(30)
    with store.read() as tx:
        assert tx.projections.get("a/T2.md").mtime_ns == 5
    for wide in (
        lambda tx: tx.events.append("T1", "x", TS, {}),
        lambda tx: tx.tasks.touch("T1", TS),
        lambda tx: tx.leases.acquire("k2", "h", host="m1", pid=1, ttl_s=30),
    ):
        with (
            pytest.raises(StoreError, match="rows named by key"),
            store.light_write(rows_only=True) as tx,
        ):
            wide(tx)


def test_a_scoped_write_that_reaches_beyond_its_task_is_refused(store: Any) -> None:
    with (
        pytest.raises(StoreError, match="scoped to task 'T1' touched task 'T2'"),
        store.write(task="T1") as tx,
    ):
        _add(tx, "T2", "x")
    for wide in (
        lambda tx: tx.tasks.create("T3", "t", TS),
        lambda tx: tx.steps.add("T1", None, "s", "done", TS),
        lambda tx: tx.runs.attempts("T1", "a"),
    ):
        with (
            pytest.raises(StoreError, match="whole store's write lock"),
            store.write(task="T1") as tx,
        ):
            wide(tx)
    with store.read() as tx:
        assert tx.checkpoints.history("T2", "plan") == []
        assert tx.tasks.get("T3") is None and tx.events.last_id() == 0


def test_a_restart_between_writes_costs_no_failed_write(pg_server: Any) -> None:
    url = new_database(store=True)
    store = open_store(url)
    try:
        with store.write() as tx:
            tx.tasks.create("T1", "t", TS)
        pg_server.stop("fast")  # every pooled connection is dropped by the server
        pg_server.start()
        for i in range(3):  # each write finds a live connection (the dead ones are replaced)
            with store.write(task="T1") as tx:
                assert _add(tx, "T1", f"after-{i}") == i + 1
    finally:
        store.close()
        drop_database(url)
