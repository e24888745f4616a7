"""Compactions of an agent's context, as the hooks saw them: one row per compaction, completed by
its summary (PostCompact) and by the session start that recovered from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class CompactionRow:
    id: int
    ts: str
    agent: str
    session_id: str | None
    transcript_path: str | None
    trigger: str | None  # manual | auto
    custom_instructions: str | None
    task_id: str | None
    phase: str | None
    safe_point: bool | None
    reason: str
    last_checkpoint_at: str | None
    seconds_since_checkpoint: float | None
    tool_calls_since_checkpoint: int | None
    tool_calls_exact: bool | None
    summary: str | None
    summary_at: str | None
    recovered_at: str | None
    recovery_trigger: str | None


class CompactionsArea(Protocol):
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
        """Its id is higher than every id before it; a summary given here is stamped ``ts``."""
        ...

    def get(self, compaction_id: int) -> CompactionRow | None: ...

    def newest_open(self, session_id: str) -> CompactionRow | None:
        """The session's newest compaction with neither a summary nor a recovery yet."""
        ...

    def awaiting_summary(self, session_id: str | None) -> CompactionRow | None:
        """The newest compaction of ``session_id`` (None: of no session) without a summary."""
        ...

    def set_summary(self, compaction_id: int, summary: str | None, ts: str) -> None: ...

    def newest_unrecovered(self, session_id: str | None = None) -> CompactionRow | None:
        """The newest compaction not recovered from, of ``session_id`` or (None) of any."""
        ...

    def set_recovered(self, compaction_id: int, ts: str | None, trigger: str | None) -> None:
        """Mark it recovered (``ts`` None: not recovered after all)."""
        ...

    def recent(self, limit: int) -> list[CompactionRow]:
        """The newest ``limit``, oldest first."""
        ...

    def count(self, *, suboptimal: bool = False) -> int:
        """All compactions, or those that were not at a safe point."""
        ...
