"""Durable phases through the Python API: skip what is done, record results, refuse silent re-runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import cairn
from cairn.core.errors import NotFound, TransitionError, UsageError
from cairn.core.model import Checkpoint
from cairn.flow import PhaseContext, PhaseFailed, TaskHandle, WorkflowChanged
from cairn.projection.status import status_data


def _bump(folder: Path, name: str) -> int:
    f = folder / f"calls_{name}"
    n = int(f.read_text()) + 1 if f.exists() else 1
    f.write_text(str(n))
    return n


def _calls(folder: Path, name: str) -> int:
    f = folder / f"calls_{name}"
    return int(f.read_text()) if f.exists() else 0


def _make(root: Path, names: tuple[str, ...] = ("analysis", "plan", "build")) -> TaskHandle:
    project = cairn.open(root)
    task = project.task("finding4", "Best-of-N")
    for n in names:

        def fn(ctx: PhaseContext, n: str = n) -> Any:
            _bump(root, n)
            return f"# {n}\nresult of {n}\n"

        task.phase(n)(fn)
    return task


def test_open_creates_workspace_and_task(tmp_path: Path) -> None:
    project = cairn.open(tmp_path)
    assert (tmp_path / ".cairn" / "cairn.db").exists()
    task = project.task("t1", "title")
    assert project.task("t1") is task
    assert project.workspace.task("t1").title == "title"
    assert isinstance(project.tasks(), list)  # Workspace methods are reachable


def test_finished_phases_are_not_run_again(tmp_path: Path) -> None:
    project = cairn.open(tmp_path)
    task = project.task("finding4")

    @task.phase("analysis")
    def analysis(ctx: PhaseContext) -> Checkpoint:
        _bump(tmp_path, "analysis")
        ctx.progress("read the data")
        return ctx.checkpoint("analysis", "# Analysis\n3 issues\n", files=["data.jsonl"])

    @task.phase("plan", needs=["analysis"])
    def plan(ctx: PhaseContext) -> dict[str, Any]:
        _bump(tmp_path, "plan")
        assert "3 issues" in ctx.load("analysis")
        return {"k": 4, "steps": ["a", "b"]}

    @task.phase
    def build(ctx: PhaseContext) -> str:
        _bump(tmp_path, "build")
        return f"built with k={ctx.result('plan')['k']}"

    @task.phase
    def wrapup(ctx: PhaseContext) -> None:
        _bump(tmp_path, "wrapup")

    first = task.run()
    assert [o.action for o in first.outcomes] == ["ran"] * 4
    second = task.run()
    assert second.skipped == ["analysis", "plan", "build", "wrapup"]
    for n in ("analysis", "plan", "build", "wrapup"):
        assert _calls(tmp_path, n) == 1
    cp = second["analysis"]
    assert isinstance(cp, Checkpoint) and cp.kind == "analysis" and cp.version == 1
    assert second["plan"] == {"k": 4, "steps": ["a", "b"]}
    assert second["build"] == "built with k=4"
    assert second["wrapup"] is None
    # A fresh process sees the same: open the store again from scratch.
    again = cairn.open(tmp_path).task("finding4")
    for fn in (analysis, plan, build, wrapup):
        again.phase(fn.__name__)(fn)
    assert again.run().results == second.results
    assert _calls(tmp_path, "analysis") == 1
    # The str and JSON results are readable checkpoints named after the phase.
    assert "k" in (tmp_path / "artifacts" / "finding4_plan.md").read_text()
    assert (tmp_path / "artifacts" / "finding4_build.md").read_text() == "built with k=4"
    assert all(p.state == "done" for p in project.workspace.task("finding4").phases)


def test_rename_is_refused_with_the_way_forward(tmp_path: Path) -> None:
    _make(tmp_path).run()
    renamed = _make(tmp_path, ("analysis", "planning", "build"))
    renamed.source = "wf.py"
    with pytest.raises(WorkflowChanged) as err:
        renamed.run()
    msg = str(err.value)
    assert "'plan'" in msg and "renamed to 'planning'?" in msg
    assert "cairn run wf.py --reset plan" in msg and "keep the old name" in msg
    assert "\n" not in msg
    assert _calls(tmp_path, "build") == 1  # nothing ran
    assert renamed.reset("plan") == ["build", "plan"]
    report = renamed.run()
    assert report.skipped == ["analysis"]
    assert [o.phase for o in report.outcomes] == ["analysis", "planning", "build"]
    assert _calls(tmp_path, "analysis") == 1 and _calls(tmp_path, "build") == 2
    names = [p.name for p in renamed.workspace.task("finding4").phases]
    assert names == ["analysis", "planning", "build"]


def test_reorder_is_refused_then_reset_runs_in_the_new_order(tmp_path: Path) -> None:
    _make(tmp_path).run()
    swapped = _make(tmp_path, ("plan", "analysis", "build"))
    with pytest.raises(WorkflowChanged) as err:
        swapped.run()
    msg = str(err.value)
    assert "changed order" in msg and "analysis → plan → build" in msg
    assert "--reset analysis" in msg
    swapped.reset("analysis")
    report = swapped.run()
    assert [o.action for o in report.outcomes] == ["ran", "ran", "ran"]
    # The new order is what later runs compare against.
    assert _make(tmp_path, ("plan", "analysis", "build")).run().skipped == [
        "plan",
        "analysis",
        "build",
    ]


def test_a_new_phase_at_the_end_runs_alone(tmp_path: Path) -> None:
    _make(tmp_path).run()
    report = _make(tmp_path, ("analysis", "plan", "build", "test")).run()
    assert report.skipped == ["analysis", "plan", "build"]
    assert _calls(tmp_path, "test") == 1


def test_raising_phase_is_failed_with_traceback_in_journal_and_status(tmp_path: Path) -> None:
    project = cairn.open(tmp_path)
    task = project.task("t")
    broken = {"on": True}

    @task.phase
    def first(ctx: PhaseContext) -> str:
        _bump(tmp_path, "first")
        return "ok"

    @task.phase
    def second(ctx: PhaseContext) -> str:
        ctx.progress("loaded inputs")
        if broken["on"]:
            raise ZeroDivisionError("ratio of empty shard")
        return "fine"

    with pytest.raises(PhaseFailed) as err:
        task.run()
    msg = str(err.value)
    assert "phase 'second'" in msg and "ZeroDivisionError: ratio of empty shard" in msg
    assert "cairn log --task t --type phase.failed" in msg and "\n" not in msg
    ws = project.workspace
    assert ws.task("t").phase("second").state == "failed"  # type: ignore[union-attr]
    event = ws.events("t", types=["phase.failed"])[-1]
    assert "Traceback (most recent call last)" in event.data["error"]
    assert "ZeroDivisionError: ratio of empty shard" in event.data["error"]
    failures = status_data(ws)["failures"]
    assert failures and failures[0]["phase"] == "second"
    status = (tmp_path / "CURRENT_WORK_STATUS.md").read_text()
    assert "ZeroDivisionError: ratio of empty shard" in status
    broken["on"] = False
    report = task.run()
    assert report.skipped == ["first"] and report.outcomes[1].attempt == 2
    assert _calls(tmp_path, "first") == 1


class _Opaque:
    pass


def test_unserializable_return_fails_the_phase_and_keeps_its_writes(tmp_path: Path) -> None:
    task = cairn.open(tmp_path).task("t")

    @task.phase
    def make(ctx: PhaseContext) -> Any:
        ctx.checkpoint("notes", "# Notes\nkept\n")
        return {"when": _Opaque()}

    with pytest.raises(PhaseFailed) as err:
        task.run()
    assert "not JSON" in str(err.value) and "ctx.checkpoint" in str(err.value)
    ws = task.workspace
    assert ws.task("t").phase("make").state == "failed"  # type: ignore[union-attr]
    assert ws.checkpoint("t", "notes").content == "# Notes\nkept\n"

    other = cairn.open(tmp_path).task("u")
    other.phase("odd")(lambda ctx: _Opaque())
    with pytest.raises(PhaseFailed, match="returned a _Opaque, which cairn cannot store"):
        other.run()


def test_needs_are_checked(tmp_path: Path) -> None:
    task = cairn.open(tmp_path).task("t")
    task.phase("quiet")(lambda ctx: None)
    task.phase("uses", needs=["quiet"])(lambda ctx: "x")
    with pytest.raises(TransitionError, match="finished without a checkpoint"):
        task.run()

    bad = cairn.open(tmp_path).task("u")
    bad.phase("a", needs=["b"])(lambda ctx: "x")
    bad.phase("b")(lambda ctx: "y")
    with pytest.raises(UsageError, match="runs after it"):
        bad.run()
    missing = cairn.open(tmp_path).task("v")
    missing.phase("a", needs=["zzz"])(lambda ctx: "x")
    with pytest.raises(UsageError, match="not a phase of task"):
        missing.run()


def test_load_names_what_exists(tmp_path: Path) -> None:
    task = cairn.open(tmp_path).task("t")
    task.phase("a")(lambda ctx: ctx.checkpoint("analysis", "x"))
    task.phase("b")(lambda ctx: ctx.load("plan"))
    with pytest.raises(PhaseFailed, match=r"no checkpoint 'plan'.*it has: analysis"):
        task.run()


def test_registration_errors(tmp_path: Path) -> None:
    task = cairn.open(tmp_path).task("t", phases=["a", "b"])
    task.phase("a")(lambda ctx: None)
    with pytest.raises(UsageError, match="a"):
        task.phase("a")(lambda ctx: None)
    with pytest.raises(UsageError, match="not among the phases declared"):
        task.phase("c")(lambda ctx: None)
    with pytest.raises(UsageError, match="no function is registered"):
        task.run()
    with pytest.raises(UsageError, match="reserved"):
        cairn.open(tmp_path).task("u").phase("progress")(lambda ctx: None)
    with pytest.raises(UsageError, match="no phases"):
        cairn.open(tmp_path).task("w").run()


def test_declared_order_wins_over_definition_order(tmp_path: Path) -> None:
    task = cairn.open(tmp_path).task("t", phases=["first", "second"])
    order: list[str] = []
    task.phase("second")(lambda ctx: order.append("second"))
    task.phase("first")(lambda ctx: order.append("first"))
    task.run()
    assert order == ["first", "second"]


def test_nested_run_of_the_same_task_is_refused(tmp_path: Path) -> None:
    task = cairn.open(tmp_path).task("t")
    task.phase("inner")(lambda ctx: task.run())
    with pytest.raises(PhaseFailed, match="already running in this process"):
        task.run()


def test_gated_phase_is_refused_without_an_approved_plan(tmp_path: Path) -> None:
    task = cairn.open(tmp_path).task("t")
    task.phase("plan")(lambda ctx: ctx.checkpoint("plan", "# Plan\n"))
    ran: list[str] = []
    task.phase("build", gated=True)(lambda ctx: ran.append("build"))
    with pytest.raises(TransitionError, match="gated"):
        task.run()
    assert ran == []
    phase = task.workspace.task("t").phase("build")
    assert phase is not None and phase.gated and phase.state == "pending"


def test_steps_and_attempt_are_visible_to_the_phase(tmp_path: Path) -> None:
    task = cairn.open(tmp_path).task("t")
    seen: list[tuple[int, list[str], bool]] = []

    @task.phase
    def work(ctx: PhaseContext) -> str:
        seen.append((ctx.attempt, [s.text for s in ctx.earlier_steps], ctx.done("part 1")))
        if not ctx.done("part 1"):
            ctx.progress("part 1")
        if ctx.attempt == 1:
            raise RuntimeError("stop after part 1")
        ctx.progress("part 2")
        ctx.next("test it")
        return "ok"

    with pytest.raises(PhaseFailed):
        task.run()
    task.run()
    assert seen == [(1, [], False), (2, ["part 1"], True)]
    history = task.history()
    assert [(h["phase"], h["attempt"], h["state"]) for h in history] == [
        ("work", 1, "failed"),
        ("work", 2, "done"),
    ]
    assert task.workspace.task("t").next_action == "test it"


def test_result_of_unfinished_phase(tmp_path: Path) -> None:
    task = cairn.open(tmp_path).task("t")
    task.phase("a")(lambda ctx: "x")
    with pytest.raises(NotFound, match="has not finished"):
        task.result("a")


def test_report_json_and_lines(tmp_path: Path) -> None:
    task = cairn.open(tmp_path).task("t")
    task.phase("a")(lambda ctx: [1, 2])
    task.run()
    report = task.run()
    data = report.to_json()
    assert data["schema"] == "cairn.run/1" and data["phases"][0]["action"] == "skipped"
    assert json.dumps(data)
    assert "skipped" in "\n".join(report.lines())
    assert report["a"] == [1, 2]


def test_status_file_shows_a_long_phase_as_active(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from cairn.flow import refresh

    monkeypatch.setattr(refresh, "STATUS_DELAY_S", 0.05)
    task = cairn.open(tmp_path).task("t")
    seen: list[str] = []
    status = tmp_path / "CURRENT_WORK_STATUS.md"

    @task.phase
    def slow(ctx: PhaseContext) -> str:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            text = status.read_text()
            if "(active)" in text and "slow ⏳" in text:
                seen.append(text)
                break
            time.sleep(0.01)
        return "done"

    task.run()
    assert seen, "the status file never showed the running phase"
    assert "| t | done |" in status.read_text()


def test_run_heals_an_artifact_lost_between_commit_and_projection(tmp_path: Path) -> None:
    task = _make(tmp_path, ("analysis",))
    task.run()
    art = tmp_path / "artifacts" / "finding4_analysis.md"
    art.unlink()  # as if the process died right after the commit
    assert task.run().skipped == ["analysis"]
    assert art.read_text() == "# analysis\nresult of analysis\n"
    assert _calls(tmp_path, "analysis") == 1
