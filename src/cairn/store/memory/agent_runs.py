"""Agent runs in memory, part of the runs area: kept in ``MemoryState.extra`` under this area's own keys.

Each write replaces the container it changes (never mutates one in place), as the memory state's
snapshot rule asks: the committed state may share it with a reader.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from cairn.store.contract import DuplicateKey
from cairn.store.contract.agent_runs import AgentCompactionRow, AgentRunRow, SubagentRunRow
from cairn.store.memory.state import MemoryState

_RUNS, _COMPACTIONS, _SUBS = "agent_runs", "agent_compactions", "subagent_runs"


def _plain(data: Mapping[str, Any]) -> dict[str, Any]:
    # Through JSON, as a SQL backend stores it: the reader gets the same values back.
    value: dict[str, Any] = json.loads(json.dumps(dict(data)))
    return value


class MemoryAgentRuns:
    """The agent runtime's part of the runs area (:class:`cairn.store.memory.runs.MemoryRuns`)."""

    _s: MemoryState

    def _runs(self) -> dict[str, AgentRunRow]:
        runs: dict[str, AgentRunRow] = self._s.extra.get(_RUNS, {})
        return runs

    def _subs(self) -> dict[str, SubagentRunRow]:
        subs: dict[str, SubagentRunRow] = self._s.extra.get(_SUBS, {})
        return subs

    def _compactions(self) -> list[AgentCompactionRow]:
        rows: list[AgentCompactionRow] = self._s.extra.get(_COMPACTIONS, [])
        return rows

    def _put_run(self, row: AgentRunRow) -> None:
        self._s.extra[_RUNS] = {**self._runs(), row.id: row}

    def _put_sub(self, row: SubagentRunRow) -> None:
        self._s.extra[_SUBS] = {**self._subs(), row.id: row}

    # -- runs ------------------------------------------------------------------------------------
    def start_agent_run(
        self, run_id: str, task_id: str, model: str, started_at: str, pid: int
    ) -> None:
        if run_id in self._runs():
            raise DuplicateKey(f"agent run {run_id!r} exists")
        self._put_run(
            AgentRunRow(run_id, task_id, model, started_at, None, "running", pid, {}, None)
        )

    def agent_run(self, run_id: str) -> AgentRunRow | None:
        return self._runs().get(run_id)

    def running_agent_runs(self, task_id: str) -> list[AgentRunRow]:
        rows = [r for r in self._runs().values() if r.task_id == task_id and r.state == "running"]
        return sorted(rows, key=lambda r: (r.started_at, r.id))

    def crash_agent_run(self, run_id: str, *, ts: str, error: str, subagent_error: str) -> None:
        run = self._runs().get(run_id)
        if run is not None:
            self._put_run(replace(run, state="crashed", finished_at=ts, error=error))
        for sub in self._subs().values():
            if sub.run_id == run_id and sub.state == "running":
                self._put_sub(
                    replace(
                        sub, state="crashed", partial=True, finished_at=ts, error=subagent_error
                    )
                )

    def finish_agent_run(
        self, run_id: str, *, state: str, ts: str, usage: Mapping[str, Any], error: str | None
    ) -> None:
        run = self._runs().get(run_id)
        if run is not None:
            self._put_run(
                replace(run, state=state, finished_at=ts, usage=_plain(usage), error=error)
            )

    def agent_runs(self, *, task_id: str | None = None, limit: int = 10) -> list[AgentRunRow]:
        rows = [r for r in self._runs().values() if task_id is None or r.task_id == task_id]
        rows.sort(key=lambda r: (r.started_at, r.id), reverse=True)
        return rows[: max(0, limit)]

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
        rows = self._compactions()
        cid = rows[-1].id + 1 if rows else 1
        row = AgentCompactionRow(
            cid,
            ts,
            run_id,
            task_id,
            phase,
            bool(safe_point),
            tokens_before,
            tokens_after,
            tokens_since_checkpoint,
            window,
            reason,
        )
        self._s.extra[_COMPACTIONS] = [*rows, row]
        return cid

    def agent_compactions(
        self, *, task_id: str | None = None, limit: int = 10
    ) -> list[AgentCompactionRow]:
        rows = [c for c in self._compactions() if task_id is None or c.task_id == task_id]
        return rows[::-1][: max(0, limit)]

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
        if sub_id in self._subs():
            raise DuplicateKey(f"subagent run {sub_id!r} exists")
        self._put_sub(
            SubagentRunRow(
                sub_id,
                run_id,
                task_id,
                name,
                _plain(spec),
                model,
                "running",
                budget_tokens,
                0,
                False,
                None,
                0,
                transcript,
                started_at,
                None,
                None,
            )
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
        sub = self._subs().get(sub_id)
        if sub is not None:
            self._put_sub(
                replace(
                    sub,
                    state=state,
                    used_tokens=used_tokens,
                    partial=state != "done",
                    summary=summary,
                    summary_tokens=summary_tokens,
                    finished_at=finished_at,
                    error=error,
                )
            )

    def subagents(self, *, task_id: str | None = None, limit: int = 10) -> list[SubagentRunRow]:
        rows = [s for s in self._subs().values() if task_id is None or s.task_id == task_id]
        rows.sort(key=lambda s: (s.started_at, s.id), reverse=True)
        return rows[: max(0, limit)]
