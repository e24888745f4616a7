"""The PostgreSQL checkpoint write is one server-side call (migration 0006): one round trip with its
commit, nothing after it in its transaction, and a store made before the migration upgraded in
place. Runs against the tests' real PostgreSQL server (tests/pg.py)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from cairn.core.errors import StoreError
from cairn.domain.workspace import Workspace
from cairn.store import open_store
from cairn.store.postgres.migrations import MIGRATIONS
from pg import apply_migrations_before, statements_sent

TS = "2026-01-01T00:00:00.000Z"


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return statements_sent(monkeypatch)


def test_a_checkpoint_write_is_one_round_trip(tmp_path: Path, pg_url: str, sent: list[str]) -> None:
    ws = Workspace.init(tmp_path, store=pg_url)
    try:
        ws.create_task("t", phases=["a"])
        ws.start_phase("t", "a")
        ws.write_checkpoint("t", "plan", "# plan 1\n")
        for i in range(2, 5):
            sent.clear()
            cp = ws.write_checkpoint("t", "plan", f"# plan {i}\n")
            assert cp.version == i and cp.phase == "a"
            assert len(sent) == 1 and "cairn_write_checkpoint" in sent[0], sent
        sent.clear()
        same = ws.write_checkpoint("t", "plan", "# plan 4\n")  # unchanged: still one
        assert same.unchanged and same.version == 4 and len(sent) == 1, sent
        with ws.store.read() as tx:
            assert tx.checkpoints.count() == 4
            events = tx.events.query(task_id="t", types=["checkpoint.written"])
            assert [e.data["version"] for e in events] == [1, 2, 3, 4]
    finally:
        ws.close()


def test_nothing_follows_the_last_write_of_a_transaction(pg_url: str) -> None:
    store = open_store(pg_url, create=True)
    try:
        with store.write() as tx:
            tx.tasks.create("T", "", TS)
        with (
            pytest.raises(StoreError, match="after its last statement"),
            store.write(task="T") as tx,
        ):
            done = tx.checkpoints.write(
                "T", "plan", "p", hash="h", size=1, phase=None, source="write",
                files=(), ts=TS, path="artifacts/T_plan.md", last=True,
            )  # fmt: skip
            assert done.added is not None
            tx.events.append("T", "late", TS, {})
        with store.read() as tx:  # the write itself was committed with its call
            assert tx.checkpoints.count() == 1
            assert tx.events.count(types=["late"]) == 0
    finally:
        store.close()


def test_a_store_made_before_the_write_function_is_upgraded(pg_url: str) -> None:
    """A store at migration 0005, with history, opened by this cairn: 0006 is applied and the
    next write numbers on from what was there."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        older = apply_migrations_before(conn, "0006")
        assert len(older) == 5
        # What the older cairn wrote: a task, a version, its projection row and its event.
        conn.execute(
            "INSERT INTO tasks (id, key, title, created_at, updated_at, seq) "
            "VALUES ('T', 't', '', %s, %s, 1)",
            (TS, TS),
        )
        conn.execute(
            "INSERT INTO checkpoints (task_id, kind, version, hash, size, content, phase, "
            "source, files, created_at, seq) VALUES ('T', 'plan', 1, 'h1', 2, 'p1', NULL, "
            "'write', '[]', %s, 1)",
            (TS,),
        )
        conn.execute(
            "INSERT INTO projections (path, path_key, task_id, kind, hash) "
            "VALUES ('artifacts/T_plan.md', 'artifacts/t_plan.md', 'T', 'plan', 'h1')"
        )
        conn.execute(
            "INSERT INTO events (id, ts, task_id, type, data) "
            "VALUES (7, %s, 'T', 'checkpoint.written', '{}')",
            (TS,),
        )
    store = open_store(pg_url)
    try:
        assert [n for n, _ in MIGRATIONS] == store.applied_migrations()
        assert store.integrity_check() == "ok"
        with store.write(task="T") as tx:
            done = tx.checkpoints.write(
                "T", "plan", "p2", hash="h2", size=2, phase=None, source="write", files=(),
                ts=TS, path="artifacts/T_plan.md", last=True,
            )  # fmt: skip
        assert done.added is not None and (done.added.version, done.added.seq) == (2, 2)
        with store.read() as tx:
            assert tx.checkpoints.count() == 2  # the count trigger of 0001 and 0005, kept
            assert tx.events.last_id() == 8
            owner = tx.projections.owner("artifacts/T_plan.md")
            assert owner is not None and (owner.hash, owner.prev_hash) == ("h2", None)
    finally:
        store.close()


