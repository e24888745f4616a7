"""Records: every record set read back as plain rows and loaded into another store as given (ids
kept, counters going on after them); the memory store, which nothing outlives, says it has none."""

from __future__ import annotations

import pytest

from cairn.core.errors import StoreError
from cairn.store import Store
from cairn.store.contract.records import is_empty
from helpers import sqlitedb

from .conftest import TS


def _fill(store: Store) -> None:
    with store.write() as tx:
        tx.tasks.create("T1", "first", TS)
        tx.tasks.add_phase("T1", "a", gated=False)
        tx.checkpoints.add(
            "T1", "plan", "# plan ✓", hash="h", size=9, phase="a", source="write", files=(), ts=TS
        )
        tx.steps.add("T1", "a", "did it", "done", TS)
        tx.events.append("T1", "task.created", TS, {"n": 1})
        tx.events.append("T1", "x", TS, {})


def test_rows_load_into_another_store_and_ids_go_on(connect, backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = connect()
    if backend == "memory":
        with source.read() as tx, pytest.raises(StoreError, match="nothing past its process"):
            assert tx.records.sets() == []
            tx.records.fields("tasks")
        return
    from cairn.store import open_store

    _fill(source)
    target = open_store(tmp_path / "other.db", create=True)
    try:
        with source.read() as tx:
            assert {"tasks", "phases", "checkpoints", "steps", "events", "meta"} <= set(
                tx.records.sets()
            )
            assert "leases" not in tx.records.sets()  # claims of live processes stay behind
            assert not is_empty(tx.records)
            dumped = {
                n: (tx.records.fields(n), list(tx.records.rows(n))) for n in tx.records.sets()
            }
            assert tx.records.count("events") == 2
        with target.read() as tx:
            assert is_empty(tx.records)
            # The checkpoint count is derived: neither a field nor a record.
            assert ["checkpoint_versions"] not in [r[:1] for r in dumped["meta"][1]]
            assert "step_count" not in dumped["tasks"][0]
            assert tx.records.count("meta") == len(dumped["meta"][1])
        with target.write() as tx:
            # Any order: references are checked at commit, counters derived after.
            for name in reversed(sorted(dumped)):
                fields, rows = dumped[name]
                if rows:
                    tx.records.load(name, fields, rows)
            tx.records.load("meta", ["key", "value"], [["checkpoint_versions", "7"]])  # not taken
            tx.records.derive()
        with target.read() as tx:
            for name, (fields, rows) in dumped.items():  # (the SQLite target may have more fields)
                at = [tx.records.fields(name).index(f) for f in fields]
                assert [[r[i] for i in at] for r in tx.records.rows(name)] == rows, name
            cp = tx.checkpoints.get("T1", "plan", 1)
            assert cp is not None and cp.content == "# plan ✓"
            assert tx.checkpoints.count() == 1 and tx.steps.count("T1") == 1  # derived again
        with target.write() as tx:
            assert tx.events.append(None, "after", TS, {}) == 3  # the counter went on
            again = tx.checkpoints.add(
                "T1",
                "plan",
                "again",
                hash="h2",
                size=5,
                phase=None,
                source="write",
                files=(),
                ts=TS,
            )
            assert (again.version, again.seq) == (2, 2)  # and the task's sequence of versions
            with pytest.raises(StoreError, match="no field"):
                tx.records.load("tasks", ["id", "nonsense"], [["x", 1]])
    finally:
        target.close()


def test_clear_removes_every_record_even_the_append_only_ones(store: Store, backend: str) -> None:
    if backend == "memory":
        return
    _fill(store)
    with store.write() as tx:
        tx.records.clear()
    with store.read() as tx:
        assert is_empty(tx.records)
    with store.write() as tx:
        tx.records.derive()  # what a restore's load ends with: the counts of what it holds
    with store.read() as tx:
        assert tx.checkpoints.count() == 0
    with store.write() as tx:  # the append-only rule is back
        tx.events.append(None, "x", TS, {})
    if backend == "sqlite":  # (its triggers were lifted for the clear; PostgreSQL truncates)
        with pytest.raises(Exception, match="append-only"):
            sqlitedb.execute(store, "DELETE FROM events")
