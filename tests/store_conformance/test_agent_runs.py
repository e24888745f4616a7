"""The runs area's agent part: runs with their crash marking, append-only compactions, subagents."""

from __future__ import annotations

import pytest

from cairn.store import Store
from cairn.store.contract import DuplicateKey

from .conftest import ts


def _compaction(store: Store, n: int, task_id: str) -> int:
    with store.write() as tx:
        return tx.runs.add_agent_compaction(
            ts=ts(n),
            run_id="run-a",
            task_id=task_id,
            phase="work",
            safe_point=n % 2 == 0,
            tokens_before=1000 + n,
            tokens_after=100,
            tokens_since_checkpoint=n,
            window=10_000,
            reason=f"compaction {n}",
        )


def test_a_run_from_start_to_finish(store: Store) -> None:
    with store.write() as tx:
        tx.runs.start_agent_run("run-a", "T1", "scripted:demo", ts(1), 4242)
        with pytest.raises(DuplicateKey):
            tx.runs.start_agent_run("run-a", "T1", "scripted:demo", ts(1), 4242)
    with store.read() as tx:
        (run,) = tx.runs.running_agent_runs("T1")
        assert (run.id, run.state, run.pid, run.usage, run.finished_at) == (
            "run-a",
            "running",
            4242,
            {},
            None,
        )
        assert tx.runs.running_agent_runs("T2") == []
    with store.write() as tx:
        tx.runs.finish_agent_run(
            "run-a", state="done", ts=ts(5), usage={"entered": 12, "peak": 7}, error=None
        )
    with store.read() as tx:
        got = tx.runs.agent_run("run-a")
        assert got is not None and got.state == "done" and got.finished_at == ts(5)
        assert got.usage == {"entered": 12, "peak": 7}
        assert tx.runs.running_agent_runs("T1") == []
        assert tx.runs.agent_run("run-nope") is None


def test_a_crash_marks_the_run_and_its_running_subagents(store: Store) -> None:
    with store.write() as tx:
        tx.runs.start_agent_run("run-a", "T1", "m", ts(1), 1)
        for name, n in (("left", 2), ("right", 3)):
            tx.runs.start_subagent(
                f"sub-{name}",
                run_id="run-a",
                task_id="T1",
                name=name,
                spec={"task": f"do {name}", "inputs": [], "outputs": ["x"]},
                model="m",
                budget_tokens=5000,
                transcript=f".cairn/subagents/T1/sub-{name}.md",
                started_at=ts(n),
            )
        with pytest.raises(DuplicateKey):
            tx.runs.start_subagent(
                "sub-left",
                run_id="run-a",
                task_id="T1",
                name="left",
                spec={},
                model="m",
                budget_tokens=5000,
                transcript="t",
                started_at=ts(4),
            )
        tx.runs.finish_subagent(
            "sub-left",
            state="done",
            used_tokens=321,
            summary="ok",
            summary_tokens=2,
            finished_at=ts(4),
            error=None,
        )
    with store.write() as tx:
        tx.runs.crash_agent_run("run-a", ts=ts(9), error="died", subagent_error="died with it")
    with store.read() as tx:
        run = tx.runs.agent_run("run-a")
        assert run is not None and (run.state, run.error, run.finished_at) == (
            "crashed",
            "died",
            ts(9),
        )
        right, left = tx.runs.subagents(task_id="T1")  # newest first
        assert (left.state, left.partial, left.used_tokens, left.summary) == (
            "done",
            False,
            321,
            "ok",
        )
        assert (right.state, right.partial, right.error) == ("crashed", True, "died with it")
        assert right.spec == {"task": "do right", "inputs": [], "outputs": ["x"]}
        assert right.summary is None and right.used_tokens == 0


def test_partial_follows_the_state(store: Store) -> None:
    with store.write() as tx:
        tx.runs.start_subagent(
            "sub-x",
            run_id="run-a",
            task_id="T1",
            name="x",
            spec={},
            model="m",
            budget_tokens=1000,
            transcript="t",
            started_at=ts(1),
        )
        tx.runs.finish_subagent(
            "sub-x",
            state="partial",
            used_tokens=1200,
            summary="PARTIAL",
            summary_tokens=1,
            finished_at=ts(2),
            error="over budget",
        )
    with store.read() as tx:
        (sub,) = tx.runs.subagents()
        assert sub.partial and sub.state == "partial" and sub.error == "over budget"


def test_newest_first_with_a_task_filter_and_a_limit(store: Store) -> None:
    with store.write() as tx:
        for n in range(5):
            tx.runs.start_agent_run(f"run-{n}", "T1" if n % 2 else "T2", "m", ts(n), n)
    with store.read() as tx:
        assert [r.id for r in tx.runs.agent_runs()] == [f"run-{n}" for n in (4, 3, 2, 1, 0)]
        assert [r.id for r in tx.runs.agent_runs(task_id="T1")] == ["run-3", "run-1"]
        assert [r.id for r in tx.runs.agent_runs(limit=2)] == ["run-4", "run-3"]
    ids = [_compaction(store, n, "T1" if n < 3 else "T2") for n in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5
    with store.read() as tx:
        got = tx.runs.agent_compactions()
        assert [c.id for c in got] == ids[::-1]
        assert [c.id for c in tx.runs.agent_compactions(task_id="T1", limit=2)] == ids[2:0:-1]
        newest = got[0]
        assert newest.safe_point is True and newest.tokens_before == 1004
        assert got[1].safe_point is False and got[1].reason == "compaction 3"


def test_empty(store: Store) -> None:
    with store.read() as tx:
        assert tx.runs.agent_runs() == []
        assert tx.runs.agent_compactions() == []
        assert tx.runs.subagents() == []


def test_a_failed_write_leaves_no_run(store: Store) -> None:
    with pytest.raises(RuntimeError), store.write() as tx:
        tx.runs.start_agent_run("run-gone", "T1", "m", ts(1), 1)
        _ = tx.runs.add_agent_compaction(
            ts=ts(1),
            run_id="run-gone",
            task_id="T1",
            phase=None,
            safe_point=True,
            tokens_before=1,
            tokens_after=1,
            tokens_since_checkpoint=0,
            window=1,
            reason="r",
        )
        raise RuntimeError
    with store.read() as tx:
        assert tx.runs.agent_run("run-gone") is None
        assert tx.runs.agent_compactions() == []
