"""Worker runs: one row per (task, worker name), holding the newest run of that worker.

A run is started by its orchestrator (state ``running``, attempt one more than the row's last),
stamped with the worker process's pid once it runs, and ended once (done, failed or timeout) by
whichever side records it first: :meth:`RunsArea.finish` ends only a run that is still running.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

WORKER_RUN_STATES = ("running", "done", "failed", "timeout")


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


class RunsArea(Protocol):
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
