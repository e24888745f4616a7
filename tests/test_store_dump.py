"""`cairn store export / import / copy`: the way back after a disk loss. A dump restores into an
empty store with every hash checked and gives the same status and history; a changed, cut or
foreign dump changes nothing; a store that holds history is refused unless told, and then what it
held is kept in .cairn/backups/; the source is never changed."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from tests.helpers.cli import run

from cairn.domain.workspace import Workspace
from cairn.store.dump import digest


def _new(root: Path) -> Path:
    root.mkdir()
    Workspace.init(root).close()
    return root


def _filled(root: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    _new(root)
    for args in (
        ("task", "new", "t1", "--phases", "analysis,plan"),
        ("phase", "start", "t1", "analysis"),
        ("progress", "t1", "read the data ✓", "--state", "done"),
        ("next", "t1", "write the plan"),
        ("phase", "done", "t1", "analysis"),
        ("task", "new", "t2", "--phases", "x"),
    ):
        assert run(capsys, root, *args).code == 0
    assert (
        run(capsys, root, "checkpoint", "write", "t1", "analysis", stdin="# Analysis\nü\n").code
        == 0
    )
    assert run(capsys, root, "checkpoint", "write", "t1", "analysis", stdin="# v2\n").code == 0
    return root


def _sha(root: Path) -> dict[str, dict[str, object]]:
    """Every record set's count and hash (the file itself changes when SQLite checkpoints its log)."""
    with Workspace.open(root) as ws:
        return digest(ws.store).sets


def _history(root: Path) -> tuple[object, ...]:
    with Workspace.open(root) as ws:
        tasks = [(t.id, t.state, t.next_action, [p.state for p in t.phases]) for t in ws.tasks()]
        events = [(e.type, e.task_id) for e in ws.events(limit=1000)]
        if not ws.has_task("t1"):
            return tasks, events
        return (
            tasks,
            events,
            [c.content for c in ws.history("t1", "analysis")],
            [s.text for s in ws.steps("t1")],
        )


