"""Runs, in SQL shared by the SQLite and PostgreSQL stores: phase runs (``phase_runs``) and
worker runs (``workers``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from cairn.store.contract import DuplicateKey, MissingRow
from cairn.store.contract.runs import PhaseRunRow, WorkerRunRow
from cairn.store.sql import Conn
from cairn.store.sqlite.agent_runs import SQLiteAgentRuns

_COLS = (
    "task_id, name, kind, spec, spec_hash, state, run_id, attempt, owner_pid, owner_start, pid, "
    "pid_start, started_at, finished_at, duration_s, exit_code, summary, log_path, log_tail, "
    "outputs"
)


_PHASE_COLS = (
    "id, task_id, phase, attempt, state, pid, host, started_at, finished_at, result_type, "
    "result_kind, result_version, result_json, error"
)


def _phase_row(r: dict[str, Any]) -> PhaseRunRow:
    return PhaseRunRow(
        r["id"],
        r["task_id"],
        r["phase"],
        r["attempt"],
        r["state"],
        r["pid"],
        r["host"],
        r["started_at"],
        r["finished_at"],
        r["result_type"],
        r["result_kind"],
        r["result_version"],
        r["result_json"],
        r["error"],
    )


def _row(r: dict[str, Any]) -> WorkerRunRow:
    return WorkerRunRow(
        r["task_id"],
        r["name"],
        r["kind"],
        r["spec"],
        r["spec_hash"],
        r["state"],
        r["run_id"],
        r["attempt"],
        r["owner_pid"],
        r["owner_start"],
        r["pid"],
        r["pid_start"],
        r["started_at"],
        r["finished_at"],
        r["duration_s"],
        r["exit_code"],
        r["summary"],
        r["log_path"],
        r["log_tail"],
        tuple(json.loads(r["outputs"])),
    )


class SQLiteRuns(SQLiteAgentRuns):  # agent runs: the part in sqlite/agent_runs.py
    __slots__ = ("_c",)

    def __init__(self, conn: Conn) -> None:
        self._c = conn

    # -- phase runs ------------------------------------------------------------------------------
    def add_phase_run(
        self, task_id: str, phase: str, *, attempt: int, pid: int, host: str, ts: str
    ) -> PhaseRunRow:
        rid = int(
            self._c.execute("SELECT coalesce(max(id), 0) + 1 AS n FROM phase_runs").fetchone()["n"]
        )
        self._c.execute(
            "INSERT INTO phase_runs (id, task_id, phase, attempt, state, pid, host, started_at) "
            "VALUES (?, ?, ?, ?, 'running', ?, ?, ?)",
            (rid, task_id, phase, attempt, pid, host, ts),
        )
        return PhaseRunRow(
            rid,
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

    def crash_running(self, task_id: str, phase: str, ts: str) -> list[PhaseRunRow]:
        running = [
            _phase_row(r)
            for r in self._c.execute(
                f"SELECT {_PHASE_COLS} FROM phase_runs WHERE task_id = ? AND phase = ? AND "
                "state = 'running' ORDER BY id",
                (task_id, phase),
            ).fetchall()
        ]
        if running:
            self._c.execute(
                "UPDATE phase_runs SET state = 'crashed', finished_at = ? WHERE task_id = ? AND "
                "phase = ? AND state = 'running'",
                (ts, task_id, phase),
            )
        return running

    def attempts(self, task_id: str, phase: str) -> int:
        r = self._c.execute(
            "SELECT count(*) AS n FROM phase_runs WHERE task_id = ? AND phase = ? AND "
            "state != 'reset'",
            (task_id, phase),
        ).fetchone()
        return int(r["n"])

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
        cur = self._c.execute(
            "UPDATE phase_runs SET state = ?, finished_at = ?, error = ?, result_type = ?, "
            "result_kind = ?, result_version = ?, result_json = ? WHERE id = ?",
            (state, ts, error, result_type, result_kind, result_version, result_json, run_id),
        )
        if not cur.rowcount:
            raise MissingRow(f"no phase run {run_id}")

    def reset_phase_runs(self, task_id: str, phase: str) -> None:
        self._c.execute(
            "UPDATE phase_runs SET state = 'reset' WHERE task_id = ? AND phase = ? AND "
            "state != 'reset'",
            (task_id, phase),
        )

    def phase_runs(self, task_id: str, phase: str | None = None) -> list[PhaseRunRow]:
        sql, params = f"SELECT {_PHASE_COLS} FROM phase_runs WHERE task_id = ?", [task_id]
        if phase is not None:
            sql += " AND phase = ?"
            params.append(phase)
        return [_phase_row(r) for r in self._c.execute(sql + " ORDER BY id", params).fetchall()]

    # -- worker runs -----------------------------------------------------------------------------
    def _one(self, where: str, params: Sequence[Any]) -> WorkerRunRow | None:
        r = self._c.execute(f"SELECT {_COLS} FROM workers WHERE {where}", params).fetchone()
        return _row(r) if r else None

    def worker(self, task_id: str, name: str) -> WorkerRunRow | None:
        return self._one("task_id = ? AND name = ?", (task_id, name))

    def by_run(self, run_id: str) -> WorkerRunRow | None:
        return self._one("run_id = ?", (run_id,))

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
        attempt = (prev.attempt if prev else 0) + 1
        self._c.execute(
            "INSERT INTO workers (task_id, name, kind, spec, spec_hash, state, run_id, attempt, "
            "owner_pid, owner_start, pid, pid_start, started_at, finished_at, duration_s, "
            "exit_code, summary, log_path, log_tail, outputs) VALUES (?, ?, ?, ?, ?, 'running', ?, "
            "?, ?, ?, NULL, NULL, ?, NULL, NULL, NULL, NULL, ?, NULL, ?) "
            "ON CONFLICT (task_id, name) DO UPDATE SET kind = excluded.kind, spec = excluded.spec, "
            "spec_hash = excluded.spec_hash, state = 'running', run_id = excluded.run_id, "
            "attempt = excluded.attempt, owner_pid = excluded.owner_pid, "
            "owner_start = excluded.owner_start, pid = NULL, pid_start = NULL, "
            "started_at = excluded.started_at, finished_at = NULL, duration_s = NULL, "
            "exit_code = NULL, summary = NULL, log_path = excluded.log_path, log_tail = NULL, "
            "outputs = excluded.outputs",
            (
                task_id,
                name,
                kind,
                spec,
                spec_hash,
                run_id,
                attempt,
                owner_pid,
                owner_start,
                ts,
                log_path,
                json.dumps(list(outputs)),
            ),
        )
        got = self.by_run(run_id)
        assert got is not None
        return got

    def set_pid(self, run_id: str, pid: int, pid_start: str | None) -> None:
        self._c.execute(
            "UPDATE workers SET pid = ?, pid_start = ? WHERE run_id = ?", (pid, pid_start, run_id)
        )

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
        cur = self._c.execute(
            "UPDATE workers SET state = ?, finished_at = ?, duration_s = ?, exit_code = ?, "
            "summary = ?, log_tail = ? WHERE run_id = ? AND state = 'running'",
            (state, ts, duration_s, exit_code, summary, log_tail, run_id),
        )
        return self.by_run(run_id) if cur.rowcount else None

    def of_task(self, task_id: str) -> list[WorkerRunRow]:
        rows = self._c.execute(
            f"SELECT {_COLS} FROM workers WHERE task_id = ? ORDER BY started_at, name", (task_id,)
        ).fetchall()
        return [_row(r) for r in rows]

    def case_twin(self, task_id: str, name: str) -> str | None:
        r = self._c.execute(
            "SELECT name FROM workers WHERE task_id = ? AND lower(name) = lower(?) AND name != ? "
            "LIMIT 1",
            (task_id, name, name),
        ).fetchone()
        return str(r["name"]) if r else None

    def for_status(self, limit: int) -> list[WorkerRunRow]:
        rows = self._c.execute(
            f"SELECT {_COLS} FROM workers ORDER BY CASE WHEN state = 'running' THEN 0 ELSE 1 END, "
            "coalesce(finished_at, started_at) DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [_row(r) for r in rows]
