"""The in-memory reference store: what the contract means, without a database. Thread-safe; one
process; nothing survives it. The conformance suite runs every backend against it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from cairn.store.base import Transaction
from cairn.store.memory.areas import AREAS
from cairn.store.memory.state import MemoryState


class MemoryStore:
    dialect = "memory"

    def __init__(self) -> None:
        self._state = MemoryState()
        # One writer at a time, for the whole transaction (like BEGIN IMMEDIATE); readers take
        # the committed state as it is and never wait.
        self._lock = threading.RLock()
        self._closed = False

    def _tx(self, state: MemoryState) -> Transaction:
        return Transaction({name: make(state) for name, make in AREAS.items()})

    @contextmanager
    def write(self, *, task: str | None = None) -> Iterator[Transaction]:
        with self._lock:  # one writer at a time, whatever its ``task``
            work = self._state.copy()
            yield self._tx(work)
            self._state = work  # commit: one reference swap

    @contextmanager
    def light_write(self, *, rows_only: bool = False) -> Iterator[Transaction]:
        with self.write() as tx:
            yield tx

    transaction = write
    light_transaction = light_write

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        # Read-only by convention: a read's areas work on the committed state itself, so a
        # write through them would show at once; the conformance suite reads only.
        yield self._tx(self._state)

    def applied_migrations(self) -> list[str]:
        return []

    def integrity_check(self) -> str:
        return "ok"

    def close(self) -> None:
        self._closed = True


__all__ = ["MemoryStore"]
