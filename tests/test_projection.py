"""The readable tree: artifacts, hand edits, stale and deleted files, the status file."""

from __future__ import annotations

import gc
import hashlib
import os
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cairn.domain.workspace import Workspace
from cairn.projection import status as projection
from helpers.cli import run


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    w = Workspace.init(tmp_path)
    w.create_task("f4", "Best-of-N", ["analysis", "plan", "implement"])
    w.start_phase("f4", "analysis")
    yield w
    w.close()
    gc.collect()


def art(ws: Workspace, kind: str, task: str = "f4") -> Path:
    return ws.root / "artifacts" / f"{task}_{kind}.md"


def sources(ws: Workspace, kind: str, task: str = "f4") -> list[tuple[int, str]]:
    return [(c.version, c.source) for c in ws.history(task, kind)]


def next_command(ws: Workspace, capsys: pytest.CaptureFixture[str], *args: str) -> None:
    r = run(capsys, ws.root, *(args or ("status",)))
    assert r.code == 0, r.err
    gc.collect()


def test_artifact_is_the_newest_version(ws: Workspace) -> None:
    for i in range(5):
        cp = ws.write_checkpoint("f4", "plan", f"# plan {i}\n")
        assert cp.version == i + 1
        ws.flush()  # a library write's files follow shortly; flush() makes it now
        assert art(ws, "plan").read_text(encoding="utf-8") == f"# plan {i}\n"
    assert cp.path == "artifacts/f4_plan.md"
    assert hashlib.sha256(art(ws, "plan").read_bytes()).hexdigest() == cp.hash
    assert ws.checkpoint("f4", "plan", 2).content == "# plan 1\n"
    assert [c.version for c in ws.history("f4", "plan")] == [1, 2, 3, 4, 5]


def test_bytes_are_kept_exactly(ws: Workspace) -> None:
    text = "# 計画\r\n\ttabs, trailing spaces   \n\nno final newline: ☃"
    ws.write_checkpoint("f4", "plan", text.encode("utf-8"))
    ws.flush()
    assert art(ws, "plan").read_bytes() == text.encode("utf-8")
    assert ws.checkpoint("f4", "plan").content == text


