"""Compactions, in SQL shared by the SQLite and PostgreSQL stores."""

from __future__ import annotations

from typing import Any

from cairn.store.contract.compactions import CompactionRow
from cairn.store.sql import Conn

_COLS = (
    "id, ts, agent, session_id, transcript_path, trigger, custom_instructions, task_id, phase, "
    "safe_point, reason, last_checkpoint_at, seconds_since_checkpoint, "
    "tool_calls_since_checkpoint, tool_calls_exact, summary, summary_at, recovered_at, "
    "recovery_trigger"
)


def _flag(v: Any) -> bool | None:
    return None if v is None else bool(v)


def _row(r: Any) -> CompactionRow:
    return CompactionRow(
        r["id"],
        r["ts"],
        r["agent"],
        r["session_id"],
        r["transcript_path"],
        r["trigger"],
        r["custom_instructions"],
        r["task_id"],
        r["phase"],
        _flag(r["safe_point"]),
        r["reason"],
        r["last_checkpoint_at"],
        r["seconds_since_checkpoint"],
        r["tool_calls_since_checkpoint"],
        _flag(r["tool_calls_exact"]),
        r["summary"],
        r["summary_at"],
        r["recovered_at"],
        r["recovery_trigger"],
    )


class SQLiteCompactions:
    __slots__ = ("_c",)

    def __init__(self, conn: Conn) -> None:
        self._c = conn

    def _one(self, where: str, params: tuple[Any, ...] = ()) -> CompactionRow | None:
        r = self._c.execute(
            f"SELECT {_COLS} FROM compactions WHERE {where} ORDER BY id DESC LIMIT 1", params
        ).fetchone()
        return _row(r) if r else None

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
        cid = int(
            self._c.execute("SELECT coalesce(max(id), 0) + 1 AS n FROM compactions").fetchone()["n"]
        )
        self._c.execute(
            f"INSERT INTO compactions ({_COLS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
            (
                cid,
                ts,
                agent,
                session_id,
                transcript_path,
                trigger,
                custom_instructions,
                task_id,
                phase,
                int(safe_point),
                reason,
                last_checkpoint_at,
                seconds_since_checkpoint,
                tool_calls_since_checkpoint,
                None if tool_calls_exact is None else int(tool_calls_exact),
                summary,
                ts if summary is not None else None,
            ),
        )
        got = self.get(cid)
        assert got is not None
        return got

    def get(self, compaction_id: int) -> CompactionRow | None:
        return self._one("id = ?", (compaction_id,))

    def newest_open(self, session_id: str) -> CompactionRow | None:
        return self._one(
            "session_id = ? AND summary_at IS NULL AND recovered_at IS NULL", (session_id,)
        )

    def awaiting_summary(self, session_id: str | None) -> CompactionRow | None:
        if session_id is None:
            return self._one("session_id IS NULL AND summary_at IS NULL")
        return self._one("session_id = ? AND summary_at IS NULL", (session_id,))

    def set_summary(self, compaction_id: int, summary: str | None, ts: str) -> None:
        self._c.execute(
            "UPDATE compactions SET summary = ?, summary_at = ? WHERE id = ?",
            (summary, ts, compaction_id),
        )

    def newest_unrecovered(self, session_id: str | None = None) -> CompactionRow | None:
        if session_id is None:
            return self._one("recovered_at IS NULL")
        return self._one("session_id = ? AND recovered_at IS NULL", (session_id,))

    def set_recovered(self, compaction_id: int, ts: str | None, trigger: str | None) -> None:
        self._c.execute(
            "UPDATE compactions SET recovered_at = ?, recovery_trigger = ? WHERE id = ?",
            (ts, trigger, compaction_id),
        )

    def recent(self, limit: int) -> list[CompactionRow]:
        rows = self._c.execute(
            f"SELECT {_COLS} FROM compactions ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [_row(r) for r in reversed(rows)]

    def count(self, *, suboptimal: bool = False) -> int:
        where = " WHERE safe_point = 0" if suboptimal else ""
        return int(self._c.execute(f"SELECT count(*) AS n FROM compactions{where}").fetchone()["n"])
