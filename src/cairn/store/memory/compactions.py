"""Compactions in memory (kept in ``MemoryState.extra``, replaced, never changed in place)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from cairn.store.contract.compactions import CompactionRow
from cairn.store.memory.state import MemoryState

_KEY = "compactions"


class MemoryCompactions:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    @property
    def _rows(self) -> list[CompactionRow]:
        rows: list[CompactionRow] = self._s.extra.get(_KEY, [])
        return rows

    def _newest(self, match: Callable[[CompactionRow], bool]) -> CompactionRow | None:
        return next((r for r in reversed(self._rows) if match(r)), None)

    def _replace(self, compaction_id: int, **changes: object) -> None:
        self._s.extra[_KEY] = [
            replace(r, **changes) if r.id == compaction_id else r  # type: ignore[arg-type]
            for r in self._rows
        ]

    def add(
        self,
        *,
        ts: str,
        agent: str,
        session_id: str | None,
        transcript_path: str | None,
        trigger: str | None,
        custom_instructions: str | None,
        task_id: str | None,
        phase: str | None,
        safe_point: bool,
        reason: str,
        last_checkpoint_at: str | None,
        seconds_since_checkpoint: float | None,
        tool_calls_since_checkpoint: int | None,
        tool_calls_exact: bool | None,
        summary: str | None,
    ) -> CompactionRow:
        rows = self._rows
        row = CompactionRow(
            rows[-1].id + 1 if rows else 1,
            ts,
            agent,
            session_id,
            transcript_path,
            trigger,
            custom_instructions,
            task_id,
            phase,
            safe_point,
            reason,
            last_checkpoint_at,
            seconds_since_checkpoint,
            tool_calls_since_checkpoint,
            tool_calls_exact,
            summary,
            ts if summary is not None else None,
            None,
            None,
        )
        self._s.extra[_KEY] = [*rows, row]
        return row

    def get(self, compaction_id: int) -> CompactionRow | None:
        return self._newest(lambda r: r.id == compaction_id)

    def newest_open(self, session_id: str) -> CompactionRow | None:
        return self._newest(
            lambda r: r.session_id == session_id and r.summary_at is None and r.recovered_at is None
        )

    def awaiting_summary(self, session_id: str | None) -> CompactionRow | None:
        return self._newest(lambda r: r.session_id == session_id and r.summary_at is None)

    def set_summary(self, compaction_id: int, summary: str | None, ts: str) -> None:
        self._replace(compaction_id, summary=summary, summary_at=ts)

    def newest_unrecovered(self, session_id: str | None = None) -> CompactionRow | None:
        return self._newest(
            lambda r: r.recovered_at is None and (session_id is None or r.session_id == session_id)
        )

    def set_recovered(self, compaction_id: int, ts: str | None, trigger: str | None) -> None:
        self._replace(compaction_id, recovered_at=ts, recovery_trigger=trigger)

    def recent(self, limit: int) -> list[CompactionRow]:
        return self._rows[-limit:] if limit > 0 else []

    def count(self, *, suboptimal: bool = False) -> int:
        return sum(1 for r in self._rows if not suboptimal or r.safe_point is False)
