"""The domain announces what it committed and renders nothing itself: with no listener attached, a
durable run with workers writes its records and no readable file, and the next workspace opened
with the projector renders all of it from the store."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from cairn.domain.notices import Change, NoProjection
from cairn.domain.workers import Worker
from cairn.domain.workspace import Workspace
from cairn.flow import refresh
from cairn.flow.durable import TaskHandle


def _readable(root: Path) -> list[str]:
    """The files the projector writes: the status file and the artifacts."""
    found = [p for p in (root / "artifacts").rglob("*") if p.is_file()]
    status = root / "CURRENT_WORK_STATUS.md"
    return sorted(str(p.relative_to(root)) for p in [*found, *([status] * status.exists())])


def _double(n: int) -> str:
    return f"doubled {n * 2}"


HEARD: list[Change] = []


class Ear(NoProjection):
    """A listener (named by module:factory, as the projector is) that keeps what it is told and
    renders nothing."""

    def committed(self, change: Change) -> None:
        HEARD.append(change)


def test_a_run_with_workers_and_no_projector_renders_nothing_and_fails_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A phase that runs a while has the status rendered meanwhile (flow/refresh.py): at once here.
    monkeypatch.setattr(refresh, "STATUS_DELAY_S", 0.0)
    Workspace.init(tmp_path, listeners=()).close()
    assert _readable(tmp_path) == []
    HEARD.clear()
    with Workspace.open(tmp_path, listeners=()) as ws:
        task = TaskHandle(ws, "t1", order=["work", "sum"])
        ws.create_task("t1", exist_ok=True)

        @task.phase("work")
        def work(ctx: Any) -> str:
            results = ctx.spawn_many([Worker(f"w{i}", fn=_double, args=(i,)) for i in range(2)])
            assert [r.state for r in results] == ["done", "done"], results
            return ctx.checkpoint("analysis", "\n".join(r.summary for r in results) + "\n")

        @task.phase("sum")
        def total(ctx: Any) -> str:
            ctx.progress("summed")
            time.sleep(0.3)  # long enough for the status refresher to fire
            return "ok"

        report = task.run()
        assert [o.action for o in report.outcomes] == ["ran", "ran"], report
        assert "doubled 2" in (ws.checkpoint("t1", "analysis").content or "")
    assert _readable(tmp_path) == []

    # The announcements are still made, to whoever listens: the workers' and the run's end.
    with Workspace.open(tmp_path, listeners=(f"{__name__}:Ear",)) as ws:
        again = TaskHandle(ws, "t2", order=["one"])
        ws.create_task("t2", exist_ok=True)
        again.phase("one")(
            lambda ctx: ctx.spawn_many([Worker("w", fn=_double, args=(5,))])[0].summary
        )
        assert [o.action for o in again.run().outcomes] == ["ran"]
    whats = [(c.what, c.task_id, c.settle) for c in HEARD if c.settle]
    assert ("worker", "t2", True) in whats and whats[-1] == ("run", "t2", True), whats
    assert _readable(tmp_path) == []

    # What was committed unseen is rendered by the projector from the store.
    with Workspace.open(tmp_path) as ws:
        ws.refresh()
    assert "artifacts/t1_analysis.md" in _readable(tmp_path)
    assert "doubled 2" in (tmp_path / "artifacts" / "t1_analysis.md").read_text(encoding="utf-8")
    assert "t1" in (tmp_path / "CURRENT_WORK_STATUS.md").read_text(encoding="utf-8")
