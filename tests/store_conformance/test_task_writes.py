"""Writes scoped to one task (``store.write(task=T)``, what a checkpoint write opens): writers of
different tasks may run at once (PostgreSQL lets them), and still no version is given twice or
skipped, no event id is given twice, and event ids grow in the order the writes committed."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable

import pytest

from cairn.store import Store

from .conftest import BACKENDS, TS

EACH = 20

# One writer process: `n` scoped writes to its task, each a checkpoint version, its projection
# row, the task's touch and an event; prints "version event-id" after each commit.
_CHILD = """
import sys
from cairn.store import open_store
where, task, n, ts = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
store = open_store(where)
for i in range(n):
    text = f"{task}-{sys.argv[5]}-{i}"
    with store.write(task=task) as tx:
        owner = tx.projections.owner(f"a/{task}.md")
        assert owner is None or owner.task_id == task
        row = tx.checkpoints.add(task, "plan", text, hash="h-" + text, size=len(text),
                                 phase=None, source="write", files=(), ts=ts)
        tx.projections.record(f"a/{task}.md", task, "plan", "h-" + text)
        tx.tasks.touch(task, ts)
        event = tx.events.append(task, "checkpoint.written", ts, {"version": row.version})
    print(row.version, event, flush=True)
"""


def _scoped_write(store: Store, task: str, text: str) -> tuple[int, int]:
    with store.write(task=task) as tx:
        owner = tx.projections.owner(f"a/{task}.md")
        assert owner is None or owner.task_id == task
        row = tx.checkpoints.add(
            task,
            "plan",
            text,
            hash="h-" + text,
            size=len(text),
            phase=None,
            source="write",
            files=(),
            ts=TS,
        )
        tx.projections.record(f"a/{task}.md", task, "plan", "h-" + text)
        tx.tasks.touch(task, TS)
        event = tx.events.append(task, "checkpoint.written", TS, {"version": row.version})
    return row.version, event


def _tasks(store: Store, names: list[str]) -> None:
    with store.write() as tx:
        for name in names:
            tx.tasks.create(name, name, TS)


def _check(store: Store, per_task: dict[str, list[tuple[int, int]]]) -> None:
    events_seen: set[int] = set()
    with store.read() as tx:
        for task, acked in per_task.items():
            history = tx.checkpoints.history(task, "plan")
            assert [r.version for r in history] == list(range(1, len(acked) + 1)), task
            # Within a task the writes took turns: a later version has a later event.
            by_version = sorted(acked)
            assert [e for _, e in by_version] == sorted(e for _, e in by_version), task
            events = tx.events.query(task_id=task, limit=len(acked) + 5)
            assert [e.data["version"] for e in events] == list(range(1, len(acked) + 1))
            events_seen.update(e.id for e in events)
            assert tx.projections.owner(f"a/{task}.md") is not None
        assert len(events_seen) == sum(len(a) for a in per_task.values())
        # The newest id of the whole journal: other writers' events (the plain thread of the
        # mixed test) may come after the last scoped one.
        every = [e.id for e in tx.events.query(limit=1_000_000)]
        assert events_seen <= set(every)
        assert tx.events.last_id() == max(every)
        assert tx.checkpoints.count() == sum(len(a) for a in per_task.values())


def test_scoped_writes_from_threads(store: Store) -> None:
    names = ["T1", "T2", "T3"]
    _tasks(store, names)
    per_task: dict[str, list[tuple[int, int]]] = {n: [] for n in names}
    lock = threading.Lock()
    errors: list[BaseException] = []

    def run(task: str, who: str) -> None:
        try:
            for i in range(EACH):
                got = _scoped_write(store, task, f"{task}-{who}-{i}")
                with lock:
                    per_task[task].append(got)
        except BaseException as exc:  # reported below
            errors.append(exc)

    # Two writers on T1 (they take turns), one each on T2 and T3 (they need not).
    jobs = [("T1", "a"), ("T1", "b"), ("T2", "a"), ("T3", "a")]
    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    _check(store, per_task)


def test_scoped_and_plain_writes_mix(store: Store) -> None:
    """A plain write (steps, store-wide ids) while scoped ones run: each waits as it must."""
    _tasks(store, ["T1", "T2"])
    per_task: dict[str, list[tuple[int, int]]] = {"T1": []}
    errors: list[BaseException] = []

    def plain() -> None:
        try:
            for i in range(EACH):
                with store.write() as tx:
                    tx.steps.add("T2", None, f"step {i}", "done", TS)
                    tx.events.append("T2", "step.recorded", TS, {"i": i})
        except BaseException as exc:  # reported below
            errors.append(exc)

    t = threading.Thread(target=plain)
    t.start()
    for i in range(EACH):
        per_task["T1"].append(_scoped_write(store, "T1", f"T1-{i}"))
    t.join()
    assert not errors, errors
    _check(store, per_task)
    with store.read() as tx:
        assert len(tx.steps.of_task("T2")) == EACH
        assert len(tx.events.query(limit=10 * EACH)) == 2 * EACH


def test_scoped_writes_from_processes(
    backend: str, connect: Callable[[], Store], location: str
) -> None:
    if not BACKENDS[backend][1]:
        pytest.skip(
            f"the {backend} store lives in one process, so no other process can reach it; "
            "test_scoped_writes_from_threads covers its writers"
        )
    store = connect()
    names = ["T1", "T2", "T3"]
    _tasks(store, names)
    jobs = [("T1", "a"), ("T1", "b"), ("T2", "a"), ("T3", "a")]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, location, task, str(EACH), TS, who],
            stdout=subprocess.PIPE,
            text=True,
        )
        for task, who in jobs
    ]
    per_task: dict[str, list[tuple[int, int]]] = {n: [] for n in names}
    for (task, _), p in zip(jobs, procs, strict=True):
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0
        for line in out.splitlines():
            version, event = line.split()
            per_task[task].append((int(version), int(event)))
    _check(store, per_task)
