"""Projection bookkeeping on PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cairn.store.contract import MissingRow
from cairn.store.contract.projections import ProjectionRow, ProjectionStat
from cairn.store.postgres import locks
from cairn.store.postgres.conn import Conn

_COLS = "path, task_id, kind, hash, prev_hash, mtime_ns, size"


def _row(r: dict[str, Any]) -> ProjectionRow:
    return ProjectionRow(
        r["path"], r["task_id"], r["kind"], r["hash"], r["prev_hash"], r["mtime_ns"], r["size"]
    )


class PgProjections:
    __slots__ = ("_c",)

    def __init__(self, conn: Conn) -> None:
        self._c = conn

    def get(self, path: str) -> ProjectionRow | None:
        r = self._c.execute(f"SELECT {_COLS} FROM projections WHERE path = %s", (path,)).fetchone()
        return _row(r) if r else None

    def owner(self, path: str) -> ProjectionRow | None:
        locks.path(self._c, path.casefold())
        r = self._c.execute(
            f"SELECT {_COLS} FROM projections WHERE path_key = %s", (path.casefold(),)
        ).fetchone()
        return _row(r) if r else None

    def record(self, path: str, task_id: str, kind: str, hash: str) -> None:
        locks.own(self._c, task_id)
        locks.path(self._c, path.casefold())
        self._c.later(
            "INSERT INTO projections (path, path_key, task_id, kind, hash, prev_hash) "
            "VALUES (%s, %s, %s, %s, %s, NULL) ON CONFLICT (path) DO UPDATE SET "
            "prev_hash = CASE WHEN projections.mtime_ns IS NULL THEN projections.prev_hash "
            "ELSE projections.hash END, hash = excluded.hash, mtime_ns = NULL, size = NULL",
            (path, path.casefold(), task_id, kind, hash),
        )

    def claim(self, path: str, task_id: str, kind: str, hash: str) -> ProjectionRow | None:
        locks.own(self._c, task_id)
        locks.path(self._c, path.casefold())
        # path_key is the arbiter (the same path has the same key); the row is only updated when
        # it is this (task, kind)'s at this very path, else nothing changes (rowcount 0).
        cur = self._c.execute(
            "INSERT INTO projections (path, path_key, task_id, kind, hash, prev_hash) "
            "VALUES (%s, %s, %s, %s, %s, NULL) ON CONFLICT (path_key) DO UPDATE SET "
            "prev_hash = CASE WHEN projections.mtime_ns IS NULL THEN projections.prev_hash "
            "ELSE projections.hash END, hash = excluded.hash, mtime_ns = NULL, size = NULL "
            "WHERE projections.path = excluded.path AND projections.task_id = excluded.task_id "
            "AND projections.kind = excluded.kind",
            (path, path.casefold(), task_id, kind, hash),
        )
        if cur.rowcount == 1:
            return None
        return self.owner(path)

    def set_stat(self, path: str, mtime_ns: int, size: int, *, hash: str | None = None) -> None:
        locks.path(self._c, path.casefold())
        if hash is None:
            self._c.later(
                "UPDATE projections SET mtime_ns = %s, size = %s WHERE path = %s",
                (mtime_ns, size, path),
            )
        else:
            self._c.later(
                "UPDATE projections SET mtime_ns = %s, size = %s WHERE path = %s AND hash = %s",
                (mtime_ns, size, path, hash),
            )

    def stats(self, *, task_id: str | None = None, kind: str | None = None) -> list[ProjectionStat]:
        sql, params = "SELECT path, mtime_ns, size FROM projections", []
        if task_id is not None:
            sql += " WHERE task_id = %s" + (" AND kind = %s" if kind is not None else "")
            params = [task_id] + ([kind] if kind is not None else [])
        rows = self._c.execute(sql, params).fetchall()
        return [ProjectionStat(r["path"], r["mtime_ns"], r["size"]) for r in rows]

    def stats_of_tasks(self, task_ids: Sequence[str]) -> list[ProjectionStat]:
        order = dict.fromkeys(task_ids)
        if not order:
            return []
        # One round trip for every task (before each command: the files of the hot tasks).
        by_task: dict[str, list[ProjectionStat]] = {t: [] for t in order}
        for r in self._c.execute(
            "SELECT task_id, path, mtime_ns, size FROM projections WHERE task_id = ANY(%s)",
            (list(order),),
        ):
            by_task[r["task_id"]].append(ProjectionStat(r["path"], r["mtime_ns"], r["size"]))
        return [st for stats in by_task.values() for st in stats]

    def all(self) -> list[ProjectionRow]:
        return [_row(r) for r in self._c.execute(f"SELECT {_COLS} FROM projections")]

    def move(self, old_path: str, new_path: str) -> None:
        locks.store_wide(self._c, "moving a projection")
        cur = self._c.execute(
            "UPDATE projections SET path = %s, path_key = %s, mtime_ns = NULL, size = NULL "
            "WHERE path = %s",
            (new_path, new_path.casefold(), old_path),
        )
        if cur.rowcount != 1:
            raise MissingRow(f"no projection at {old_path}")

    def forget(self, task_id: str) -> list[str]:
        locks.own(self._c, task_id)
        rows = self._c.execute(
            "DELETE FROM projections WHERE task_id = %s RETURNING path", (task_id,)
        ).fetchall()
        return [r["path"] for r in rows]
