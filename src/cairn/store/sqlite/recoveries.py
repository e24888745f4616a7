"""Recoveries, in SQL shared by the SQLite and PostgreSQL stores."""

from __future__ import annotations

import json
from collections.abc import Sequence

from cairn.store.contract.recoveries import RecoveryRow
from cairn.store.sql import Conn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


_COLS = "id, ts, trigger, task_id, phase, checkpoint, reloaded, safe_point, note, last_event"


def _row(r: dict[str, Any]) -> RecoveryRow:
    return RecoveryRow(
        r["id"],
        r["ts"],
        r["trigger"],
        r["task_id"],
        r["phase"],
        r["checkpoint"],
        tuple(json.loads(r["reloaded"])),
        None if r["safe_point"] is None else bool(r["safe_point"]),
        r["note"],
        r["last_event"],
    )


class SQLiteRecoveries:
    __slots__ = ("_c",)

    def __init__(self, conn: Conn) -> None:
        self._c = conn

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
        rid = int(
            self._c.execute("SELECT coalesce(max(id), 0) + 1 AS n FROM recoveries").fetchone()["n"]
        )
        self._c.execute(
            f"INSERT INTO recoveries ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rid,
                ts,
                trigger,
                task_id,
                phase,
                checkpoint,
                json.dumps(list(reloaded)),
                None if safe_point is None else int(safe_point),
                note,
                last_event,
            ),
        )
        return RecoveryRow(
            rid,
            ts,
            trigger,
            task_id,
            phase,
            checkpoint,
            tuple(reloaded),
            safe_point,
            note,
            last_event,
        )

    def recent(self, limit: int) -> list[RecoveryRow]:
        rows = self._c.execute(
            f"SELECT {_COLS} FROM recoveries ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [_row(r) for r in reversed(rows)]

    def newest(self) -> RecoveryRow | None:
        r = self._c.execute(f"SELECT {_COLS} FROM recoveries ORDER BY id DESC LIMIT 1").fetchone()
        return _row(r) if r else None

    def count(self, *, before_id: int | None = None) -> int:
        if before_id is None:
            r = self._c.execute("SELECT count(*) AS n FROM recoveries")
        else:
            r = self._c.execute("SELECT count(*) AS n FROM recoveries WHERE id < ?", (before_id,))
        return int(r.fetchone()["n"])

    def count_at(self, ts: str, *, after_id: int) -> int:
        r = self._c.execute(
            "SELECT count(*) AS n FROM recoveries WHERE id > ? AND ts = ?", (after_id, ts)
        )
        return int(r.fetchone()["n"])
