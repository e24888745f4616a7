"""Store metadata in memory."""

from __future__ import annotations

import time

from cairn.store.contract.meta import RECORD_SETS
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

    def holds(self, records: str) -> bool:
        # The memory areas keep each record set under the same name in `extra`.
        if records not in RECORD_SETS:
            raise ValueError(f"no record set {records!r}; known: {', '.join(RECORD_SETS)}")
        return bool(self._s.extra.get(records))

    def holding(self, records: tuple[str, ...]) -> frozenset[str]:
        return frozenset(r for r in records if self.holds(r))

    def change_token(self) -> str:
        events = self._s.events
        clock = time.time()
        expired = sum(1 for r in self._s.extra.get("leases", {}).values() if r.expires <= clock)
        return f"{events[-1].id if events else 0}.{expired}"
