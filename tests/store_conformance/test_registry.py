"""Every backend provides every area the Transaction declares, and transactions behave alike."""

from __future__ import annotations

import pytest

from cairn.store import Store, area_names
from cairn.store.memory.areas import AREAS as MEMORY_AREAS
from cairn.store.postgres.areas import AREAS as POSTGRES_AREAS
from cairn.store.sqlite.areas import AREAS as SQLITE_AREAS

from .conftest import TS


@pytest.mark.parametrize(
    "areas",
    [SQLITE_AREAS, MEMORY_AREAS, POSTGRES_AREAS],
    ids=["sqlite", "memory", "postgresql"],
)
def test_every_declared_area_is_registered(areas: dict[str, object]) -> None:
    assert sorted(areas) == sorted(area_names())


def test_a_write_is_visible_to_another_connection(connect) -> None:  # type: ignore[no-untyped-def]
    a, b = connect(), connect()
    with a.write() as tx:
        tx.tasks.create("x", "", TS)
    with b.read() as tx:
        got = tx.tasks.get("x")
        assert got is not None and got.id == "x"


def test_an_exception_rolls_back_every_area_and_propagates(store: Store) -> None:
    with pytest.raises(ZeroDivisionError), store.write() as tx:
        tx.tasks.create("gone", "", TS)
        tx.events.append("gone", "task.created", TS, {})
        assert tx.tasks.get("gone") is not None  # own writes are visible inside
        raise ZeroDivisionError
    with store.read() as tx:
        assert tx.tasks.get("gone") is None
        assert tx.events.last_id() == 0
    with store.write() as tx:  # and the store is usable afterwards
        tx.tasks.create("gone", "", TS)
    with store.read() as tx:
        assert tx.tasks.count() == 1


def test_light_write_commits_and_rolls_back(store: Store, task: str) -> None:
    with store.light_write() as tx:
        tx.projections.record("artifacts/x.md", task, "plan", "h1")
    with pytest.raises(RuntimeError), store.light_write() as tx:
        tx.projections.set_stat("artifacts/x.md", 5, 6)
        raise RuntimeError
    with store.read() as tx:
        row = tx.projections.get("artifacts/x.md")
        assert row is not None and row.mtime_ns is None


def test_a_read_is_a_snapshot(connect) -> None:  # type: ignore[no-untyped-def]
    a, b = connect(), connect()
    with a.write() as tx:
        tx.events.append(None, "one", TS, {})
    with a.read() as rtx:
        before = rtx.events.last_id()
        with b.write() as wtx:
            wtx.events.append(None, "two", TS, {})
        assert rtx.events.last_id() == before
    with a.read() as rtx:
        assert rtx.events.last_id() == before + 1
