"""The progress file's view of the steps, kept from one step to the next (domain/step_view.py),
is what reading every shown step again gives, whatever the steps do and whoever else writes."""

from __future__ import annotations

import random
from pathlib import Path

from cairn.domain import step_view
from cairn.domain.steps import render_progress_doc
from cairn.domain.workspace import Workspace


def _stored_and_read(ws: Workspace, task: str) -> tuple[str, str]:
    with ws.store.read() as tx:
        doc = tx.steps.doc(task)
        assert doc is not None
        return doc.content, render_progress_doc(ws, tx, task)  # read from the steps, no memory


def test_kept_view_is_the_view_read_again(tmp_path: Path) -> None:
    rnd = random.Random(9)
    ws = Workspace.init(tmp_path, listeners=())
    other = Workspace.open(tmp_path, listeners=())  # another connection: its writes invalidate
    ws.create_task("t", phases=["a", "b"])
    ws.start_phase("t", "a")
    texts: list[str] = []
    states = ("done", "done", "done", "active", "todo", "failed")
    kept = 0
    for i in range(2 * step_view.LIMIT + 150):
        writer = other if rnd.random() < 0.03 else ws
        roll = rnd.random()
        if texts and roll < 0.25:  # an update: a recent step, or any older one
            pick = texts[-rnd.randint(1, min(len(texts), 8))] if roll < 0.15 else rnd.choice(texts)
            writer.progress("t", pick, rnd.choice(states), phase=rnd.choice(("a", "b")))
        elif roll < 0.27:
            writer.set_next("t", f"next {i}")
        else:
            texts.append(f"step {i}")
            writer.progress("t", texts[-1], rnd.choice(states))
        stored, read = _stored_and_read(ws, "t")
        assert stored == read, f"after operation {i}"
        kept += "t" in step_view._VIEWS.get(ws.store, {})
    assert kept > 300  # the remembered view was used, not read again each time
    ws.close()
    other.close()


def test_an_open_step_behind_the_view_comes_into_it(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path, listeners=())
    ws.create_task("t", phases=["a"])
    for i in range(step_view.HALF + 5):
        ws.progress("t", f"open {i}", "active")
    for i in range(step_view.LIMIT):
        ws.progress("t", f"done {i}", "done")
    stored, read = _stored_and_read(ws, "t")
    assert stored == read and "open 0" in stored and f"open {step_view.HALF}" not in stored
    ws.progress("t", "open 0", "done")  # closing a shown older step shows the next one
    stored, read = _stored_and_read(ws, "t")
    assert stored == read and f"open {step_view.HALF}" in stored and "⏳ open 0" not in stored
    ws.progress("t", "done 3", "failed")  # a hidden done step opening again
    stored, read = _stored_and_read(ws, "t")
    assert stored == read
    ws.close()
