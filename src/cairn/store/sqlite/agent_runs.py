"""Agent runs (SQL shared by the SQLite and PostgreSQL stores), part of the runs area: agent_runs, agent_compactions (append-only),
subagent_runs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cairn.store.contract import DuplicateKey
from cairn.store.contract.agent_runs import AgentCompactionRow, AgentRunRow, SubagentRunRow
from cairn.store.sql import Conn

_RUN = "id, task_id, model, started_at, finished_at, state, pid, usage, error"
_COMPACTION = (
    "id, ts, run_id, task_id, phase, safe_point, tokens_before, tokens_after, "
    'tokens_since_checkpoint, "window", reason'
)
_SUB = (
    "id, run_id, task_id, name, spec, model, state, budget_tokens, used_tokens, partial, summary, "
    "summary_tokens, transcript, started_at, finished_at, error"
)


def _json(text: str | None) -> dict[str, Any]:
    value = json.loads(text or "{}")
    return value if isinstance(value, dict) else {}


def _run(r: dict[str, Any]) -> AgentRunRow:
    return AgentRunRow(
        r["id"],
        r["task_id"],
        r["model"],
        r["started_at"],
        r["finished_at"],
        r["state"],
        r["pid"],
        _json(r["usage"]),
        r["error"],
    )


def _compaction(r: dict[str, Any]) -> AgentCompactionRow:
    return AgentCompactionRow(
        r["id"],
        r["ts"],
        r["run_id"],
        r["task_id"],
        r["phase"],
        bool(r["safe_point"]),
        r["tokens_before"],
        r["tokens_after"],
        r["tokens_since_checkpoint"],
        r["window"],
        r["reason"],
    )


def _sub(r: dict[str, Any]) -> SubagentRunRow:
    return SubagentRunRow(
        r["id"],
        r["run_id"],
        r["task_id"],
        r["name"],
        _json(r["spec"]),
        r["model"],
        r["state"],
        r["budget_tokens"],
        r["used_tokens"],
        bool(r["partial"]),
        r["summary"],
        r["summary_tokens"],
        r["transcript"],
        r["started_at"],
        r["finished_at"],
        r["error"],
    )


def _of_task(task_id: str | None) -> tuple[str, list[Any]]:
    return ("WHERE task_id = ?", [task_id]) if task_id is not None else ("", [])


class SQLiteAgentRuns:
    """The agent runtime's part of the runs area (:class:`cairn.store.sqlite.runs.SQLiteRuns`)."""

    __slots__ = ()
    _c: Conn

    # -- runs ------------------------------------------------------------------------------------
    def start_agent_run(
        self, run_id: str, task_id: str, model: str, started_at: str, pid: int
    ) -> None:
        if self.agent_run(run_id) is not None:
            raise DuplicateKey(f"agent run {run_id!r} exists")
        self._c.execute(
            "INSERT INTO agent_runs (id, task_id, model, started_at, state, pid) "
            "VALUES (?, ?, ?, ?, 'running', ?)",
            (run_id, task_id, model, started_at, pid),
        )

    def agent_run(self, run_id: str) -> AgentRunRow | None:
        r = self._c.execute(f"SELECT {_RUN} FROM agent_runs WHERE id = ?", (run_id,)).fetchone()
        return _run(r) if r else None

    def running_agent_runs(self, task_id: str) -> list[AgentRunRow]:
        rows = self._c.execute(
            f"SELECT {_RUN} FROM agent_runs WHERE task_id = ? AND state = 'running' "
            "ORDER BY started_at, id",
            (task_id,),
        ).fetchall()
        return [_run(r) for r in rows]

    def crash_agent_run(self, run_id: str, *, ts: str, error: str, subagent_error: str) -> None:
        self._c.execute(
            "UPDATE agent_runs SET state = 'crashed', finished_at = ?, error = ? WHERE id = ?",
            (ts, error, run_id),
        )
        self._c.execute(
            "UPDATE subagent_runs SET state = 'crashed', partial = 1, finished_at = ?, error = ? "
            "WHERE run_id = ? AND state = 'running'",
            (ts, subagent_error, run_id),
        )

    def finish_agent_run(
        self, run_id: str, *, state: str, ts: str, usage: Mapping[str, Any], error: str | None
    ) -> None:
        self._c.execute(
            "UPDATE agent_runs SET state = ?, finished_at = ?, usage = ?, error = ? WHERE id = ?",
            (state, ts, json.dumps(dict(usage)), error, run_id),
        )

    def agent_runs(self, *, task_id: str | None = None, limit: int = 10) -> list[AgentRunRow]:
        where, params = _of_task(task_id)
        rows = self._c.execute(
            f"SELECT {_RUN} FROM agent_runs {where} ORDER BY started_at DESC, id DESC LIMIT ?",
            [*params, limit],
        ).fetchall()
        return [_run(r) for r in rows]

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
        cid = int(
            self._c.execute(
                "SELECT coalesce(max(id), 0) + 1 AS n FROM agent_compactions"
            ).fetchone()["n"]
        )
        self._c.execute(
            f"INSERT INTO agent_compactions ({_COMPACTION}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                cid,
                ts,
                run_id,
                task_id,
                phase,
                int(safe_point),
                tokens_before,
                tokens_after,
                tokens_since_checkpoint,
                window,
                reason,
            ),
        )
        return cid

    def agent_compactions(
        self, *, task_id: str | None = None, limit: int = 10
    ) -> list[AgentCompactionRow]:
        where, params = _of_task(task_id)
        rows = self._c.execute(
            f"SELECT {_COMPACTION} FROM agent_compactions {where} ORDER BY id DESC LIMIT ?",
            [*params, limit],
        ).fetchall()
        return [_compaction(r) for r in rows]

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
    ) -> None:
        if self._c.execute("SELECT 1 FROM subagent_runs WHERE id = ?", (sub_id,)).fetchone():
            raise DuplicateKey(f"subagent run {sub_id!r} exists")
        self._c.execute(
            "INSERT INTO subagent_runs (id, run_id, task_id, name, spec, model, state, "
            "budget_tokens, transcript, started_at) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)",
            (
                sub_id,
                run_id,
                task_id,
                name,
                json.dumps(dict(spec)),
                model,
                budget_tokens,
                transcript,
                started_at,
            ),
        )

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
        self._c.execute(
            "UPDATE subagent_runs SET state = ?, used_tokens = ?, partial = ?, summary = ?, "
            "summary_tokens = ?, finished_at = ?, error = ? WHERE id = ?",
            (
                state,
                used_tokens,
                int(state != "done"),
                summary,
                summary_tokens,
                finished_at,
                error,
                sub_id,
            ),
        )

    def subagents(self, *, task_id: str | None = None, limit: int = 10) -> list[SubagentRunRow]:
        where, params = _of_task(task_id)
        rows = self._c.execute(
            f"SELECT {_SUB} FROM subagent_runs {where} ORDER BY started_at DESC, id DESC LIMIT ?",
            [*params, limit],
        ).fetchall()
        return [_sub(r) for r in rows]
