"""Runs: the attempts of durable phases, and the worker runs.

A *phase run* is one attempt of a phase by the durable runner (``task.run()``): ``running`` from
its start, then ``done`` (with the phase's result), ``failed``, ``crashed`` (its process died; seen
by the next run) or ``reset`` (forgotten by ``--reset``; reset runs do not count as attempts).

A *worker run* is one row per (task, worker name), holding the newest run of that worker. It is
started by its orchestrator (state ``running``, attempt one more than the row's last),
stamped with the worker process's pid once it runs, and ended once (done, failed or timeout) by
whichever side records it first: :meth:`RunsArea.finish` ends only a run that is still running.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from cairn.store.contract.agent_runs import AgentRunsArea

WORKER_RUN_STATES = ("running", "done", "failed", "timeout")
PHASE_RUN_STATES = ("running", "done", "failed", "crashed", "reset")


@dataclass(frozen=True, slots=True)
class PhaseRunRow:
    id: int
    task_id: str
    phase: str
    attempt: int
    state: str
    pid: int
    host: str
    started_at: str
    finished_at: str | None
    result_type: str | None  # none | checkpoint | text | json: what the phase function returned
    result_kind: str | None
    result_version: int | None
    result_json: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class WorkerRunRow:
    task_id: str
    name: str
    kind: str  # fn | cmd
    spec: str  # JSON: what runs, inputs, outputs
    spec_hash: str
    state: str
    run_id: str
    attempt: int
    owner_pid: int | None  # the orchestrator, and its start marker (to tell a reused pid)
    owner_start: str | None
    pid: int | None  # the worker process, leader of its own group
    pid_start: str | None
    started_at: str
    finished_at: str | None
    duration_s: float | None
    exit_code: int | None
    summary: str | None
    log_path: str
    log_tail: str | None
    outputs: tuple[str, ...]


class RunsArea(AgentRunsArea, Protocol):
    """Phase runs and worker runs here; agent runs, compactions and subagents from
    :class:`AgentRunsArea` (``contract/agent_runs.py``)."""

    # -- phase runs ------------------------------------------------------------------------------
    def add_phase_run(
        self, task_id: str, phase: str, *, attempt: int, pid: int, host: str, ts: str
    ) -> PhaseRunRow:
        """A running attempt; its id is higher than every id before it."""
        ...

    def crash_running(self, task_id: str, phase: str, ts: str) -> list[PhaseRunRow]:
        """Mark the phase's running attempts crashed; returns them as they were, oldest first."""
        ...

    def attempts(self, task_id: str, phase: str) -> int:
        """How many attempts of the phase count (every state but ``reset``)."""
        ...

    def end_phase_run(
        self,
        run_id: int,
        state: str,
        ts: str,
        *,
        error: str | None = None,
        result_type: str | None = None,
        result_kind: str | None = None,
        result_version: int | None = None,
        result_json: str | None = None,
    ) -> None:
        """Record the end of an attempt (done with its result, or failed). MissingRow if absent."""
        ...

    def reset_phase_runs(self, task_id: str, phase: str) -> None:
        """Mark every attempt of the phase reset."""
        ...

    def phase_runs(self, task_id: str, phase: str | None = None) -> list[PhaseRunRow]:
        """Oldest first."""
        ...

    # -- worker runs -----------------------------------------------------------------------------
    def worker(self, task_id: str, name: str) -> WorkerRunRow | None:
        """The row of worker ``name`` (exact case) of the task."""
        ...

    def by_run(self, run_id: str) -> WorkerRunRow | None: ...

    def start(
        self,
        *,
        task_id: str,
        name: str,
        kind: str,
        spec: str,
        spec_hash: str,
        run_id: str,
        owner_pid: int,
        owner_start: str | None,
        ts: str,
        log_path: str,
        outputs: Sequence[str],
    ) -> WorkerRunRow:
        """A new running run, replacing the worker's row; its attempt is the last one + 1.
        DuplicateKey if ``run_id`` is taken."""
        ...

    def set_pid(self, run_id: str, pid: int, pid_start: str | None) -> None: ...

    def finish(
        self,
        run_id: str,
        state: str,
        *,
        ts: str,
        duration_s: float,
        exit_code: int | None,
        summary: str,
        log_tail: str,
    ) -> WorkerRunRow | None:
        """End the run if it is still running and return its row; None if it had ended (or
        there is no such run), changing nothing."""
        ...

    def of_task(self, task_id: str) -> list[WorkerRunRow]:
        """By start time, then name."""
        ...

    def case_twin(self, task_id: str, name: str) -> str | None:
        """Another worker of the task whose name equals ``name`` but for case."""
        ...

    def for_status(self, limit: int) -> list[WorkerRunRow]:
        """Running runs first, then the most recently finished (or started)."""
        ...
