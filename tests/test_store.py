"""The Store conformance suite: what every backend must do. SQLite is the one backend today; a new
backend adds a factory to ``BACKENDS`` and must pass every test not marked SQLite-only."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cairn.core.errors import StoreError
from cairn.store import Store, open_store
from cairn.store.sqlite.migrations import MIGRATIONS
from helpers import sqlitedb

BACKENDS: dict[str, Callable[[Path], Store]] = {
    "sqlite": lambda folder: open_store(folder / "cairn.db", create=True),
}


@pytest.fixture(params=sorted(BACKENDS))
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    opened: list[Store] = []

    def factory() -> Store:
        s = BACKENDS[request.param](tmp_path)
        opened.append(s)
        return s

    yield factory
    for s in opened:
        s.close()


@pytest.fixture
def store(make: Callable[[], Store]) -> Store:
    return make()


def _meta(store: Store, key: str) -> str | None:
    with store.read() as tx:
        return tx.meta.get(key)


# -- transactions --------------------------------------------------------------------------------
def test_commit_is_visible_to_other_connections(make: Callable[[], Store]) -> None:
    a, b = make(), make()
    with a.transaction() as tx:
        tx.meta.put("k", "v")
    assert _meta(a, "k") == "v"
    assert _meta(b, "k") == "v"


def test_exception_rolls_back_and_propagates(store: Store) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), store.transaction() as tx:
        tx.meta.put("a", "1")
        assert tx.meta.get("a") == "1"  # own write visible
        raise Boom
    assert _meta(store, "a") is None
    with store.transaction() as tx:  # the store is usable afterwards
        tx.meta.put("a", "2")
    assert _meta(store, "a") == "2"


def test_light_transaction_commits_and_rolls_back(store: Store) -> None:
    with store.light_transaction() as tx:
        tx.meta.put("light", "yes")
    assert _meta(store, "light") == "yes"
    with pytest.raises(RuntimeError), store.light_transaction() as tx:
        tx.meta.put("light", "no")
        raise RuntimeError
    assert _meta(store, "light") == "yes"


def test_constraint_violation_rolls_back_the_whole_transaction(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError), store.transaction() as tx:
        tx.meta.put("dup", "1")
        tx.tasks.add_phase("no such task", "a", gated=False)  # a foreign key the store refuses
    assert _meta(store, "dup") is None


def test_read_is_a_snapshot(make: Callable[[], Store]) -> None:
    a, b = make(), make()
    with a.read() as tx:
        before = tx.records.count("meta")
        with b.transaction() as wtx:
            wtx.meta.put("during", "x")
        assert tx.records.count("meta") == before
        assert tx.meta.get("during") is None
    assert _meta(a, "during") == "x"


def test_ids_follow_and_what_was_written_reads_back(store: Store) -> None:
    with store.transaction() as tx:
        first = tx.events.append(None, "x", "t", {})
        second = tx.events.append("a", "y", "t", {})
        assert second == first + 1
    with store.read() as tx:
        rows = tx.events.query()
        assert [(r.id, r.type, r.task_id) for r in rows] == [(first, "x", None), (second, "y", "a")]
        assert [r.type for r in tx.events.query(after=first)] == ["y"]
        assert tx.events.query(after=second) == []
        assert tx.events.count() == 2 and tx.events.count(task_id="a") == 1
        assert tx.events.last_id() == second
        assert tx.meta.get("absent") is None


def test_writers_wait_for_each_other_instead_of_failing(make: Callable[[], Store]) -> None:
    """A writer that finds the store locked waits (busy timeout) rather than raising."""
    a, b = make(), make()
    holding = threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with a.transaction() as tx:
                tx.meta.put("first", "1")
                holding.set()
                time.sleep(0.3)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t = threading.Thread(target=hold)
    t.start()
    assert holding.wait(5)
    start = time.monotonic()
    with b.transaction() as tx:
        tx.meta.put("second", "2")
    waited = time.monotonic() - start
    t.join()
    assert not errors
    assert waited > 0.1  # it did wait for the first writer
    assert _meta(b, "first") == "1" and _meta(b, "second") == "2"


# -- append-only tables ----------------------------------------------------------------------------
APPEND_ONLY = {
    "events": (
        "INSERT INTO events (ts, task_id, type, data) VALUES ('t', NULL, 'x', '{}')",
        "UPDATE events SET type = 'changed'",
        "DELETE FROM events",
    ),
    "checkpoints": (
        "INSERT INTO tasks (id, key, title, created_at, updated_at, seq) VALUES "
        "('t', 't', '', 't', 't', 1); INSERT INTO checkpoints (task_id, kind, version, hash, size, "
        "content, phase, source, files, created_at, seq) VALUES ('t', 'plan', 1, 'h', 1, 'x', NULL, "
        "'write', '[]', 't', 1)",
        "UPDATE checkpoints SET content = 'rewritten'",
        "DELETE FROM checkpoints",
    ),
    "recoveries": (
        "INSERT INTO recoveries (ts, trigger, reloaded, last_event) VALUES ('t', 'manual', '[]', 0)",
        "UPDATE recoveries SET trigger = 'crash'",
        "DELETE FROM recoveries",
    ),
}


@pytest.mark.parametrize("table", sorted(APPEND_ONLY))
def test_append_only_tables_refuse_update_and_delete(table: str, store: Store) -> None:
    """The triggers hold for any writer of the file, not only for the store's own statements."""
    insert, update, delete = APPEND_ONLY[table]
    sqlitedb.execute(store, *insert.split("; "))
    before = sqlitedb.rows(store, f"SELECT * FROM {table}")
    assert before
    for statement in (update, delete):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            sqlitedb.execute(store, statement)
    assert sqlitedb.rows(store, f"SELECT * FROM {table}") == before


