"""The background flush during a burst of writes: spaced by its own cost, so that it takes a small
share of the writer's time, and never further apart than FLUSH_GAP_MAX_S (projection/projector.py)."""

from __future__ import annotations

import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from cairn.domain.workspace import Workspace
from cairn.projection import projector as projector_mod

SLOW_S = 0.02  # what each flush is made to cost: its gap is then the bound


def test_a_costly_flush_runs_seldom_in_a_burst_and_the_tree_still_follows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts: list[float] = []
    real = projector_mod.Projector._bring_current

    def slow(self: Any, *args: Any, **kw: Any) -> None:
        starts.append(time.monotonic())
        time.sleep(SLOW_S)
        real(self, *args, **kw)

    monkeypatch.setattr(projector_mod.Projector, "_bring_current", slow)
    with Workspace.init(tmp_path) as ws:
        ws.create_task("t", phases=["a"])
        ws.flush()
        starts.clear()
        begin = time.monotonic()
        n = 0
        while time.monotonic() - begin < 1.5:
            n += 1
            ws.write_checkpoint("t", "plan", f"version {n}\n")
            time.sleep(0.002)  # a writer of ~500 writes/s
        burst = time.monotonic() - begin
        # With the old fixed 50 ms delay this burst had ~20 flushes; spaced by cost/share (capped
        # at the bound) there are at most one per bound, plus the first.
        assert 2 <= len(starts) <= burst / projector_mod.FLUSH_GAP_MAX_S + 2, starts
        gaps = [b - a for a, b in pairwise(starts)]
        assert all(g >= projector_mod.FLUSH_GAP_MAX_S * 0.9 for g in gaps), gaps
        # The tree follows the newest write shortly after the burst, by itself.
        status = ws.root / "CURRENT_WORK_STATUS.md"
        plan = ws.root / "artifacts" / "t_plan.md"
        deadline = time.monotonic() + 10  # generous: a loaded machine
        while time.monotonic() < deadline:
            if plan.exists() and plan.read_text(encoding="utf-8") == f"version {n}\n":
                break
            time.sleep(0.01)
        assert plan.read_text(encoding="utf-8") == f"version {n}\n"
        assert status.exists()


def test_a_cheap_flush_after_a_pause_comes_after_the_short_delay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lone write after a pause longer than the last gap is flushed ~FLUSH_DELAY_S later, not
    held back by the burst before it."""
    with Workspace.init(tmp_path) as ws:
        ws.create_task("t", phases=["a"])
        ws.write_checkpoint("t", "plan", "one\n")
        plan = ws.root / "artifacts" / "t_plan.md"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not plan.exists():
            time.sleep(0.01)
        time.sleep(projector_mod.FLUSH_GAP_MAX_S + 0.1)  # longer than any gap
        proj: Any = ws.projector
        wrote = time.monotonic()
        ws.write_checkpoint("t", "plan", "two\n")
        due = proj._due
        assert due is not None
        assert due - wrote <= projector_mod.FLUSH_DELAY_S + 0.05
