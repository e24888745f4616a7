"""Worker runs: one row per (task, worker), attempts that count up, an end recorded once."""

from __future__ import annotations

import pytest

from cairn.store import Store
from cairn.store.contract import DuplicateKey
from cairn.store.contract.runs import WorkerRunRow

from .conftest import ts


def _start(store: Store, task: str, name: str, run_id: str, at: int) -> int:
    with store.write() as tx:
        return tx.runs.start(
            task_id=task,
            name=name,
            kind="cmd",
            spec='{"run": ["true"]}',
            spec_hash="h1",
            run_id=run_id,
            owner_pid=100,
            owner_start="77",
            ts=ts(at),
            log_path=f"logs/workers/{task}/{name}.log",
            outputs=("out/a.txt", "out/b.txt"),
        ).attempt


def _finish(store: Store, run_id: str, state: str, at: int) -> WorkerRunRow | None:
    with store.write() as tx:
        return tx.runs.finish(
            run_id, state, ts=ts(at), duration_s=1.5, exit_code=0, summary="ok", log_tail="t"
        )


def test_a_run_starts_is_stamped_and_ends_once(store: Store, task: str) -> None:
    assert _start(store, task, "repair", "r1", 1) == 1
    with store.write() as tx:
        tx.runs.set_pid("r1", 4242, "99")
    with store.read() as tx:
        row = tx.runs.by_run("r1")
        assert row is not None and row.state == "running" and row.pid == 4242
        assert row.pid_start == "99" and row.owner_pid == 100 and row.owner_start == "77"
        assert row.outputs == ("out/a.txt", "out/b.txt") and row.finished_at is None
        assert tx.runs.worker(task, "repair") == row
    ended = _finish(store, "r1", "done", 5)
    assert ended is not None and ended.state == "done"
    assert _finish(store, "r1", "failed", 6) is None  # already ended: nothing changes
    assert _finish(store, "nope", "failed", 6) is None
    with store.read() as tx:
        row = tx.runs.by_run("r1")
        assert row is not None and row.state == "done" and row.finished_at == ts(5)
        assert row.summary == "ok" and row.duration_s == 1.5 and row.exit_code == 0


def test_a_new_run_replaces_the_row_and_counts_the_attempt(store: Store, task: str) -> None:
    _start(store, task, "repair", "r1", 1)
    _finish(store, "r1", "failed", 2)
    assert _start(store, task, "repair", "r2", 3) == 2
    with store.read() as tx:
        assert tx.runs.by_run("r1") is None  # the row holds the newest run only
        row = tx.runs.worker(task, "repair")
        assert row is not None and row.run_id == "r2" and row.state == "running"
        assert row.summary is None and row.pid is None and row.exit_code is None
    with pytest.raises(DuplicateKey), store.write() as tx:
        tx.runs.start(
            task_id=task,
            name="other",
            kind="fn",
            spec="{}",
            spec_hash="h",
            run_id="r2",
            owner_pid=1,
            owner_start=None,
            ts=ts(4),
            log_path="x.log",
            outputs=(),
        )


def test_lists_twins_and_the_status_order(store: Store, task: str) -> None:
    _start(store, task, "b", "rb", 2)
    _start(store, task, "a", "ra", 2)
    _start(store, task, "c", "rc", 1)
    _finish(store, "rc", "done", 9)
    _finish(store, "rb", "timeout", 3)
    with store.read() as tx:
        assert [r.name for r in tx.runs.of_task(task)] == ["c", "a", "b"]
        assert tx.runs.of_task("T-none") == []
        assert tx.runs.case_twin(task, "A") == "a"
        assert tx.runs.case_twin(task, "a") is None
        assert tx.runs.case_twin(task, "zz") is None
        # running first, then by finish (or start) time, newest first
        assert [r.name for r in tx.runs.for_status(10)] == ["a", "c", "b"]
        assert [r.name for r in tx.runs.for_status(2)] == ["a", "c"]
        assert tx.runs.worker(task, "A") is None  # exact case
