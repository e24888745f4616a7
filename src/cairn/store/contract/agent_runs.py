"""Agent runs, the agent runtime's part of the runs area (``tx.runs``): what ``cairn agent run``
keeps of its runs.

A run of a task (its model, pid, state, usage), the compactions it made (append-only), and the
subagents it spawned. A run or subagent still ``running`` whose process is gone is marked
``crashed`` by the next run of the task; nothing is ever deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class AgentRunRow:
    id: str
    task_id: str
    model: str
    started_at: str
    finished_at: str | None
    state: str  # running | done | failed | crashed
    pid: int | None
    usage: Mapping[str, Any]
    error: str | None


@dataclass(frozen=True, slots=True)
class AgentCompactionRow:
    id: int
    ts: str
    run_id: str | None
    task_id: str | None
    phase: str | None
    safe_point: bool
    tokens_before: int
    tokens_after: int
    tokens_since_checkpoint: int
    window: int
    reason: str


@dataclass(frozen=True, slots=True)
class SubagentRunRow:
    id: str
    run_id: str | None
    task_id: str | None
    name: str
    spec: Mapping[str, Any]
    model: str
    state: str  # running | done | partial | failed | crashed
    budget_tokens: int
    used_tokens: int
    partial: bool
    summary: str | None
    summary_tokens: int
    transcript: str | None
    started_at: str
    finished_at: str | None
    error: str | None


class AgentRunsArea(Protocol):
    # -- runs ------------------------------------------------------------------------------------
    def start_agent_run(
        self, run_id: str, task_id: str, model: str, started_at: str, pid: int
    ) -> None:
        """A new run, ``running``. Its id is new (the caller makes it unique)."""
        ...

    def agent_run(self, run_id: str) -> AgentRunRow | None: ...

    def running_agent_runs(self, task_id: str) -> list[AgentRunRow]:
        """The task's runs still marked ``running`` (alive, or dead and not yet found)."""
        ...

    def crash_agent_run(self, run_id: str, *, ts: str, error: str, subagent_error: str) -> None:
        """The run died: it becomes ``crashed``, and so do its subagents still running (partial)."""
        ...

    def finish_agent_run(
        self, run_id: str, *, state: str, ts: str, usage: Mapping[str, Any], error: str | None
    ) -> None: ...

    def agent_runs(self, *, task_id: str | None = None, limit: int = 10) -> list[AgentRunRow]:
        """The newest ``limit`` runs (of one task), newest first."""
        ...

    # -- compactions -----------------------------------------------------------------------------
    def add_agent_compaction(
        self,
        *,
        ts: str,
        run_id: str | None,
        task_id: str | None,
        phase: str | None,
        safe_point: bool,
        tokens_before: int,
        tokens_after: int,
        tokens_since_checkpoint: int,
        window: int,
        reason: str,
    ) -> int:
        """The new compaction's id: higher than every id before it."""
        ...

    def agent_compactions(
        self, *, task_id: str | None = None, limit: int = 10
    ) -> list[AgentCompactionRow]:
        """The newest ``limit`` compactions (of one task), newest first."""
        ...

    # -- subagents -------------------------------------------------------------------------------
    def start_subagent(
        self,
        sub_id: str,
        *,
        run_id: str,
        task_id: str,
        name: str,
        spec: Mapping[str, Any],
        model: str,
        budget_tokens: int,
        transcript: str,
        started_at: str,
    ) -> None: ...

    def finish_subagent(
        self,
        sub_id: str,
        *,
        state: str,
        used_tokens: int,
        summary: str,
        summary_tokens: int,
        finished_at: str,
        error: str | None,
    ) -> None:
        """Every state but ``done`` is a partial result."""
        ...

    def subagents(self, *, task_id: str | None = None, limit: int = 10) -> list[SubagentRunRow]:
        """The newest ``limit`` subagent runs (of one task), newest first."""
        ...
