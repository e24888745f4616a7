"""Recoveries: one append-only row per recovery brief handed out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from cairn.core.record import Record, assign


class RecoveryRow(Record):
    __slots__ = (  # noqa: RUF023
        "id",
        "ts",
        "trigger",
        "task_id",
        "phase",
        "checkpoint",
        "reloaded",
        "safe_point",
        "note",
        "last_event",
    )
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

    def __init__(
        self,
        id: int,
        ts: str,
        trigger: str,
        task_id: str | None,
        phase: str | None,
        checkpoint: str | None,
        reloaded: tuple[str, ...],
        safe_point: bool | None,
        note: str | None,
        last_event: int,
    ) -> None:
        assign(self, "id", id)
        assign(self, "ts", ts)
        assign(self, "trigger", trigger)
        assign(self, "task_id", task_id)
        assign(self, "phase", phase)
        assign(self, "checkpoint", checkpoint)
        assign(self, "reloaded", reloaded)
        assign(self, "safe_point", safe_point)
        assign(self, "note", note)
        assign(self, "last_event", last_event)


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
