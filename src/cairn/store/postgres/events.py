"""The event journal on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from cairn.store.contract.events import EventRow
from cairn.store.postgres.conn import Conn
from cairn.store.postgres.locks import journal


def _where(task_id: str | None, types: Sequence[str], after: int) -> tuple[str, list[Any]]:
    sql = "id > %s"
    params: list[Any] = [after]
    if task_id is not None:
        sql += " AND task_id = %s"
        params.append(task_id)
    if types:
        sql += f" AND type IN ({','.join(['%s'] * len(types))})"
        params.extend(types)
    return sql, params


class PgEvents:
    __slots__ = ("_c",)

    def __init__(self, conn: Conn) -> None:
        self._c = conn

    def append(self, task_id: str | None, type: str, ts: str, data: Mapping[str, Any]) -> int:
        # One round trip: the id is max + 1 under the store's write lock (or the journal's).
        journal(self._c)
        r = self._c.execute(
            "INSERT INTO events (id, ts, task_id, type, data) SELECT coalesce(max(id), 0) + 1, "
            "%s, %s, %s, %s FROM events RETURNING id",
            (ts, task_id, type, json.dumps(dict(data), ensure_ascii=False, default=str)),
        ).fetchone()
        return int(r["id"])

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
            "ORDER BY id DESC LIMIT %s",
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