@pytest.mark.parametrize("name", ["dump.jsonl", "dump.jsonl.gz"])
def test_export_then_import_gives_the_same_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    src = _filled(tmp_path / "a", capsys)
    before = _sha(src)
    r = run(capsys, src, "store", "export", name)
    assert r.code == 0 and "Exported" in r.out
    assert _sha(src) == before  # the source is only read
    dst = tmp_path / "b"
    _new(dst)
    r = run(capsys, dst, "store", "import", str(src / name))
    assert r.code == 0, r.err
    assert "every hash checked" in r.out
    assert _history(dst) == _history(src)
    with Workspace.open(src) as a, Workspace.open(dst) as b:
        assert digest(a.store).sets == digest(b.store).sets
    # the readable tree was rebuilt from the imported store
    assert (dst / "artifacts" / "t1_analysis.md").read_text(encoding="utf-8") == "# v2\n"
    assert "t1" in (dst / "CURRENT_WORK_STATUS.md").read_text(encoding="utf-8")
    # and it goes on: new writes after the imported ones
    assert run(capsys, dst, "checkpoint", "write", "t1", "analysis", stdin="# v3\n").code == 0
    assert run(capsys, dst, "checkpoint", "show", "t1", "analysis", "--json").json()["version"] == 3


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_a_changed_cut_or_foreign_dump_imports_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _filled(tmp_path / "a", capsys)
    assert run(capsys, src, "store", "export", "dump.jsonl").code == 0
    lines = _lines(src / "dump.jsonl")
    dst = tmp_path / "b"
    _new(dst)
    empty = _history(dst)

    changed = [ln.replace("# v2", "# v9") if "# v2" in ln and '"r"' in ln else ln for ln in lines]
    assert changed != lines
    cut = lines[: len(lines) // 2]
    dropped = [ln for ln in lines if "read the data" not in ln or '"r"' not in ln]
    assert len(dropped) < len(lines)
    cases = {
        "changed.jsonl": ("".join(changed), "does not match its hash"),
        "cut.jsonl": ("".join(cut), "cut short"),
        "dropped.jsonl": ("".join(dropped), "does not match its count and hash"),
        "foreign.jsonl": ('{"hello": 1}\n', "not a cairn store dump"),
        "newer.jsonl": ('{"format": "cairn.store_dump/9"}\n', "upgrade cairn"),
        "garbage.jsonl": (lines[0] + "{not json\n", "not JSON"),
    }
    for file, (text, why) in cases.items():
        (tmp_path / file).write_text(text, encoding="utf-8")
        r = run(capsys, dst, "store", "import", str(tmp_path / file))
        assert r.code == 1, file
        assert why in r.err and len(r.err.strip().splitlines()) == 1, (file, r.err)
        assert _history(dst) == empty, file
    fifo = tmp_path / "fifo"
    import os

    os.mkfifo(fifo)
    r = run(capsys, dst, "store", "import", str(fifo))
    assert r.code == 2 and "not a regular file" in r.err


def test_a_store_with_history_is_refused_unless_told_and_then_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _filled(tmp_path / "a", capsys)
    assert run(capsys, src, "store", "export", "dump.jsonl").code == 0
    dst = tmp_path / "b"
    _new(dst)
    assert run(capsys, dst, "task", "new", "mine").code == 0
    mine = _history(dst)
    r = run(capsys, dst, "store", "import", str(src / "dump.jsonl"))
    assert r.code == 1 and "already holds records" in r.err and "--replace" in r.err
    assert _history(dst) == mine
    r = run(capsys, dst, "store", "import", str(src / "dump.jsonl"), "--replace")
    assert r.code == 0, r.err
    assert _history(dst) == _history(src)
    # What the store derives (the count of versions, each task's sequence of them) is derived
    # again from what replaced the old records, and goes on from there.
    with Workspace.open(dst) as ws, ws.store.read() as tx:
        versions = tx.records.count("checkpoints")
        assert tx.checkpoints.count() == versions
        seqs = [c.seq for c in tx.checkpoints.newest_each_kind("t1")]
    assert run(capsys, dst, "checkpoint", "write", "t1", "analysis", stdin="# v9\n").code == 0
    with Workspace.open(dst) as ws, ws.store.read() as tx:
        assert tx.checkpoints.count() == versions + 1
        newest = tx.checkpoints.newest_of_task("t1")
        assert newest is not None and newest.seq == max(seqs) + 1
    [backup] = (dst / ".cairn" / "backups").iterdir()
    assert backup.name.endswith(".jsonl.gz") and backup.name in r.out
    # what was replaced comes back from its backup
    third = tmp_path / "c"
    _new(third)
    assert run(capsys, third, "store", "import", str(backup)).code == 0
    assert _history(third) == mine


def test_copy_to_another_sqlite_store_is_checked_and_leaves_the_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _filled(tmp_path / "a", capsys)
    before = _sha(src)
    r = run(capsys, src, "store", "copy", "--to", ".cairn/copy.db")
    assert r.code == 0, r.err
    assert "hash equal to the source's" in r.out
    assert _sha(src) == before
    from cairn.store import open_store

    copy = open_store(src / ".cairn" / "copy.db")
    try:
        with Workspace.open(src) as ws:
            assert digest(copy).sets == digest(ws.store).sets
    finally:
        copy.close()
    again = run(capsys, src, "store", "copy", "--to", ".cairn/copy.db")
    assert again.code == 1 and "already holds records" in again.err
    assert run(capsys, src, "store", "copy", "--to", ".cairn/copy.db", "--replace").code == 0
    outside = run(capsys, src, "store", "copy", "--to", str(tmp_path / "out.db"))
    assert outside.code == 2 and not (tmp_path / "out.db").exists()
    own = run(capsys, src, "store", "copy", "--to", ".cairn/cairn.db")
    assert own.code == 2 and "own store" in own.err


def test_export_stays_inside_the_workspace_or_goes_to_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _filled(tmp_path / "a", capsys)
    r = run(capsys, src, "store", "export", str(tmp_path / "elsewhere.jsonl"))
    assert r.code == 2 and not (tmp_path / "elsewhere.jsonl").exists()
    r = run(capsys, src, "store", "export", "-")
    assert r.code == 0
    docs = [json.loads(line) for line in r.out.splitlines()]
    assert docs[0]["format"] == "cairn.store_dump/2" and docs[-1]["done"] is True
    sets = docs[0]["sets"]
    assert sets[-1] == "meta" and "leases" not in sets
    assert run(capsys, src, "store", "export", "x.jsonl.gz").code == 0
    with gzip.open(src / "x.jsonl.gz", "rt", encoding="utf-8") as fh:
        assert json.loads(fh.readline())["format"] == "cairn.store_dump/2"
