"""The three data bugs of issue 9, each pinned: the caller's spelling of a task id, a file found
before the first write, and artifact names that collided across tasks (with the migration of
workspaces written under the old names)."""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from cairn.core.names import artifact_stem
from cairn.domain.workspace import Workspace
from helpers.cli import run


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    w = Workspace.init(tmp_path)
    yield w
    w.close()
    gc.collect()


def _history(ws: Workspace, task: str, kind: str) -> list[tuple[int, str, str | None]]:
    return [
        (c.version, c.source, ws.checkpoint(task, kind, c.version).content)
        for c in ws.history(task, kind)
    ]


# -- (a) the hand-edit check uses the stored id, not the caller's spelling ------------------------
def test_a_hand_edit_is_ingested_before_a_write_naming_the_task_in_another_case(
    ws: Workspace,
) -> None:
    ws.create_task("finding4", "", ["analysis"])
    ws.write_checkpoint("finding4", "plan", "v1\n")
    artifact = ws.root / "artifacts" / "finding4_plan.md"
    artifact.write_text("edited by hand\n", encoding="utf-8")
    cp = ws.write_checkpoint("FINDING4", "plan", "new\n")
    assert (cp.task_id, cp.version) == ("finding4", 3)
    assert _history(ws, "finding4", "plan") == [
        (1, "write", "v1\n"),
        (2, "hand-edit", "edited by hand\n"),
        (3, "write", "new\n"),
    ]
    assert ws.checkpoint("finding4", "plan").content == "new\n"
    assert artifact.read_text(encoding="utf-8") == "new\n"


def test_a_hand_edit_of_the_progress_file_is_kept_when_steps_name_the_task_in_another_case(
    ws: Workspace,
) -> None:
    ws.create_task("finding4", "", ["analysis"])
    ws.progress("finding4", "first")
    progress_file = ws.root / "artifacts" / "finding4_progress.md"
    progress_file.write_text("my notes\n", encoding="utf-8")
    ws.progress("Finding4", "second")
    assert "my notes\n" in [
        content
        for _, source, content in _history(ws, "finding4", "progress")
        if source == "hand-edit"
    ]
    assert "second" in progress_file.read_text(encoding="utf-8")


# -- (b) a file found before the first write does not win over it -------------------------------
def test_an_artifact_found_before_the_first_write_is_kept_and_the_write_wins(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, ws.root, "task", "new", "T", "--phases", "a").code == 0
    artifact = ws.root / "artifacts" / "T_plan.md"
    artifact.write_text("old\n", encoding="utf-8")
    r = run(capsys, ws.root, "checkpoint", "write", "T", "plan", stdin="new\n")
    assert r.code == 0, r.err
    assert _history(ws, "T", "plan") == [(1, "hand-edit", "old\n"), (2, "write", "new\n")]
    assert artifact.read_text(encoding="utf-8") == "new\n"
    r = run(capsys, ws.root, "recover", "--task", "T")
    assert r.code == 0 and "new" in r.out and "old" not in r.out.replace("older", "")
    events = [e.data.get("source") for e in ws.events("T", types=["checkpoint.written"])]
    assert events == ["hand-edit", "write"]


