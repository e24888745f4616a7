"""Projection bookkeeping on SQLite."""

from __future__ import annotations

import sqlite3

from cairn.store.contract import MissingRow
from cairn.store.contract.projections import ProjectionRow, ProjectionStat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


_COLS = "path, task_id, kind, hash, prev_hash, mtime_ns, size"


def _row(r: dict[str, Any]) -> ProjectionRow:
    return ProjectionRow(
        r["path"], r["task_id"], r["kind"], r["hash"], r["prev_hash"], r["mtime_ns"], r["size"]
    )


class SQLiteProjections:
    __slots__ = ("_c",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn

    def get(self, path: str) -> ProjectionRow | None:
        r = self._c.execute(f"SELECT {_COLS} FROM projections WHERE path = ?", (path,)).fetchone()
        return _row(r) if r else None

    def owner(self, path: str) -> ProjectionRow | None:
        r = self._c.execute(
            f"SELECT {_COLS} FROM projections WHERE path_key = ?", (path.casefold(),)
        ).fetchone()
        return _row(r) if r else None

    def record(self, path: str, task_id: str, kind: str, hash: str) -> None:
        self._c.execute(
            "INSERT INTO projections (path, path_key, task_id, kind, hash, prev_hash) "
            "VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (path) DO UPDATE SET "
            "prev_hash = CASE WHEN projections.mtime_ns IS NULL THEN projections.prev_hash "
            "ELSE projections.hash END, hash = excluded.hash, mtime_ns = NULL, size = NULL",
            (path, path.casefold(), task_id, kind, hash),
        )

    def claim(self, path: str, task_id: str, kind: str, hash: str) -> ProjectionRow | None:
        # The row is only updated when it is this (task, kind)'s; a path taken by another, or
        # one differing only in case, is left as it is (rowcount 0), and its owner is returned.
        cur = self._c.execute(
            "INSERT INTO projections (path, path_key, task_id, kind, hash, prev_hash) "
            "VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (path) DO UPDATE SET "
            "prev_hash = CASE WHEN projections.mtime_ns IS NULL THEN projections.prev_hash "
            "ELSE projections.hash END, hash = excluded.hash, mtime_ns = NULL, size = NULL "
            "WHERE projections.task_id = excluded.task_id AND projections.kind = excluded.kind "
            "ON CONFLICT DO NOTHING",
            (path, path.casefold(), task_id, kind, hash),
        )
        if cur.rowcount == 1:
            return None
        return self.owner(path)

    def set_stat(self, path: str, mtime_ns: int, size: int, *, hash: str | None = None) -> None:
        if hash is None:
            self._c.execute(
                "UPDATE projections SET mtime_ns = ?, size = ? WHERE path = ?",
                (mtime_ns, size, path),
            )
        else:
            self._c.execute(
                "UPDATE projections SET mtime_ns = ?, size = ? WHERE path = ? AND hash = ?",
                (mtime_ns, size, path, hash),
            )

    def stats(self, *, task_id: str | None = None, kind: str | None = None) -> list[ProjectionStat]:
        sql, params = "SELECT path, mtime_ns, size FROM projections", []
        if task_id is not None:
            sql += " WHERE task_id = ?" + (" AND kind = ?" if kind is not None else "")
            params = [task_id] + ([kind] if kind is not None else [])
        cur = self._c.execute(sql, params)
        cur.row_factory = None  # tuples: this reads every artifact's row before each command
        return [ProjectionStat(p, m, s) for p, m, s in cur]

    def stats_of_tasks(self, task_ids: Sequence[str]) -> list[ProjectionStat]:
        # One index search each: a query costs no round trip here.
        return [st for t in dict.fromkeys(task_ids) for st in self.stats(task_id=t)]

    def all(self) -> list[ProjectionRow]:
        return [_row(r) for r in self._c.execute(f"SELECT {_COLS} FROM projections")]

    def move(self, old_path: str, new_path: str) -> None:
        cur = self._c.execute(
            "UPDATE projections SET path = ?, path_key = ?, mtime_ns = NULL, size = NULL "
            "WHERE path = ?",
            (new_path, new_path.casefold(), old_path),
        )
        if cur.rowcount != 1:
            raise MissingRow(f"no projection at {old_path}")

    def forget(self, task_id: str) -> list[str]:
        paths = [
            r["path"]
            for r in self._c.execute("SELECT path FROM projections WHERE task_id = ?", (task_id,))
        ]
        self._c.execute("DELETE FROM projections WHERE task_id = ?", (task_id,))
        return paths
