"""Recoveries: one append-only row per recovery brief handed out."""

from __future__ import annotations

from collections.abc import Sequence

from cairn.core.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol
else:
    Protocol = object  # importing typing costs ~3 ms of start-up; these Protocols only type


class RecoveryRow(Record):
    id: int
    ts: str
    trigger: str
    task_id: str | None
    phase: str | None
    checkpoint: str | None
    reloaded: tuple[str, ...]
    safe_point: bool | None
    note: str | None
    last_event: int  # journal events up to this id were known when the brief was built


class RecoveriesArea(Protocol):
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
        """Its id is higher than every id before it."""
        ...

    def recent(self, limit: int) -> list[RecoveryRow]:
        """The newest ``limit``, oldest first."""
        ...

    def newest(self) -> RecoveryRow | None: ...

    def count(self, *, before_id: int | None = None) -> int: ...

    def count_at(self, ts: str, *, after_id: int) -> int:
        """Recoveries stamped ``ts`` with an id above ``after_id`` (several can share a ms)."""
        ...
