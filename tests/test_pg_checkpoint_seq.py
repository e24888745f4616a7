"""A task's next checkpoint sequence number kept on its row (PostgreSQL migration 0009): a store
made before it numbers on from its history, every writer of checkpoints keeps the counter, and
the counter is derived state, so a dump leaves it out and a restore finds it again. Runs against
the tests' real PostgreSQL server (tests/pg.py)."""

from __future__ import annotations

import psycopg

from cairn.store import Store, open_store
from cairn.store.dump import copy, digest
from cairn.store.postgres.migrations import MIGRATIONS
from pg import apply_migrations_before, drop_database, new_database

TS = "2026-01-01T00:00:00.000Z"


def _write(store: Store, task: str, kind: str, text: str) -> tuple[int, int]:
    """The one-call write (the domain's path): (version, seq) of the version it added."""
    with store.write(task=task) as tx:
        done = tx.checkpoints.write(
            task, kind, text, hash=f"h-{text}", size=len(text), phase=None, source="write",
            files=(), ts=TS, path=f"artifacts/{task}_{kind}.md", last=True,
        )  # fmt: skip
    assert done.added is not None
    return done.added.version, done.added.seq


def _counter(url: str, task: str) -> int | None:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT checkpoint_seq FROM tasks WHERE id = %s", (task,)).fetchone()
        assert row is not None
        return None if row[0] is None else int(row[0])


def test_a_store_at_0008_numbers_on_from_its_history(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        older = apply_migrations_before(conn, "0009")
        assert len(older) == 8
        conn.execute(
            "INSERT INTO tasks (id, key, title, created_at, updated_at, seq) "
            "VALUES ('T', 't', '', %s, %s, 1)",
            (TS, TS),
        )
        for seq, (kind, version) in enumerate([("plan", 1), ("notes", 1), ("plan", 2)], 1):
            conn.execute(
                "INSERT INTO checkpoints (task_id, kind, version, hash, size, content, phase, "
                "source, files, created_at, seq) VALUES ('T', %s, %s, %s, 1, 'p', NULL, "
                "'write', '[]', %s, %s)",
                (kind, version, f"old{seq}", TS, seq),
            )
    store = open_store(pg_url)
    try:
        assert [n for n, _ in MIGRATIONS] == store.applied_migrations()
        assert _counter(pg_url, "T") is None  # not known yet: found at the next write
        assert _write(store, "T", "plan", "a") == (3, 4)
        assert _counter(pg_url, "T") == 4
        assert _write(store, "T", "notes", "b") == (2, 5)
        # The other writers of checkpoints keep the counter too.
        with store.write(task="T") as tx:
            added = tx.checkpoints.add(
                "T", "plan", "c", hash="h-c", size=1, phase=None, source="write", files=(), ts=TS
            )
            assert added.seq == 6
            again = tx.checkpoints.add_if_changed(
                "T", "notes", "d", hash="h-d", size=1, phase=None, source="write", files=(), ts=TS
            )
            assert again is not None and again.seq == 7
        assert _counter(pg_url, "T") == 7
        assert _write(store, "T", "plan", "e") == (5, 8)
        with store.read() as tx:
            seqs = [r.seq for k in ("plan", "notes") for r in tx.checkpoints.history("T", k)]
            assert sorted(seqs) == list(range(1, 9))
            newest = tx.checkpoints.newest_of_task("T")
            assert newest is not None and (newest.kind, newest.seq) == ("plan", 8)
    finally:
        store.close()


def test_the_counter_is_no_record_and_a_restore_finds_it_again(pg_url: str) -> None:
    store = open_store(pg_url, create=True)
    other_url = new_database()
    other = None
    try:
        with store.write() as tx:
            tx.tasks.create("T", "", TS)
            tx.tasks.create("U", "", TS)
        for text in ("a", "b", "c"):
            _write(store, "T", "plan", text)
        _write(store, "U", "plan", "x")
        with store.read() as tx:
            assert "checkpoint_seq" not in tx.records.fields("tasks")
            assert all(len(r) == len(tx.records.fields("tasks")) for r in tx.records.rows("tasks"))
        other = open_store(other_url, create=True)
        copy(store, other)
        assert digest(other).sets == digest(store).sets
        assert _counter(other_url, "T") == 3  # derived again by the restore (records.derive)
        assert _write(other, "T", "plan", "d") == (4, 4)
        assert _write(other, "U", "notes", "y") == (1, 2)
        assert _counter(other_url, "T") == 4
        # A renamed task keeps its counter (the row moves, the counter with it).
        with other.write() as tx:
            tx.tasks.rename("T", "T2")
        assert _write(other, "T2", "plan", "e") == (5, 5)
    finally:
        if other is not None:
            other.close()
        store.close()
        drop_database(other_url)
