"""Checkpoint versions: numbering per (task, kind), order per task, lookups without content."""

from __future__ import annotations

from cairn.store import Store
from cairn.store.contract.checkpoints import CheckpointRow

from .conftest import ts


def _add(
    store: Store, task: str, kind: str, text: str, n: int, source: str = "write"
) -> CheckpointRow:
    with store.write() as tx:
        return tx.checkpoints.add(
            task,
            kind,
            text,
            hash=f"h-{text}",
            size=len(text),
            phase="a",
            source=source,
            files=("src/x.py",),
            ts=ts(n),
        )


def test_versions_count_per_kind_and_seq_per_task(store: Store, task: str) -> None:
    rows = [
        _add(store, task, "plan", "p1", 1),
        _add(store, task, "analysis", "a1", 2),
        _add(store, task, "plan", "p2", 3),
    ]
    assert [(r.kind, r.version, r.seq) for r in rows] == [
        ("plan", 1, 1),
        ("analysis", 1, 2),
        ("plan", 2, 3),
    ]
    assert rows[0].files == ("src/x.py",) and rows[0].content == "p1"
    with store.read() as tx:
        newest = tx.checkpoints.newest(task, "plan")
        assert newest is not None and (newest.version, newest.content) == (2, "p2")
        bare = tx.checkpoints.newest(task, "plan", content=False)
        assert bare is not None and bare.content is None and bare.hash == "h-p2"
        first = tx.checkpoints.get(task, "plan", 1)
        assert first is not None and first.content == "p1" and first.created_at == ts(1)
        assert tx.checkpoints.get(task, "plan", 3) is None
        assert tx.checkpoints.version_range(task, "plan") == (1, 2)
        assert tx.checkpoints.version_range(task, "nope") is None
        assert tx.checkpoints.count() == 3
        assert tx.checkpoints.count_by_source("write") == 3
        assert tx.checkpoints.count_by_source("hand-edit") == 0
    _add(store, task, "plan", "p3", 4, source="hand-edit")
    with store.read() as tx:
        assert tx.checkpoints.count_by_source("hand-edit") == 1
        assert tx.checkpoints.count() == 4


def test_history_kinds_and_newest_of_each(store: Store, task: str) -> None:
    _add(store, task, "plan", "p1", 1)
    _add(store, task, "analysis", "a1", 2)
    _add(store, task, "plan", "p2", 3)
    _add(store, task, "progress", "s1", 4, source="progress")
    with store.read() as tx:
        hist = tx.checkpoints.history(task, "plan")
        assert [(r.version, r.content) for r in hist] == [(1, None), (2, None)]
        assert tx.checkpoints.kinds(task) == ["analysis", "plan", "progress"]
        each = tx.checkpoints.newest_each_kind(task)
        assert [(r.kind, r.version) for r in each] == [
            ("analysis", 1),
            ("plan", 2),
            ("progress", 1),
        ]
        newest = tx.checkpoints.newest_of_task(task, exclude=("progress",))
        assert newest is not None and (newest.kind, newest.content) == ("plan", "p2")
        anyk = tx.checkpoints.newest_of_task(task, content=False)
        assert anyk is not None and anyk.kind == "progress" and anyk.content is None
        assert tx.checkpoints.newest_of_task("nobody") is None


def test_by_hash_finds_any_stored_version(store: Store, task: str) -> None:
    _add(store, task, "plan", "p1", 1)
    _add(store, task, "plan", "p2", 2)
    with store.read() as tx:
        hit = tx.checkpoints.by_hash(task, "plan", "h-p1")
        assert hit is not None and hit.version == 1
        assert tx.checkpoints.by_hash(task, "analysis", "h-p1") is None
        assert tx.checkpoints.by_hash(task, "plan", "h-zz") is None


def test_tasks_do_not_share_versions(store: Store, task: str) -> None:
    with store.write() as tx:
        tx.tasks.create("T2", "", ts(0))
    _add(store, task, "plan", "p1", 1)
    other = _add(store, "T2", "plan", "q1", 2)
    assert (other.version, other.seq) == (1, 1)


def test_of_phase_exists(store: Store, task: str) -> None:
    _add(store, task, "plan", "p1", 1)  # written during phase "a"
    with store.read() as tx:
        assert tx.checkpoints.of_phase_exists(task, "a")
        assert tx.checkpoints.of_phase_exists(task, "plan")  # the kind named after a phase
        assert not tx.checkpoints.of_phase_exists(task, "b")


def _add_if_changed(
    store: Store,
    task: str,
    text: str,
    n: int,
    *,
    phase: str | None = None,
    files: tuple[str, ...] = (),
) -> CheckpointRow | None:
    with store.write() as tx:
        return tx.checkpoints.add_if_changed(
            task,
            "plan",
            text,
            hash=f"h-{text}",
            size=len(text),
            phase=phase,
            source="write",
            files=files,
            ts=ts(n),
        )


def test_add_if_changed_skips_the_same_content_and_fills_in_the_active_phase(
    store: Store, task: str
) -> None:
    first = _add_if_changed(store, task, "p1", 1)
    assert first is not None and (first.version, first.seq, first.phase) == (1, 1, None)
    assert _add_if_changed(store, task, "p1", 2) is None  # the newest already holds it
    with store.write() as tx:
        tx.tasks.set_phase_state(task, "b", "active", ts(3))
    again = _add_if_changed(store, task, "p1", 4, files=("src/x.py",))  # other files: new
    assert again is not None and (again.version, again.phase, again.files) == (
        2,
        "b",
        ("src/x.py",),
    )
    told = _add_if_changed(store, task, "p2", 5, phase="a")
    assert told is not None and (told.version, told.seq, told.phase) == (3, 3, "a")
    back = _add_if_changed(store, task, "p1", 6)  # an older content, not the newest: a version
    assert back is not None and back.version == 4 and back.content == "p1"
    with store.read() as tx:
        stored = tx.checkpoints.get(task, "plan", 2)
        assert stored is not None and (stored.phase, stored.files) == ("b", ("src/x.py",))
        assert [r.version for r in tx.checkpoints.history(task, "plan")] == [1, 2, 3, 4]
        assert tx.checkpoints.count() == 4


def test_newest_of_tasks_is_newest_of_task_for_each(store: Store, task: str) -> None:
    with store.write() as tx:
        tx.tasks.create("T2", "", ts(0))
        tx.tasks.create("T3", "", ts(0))  # no version at all
    _add(store, task, "plan", "p1", 1)
    _add(store, "T2", "analysis", "a1", 2)
    _add(store, task, "analysis", "a2", 3)
    _add(store, task, "progress", "s1", 4, source="progress")
    _add(store, "T2", "progress", "s2", 5, source="progress")
    with store.read() as tx:
        ids = [task, "T2", "T3", "nobody"]
        for exclude, content in (((), True), (("progress",), False), (("progress", "plan"), True)):
            got = tx.checkpoints.newest_of_tasks(ids, exclude=exclude, content=content)
            one = {
                t: tx.checkpoints.newest_of_task(t, exclude=exclude, content=content) for t in ids
            }
            assert got == {t: row for t, row in one.items() if row is not None}
        got = tx.checkpoints.newest_of_tasks(ids, exclude=("progress",), content=False)
        assert {t: (r.kind, r.version, r.content) for t, r in got.items()} == {
            task: ("analysis", 1, None),
            "T2": ("analysis", 1, None),
        }
        assert tx.checkpoints.newest_of_tasks([]) == {}
