"""Recoveries in memory."""

from __future__ import annotations

from collections.abc import Sequence

from cairn.store.contract.recoveries import RecoveryRow
from cairn.store.memory.state import MemoryState


class MemoryRecoveries:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    def add(
        self,
        *,
        ts: str,
        trigger: str,
        task_id: str | None,
        phase: str | None,
        checkpoint: str | None,
        reloaded: Sequence[str],
        safe_point: bool | None,
        note: str | None,
        last_event: int,
    ) -> RecoveryRow:
        rid = self._s.recoveries[-1].id + 1 if self._s.recoveries else 1
        row = RecoveryRow(
            rid,
            ts,
            trigger,
            task_id,
            phase,
            checkpoint,
            tuple(reloaded),
            safe_point,
            note,
            last_event,
        )
        self._s.recoveries.append(row)
        return row

    def recent(self, limit: int) -> list[RecoveryRow]:
        return self._s.recoveries[-limit:] if limit > 0 else []

    def newest(self) -> RecoveryRow | None:
        return self._s.recoveries[-1] if self._s.recoveries else None

    def count(self, *, before_id: int | None = None) -> int:
        if before_id is None:
            return len(self._s.recoveries)
        return sum(1 for r in self._s.recoveries if r.id < before_id)

    def count_at(self, ts: str, *, after_id: int) -> int:
        return sum(1 for r in self._s.recoveries if r.id > after_id and r.ts == ts)
