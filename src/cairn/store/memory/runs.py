"""Runs in memory: phase runs appended (replaced whole when they change), worker runs by (task,
name)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from cairn.store.contract import DuplicateKey, MissingRow
from cairn.store.contract.runs import PhaseRunRow, WorkerRunRow
from cairn.store.memory.agent_runs import MemoryAgentRuns
from cairn.store.memory.state import MemoryState

_KEY = "workers"
_PHASE_KEY = "phase_runs"


class MemoryRuns(MemoryAgentRuns):  # agent runs: the part in memory/agent_runs.py
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    # -- phase runs ------------------------------------------------------------------------------
    def _phase_rows(self) -> list[PhaseRunRow]:
        rows: list[PhaseRunRow] = self._s.extra.get(_PHASE_KEY, [])
        return rows

    def _replace(self, changed: dict[int, PhaseRunRow]) -> None:
        self._s.extra[_PHASE_KEY] = [changed.get(r.id, r) for r in self._phase_rows()]

    def add_phase_run(
        self, task_id: str, phase: str, *, attempt: int, pid: int, host: str, ts: str
    ) -> PhaseRunRow:
        rows = self._phase_rows()
        row = PhaseRunRow(
            rows[-1].id + 1 if rows else 1,
            task_id,
            phase,
            attempt,
            "running",
            pid,
            host,
            ts,
            None,
            None,
            None,
            None,
            None,
            None,
        )
        self._s.extra[_PHASE_KEY] = [*rows, row]
        return row

    def crash_running(self, task_id: str, phase: str, ts: str) -> list[PhaseRunRow]:
        running = [r for r in self.phase_runs(task_id, phase) if r.state == "running"]
        self._replace(
            {r.id: dataclasses.replace(r, state="crashed", finished_at=ts) for r in running}
        )
        return running

    def attempts(self, task_id: str, phase: str) -> int:
        return sum(1 for r in self.phase_runs(task_id, phase) if r.state != "reset")

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
        row = next((r for r in self._phase_rows() if r.id == run_id), None)
        if row is None:
            raise MissingRow(f"no phase run {run_id}")
        ended = dataclasses.replace(
            row,
            state=state,
            finished_at=ts,
            error=error,
            result_type=result_type,
            result_kind=result_kind,
            result_version=result_version,
            result_json=result_json,
        )
        self._replace({run_id: ended})

    def reset_phase_runs(self, task_id: str, phase: str) -> None:
        self._replace(
            {
                r.id: dataclasses.replace(r, state="reset")
                for r in self.phase_runs(task_id, phase)
                if r.state != "reset"
            }
        )

    def phase_runs(self, task_id: str, phase: str | None = None) -> list[PhaseRunRow]:
        return [
            r
            for r in self._phase_rows()
            if r.task_id == task_id and (phase is None or r.phase == phase)
        ]

    # -- worker runs -----------------------------------------------------------------------------
    def _rows(self) -> dict[tuple[str, str], WorkerRunRow]:
        rows: dict[tuple[str, str], WorkerRunRow] = self._s.extra.get(_KEY, {})
        return rows

    def _put(self, row: WorkerRunRow) -> None:
        self._s.extra[_KEY] = {**self._rows(), (row.task_id, row.name): row}

    def worker(self, task_id: str, name: str) -> WorkerRunRow | None:
        return self._rows().get((task_id, name))

    def by_run(self, run_id: str) -> WorkerRunRow | None:
        return next((r for r in self._rows().values() if r.run_id == run_id), None)

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
        if self.by_run(run_id) is not None:
            raise DuplicateKey(f"worker run {run_id!r} exists already")
        prev = self.worker(task_id, name)
        row = WorkerRunRow(
            task_id,
            name,
            kind,
            spec,
            spec_hash,
            "running",
            run_id,
            (prev.attempt if prev else 0) + 1,
            owner_pid,
            owner_start,
            None,
            None,
            ts,
            None,
            None,
            None,
            None,
            log_path,
            None,
            tuple(outputs),
        )
        self._put(row)
        return row

    def set_pid(self, run_id: str, pid: int, pid_start: str | None) -> None:
        row = self.by_run(run_id)
        if row is not None:
            self._put(dataclasses.replace(row, pid=pid, pid_start=pid_start))

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
        row = self.by_run(run_id)
        if row is None or row.state != "running":
            return None
        row = dataclasses.replace(
            row,
            state=state,
            finished_at=ts,
            duration_s=duration_s,
            exit_code=exit_code,
            summary=summary,
            log_tail=log_tail,
        )
        self._put(row)
        return row

    def of_task(self, task_id: str) -> list[WorkerRunRow]:
        rows = [r for r in self._rows().values() if r.task_id == task_id]
        return sorted(rows, key=lambda r: (r.started_at, r.name))

    def case_twin(self, task_id: str, name: str) -> str | None:
        folded = name.lower()
        return next(
            (r.name for r in self.of_task(task_id) if r.name.lower() == folded and r.name != name),
            None,
        )

    def for_status(self, limit: int) -> list[WorkerRunRow]:
        rows = list(self._rows().values())
        # Newest first within each group: sort by time descending, then running first (stable).
        rows.sort(key=lambda r: r.finished_at or r.started_at, reverse=True)
        rows.sort(key=lambda r: r.state != "running")
        return rows[:limit] if limit > 0 else []
