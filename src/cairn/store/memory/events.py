"""The event journal in memory."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cairn.store.contract.events import EventRow
from cairn.store.memory.state import MemoryState


class MemoryEvents:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    def append(self, task_id: str | None, type: str, ts: str, data: Mapping[str, Any]) -> int:
        # Through JSON, as a SQL backend stores it: the reader gets the same values back.
        plain = json.loads(json.dumps(dict(data), ensure_ascii=False, default=str))
        row = EventRow(self.last_id() + 1, ts, task_id, type, plain)
        self._s.events.append(row)  # the list was copied for this write: appending is safe
        return row.id

    def _match(self, task_id: str | None, types: Sequence[str], after: int) -> list[EventRow]:
        return [
            e
            for e in self._s.events
            if e.id > after
            and (task_id is None or e.task_id == task_id)
            and (not types or e.type in types)
        ]

    def query(
        self,
        *,
        task_id: str | None = None,
        types: Sequence[str] = (),
        after: int = 0,
        limit: int = 50,
    ) -> list[EventRow]:
        return self._match(task_id, types, after)[-limit:] if limit > 0 else []

    def count(
        self, *, task_id: str | None = None, types: Sequence[str] = (), after: int = 0
    ) -> int:
        return len(self._match(task_id, types, after))

    def last_id(self) -> int:
        return self._s.events[-1].id if self._s.events else 0
