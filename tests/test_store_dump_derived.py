"""Derived values (the store-wide checkpoint count, kept by a trigger) are not records: a dump
neither writes nor hashes them and a restore derives them again, so a store whose count went wrong
still exports the same dump and imports right. A ``cairn.store_dump/1`` dump, made before, holds
the count as a ``meta`` record: it still imports (its hash checked as written, the count derived
again, even a wrong one), and its hashes still guard every real record."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from tests.helpers.cli import run
from tests.test_store_dump import _filled, _history, _new

from cairn.domain.workspace import Workspace
from cairn.store.contract.records import DERIVED
from cairn.store.dump import digest, record_hash, set_hash
from cairn.store.sqlite.records import _DERIVE


def _line(doc: dict[str, object]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n"


def as_v1(text: str, count: str, extra_steps: int = 0) -> str:
    """``text`` (a /2 dump) as cairn.store_dump/1 wrote it: the checkpoint count a ``meta``
    record (first: migration 0007 made its row) and each task's ``step_count`` (plus
    ``extra_steps``) a field after ``seq``, in their sets' counts and hashes and the trailer's."""
    docs = [json.loads(raw) for raw in text.splitlines()]
    steps: dict[str, int] = {}
    name = None
    for doc in docs:
        name = doc.get("set", name)
        if doc.get("set") == "steps":
            at_task = doc["fields"].index("task_id")
        elif "r" in doc and name == "steps":
            task = doc["r"][at_task]
            steps[task] = steps.get(task, 0) + 1
    out: list[str] = []
    digests: list[str] = []
    sets: dict[str, object] = {}
    fields: list[str] = []
    count_record = ["checkpoint_versions", count]
    for doc in docs:
        if "format" in doc:
            doc["format"] = "cairn.store_dump/1"
        elif "set" in doc:
            name, digests, fields = doc["set"], [], doc["fields"]
            if name == "tasks":
                fields.insert(fields.index("seq") + 1, "step_count")
            if name == "meta":
                out.append(_line(doc))
                h = record_hash(fields, count_record)
                digests.append(h)
                doc = {"r": count_record, "h": h}
        elif "r" in doc:
            if name == "tasks":
                values = doc["r"]
                values.insert(fields.index("step_count"), steps.get(values[0], 0) + extra_steps)
                doc = {"r": values, "h": record_hash(fields, values)}
            digests.append(doc["h"])
        elif "end" in doc:
            sets[str(name)] = {"count": len(digests), "hash": set_hash(digests)}
            doc = {"end": name, **sets[str(name)]}  # type: ignore[dict-item]
        elif doc.get("done") is True:
            doc = {"done": True, "sets": sets}
        out.append(_line(doc))
    return "".join(out)


def _count(root: Path) -> tuple[int, int, int, int]:
    """The checkpoint count the store keeps and its versions; t1's step count and its steps."""
    with Workspace.open(root) as ws, ws.store.read() as tx:
        steps = len(tx.steps.lines("t1"))
        return tx.checkpoints.count(), tx.records.count("checkpoints"), tx.steps.count("t1"), steps


def _spoil_counts(root: Path, value: str) -> None:
    """Every derived value wrong: the task's counters, and a count row as a store before SQLite
    0017 kept it (the count is the largest rowid since; the row must not reach a dump either)."""
    db = sqlite3.connect(root / ".cairn" / "cairn.db")
    with db:
        db.execute("INSERT INTO meta (key, value) VALUES ('checkpoint_versions', ?)", (value,))
        db.execute("UPDATE tasks SET step_count = step_count + 5, checkpoint_seq = seq + 5")
    db.close()


def _seqs(root: Path) -> list[tuple[str, int | None]]:
    db = sqlite3.connect(root / ".cairn" / "cairn.db")
    try:
        return db.execute("SELECT id, checkpoint_seq FROM tasks ORDER BY id").fetchall()
    finally:
        db.close()


def test_every_derived_value_has_its_derivation() -> None:
    declared = {(name, f) for name, fields in DERIVED.items() for f in fields}
    assert declared == set(_DERIVE)