def test_hand_edit_is_ingested_not_overwritten(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ws.write_checkpoint("f4", "plan", "# plan by the agent\n")
    edited = "# plan by the agent\n\nA person added this line.\n"
    art(ws, "plan").write_text(edited, encoding="utf-8")
    next_command(ws, capsys)
    assert sources(ws, "plan") == [(1, "write"), (2, "hand-edit")]
    assert ws.checkpoint("f4", "plan").content == edited
    assert art(ws, "plan").read_text(encoding="utf-8") == edited
    next_command(ws, capsys)  # noticed once, not again
    assert sources(ws, "plan") == [(1, "write"), (2, "hand-edit")]
    types_ = [e.type for e in ws.events("f4", limit=100)]
    assert types_.count("checkpoint.written") >= 2


def test_hand_edit_before_a_write_is_kept_in_history(ws: Workspace) -> None:
    ws.write_checkpoint("f4", "plan", "v1\n")
    ws.flush()
    art(ws, "plan").write_text("edited by hand, longer\n", encoding="utf-8")
    cp = ws.write_checkpoint("f4", "plan", "v3 from the agent\n")
    ws.flush()
    assert cp.version == 3
    assert sources(ws, "plan") == [(1, "write"), (2, "hand-edit"), (3, "write")]
    assert ws.checkpoint("f4", "plan", 2).content == "edited by hand, longer\n"
    assert art(ws, "plan").read_text(encoding="utf-8") == "v3 from the agent\n"


def test_hand_edit_of_the_progress_file_before_progress(ws: Workspace) -> None:
    ws.progress("f4", "first step")
    ws.flush()
    p = art(ws, "progress")
    p.write_text(p.read_text(encoding="utf-8") + "\nnote from a person\n", encoding="utf-8")
    ws.progress("f4", "second step")
    ws.flush()
    # Steps store no version (issue 9): the hand edit is the stored v1, the rendering of the
    # steps after it the newest.
    hist = sources(ws, "progress")
    assert hist == [(1, "hand-edit"), (2, "progress")]
    assert "note from a person" in (ws.checkpoint("f4", "progress", 1).content or "")
    newest = ws.checkpoint("f4", "progress").content or ""
    assert "second step" in newest and newest == p.read_text(encoding="utf-8")


def test_same_size_hand_edit_with_new_mtime_is_noticed(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ws.write_checkpoint("f4", "plan", "aaaa\n")
    next_command(ws, capsys)  # records size and mtime of the projected file
    st = os.stat(art(ws, "plan"))
    art(ws, "plan").write_text("bbbb\n", encoding="utf-8")
    os.utime(art(ws, "plan"), ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    next_command(ws, capsys)
    assert sources(ws, "plan")[-1] == (2, "hand-edit")


def test_non_utf8_hand_edit_is_refused_and_kept_aside(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    ws.write_checkpoint("f4", "plan", "good\n")
    art(ws, "plan").write_bytes(b"caf\xe9\n")
    next_command(ws, capsys)
    assert sources(ws, "plan") == [(1, "write")]
    refused = ws.events("f4", types=["checkpoint.hand_edit_refused"])
    assert refused and "UTF-8" in refused[0].data["reason"]
    # The edit is kept next to the artifact, which holds the store's newest version again.
    assert (ws.root / refused[0].data["kept_as"]).read_bytes() == b"caf\xe9\n"
    assert art(ws, "plan").read_bytes() == b"good\n"


def test_stale_artifact_is_reprojected_not_ingested(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    """A writer killed between its commit and its projection leaves the previous version."""
    ws.write_checkpoint("f4", "plan", "version one\n")
    ws.write_checkpoint("f4", "plan", "version two\n")
    art(ws, "plan").write_text("version one\n", encoding="utf-8")
    next_command(ws, capsys)
    assert art(ws, "plan").read_text(encoding="utf-8") == "version two\n"
    assert sources(ws, "plan") == [(1, "write"), (2, "write")]


def test_artifact_several_versions_behind_is_reprojected(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    """Writers killed twice in a row: the file is two versions behind, still not a hand edit."""
    for i in range(4):
        ws.write_checkpoint("f4", "plan", f"version {i}\n")
    art(ws, "plan").write_text("version 0\n", encoding="utf-8")
    next_command(ws, capsys)
    assert art(ws, "plan").read_text(encoding="utf-8") == "version 3\n"
    assert all(src == "write" for _, src in sources(ws, "plan"))


def test_deleted_artifact_is_regenerated(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    ws.write_checkpoint("f4", "plan", "# plan\n")
    ws.progress("f4", "a step")
    ws.flush()
    art(ws, "plan").unlink()
    art(ws, "progress").unlink()
    next_command(ws, capsys)
    assert art(ws, "plan").read_text(encoding="utf-8") == "# plan\n"
    assert "a step" in art(ws, "progress").read_text(encoding="utf-8")
    assert sources(ws, "plan") == [(1, "write")]


def test_refresh_rebuilds_the_whole_tree(ws: Workspace) -> None:
    ws.write_checkpoint("f4", "plan", "# plan\n")
    ws.progress("f4", "a step")
    from cairn.recovery.brief import recover

    recover(ws, trigger="compact")
    for p in (*(ws.root / "artifacts").iterdir(), ws.root / "CURRENT_WORK_STATUS.md"):
        p.unlink()
    (ws.root / "logs" / "compaction_recovery.log").unlink()
    ws.refresh()
    assert art(ws, "plan").read_text(encoding="utf-8") == "# plan\n"
    assert art(ws, "progress").exists()
    assert "f4" in (ws.root / "CURRENT_WORK_STATUS.md").read_text(encoding="utf-8")
    log = (ws.root / "logs" / "compaction_recovery.log").read_text(encoding="utf-8")
    assert "Loaded checkpoint from artifacts/f4_plan.md" in log


def test_stale_temporary_files_are_cleared_by_the_next_command(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    dead = 2**22 + 12345  # above any pid_max default: no such process
    leftovers = [
        ws.root / "artifacts" / f".f4_plan.md.{dead}.tmp",
        ws.root / f".CURRENT_WORK_STATUS.md.{dead}.tmp",
        ws.root / "logs" / f".compaction_recovery.log.{dead}.tmp",
    ]
    for p in leftovers:
        p.write_text("half a file", encoding="utf-8")
    mine = ws.root / "artifacts" / "notes.tmp"  # not cairn's pattern: left alone
    mine.write_text("user file", encoding="utf-8")
    next_command(ws, capsys)
    assert not any(p.exists() for p in leftovers)
    assert mine.exists()


# -- the status file ---------------------------------------------------------------------------------
MUTATIONS: list[tuple[tuple[str, ...], str | None, str]] = [
    (("task", "new", "t2", "--title", "Second task", "--phases", "a,b"), None, "t2"),
    (("task", "add-phase", "f4", "review"), None, "review"),
    (("phase", "start", "t2", "a"), None, "a ⏳"),
    (("checkpoint", "write", "f4", "plan"), "# the plan\n", "artifacts/f4_plan.md"),
    (("progress", "f4", "Ranked the samples"), None, "Ranked the samples"),
    (("next", "f4", "Write the ranking tests"), None, "Write the ranking tests"),
    (("phase", "fail", "t2", "a", "--error", "flaky tokenizer"), None, "flaky tokenizer"),
    (("phase", "done", "f4", "analysis"), None, "plan (2/4)"),
    (("recover", "--trigger", "compact"), None, "(compact)"),
]


def test_status_file_is_rewritten_after_every_mutating_command(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    status = ws.root / "CURRENT_WORK_STATUS.md"
    for args, stdin, expect in MUTATIONS:
        status.unlink()
        r = run(capsys, ws.root, *args, stdin=stdin)
        assert r.code == 0, (args, r.err)
        assert status.exists(), f"`cairn {' '.join(args)}` did not rewrite the status file"
        text = status.read_text(encoding="utf-8")
        assert expect in text, (args, text)
    gc.collect()


def test_status_data_and_markdown(ws: Workspace) -> None:
    ws.write_checkpoint("f4", "analysis", "# a\n", files=["src/x.py"])
    ws.progress("f4", "did one thing")
    ws.set_next("f4", "do the next thing")
    for i in range(30):
        ws.create_task(f"old{i:02d}", f"Old {i}", ["only"])
    data = projection.status_data(ws)
    assert data["schema"] == "cairn.status/1"
    assert data["counts"]["tasks"] == 31
    with ws.store.read() as tx:
        assert data["counts"]["checkpoint_versions"] == tx.records.count("checkpoints")
    assert data["counts"]["checkpoint_versions"] == 1  # analysis: steps and next store none
    assert [t["id"] for t in data["active"]] == ["f4"]
    f4 = data["active"][0]
    assert f4["newest_checkpoint"]["files"] == ["src/x.py"]
    assert f4["steps_total"] == 1 and f4["next_action"] == "do the next thing"
    assert len(data["other_tasks"]) == 15
    md = projection.render_status_md(data)
    assert md.startswith("# Current Work Status")
    assert "**Next action**: do the next thing" in md
    assert "15 more; `cairn task list`" in md
    assert "_extra_md" not in projection.public_status(data)


def test_status_section_providers_are_rendered(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = types.ModuleType("cairn_test_section")

    def section(w: Workspace, tx: Any) -> tuple[str, Any, str]:
        n = tx.records.count("tasks")
        return "widgets", {"tasks_seen": n}, "## Widgets\n\n- all fine\n"

    module.section = section  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cairn_test_section", module)
    monkeypatch.setattr(
        projection,
        "STATUS_SECTION_PROVIDERS",
        [*projection.STATUS_SECTION_PROVIDERS, "cairn_test_section:section"],
    )
    data = projection.status_data(ws)
    assert data["sections"]["widgets"] == {"tasks_seen": 1}
    assert "## Widgets" in projection.render_status_md(data)


def test_no_open_task_status(tmp_path: Path) -> None:
    with Workspace.init(tmp_path) as w:
        md = (tmp_path / "CURRENT_WORK_STATUS.md").read_text(encoding="utf-8")
        assert "No open task" in md and "cairn task new" in md
        w.create_task("done1", "", ["x"])
        w.start_phase("done1", "x")
        w.finish_phase("done1", "x")
        data = projection.status_data(w)
        assert data["active"] == [] and data["other_tasks"][0]["state"] == "done"


def test_hand_edit_of_the_progress_file_before_next(ws: Workspace) -> None:
    ws.progress("f4", "first step")
    ws.flush()
    p = art(ws, "progress")
    p.write_text(p.read_text(encoding="utf-8") + "\nnote from a person\n", encoding="utf-8")
    ws.set_next("f4", "carry on")
    ws.flush()
    assert sources(ws, "progress") == [(1, "hand-edit"), (2, "progress")]
    assert "note from a person" in (ws.checkpoint("f4", "progress", 1).content or "")
    assert "carry on" in p.read_text(encoding="utf-8")


def test_hand_edit_racing_a_write_is_kept(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edit made after the write's own check (while it commits) is still not overwritten."""
    ws.write_checkpoint("f4", "plan", "v1 by the agent\n")
    ws.flush()
    # The edit comes after the write's own check.
    monkeypatch.setattr(ws.projector, "before_write", lambda task_id, kind: None)
    art(ws, "plan").write_text("edited by a person meanwhile\n", encoding="utf-8")
    ws.write_checkpoint("f4", "plan", "v2 by the agent\n")
    ws.flush()
    assert sources(ws, "plan") == [(1, "write"), (2, "write"), (3, "hand-edit")]
    assert art(ws, "plan").read_text(encoding="utf-8") == "edited by a person meanwhile\n"
    assert ws.checkpoint("f4", "plan", 2).content == "v2 by the agent\n"


def test_a_symlinked_artifacts_folder_cannot_take_writes_outside(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with Workspace.init(root) as w:
        w.create_task("f4", "", ["a"])
        w.write_checkpoint("f4", "plan", "v1\n")
    for p in (root / "artifacts").iterdir():
        p.unlink()
    (root / "artifacts").rmdir()
    (root / "artifacts").symlink_to(elsewhere)
    r = run(capsys, root, "checkpoint", "write", "f4", "plan", stdin="v2\n")
    assert r.code == 2 and "outside the workspace" in r.err and "\n" not in r.err.strip()
    assert list(elsewhere.iterdir()) == []
    gc.collect()
    (root / "artifacts").unlink()  # the fix the message asks for
    (root / "artifacts").mkdir()
    assert run(capsys, root, "status").code == 0
    assert (root / "artifacts" / "f4_plan.md").read_text(encoding="utf-8") == "v1\n"
    gc.collect()


def test_a_symlinked_artifact_file_is_replaced_not_followed(ws: Workspace, tmp_path: Path) -> None:
    ws.write_checkpoint("f4", "plan", "v1\n")
    ws.flush()
    outside = tmp_path.parent / f"{tmp_path.name}-outside.md"
    outside.write_text("v1\n", encoding="utf-8")  # same content: not a hand edit
    art(ws, "plan").unlink()
    art(ws, "plan").symlink_to(outside)
    ws.write_checkpoint("f4", "plan", "v2\n")
    ws.flush()
    assert outside.read_text(encoding="utf-8") == "v1\n"
    assert not art(ws, "plan").is_symlink()
    assert art(ws, "plan").read_text(encoding="utf-8") == "v2\n"
    outside.unlink()


def test_a_folder_swapped_for_a_symlink_is_checked_again(ws: Workspace, tmp_path: Path) -> None:
    from cairn.core.errors import ValidationError

    ws.write_checkpoint("f4", "plan", "v1\n")
    ws.flush()  # the artifacts folder is now known good
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    elsewhere.mkdir()
    (ws.root / "artifacts").rename(ws.root / "artifacts-old")
    (ws.root / "artifacts").symlink_to(elsewhere)
    with pytest.raises(ValidationError, match="outside the workspace"):
        ws.write_checkpoint("f4", "plan", "v2\n")
    assert list(elsewhere.iterdir()) == []
    elsewhere.rmdir()


def test_batch_renders_the_status_once_at_the_end_and_keeps_every_write(tmp_path: Path) -> None:
    from cairn.domain.workspace import Workspace

    ws = Workspace.init(tmp_path)
    ws.create_task("t1", phases=["a"])
    status = tmp_path / "CURRENT_WORK_STATUS.md"
    before = status.read_text(encoding="utf-8")
    with ws.batch():
        for i in range(3):
            cp = ws.write_checkpoint("t1", "plan", f"plan {i}\n")
            # durable at once (another connection sees it); the tree catches up at the end
            other = Workspace.open(tmp_path)
            assert other.checkpoint("t1", "plan").content == f"plan {i}\n"
            other.close()
        assert status.read_text(encoding="utf-8") == before
        assert not (tmp_path / cp.path).exists()
    after = status.read_text(encoding="utf-8")
    assert after != before and "t1" in after
    assert (tmp_path / cp.path).read_text(encoding="utf-8") == "plan 2\n"
    assert [c.version for c in ws.history("t1", "plan")] == [1, 2, 3]
    ws.close()


def test_a_hand_edit_during_a_batch_is_ingested_not_overwritten(tmp_path: Path) -> None:
    from cairn.domain.workspace import Workspace

    ws = Workspace.init(tmp_path)
    ws.create_task("t1", phases=["a"])
    cp = ws.write_checkpoint("t1", "plan", "v1\n")
    with ws.batch():
        ws.write_checkpoint("t1", "plan", "v2\n")
        (tmp_path / cp.path).write_text("edited by hand\n", encoding="utf-8")
    assert [c.source for c in ws.history("t1", "plan")] == ["write", "write", "hand-edit"]
    assert (tmp_path / cp.path).read_text(encoding="utf-8") == "edited by hand\n"
    ws.close()


def test_progress_file_stays_bounded_with_thousands_of_steps(tmp_path: Path) -> None:
    from cairn.domain.workspace import PROGRESS_FILE_STEPS, Workspace

    ws = Workspace.init(tmp_path)
    ws.create_task("long", phases=["work"])
    ws.start_phase("long", "work")
    ws.progress("long", "an early step still open", state="active")
    n = PROGRESS_FILE_STEPS * 2
    with ws.batch():
        for i in range(n):
            ws.progress("long", f"step {i}", state="done")
    text = (tmp_path / "artifacts" / "long_progress.md").read_text(encoding="utf-8")
    shown = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(shown) <= PROGRESS_FILE_STEPS
    assert "⏳ an early step still open" in text  # an open step is never hidden
    assert f"✅ step {n - 1}" in text  # the newest is shown
    assert "earlier steps are not shown here" in text
    assert len(ws.steps("long")) == n + 1  # the store keeps every step
    # A step stores no version of the file (issue 9), so nothing grows with the steps but them.
    assert [c.source for c in ws.history("long", "progress")] == ["progress"]
    with ws.store.read() as tx:
        assert tx.checkpoints.count() == 0
    assert ws.checkpoint("long", "progress").size == len(text.encode("utf-8"))
    ws.close()


# -- the projector follows commits -------------------------------------------------------------------
def test_a_library_write_is_projected_shortly_after_without_a_flush(ws: Workspace) -> None:
    import time

    cp = ws.write_checkpoint("f4", "plan", "# plan, in the background\n")
    status = ws.root / "CURRENT_WORK_STATUS.md"

    def current() -> bool:
        return (
            art(ws, "plan").exists()
            and art(ws, "plan").read_text(encoding="utf-8") == cp.content
            and "artifacts/f4_plan.md" in status.read_text(encoding="utf-8")
        )

    deadline = time.monotonic() + 10  # generous: a loaded machine; the design aims at ~0.1 s
    while not current() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert current(), status.read_text(encoding="utf-8")


def test_a_workspace_without_listeners_writes_no_file_and_the_next_command_catches_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The domain needs no projection; commits it made unseen (as a writer killed before its
    flush does) are found in the journal by the next command, whichever task they belong to."""
    with Workspace.init(tmp_path) as w:
        for i in range(30):
            w.create_task(f"t{i:02d}", phases=["a"])
    with Workspace.open(tmp_path, listeners=()) as bare:
        bare.write_checkpoint("t00", "plan", "written with no projector\n")
        for i in range(1, 30):  # t00 is no longer among the recently active tasks
            bare.progress(f"t{i:02d}", "a step")
    path = tmp_path / "artifacts" / "t00_plan.md"
    assert not path.exists()
    r = run(capsys, tmp_path, "task", "list")
    assert r.code == 0, r.err
    assert path.read_text(encoding="utf-8") == "written with no projector\n"
    assert (tmp_path / "artifacts" / "t29_progress.md").exists()
    gc.collect()


def test_a_hand_edit_is_kept_when_the_writer_names_the_task_in_another_case(ws: Workspace) -> None:
    """The check before a write finds the artifact the way the store finds the task."""
    ws.write_checkpoint("f4", "plan", "v1\n")
    ws.flush()
    art(ws, "plan").write_text("edited by hand\n", encoding="utf-8")
    cp = ws.write_checkpoint("F4", "plan", "v3 from the agent\n")
    ws.flush()
    assert cp.version == 3
    assert sources(ws, "plan") == [(1, "write"), (2, "hand-edit"), (3, "write")]
    assert ws.checkpoint("f4", "plan").content == "v3 from the agent\n"
    assert art(ws, "plan").read_text(encoding="utf-8") == "v3 from the agent\n"


def test_refresh_takes_in_an_edit_of_a_task_no_command_looks_at(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A command looks at what changed on disk and at the recently active tasks' files; an edit
    in place of an old task's artifact waits for `cairn refresh` (or a write of it)."""
    with Workspace.init(tmp_path) as w:
        w.create_task("old", phases=["a"])
        w.write_checkpoint("old", "plan", "old plan\n")
        for i in range(30):
            w.create_task(f"t{i:02d}", phases=["a"])
            w.progress(f"t{i:02d}", "a step")
    assert run(capsys, tmp_path, "status").code == 0
    path = tmp_path / "artifacts" / "old_plan.md"
    path.write_text("old plan, edited in place\n", encoding="utf-8")
    r = run(capsys, tmp_path, "refresh")
    assert r.code == 0 and "1 hand edit(s) taken in" in r.out, r.err
    with Workspace.open(tmp_path) as w:
        assert [(c.version, c.source) for c in w.history("old", "plan")] == [
            (1, "write"),
            (2, "hand-edit"),
        ]
    gc.collect()


def test_an_edit_saved_by_rename_is_noticed_by_any_command(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    """Editors that save by writing a new file and renaming it change the folder: every file in
    it is looked at, whatever task it belongs to."""
    ws.write_checkpoint("f4", "plan", "v1\n")
    ws.flush()
    next_command(ws, capsys)
    tmp = ws.root / "artifacts" / "plan.swp"
    tmp.write_text("saved by an editor\n", encoding="utf-8")
    os.replace(tmp, art(ws, "plan"))
    next_command(ws, capsys, "log")
    assert sources(ws, "plan") == [(1, "write"), (2, "hand-edit")]


def test_status_sections_load_only_when_they_have_something_to_show(ws_path: Path) -> None:
    import json
    import subprocess

    code = (
        "import sys\nfrom cairn.cli import main\n"
        f"main(['-C', {str(ws_path)!r}, 'status'])\n"
        "mods = ['cairn.domain.workers', 'cairn.domain.reviews', 'cairn.domain.budget', "
        "'cairn.integrations.hooks']\n"
        "print(__import__('json').dumps([m for m in mods if m in sys.modules]), file=sys.stderr)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert json.loads(r.stderr.strip().splitlines()[-1]) == [], r.stderr


def test_a_failed_task_shows_the_failed_icon_in_the_status_file(tmp_path: Path) -> None:
    """The status file heads a task with its state's icon: a failed task is ❌, not ⏸️."""
    ws = Workspace.init(tmp_path)
    ws.create_task("f4", phases=["analysis", "plan"])
    ws.start_phase("f4", "analysis")
    ws.fail_phase("f4", "analysis", "the data set is missing")
    ws.flush()
    status = (tmp_path / "CURRENT_WORK_STATUS.md").read_text(encoding="utf-8")
    head = next(line for line in status.splitlines() if line.startswith("## ") and "f4" in line)
    assert head.startswith("## ❌ f4") and "(failed)" in head, head
    ws.close()