# -- migrations ------------------------------------------------------------------------------------
def test_migrations_recorded_in_order(store: Store) -> None:
    names = [name for name, _ in MIGRATIONS]
    assert names[0] == "0001_core"
    assert names == sorted(names), "migrations must be numbered in the order they apply"
    assert len(set(n[:4] for n in names)) == len(names), "two migrations share a number"
    assert store.applied_migrations() == names


def test_a_renumbered_migration_is_known_by_its_old_name(tmp_path: Path) -> None:
    """A store that recorded a migration under the number it shipped with (two branches both took
    0010) opens, applies nothing twice, and records the new name."""
    from cairn.store.sqlite.migrations import RENAMED

    path = tmp_path / "cairn.db"
    open_store(path, create=True).close()
    old, new = next(iter(RENAMED.items()))
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE cairn_migrations SET name = ? WHERE name = ?", (old, new))
    conn.close()
    store = open_store(path)
    try:
        assert store.applied_migrations() == [name for name, _ in MIGRATIONS]
    finally:
        store.close()


def test_reopening_applies_nothing_twice(make: Callable[[], Store]) -> None:
    stamped = "SELECT id, name, applied_at FROM cairn_migrations ORDER BY id"
    first = make()
    stamps = sqlitedb.rows(first, stamped)
    assert [r["name"] for r in stamps] == [n for n, _ in MIGRATIONS]
    second = make()
    assert sqlitedb.rows(second, stamped) == stamps
    with second.read() as tx:
        assert tx.records.migrations() == [n for n, _ in MIGRATIONS]


def test_pending_migrations_apply_in_order_to_an_older_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cairn.store.sqlite.connection as backend

    monkeypatch.setattr(backend, "MIGRATIONS", MIGRATIONS[:1])
    old = open_store(tmp_path / "cairn.db", create=True)
    with old.transaction() as tx:
        tx.meta.put("kept", "yes")
    assert old.applied_migrations() == ["0001_core"]
    old.close()
    monkeypatch.setattr(backend, "MIGRATIONS", MIGRATIONS)
    new = open_store(tmp_path / "cairn.db")
    assert new.applied_migrations() == [n for n, _ in MIGRATIONS]
    assert _meta(new, "kept") == "yes"
    new.close()


