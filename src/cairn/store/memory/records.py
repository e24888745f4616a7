"""The memory store has no record sets to dump: nothing in it outlives its process."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from cairn.core.errors import StoreError
from cairn.store.memory.state import MemoryState


class MemoryRecords:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    def sets(self) -> list[str]:
        return []

    def _refuse(self) -> StoreError:
        return StoreError(
            "the memory store keeps nothing past its process: there is nothing to export, and "
            "nothing imported would last; use an SQLite or PostgreSQL store"
        )

    def fields(self, name: str) -> list[str]:
        raise self._refuse()

    def rows(self, name: str) -> Iterator[list[Any]]:
        raise self._refuse()

    def count(self, name: str) -> int:
        raise self._refuse()

    def load(self, name: str, fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        raise self._refuse()

    def derive(self) -> None:
        raise self._refuse()

    def clear(self) -> None:
        raise self._refuse()

    def migrations(self) -> list[str]:
        return []
