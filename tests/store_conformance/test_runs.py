"""Worker runs: one row per (task, worker), attempts that count up, an end recorded once."""

from __future__ import annotations

import pytest

from cairn.store import Store
from cairn.store.contract import DuplicateKey, MissingRow
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


def _phase_run(store: Store, task: str, phase: str, attempt: int, at: int) -> int:
    with store.write() as tx:
        return tx.runs.add_phase_run(
            task, phase, attempt=attempt, pid=4000 + attempt, host="h1", ts=ts(at)
        ).id


def test_phase_runs_crash_end_and_reset(store: Store, task: str) -> None:
    first = _phase_run(store, task, "a", 1, 1)
    with store.write() as tx:
        crashed = tx.runs.crash_running(task, "a", ts(2))
        assert [r.id for r in crashed] == [first] and crashed[0].state == "running"
        assert tx.runs.crash_running(task, "a", ts(2)) == []
        assert tx.runs.attempts(task, "a") == 1
    second = _phase_run(store, task, "a", 2, 3)
    other = _phase_run(store, task, "b", 1, 4)
    assert first < second < other
    with store.write() as tx:
        tx.runs.end_phase_run(
            second,
            "done",
            ts(5),
            result_type="json",
            result_kind="a",
            result_version=3,
            result_json="[1]",
        )
        tx.runs.end_phase_run(other, "failed", ts(6), error="boom")
    with store.read() as tx:
        runs = tx.runs.phase_runs(task)
        assert [(r.phase, r.attempt, r.state) for r in runs] == [
            ("a", 1, "crashed"),
            ("a", 2, "done"),
            ("b", 1, "failed"),
        ]
        assert runs[0].finished_at == ts(2) and runs[0].pid == 4001 and runs[0].host == "h1"
        assert (runs[1].result_type, runs[1].result_kind, runs[1].result_version) == (
            "json",
            "a",
            3,
        )
        assert runs[1].result_json == "[1]" and runs[1].error is None
        assert runs[2].error == "boom" and runs[2].result_type is None
        assert [r.id for r in tx.runs.phase_runs(task, "b")] == [other]
        assert tx.runs.phase_runs("T-none") == []
    with store.write() as tx:
        tx.runs.reset_phase_runs(task, "a")
        assert tx.runs.attempts(task, "a") == 0 and tx.runs.attempts(task, "b") == 1
    with pytest.raises(MissingRow), store.write() as tx:
        tx.runs.end_phase_run(999, "done", ts(7))
