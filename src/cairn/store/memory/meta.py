"""Store metadata in memory."""

from __future__ import annotations

from cairn.store.memory.state import MemoryState


class MemoryMeta:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    def get(self, key: str) -> str | None:
        return self._s.meta.get(key)

    def put(self, key: str, value: str) -> None:
        self._s.meta[key] = value

    def delete(self, key: str) -> None:
        self._s.meta.pop(key, None)