def test_a_store_from_a_newer_version_is_refused_unchanged(tmp_path: Path) -> None:
    s = open_store(tmp_path / "cairn.db", create=True)
    s.close()
    sqlitedb.execute(
        tmp_path / "cairn.db",
        "INSERT INTO cairn_migrations (name, applied_at) VALUES ('9000_future_feature', 'x')",
    )
    before = (tmp_path / "cairn.db").read_bytes()
    with pytest.raises(StoreError, match=r"newer cairn.*9000_future_feature"):
        open_store(tmp_path / "cairn.db")
    assert (tmp_path / "cairn.db").read_bytes() == before


def test_missing_store_says_cairn_init(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cairn init"):
        open_store(tmp_path / "absent.db")
    assert not (tmp_path / "absent.db").exists()


def test_postgres_is_reserved(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="PostgreSQL"):
        open_store("postgresql://localhost/cairn")


# The exact schema of the core tables (migration 0001_core). A change to these needs a new
# migration, never an edit of 0001: this test fails if 0001 is edited.
CORE_COLUMNS = {
    "meta": [("key", "TEXT", 0, 1), ("value", "TEXT", 1, 0)],
    "events": [
        ("id", "INTEGER", 0, 1),
        ("ts", "TEXT", 1, 0),
        ("task_id", "TEXT", 0, 0),
        ("type", "TEXT", 1, 0),
        ("data", "TEXT", 1, 0),
    ],
    "tasks": [
        ("id", "TEXT", 0, 1),
        ("key", "TEXT", 1, 0),
        ("title", "TEXT", 1, 0),
        ("created_at", "TEXT", 1, 0),
        ("updated_at", "TEXT", 1, 0),
        ("next_action", "TEXT", 0, 0),
        ("seq", "INTEGER", 1, 0),
        ("step_count", "INTEGER", 1, 0),  # 0009: kept by the store, not counted per step
        ("state", "TEXT", 1, 0),  # 0011: open, archived or deleted
        ("state_at", "TEXT", 0, 0),
        # 0016: the seq of the task's newest checkpoint version, derived (not in the dump)
        ("checkpoint_seq", "INTEGER", 1, 0),
    ],
    "phases": [
        ("task_id", "TEXT", 1, 1),
        ("name", "TEXT", 1, 2),
        ("position", "INTEGER", 1, 0),
        ("state", "TEXT", 1, 0),
        ("gated", "INTEGER", 1, 0),
        ("started_at", "TEXT", 0, 0),
        ("finished_at", "TEXT", 0, 0),
        ("error", "TEXT", 0, 0),
    ],
    "checkpoints": [
        ("task_id", "TEXT", 1, 1),
        ("kind", "TEXT", 1, 2),
        ("version", "INTEGER", 1, 3),
        ("hash", "TEXT", 1, 0),
        ("size", "INTEGER", 1, 0),
        ("content", "TEXT", 1, 0),
        ("phase", "TEXT", 0, 0),
        ("source", "TEXT", 1, 0),
        ("files", "TEXT", 1, 0),
        ("created_at", "TEXT", 1, 0),
        ("seq", "INTEGER", 1, 0),
    ],
    "steps": [
        ("id", "INTEGER", 0, 1),
        ("task_id", "TEXT", 1, 0),
        ("phase", "TEXT", 0, 0),
        ("text", "TEXT", 1, 0),
        ("state", "TEXT", 1, 0),
        ("created_at", "TEXT", 1, 0),
        ("updated_at", "TEXT", 1, 0),
    ],
    "projections": [
        ("path", "TEXT", 0, 1),
        ("path_key", "TEXT", 1, 0),
        ("task_id", "TEXT", 1, 0),
        ("kind", "TEXT", 1, 0),
        ("hash", "TEXT", 1, 0),
        ("prev_hash", "TEXT", 0, 0),
        ("mtime_ns", "INTEGER", 0, 0),
        ("size", "INTEGER", 0, 0),
    ],
    "recoveries": [
        ("id", "INTEGER", 0, 1),
        ("ts", "TEXT", 1, 0),
        ("trigger", "TEXT", 1, 0),
        ("task_id", "TEXT", 0, 0),
        ("phase", "TEXT", 0, 0),
        ("checkpoint", "TEXT", 0, 0),
        ("reloaded", "TEXT", 1, 0),
        ("safe_point", "INTEGER", 0, 0),
        ("note", "TEXT", 0, 0),
        ("last_event", "INTEGER", 1, 0),
    ],
    "progress_docs": [
        ("task_id", "TEXT", 0, 1),
        ("hash", "TEXT", 1, 0),
        ("content", "TEXT", 1, 0),
        ("updated_at", "TEXT", 1, 0),
    ],
    "cairn_migrations": [
        ("id", "INTEGER", 0, 1),
        ("name", "TEXT", 1, 0),
        ("applied_at", "TEXT", 1, 0),
    ],
}


def test_blank_migrated_store_has_exactly_the_core_columns(tmp_path: Path) -> None:
    s = open_store(tmp_path / "cairn.db", create=True)
    s.close()
    conn = sqlite3.connect(tmp_path / "cairn.db")
    try:
        for table, expected in CORE_COLUMNS.items():
            got = [(r[1], r[2], r[3], r[5]) for r in conn.execute(f"PRAGMA table_info({table})")]
            assert got == expected, table
        triggers = {
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
        for table in ("events", "checkpoints", "recoveries"):
            assert {f"{table}_no_update", f"{table}_no_delete"} <= triggers
        assert conn.execute("SELECT count(*) FROM events").fetchone() == (0,)
    finally:
        conn.close()


# -- SQLite specifics ----------------------------------------------------------------------------
def test_sqlite_pragmas(tmp_path: Path) -> None:
    s = open_store(tmp_path / "cairn.db", create=True)
    conn = sqlitedb.own_connection(s)  # these settings are the connection's, not the file's

    def pragma(name: str) -> object:
        return next(iter(conn.execute(f"PRAGMA {name}").fetchone().values()))

    try:
        with s.read():
            assert pragma("journal_mode") == "wal"
            assert pragma("synchronous") == 2  # FULL: synced before commit returns
            busy = pragma("busy_timeout")
            assert isinstance(busy, int) and busy >= 5000
            assert pragma("foreign_keys") == 1
        with s.light_transaction():
            assert pragma("synchronous") == 1  # NORMAL, for rebuildable data only
        with s.read():
            assert pragma("synchronous") == 2  # and back to FULL afterwards
        assert s.integrity_check() == "ok"
    finally:
        s.close()


def test_migration_scripts_split_with_trigger_bodies_whole() -> None:
    from cairn.store.sqlite.connection import _split

    parts = _split(
        "CREATE TABLE a (x);\nCREATE TRIGGER t BEFORE DELETE ON a\nBEGIN SELECT 1; SELECT 2; "
        "END;\n-- comment\nCREATE INDEX i ON a(x);\n"
    )
    assert len(parts) == 3
    assert parts[1].startswith("CREATE TRIGGER") and parts[1].endswith("END;")


def test_every_migration_file_parses_into_statements() -> None:
    from cairn.store.sqlite.connection import _split

    for name, sql in MIGRATIONS:
        statements = _split(sql)
        assert statements, name
        for st in statements:
            assert sqlite3.complete_statement(st), (name, st[:80])


def test_the_write_path_lookups_use_their_indexes(store: Store) -> None:
    """The version-by-content look-up (is this file cairn's?) and the active phase the write path
    fills in are index searches, not walks over every version of a kind or every active phase."""
    conn = store._conn  # type: ignore[attr-defined]
    with store.write() as tx:
        tx.tasks.create("t", "", "ts")
        tx.tasks.add_phase("t", "a", gated=False)
        tx.tasks.set_phase_state("t", "a", "active", "ts")
        for v in range(3):
            tx.checkpoints.add_if_changed(
                "t", "plan", f"v{v}", hash=f"{v:064x}", size=2, phase=None, source="write",
                files=(), ts="ts",
            )  # fmt: skip
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        with store.read() as tx:
            found = tx.checkpoints.by_hash("t", "plan", f"{1:064x}")
    finally:
        conn.set_trace_callback(None)
    assert found is not None and found.version == 2
    (lookup,) = [s for s in seen if "FROM checkpoints" in s]
    plan = " | ".join(r["detail"] for r in sqlitedb.rows(store, "EXPLAIN QUERY PLAN " + lookup))
    assert "USING INDEX checkpoints_hash (task_id=? AND kind=? AND <expr>=?)" in plan, plan
    from cairn.store.sqlite.checkpoints import _INSERT, _LOOK_PHASE

    # The look before the insert finds the active phase and the newest version; the insert
    # itself searches nothing (its values are all given).
    details = sqlitedb.rows(store, "EXPLAIN QUERY PLAN " + _LOOK_PHASE, ("t", "plan"))
    plan = " | ".join(r["detail"] for r in details)
    assert "phases_state" not in plan and "SCAN" not in plan.replace("SCAN CONSTANT ROW", ""), plan
    args = ("t", "plan", 4, "h", 1, "c", None, "write", "[]", "ts", 4)
    details = sqlitedb.rows(store, "EXPLAIN QUERY PLAN " + _INSERT, args)
    assert not [r for r in details if "SCAN" in r["detail"] or "SEARCH" in r["detail"]], details


def test_checkpoint_count_is_the_largest_rowid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migration 0017: the versions an older store holds are counted by their rowids (made 1..n
    where an older store had a gap), every insert adds one without a row to update, a rolled
    back one adds none, and the dump's ``meta`` record of the count is derived from them."""
    import cairn.store.sqlite.connection as backend

    before_0017 = [m for m in MIGRATIONS if m[0] < "0017"]
    monkeypatch.setattr(backend, "MIGRATIONS", before_0017)
    s = open_store(tmp_path / "cairn.db", create=True)
    insert = (
        "INSERT INTO checkpoints (rowid, task_id, kind, version, hash, size, content, phase, "
        "source, files, created_at, seq) "
        "VALUES (?, 't', 'plan', ?, 'h', 1, ?, NULL, 'write', '[]', 't', ?)"
    )
    # Rows as an older cairn wrote them, beneath the areas of this one, with a gap in the rowids.
    with sqlitedb.connect(s) as conn:
        conn.execute(
            "INSERT INTO tasks (id, key, title, created_at, updated_at, seq) "
            "VALUES ('t', 't', '', 't', 't', 1)"
        )
        for rowid, v in ((1, 1), (2, 2), (7, 3), (8, 4), (20, 5)):
            conn.execute(insert, (rowid, v, f"v{v}", v))
    with s.read() as tx:
        assert tx.meta.get("checkpoint_versions") == "5"  # kept by 0007's trigger until 0017
    s.close()
    monkeypatch.setattr(backend, "MIGRATIONS", MIGRATIONS)
    s = open_store(tmp_path / "cairn.db")
    try:
        with s.read() as tx:
            assert tx.checkpoints.count() == 5
            assert tx.meta.get("checkpoint_versions") is None  # no row to keep any more
            assert [c.version for c in tx.checkpoints.history("t", "plan")] == [1, 2, 3, 4, 5]
            third = tx.checkpoints.get("t", "plan", 3)
            assert third is not None and third.content == "v3"
        rowids = sqlitedb.rows(s, "SELECT rowid AS r, version FROM checkpoints ORDER BY rowid")
        assert [(r["r"], r["version"]) for r in rowids] == [(v, v) for v in range(1, 6)]
        assert (
            sqlitedb.rows(s, "SELECT 1 FROM sqlite_master WHERE name = 'checkpoints_count'") == []
        )
        sqlitedb.execute(
            s, insert.replace("rowid, ", "").replace("(?, 't'", "('t'"), params=(6, "v6", 6)
        )
        with pytest.raises(RuntimeError), sqlitedb.connect(s) as conn:
            conn.execute(insert.replace("rowid, ", "").replace("(?, 't'", "('t'"), (7, "v7", 7))
            raise RuntimeError  # rolled back: not counted
        with s.read() as tx:
            assert tx.checkpoints.count() == 6 == tx.records.count("checkpoints")
            meta = dict(tx.records.rows("meta"))  # (key, value) records
            assert "checkpoint_versions" not in meta  # derived: no record of a dump
            assert tx.records.count("meta") == len(meta)
    finally:
        s.close()


def test_migration_0014_indexes_a_prefix_of_the_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store from before 0014 finds its versions by content through the new prefix index."""
    import cairn.store.sqlite.connection as backend

    before_0014 = [m for m in MIGRATIONS if m[0] < "0014"]
    monkeypatch.setattr(backend, "MIGRATIONS", before_0014)
    s = open_store(tmp_path / "cairn.db", create=True)
    # Rows as an older cairn wrote them, beneath the areas of this one.
    with sqlitedb.connect(s) as conn:
        conn.execute(
            "INSERT INTO tasks (id, key, title, created_at, updated_at, seq) "
            "VALUES ('t', 't', '', 'ts', 'ts', 1)"
        )
        for v in range(3):
            conn.execute(
                "INSERT INTO checkpoints (task_id, kind, version, hash, size, content, phase, "
                "source, files, created_at, seq) VALUES ('t', 'plan', ?, ?, 2, ?, NULL, 'write', "
                "'[]', 'ts', ?)",
                (v + 1, f"{v % 2:064x}", f"v{v}", v + 1),
            )
    s.close()
    monkeypatch.setattr(backend, "MIGRATIONS", MIGRATIONS)
    s = open_store(tmp_path / "cairn.db")
    try:
        index = sqlitedb.rows(s, "SELECT sql FROM sqlite_master WHERE name = 'checkpoints_hash'")
        assert "substr(hash, 1, 16)" in index[0]["sql"]
        with s.read() as tx:
            found = tx.checkpoints.by_hash("t", "plan", f"{0:064x}")
            assert found is not None and (found.version, found.content) == (3, None)
            assert tx.checkpoints.by_hash("t", "plan", f"{2:064x}") is None
            assert tx.checkpoints.count() == 3
    finally:
        s.close()


def test_migration_0016_keeps_the_task_seq_on_the_task_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store from before 0016: each task's counter is the seq of its newest version, the index
    on (task, seq) is gone, the next write goes on from the counter and the newest version of
    the task is still the one with the highest seq."""
    import cairn.store.sqlite.connection as backend

    before = [m for m in MIGRATIONS if m[0] < "0016"]
    monkeypatch.setattr(backend, "MIGRATIONS", before)
    s = open_store(tmp_path / "cairn.db", create=True)
    with sqlitedb.connect(s) as conn:
        for t, n in (("a", 1), ("b", 2), ("empty", 3)):
            conn.execute(
                "INSERT INTO tasks (id, key, title, created_at, updated_at, seq) "
                "VALUES (?, ?, '', 'ts', 'ts', ?)",
                (t, t, n),
            )
        # a: plan 1, notes 1, plan 2 (seq 1..3); b: one version.
        for t, kind, v, seq in (("a", "plan", 1, 1), ("a", "notes", 1, 2), ("a", "plan", 2, 3),
                                ("b", "plan", 1, 1)):  # fmt: skip
            conn.execute(
                "INSERT INTO checkpoints (task_id, kind, version, hash, size, content, phase, "
                "source, files, created_at, seq) VALUES (?, ?, ?, ?, 1, 'x', NULL, 'write', "
                "'[]', 'ts', ?)",
                (t, kind, v, f"{seq:064x}", seq),
            )
    s.close()
    monkeypatch.setattr(backend, "MIGRATIONS", MIGRATIONS)
    s = open_store(tmp_path / "cairn.db")
    try:
        got = sqlitedb.rows(s, "SELECT id, checkpoint_seq FROM tasks ORDER BY id")
        assert [(r["id"], r["checkpoint_seq"]) for r in got] == [("a", 3), ("b", 1), ("empty", 0)]
        gone = sqlitedb.rows(s, "SELECT name FROM sqlite_master WHERE name = 'checkpoints_seq'")
        assert gone == []
        # 0018: only the write path and a restore's derivation keep it, no trigger on every insert
        assert (
            sqlitedb.rows(
                s,
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'checkpoints' AND sql LIKE '%checkpoint_seq%'",
            )
            == []
        )
        made = sqlitedb.rows(s, "SELECT name FROM sqlite_master WHERE name = 'phases_position'")
        assert len(made) == 1
        with s.read() as tx:
            newest = tx.checkpoints.newest_of_task("a", content=False)
            assert newest is not None and (newest.kind, newest.version, newest.seq) == (
                "plan",
                2,
                3,
            )
            older = tx.checkpoints.newest_of_task("a", exclude=("plan",))
            assert older is not None and (older.kind, older.seq, older.content) == ("notes", 2, "x")
            assert tx.checkpoints.newest_of_task("empty") is None
        with s.write() as tx:
            row = tx.checkpoints.add_if_changed(
                "a", "notes", "y", hash=f"{9:064x}", size=1, phase=None, source="write",
                files=(), ts="ts2",
            )  # fmt: skip
            assert row is not None and (row.version, row.seq) == (2, 4)
            added = tx.checkpoints.add(
                "empty", "plan", "z", hash=f"{8:064x}", size=1, phase=None, source="write",
                files=(), ts="ts2",
            )  # fmt: skip
            assert (added.version, added.seq) == (1, 1)
        got = sqlitedb.rows(s, "SELECT id, checkpoint_seq FROM tasks ORDER BY id")
        assert [(r["id"], r["checkpoint_seq"]) for r in got] == [("a", 4), ("b", 1), ("empty", 1)]
        with s.read() as tx:
            assert "checkpoint_seq" not in tx.records.fields("tasks")  # derived: not a record
    finally:
        s.close()


def test_the_write_journals_its_data_as_the_journal_encodes_it(tmp_path: Path) -> None:
    """The checkpoint write formats its ``checkpoint.written`` data itself (no encoder built per
    write): byte for byte what ``events.append`` writes, quotes, escapes and non-ASCII included."""
    from cairn.store.sqlite.events import _encode

    s = open_store(tmp_path / "cairn.db", create=True)
    try:
        with s.write() as tx:
            tx.tasks.create("tâche", "", "ts")
        cases = [
            ("plan", "work", "write", 'artifacts/tâche_"plan"\\x.md'),
            ("n", None, "hand-edit", "a/b"),
        ]
        for kind, phase, source, path in cases:
            with s.write() as tx:
                done = tx.checkpoints.write(
                    "tâche", kind, "é\n", hash="ab" * 32, size=3, phase=phase, source=source,
                    files=("x",), ts="ts", path=path,
                )  # fmt: skip
            assert done.added is not None
            want = {"kind": kind, "version": 1, "hash": "ab" * 32, "size": 3, "phase": phase,
                    "source": source, "path": path}  # fmt: skip
            got = sqlitedb.rows(s, "SELECT data FROM events ORDER BY id DESC LIMIT 1")
            assert got[0]["data"] == _encode(want)
    finally:
        s.close()