def test_a_dump_holds_no_derived_value_and_a_wrong_count_is_not_carried_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _filled(tmp_path / "a", capsys)
    right = run(capsys, src, "store", "export", "-").out
    seqs = _seqs(src)
    _spoil_counts(src, "4")
    assert _count(src) == (2, 2, 6, 1)
    assert _seqs(src) != seqs
    r = run(capsys, src, "store", "export", "dump.jsonl")
    assert r.code == 0
    wrong = (src / "dump.jsonl").read_text(encoding="utf-8")
    assert "checkpoint_versions" not in wrong and "step_count" not in wrong
    assert wrong.splitlines()[1:] == right.splitlines()[1:]  # all but the time it was made
    dst = _new(tmp_path / "b")
    r = run(capsys, dst, "store", "import", str(src / "dump.jsonl"))
    assert r.code == 0, r.err
    assert _count(dst) == (2, 2, 1, 1)
    # over a store that held records (and so a count) too
    again = run(capsys, dst, "store", "import", str(src / "dump.jsonl"), "--replace")
    assert again.code == 0, again.err
    assert _count(dst) == (2, 2, 1, 1)
    assert _seqs(dst) == seqs
    assert _history(dst) == _history(src)


@pytest.mark.parametrize("count", ["2", "4", "0"])
def test_an_old_dump_imports_and_its_count_is_derived_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], count: str
) -> None:
    """ "4": made from a store that a restore into PostgreSQL had counted twice (fix5)."""
    src = _filled(tmp_path / "a", capsys)
    old = tmp_path / "old.jsonl"
    old.write_text(as_v1(run(capsys, src, "store", "export", "-").out, count), encoding="utf-8")
    dst = _new(tmp_path / "b")
    r = run(capsys, dst, "store", "import", str(old))
    assert r.code == 0, r.err
    assert "every hash checked" in r.out
    assert _count(dst) == (2, 2, 1, 1)
    assert _seqs(dst) == _seqs(src)
    assert _history(dst) == _history(src)
    with Workspace.open(src) as a, Workspace.open(dst) as b:
        assert digest(a.store).sets == digest(b.store).sets
    copy = run(capsys, dst, "store", "copy", "--to", ".cairn/copy.db")
    assert copy.code == 0, copy.err


def _step_count_plus_one(line: str) -> str:
    """A task record of a /1 dump (``seq`` then ``step_count``, 1) with its step count made 2."""
    return line.replace(',1,"open"', ',2,"open"') if line.startswith('{"r":["t1"') else line


def test_an_old_dumps_hashes_still_guard_its_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _filled(tmp_path / "a", capsys)
    text = as_v1(run(capsys, src, "store", "export", "-").out, "4")
    lines = text.splitlines(keepends=True)
    at = next(i for i, ln in enumerate(lines) if '"checkpoint_versions"' in ln)
    rec = ["checkpoint_versions", "5"]
    dst = _new(tmp_path / "b")
    empty = _history(dst)
    cases = {
        # the count's record changed: its own hash no longer matches
        "count.jsonl": (
            [*lines[:at], lines[at].replace('"4"', '"5"'), *lines[at + 1 :]],
            "does not match its hash",
        ),
        # changed with a new hash of its own: its set's hash no longer matches
        "rehashed.jsonl": (
            [
                *lines[:at],
                _line({"r": rec, "h": record_hash(["key", "value"], rec)}),
                *lines[at + 1 :],
            ],
            "does not match its count and hash",
        ),
        # the count's record dropped: its set's count no longer matches
        "dropped.jsonl": ([*lines[:at], *lines[at + 1 :]], "does not match its count and hash"),
        # a task's step count changed: the task record's hash no longer matches
        "steps.jsonl": (
            [_step_count_plus_one(ln) for ln in lines],
            "a record of 'tasks' does not match its hash",
        ),
        # a real record changed
        "changed.jsonl": (
            [ln.replace("# v2", "# v9") if '"r"' in ln else ln for ln in lines],
            "does not match its hash",
        ),
    }
    for file, (doc, why) in cases.items():
        assert doc != lines, file
        (tmp_path / file).write_text("".join(doc), encoding="utf-8")
        r = run(capsys, dst, "store", "import", str(tmp_path / file))
        assert r.code == 1 and why in r.err and "nothing was imported" in r.err, (file, r.err)
        assert _history(dst) == empty, file