def test_a_store_at_0006_loses_the_task_indexes_no_query_uses(pg_url: str) -> None:
    """Migration 0007 on a store with history: the task's touch keeps 3 index entries (id, key,
    the open tasks by recency), the archived list gets its own partial index, and every list
    reads as before."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        older = apply_migrations_before(conn, "0007")
        assert len(older) == 6
        for seq, (tid, updated, state, state_at) in enumerate(
            [
                ("A", "2026-01-01T00:00:03.000Z", "open", None),
                ("B", "2026-01-01T00:00:05.000Z", "open", None),
                ("C", "2026-01-01T00:00:04.000Z", "archived", "2026-01-02T00:00:00.000Z"),
                ("D", "2026-01-01T00:00:01.000Z", "archived", "2026-01-03T00:00:00.000Z"),
            ],
            start=1,
        ):
            conn.execute(
                "INSERT INTO tasks (id, key, title, created_at, updated_at, seq, state, state_at) "
                "VALUES (%s, %s, '', %s, %s, %s, %s, %s)",
                (tid, tid.lower(), TS, updated, seq, state, state_at),
            )
    store = open_store(pg_url)
    try:
        assert [n for n, _ in MIGRATIONS] == store.applied_migrations()
        assert store.integrity_check() == "ok"
        with psycopg.connect(pg_url, autocommit=True) as conn:
            names = {
                r[0]
                for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'tasks'")
            }
            assert names == {"tasks_pkey", "tasks_key_key", "tasks_open_recent", "tasks_archived"}
            conn.execute("SET enable_seqscan = off")
            plan = "\n".join(
                r[0]
                for r in conn.execute(
                    "EXPLAIN SELECT id FROM tasks WHERE state = 'archived' "
                    "ORDER BY state_at DESC, seq DESC"
                )
            )
            assert "tasks_archived" in plan and "Sort" not in plan, plan
        with store.read() as tx:
            assert [t.id for t in tx.tasks.recent()] == ["B", "A"]
            assert [t.id for t in tx.tasks.archived()] == ["D", "C"]
            assert tx.tasks.count() == 2
        with store.write(task="A") as tx:
            done = tx.checkpoints.write(
                "A", "plan", "p", hash="h", size=1, phase=None, source="write", files=(),
                ts="2026-01-01T00:00:09.000Z", path="artifacts/A_plan.md", last=True,
            )  # fmt: skip
        assert done.added is not None and done.added.version == 1
        with store.read() as tx:
            assert [t.id for t in tx.tasks.recent()] == ["A", "B"]  # the touch reordered them
    finally:
        store.close()


def test_new_versions_are_compressed_with_lz4_and_old_ones_still_read(pg_url: str) -> None:
    """Migration 0010 on a store with a pglz-compressed version: the next one is lz4 (this
    server has it, as Debian's has), and both read back whole."""
    text = [f"# plan {i}\n" + "a line of the plan, 0123456789\n" * 80 for i in (1, 2)]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        apply_migrations_before(conn, "0010")
        conn.execute(
            "INSERT INTO tasks (id, key, title, created_at, updated_at, seq) "
            "VALUES ('T', 't', '', %s, %s, 1)",
            (TS, TS),
        )
        conn.execute(  # what an older cairn wrote, compressed as the server's default says
            "INSERT INTO checkpoints (task_id, kind, version, hash, size, content, phase, "
            "source, files, created_at, seq) VALUES ('T', 'plan', 1, 'h1', 1, %s, NULL, "
            "'write', '[]', %s, 1)",
            (text[0], TS),
        )
    store = open_store(pg_url)
    try:
        assert [n for n, _ in MIGRATIONS] == store.applied_migrations()
        with store.write(task="T") as tx:
            done = tx.checkpoints.write(
                "T", "plan", text[1], hash="h2", size=1, phase=None, source="write", files=(),
                ts=TS, path="artifacts/T_plan.md", last=True,
            )  # fmt: skip
        assert done.added is not None and done.added.version == 2
        with psycopg.connect(pg_url) as conn:
            rows = conn.execute(
                "SELECT version, pg_column_compression(content) FROM checkpoints ORDER BY version"
            ).fetchall()
        assert rows == [(1, "pglz"), (2, "lz4")]
        with store.read() as tx:
            got = [tx.checkpoints.get("T", "plan", v) for v in (1, 2)]
        assert [cp.content if cp else None for cp in got] == text
    finally:
        store.close()