def test_a_found_file_that_cannot_be_stored_is_set_aside_and_the_write_wins(
    ws: Workspace,
) -> None:
    ws.create_task("T", "", ["a"])
    artifact = ws.root / "artifacts" / "T_plan.md"
    artifact.write_bytes(b"\xff\xfe not utf-8\n")
    cp = ws.write_checkpoint("T", "plan", "new\n")
    assert cp.version == 1
    assert artifact.read_text(encoding="utf-8") == "new\n"
    kept = list((ws.root / "artifacts").glob("T_plan.md.refused-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"\xff\xfe not utf-8\n"


# -- (c) artifact names cannot collide across tasks ---------------------------------------------
def test_artifact_names_of_different_tasks_never_collide(ws: Workspace) -> None:
    ws.create_task("a", "", ["p"])
    ws.create_task("a_b", "", ["p"])
    ws.write_checkpoint("a", "b_progress", "task a's own kind\n")
    ws.progress("a_b", "a_b can still record progress")
    ws.write_checkpoint("a_b", "plan", "plan of a_b\n")
    art = ws.root / "artifacts"
    assert (art / "a_b_progress.md").read_text(encoding="utf-8") == "task a's own kind\n"
    assert "a_b can still record progress" in (art / "a__b_progress.md").read_text("utf-8")
    assert ws.checkpoint("a_b", "plan").path == "artifacts/a__b_plan.md"
    assert ws.artifact_path("finding4", "plan") == "artifacts/finding4_plan.md"  # the seed's


def test_the_naming_is_injective() -> None:
    tasks = ["a", "a_", "a_b", "a__b", "a_b_c", "A.b-c", "x"]
    kinds = ["b", "b_c", "c", "b__c", "progress", "b_progress", "c-d"]
    stems = [artifact_stem(t, k) for t in tasks for k in kinds]
    assert len(set(stems)) == len(stems)


def test_a_workspace_with_the_old_names_is_migrated_on_open(tmp_path: Path) -> None:
    with Workspace.init(tmp_path) as ws:
        ws.create_task("a_b", "", ["p"])
        ws.write_checkpoint("a_b", "plan", "the plan\n")
        ws.create_task("f4", "", ["p"])
        ws.write_checkpoint("f4", "plan", "seed-style name\n")
    art = tmp_path / "artifacts"
    # Put the store and the tree back as cairn left them before the names changed.
    (art / "a__b_plan.md").rename(art / "a_b_plan.md")
    db = sqlite3.connect(tmp_path / ".cairn" / "cairn.db")
    with db:
        db.execute(
            "UPDATE projections SET path = 'artifacts/a_b_plan.md', "
            "path_key = 'artifacts/a_b_plan.md' WHERE task_id = 'a_b'"
        )
        db.execute("DELETE FROM cairn_migrations WHERE name = '0008_artifact_names'")
    db.close()
    with Workspace.open(tmp_path) as ws:
        assert not (art / "a_b_plan.md").exists()
        assert (art / "a__b_plan.md").read_text(encoding="utf-8") == "the plan\n"
        assert (art / "f4_plan.md").read_text(encoding="utf-8") == "seed-style name\n"
        assert [e.data["to"] for e in ws.events("a_b", types=["artifact.renamed"])] == [
            "artifacts/a__b_plan.md"
        ]
        ws.write_checkpoint("a_b", "plan", "v2\n")  # no stale hand edit, no collision
        assert [c.source for c in ws.history("a_b", "plan")] == ["write", "write"]
    with Workspace.open(tmp_path) as ws:  # once only
        assert len(ws.events("a_b", types=["artifact.renamed"])) == 1


# -- the same content again stores nothing ------------------------------------------------------
def test_writing_the_same_content_again_stores_no_version(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ws.create_task("T", "", ["a"])
    for text in ("one\n", "two\n", "three\n"):
        ws.write_checkpoint("T", "plan", text)
    again = ws.write_checkpoint("T", "plan", "three\n")
    assert (again.version, again.unchanged, again.content) == (3, True, "three\n")
    assert [c.version for c in ws.history("T", "plan")] == [1, 2, 3]
    r = run(capsys, ws.root, "checkpoint", "write", "T", "plan", stdin="three\n")
    assert r.code == 0 and "plan unchanged (still v3)" in r.out
    r = run(capsys, ws.root, "checkpoint", "write", "T", "plan", "--json", stdin="three\n")
    assert r.json()["version"] == 3 and r.json()["unchanged"] is True
    r = run(capsys, ws.root, "checkpoint", "write", "T", "plan", "--json", stdin="four\n")
    assert r.json()["version"] == 4 and "unchanged" not in r.json()
    # Other files to reload make it a new version even with the same text.
    assert ws.write_checkpoint("T", "plan", "four\n", files=["src/x.py"]).version == 5
    events = ws.events("T", types=["checkpoint.written"], limit=100)
    assert [e.data["version"] for e in events] == [1, 2, 3, 4, 5]


def test_progress_steps_store_no_checkpoint_version(ws: Workspace) -> None:
    ws.create_task("T", "", ["a"])
    ws.start_phase("T", "a")
    for i in range(30):
        ws.progress("T", f"step {i}")
    ws.set_next("T", "carry on")
    with ws.store.read() as tx:
        assert tx.checkpoints.count() == 0
    cp = ws.checkpoint("T", "progress")
    text = (ws.root / "artifacts" / "T_progress.md").read_text(encoding="utf-8")
    assert cp.content == text and "step 29" in text and "carry on" in text
    assert ws.has_checkpoint("T", "progress")
    assert [(c.kind, n) for c, n in ws.checkpoints("T")] == [("progress", 1)]


def test_the_gate_refusal_names_the_plan_artifact_of_a_task_with_an_underscore(
    ws: Workspace,
) -> None:
    from cairn.core.errors import TransitionError

    ws.create_task("a_b", "", ["plan", "build"], gates=["build"])
    ws.write_checkpoint("a_b", "plan", "the plan\n")
    with pytest.raises(TransitionError) as err:
        ws.start_phase("a_b", "build")
    assert "artifacts/a__b_plan.md" in str(err.value)
    assert (ws.root / "artifacts" / "a__b_plan.md").exists()
