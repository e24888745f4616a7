"""The event journal on SQLite."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence

from cairn.store.contract.events import EventRow

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# One encoder for every event (json.dumps with options builds a new one per call).
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode


def _where(task_id: str | None, types: Sequence[str], after: int) -> tuple[str, list[Any]]:
    sql = "id > ?"
    params: list[Any] = [after]
    if task_id is not None:
        sql += " AND task_id = ?"
        params.append(task_id)
    if types:
        sql += f" AND type IN ({','.join('?' * len(types))})"
        params.extend(types)
    return sql, params


class SQLiteEvents:
    __slots__ = ("_c",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn

    def append(self, task_id: str | None, type: str, ts: str, data: Mapping[str, Any]) -> int:
        # The id is the next after the newest: the rowid gives exactly that here (events are
        # append-only, never deleted: migration 0013), in the insert itself, not a max() first.
        body = _encode(data if isinstance(data, dict) else dict(data))
        cur = self._c.execute(
            "INSERT INTO events (ts, task_id, type, data) VALUES (?, ?, ?, ?)",
            (ts, task_id, type, body),
        )
        return int(cur.lastrowid or 0)

    def append_encoded(self, task_id: str | None, type: str, ts: str, data: str) -> None:
        """``append`` of data already encoded as ``append`` would (the checkpoint write's)."""
        self._c.execute(
            "INSERT INTO events (ts, task_id, type, data) VALUES (?, ?, ?, ?)",
            (ts, task_id, type, data),
        )

    def query(
        self,
        *,
        task_id: str | None = None,
        types: Sequence[str] = (),
        after: int = 0,
        limit: int = 50,
    ) -> list[EventRow]:
        where, params = _where(task_id, types, after)
        rows = self._c.execute(
            f"SELECT id, ts, task_id, type, data FROM events WHERE {where} "
            "ORDER BY id DESC LIMIT ?",
            (*params, limit),
        ).fetchall()
        return [
            EventRow(r["id"], r["ts"], r["task_id"], r["type"], json.loads(r["data"]))
            for r in reversed(rows)
        ]

    def count(
        self, *, task_id: str | None = None, types: Sequence[str] = (), after: int = 0
    ) -> int:
        where, params = _where(task_id, types, after)
        r = self._c.execute(f"SELECT count(*) AS n FROM events WHERE {where}", params)
        return int(r.fetchone()["n"])

    def last_id(self) -> int:
        r = self._c.execute("SELECT coalesce(max(id), 0) AS n FROM events").fetchone()
        return int(r["n"])
