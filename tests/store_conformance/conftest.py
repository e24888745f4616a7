"""Every test here runs against every store backend. A new backend adds one entry to BACKENDS and
must pass the whole suite (tests that need separate processes say so with ``needs_processes``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cairn.store import Store, open_store
from cairn.store.memory import MemoryStore
from pg import HINT, available, drop_database, new_database
from services import need


def _sqlite(folder: Path) -> Callable[[], Store]:
    return lambda: open_store(folder / "cairn.db", create=True)


def _postgres(folder: Path) -> Callable[[], Store]:
    # One fresh database per test, named in the folder so that child processes find it too.
    url = (folder / "pg-url").read_text(encoding="utf-8")
    return lambda: open_store(url, create=True)


def _memory(folder: Path) -> Callable[[], Store]:
    shared = MemoryStore()  # "another connection" to a memory store is the same object
    return lambda: shared


# name -> (a factory of connections to one store in a folder, whether processes can share it)
BACKENDS: dict[str, tuple[Callable[[Path], Callable[[], Store]], bool]] = {
    "sqlite": (_sqlite, True),
    "memory": (_memory, False),
    "postgresql": (_postgres, True),
}

TS = "2026-01-01T00:00:00.000Z"


def ts(n: int) -> str:
    """A timestamp n milliseconds after TS (ISO text sorts as time)."""
    return f"2026-01-01T00:00:{n // 1000:02d}.{n % 1000:03d}Z"


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def location(backend: str, tmp_path: Path) -> Iterator[str]:
    """What a separate process opens to reach the test's store (a path or a URL)."""
    if backend != "postgresql":
        yield str(tmp_path / "cairn.db")
        return
    need("PostgreSQL", available(), HINT)
    url = new_database(store=True)
    (tmp_path / "pg-url").write_text(url, encoding="utf-8")
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def connect(backend: str, tmp_path: Path, location: str) -> Iterator[Callable[[], Store]]:
    make = BACKENDS[backend][0](tmp_path)
    opened: list[Store] = []

    def factory() -> Store:
        s = make()
        opened.append(s)
        return s

    yield factory
    for s in opened:
        s.close()


@pytest.fixture
def store(connect: Callable[[], Store]) -> Store:
    return connect()


@pytest.fixture
def task(store: Store) -> str:
    """A task 'T1' with phases a, b (b gated)."""
    with store.write() as tx:
        tx.tasks.create("T1", "first", TS)
        tx.tasks.add_phase("T1", "a", gated=False)
        tx.tasks.add_phase("T1", "b", gated=True)
    return "T1"
