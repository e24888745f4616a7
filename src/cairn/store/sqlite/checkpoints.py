"""Checkpoint versions on SQLite."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from cairn.store.contract.checkpoints import CheckpointRow, CheckpointWrite

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


_META = "task_id, kind, version, hash, size, phase, source, files, created_at, seq"
_C_META = ", ".join(f"c.{c.strip()}" for c in _META.split(","))


# The write path's insert, one statement: the newest version looked at (is it this content
# already?), the version and the task's sequence number worked out (max + 1, indexed), the active
# phase filled in, all under the write lock, rather than read one by one before the insert.
_ADD_IF_CHANGED = (
    "WITH newest AS (SELECT version, hash, files FROM checkpoints WHERE task_id = ?1 AND kind = ?2 "
    "ORDER BY version DESC LIMIT 1) "
    "INSERT INTO checkpoints (task_id, kind, version, hash, size, content, phase, source, files, "
    "created_at, seq) SELECT ?1, ?2, coalesce((SELECT version FROM newest), 0) + 1, ?3, ?4, ?5, "
    "coalesce(?6, (SELECT name FROM phases WHERE task_id = ?1 AND state = 'active' "
    "ORDER BY position LIMIT 1)), ?7, ?8, ?9, "
    "(SELECT coalesce(max(seq), 0) + 1 FROM checkpoints WHERE task_id = ?1) "
    "WHERE NOT EXISTS (SELECT 1 FROM newest WHERE hash = ?3 AND files = ?8) "
    "RETURNING version, seq, phase"
)


def _row(r: dict[str, Any]) -> CheckpointRow:
    return CheckpointRow(
        r["task_id"],
        r["kind"],
        r["version"],
        r["hash"],
        r["size"],
        r["phase"],
        r["source"],
        tuple(json.loads(r["files"])),
        r["created_at"],
        r["seq"],
        r.get("content"),
    )


def _cols(content: bool) -> str:
    return _META + (", content" if content else "")


class SQLiteCheckpoints:
    __slots__ = ("_c",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn

    def add(
        self,
        task_id: str,
        kind: str,
        content: str,
        *,
        hash: str,
        size: int,
        phase: str | None,
        source: str,
        files: Sequence[str],
        ts: str,
    ) -> CheckpointRow:
        files = tuple(files)
        # One statement: the version and the task's sequence number are max + 1 (indexed), worked
        # out inside the insert under the write lock, rather than read first.
        r = self._c.execute(
            "INSERT INTO checkpoints (task_id, kind, version, hash, size, content, phase, source, "
            "files, created_at, seq) SELECT ?1, ?2, "
            "(SELECT coalesce(max(version), 0) + 1 FROM checkpoints WHERE task_id = ?1 AND kind = ?2), "
            "?3, ?4, ?5, ?6, ?7, ?8, ?9, "
            "(SELECT coalesce(max(seq), 0) + 1 FROM checkpoints WHERE task_id = ?1) "
            "RETURNING version, seq",
            (task_id, kind, hash, size, content, phase, source, json.dumps(files), ts),
        ).fetchall()[0]  # to the end: the statement is done before anything else runs
        version, seq = int(r["version"]), int(r["seq"])
        return CheckpointRow(
            task_id, kind, version, hash, size, phase, source, files, ts, seq, content
        )

    def add_if_changed(
        self,
        task_id: str,
        kind: str,
        content: str,
        *,
        hash: str,
        size: int,
        phase: str | None,
        source: str,
        files: Sequence[str],
        ts: str,
    ) -> CheckpointRow | None:
        files = tuple(files)
        cur = self._c.execute(_ADD_IF_CHANGED, (task_id, kind, hash, size, content, phase, source,
            json.dumps(files) if files else "[]", ts),
        )  # fmt: skip
        cur.row_factory = None
        rows = cur.fetchall()  # to the end: the statement is done before anything else runs
        if not rows:
            return None
        version, seq, phase = rows[0]
        return CheckpointRow(
            task_id, kind, version, hash, size, phase, source, files, ts, seq, content
        )

    def write(
        self,
        task_id: str,
        kind: str,
        content: str,
        *,
        hash: str,
        size: int,
        phase: str | None,
        source: str,
        files: Sequence[str],
        ts: str,
        path: str,
        last: bool = False,
    ) -> CheckpointWrite:
        from cairn.store.checkpoint_write import write_in_steps
        from cairn.store.sqlite.events import SQLiteEvents
        from cairn.store.sqlite.projections import SQLiteProjections
        from cairn.store.sqlite.tasks import SQLiteTasks

        return write_in_steps(
            self,
            SQLiteProjections(self._c),
            SQLiteTasks(self._c),
            SQLiteEvents(self._c),
            task_id,
            kind,
            content,
            hash=hash,
            size=size,
            phase=phase,
            source=source,
            files=files,
            ts=ts,
            path=path,
        )

    def newest(self, task_id: str, kind: str, *, content: bool = True) -> CheckpointRow | None:
        r = self._c.execute(
            f"SELECT {_cols(content)} FROM checkpoints WHERE task_id = ? AND kind = ? "
            "ORDER BY version DESC LIMIT 1",
            (task_id, kind),
        ).fetchone()
        return _row(r) if r else None

    def get(self, task_id: str, kind: str, version: int) -> CheckpointRow | None:
        r = self._c.execute(
            f"SELECT {_cols(True)} FROM checkpoints WHERE task_id = ? AND kind = ? AND version = ?",
            (task_id, kind, version),
        ).fetchone()
        return _row(r) if r else None

    def version_range(self, task_id: str, kind: str) -> tuple[int, int] | None:
        r = self._c.execute(
            "SELECT min(version) AS lo, max(version) AS hi FROM checkpoints "
            "WHERE task_id = ? AND kind = ?",
            (task_id, kind),
        ).fetchone()
        return None if r is None or r["hi"] is None else (int(r["lo"]), int(r["hi"]))

    def history(self, task_id: str, kind: str) -> list[CheckpointRow]:
        rows = self._c.execute(
            f"SELECT {_META} FROM checkpoints WHERE task_id = ? AND kind = ? ORDER BY version",
            (task_id, kind),
        )
        return [_row(r) for r in rows]

    def kinds(self, task_id: str) -> list[str]:
        rows = self._c.execute(
            "SELECT DISTINCT kind FROM checkpoints WHERE task_id = ? ORDER BY kind", (task_id,)
        )
        return [r["kind"] for r in rows]

    def newest_each_kind(self, task_id: str) -> list[CheckpointRow]:
        rows = self._c.execute(
            f"SELECT {_C_META} FROM checkpoints c JOIN (SELECT kind, max(version) AS v "
            "FROM checkpoints WHERE task_id = ? GROUP BY kind) m ON c.kind = m.kind AND "
            "c.version = m.v WHERE c.task_id = ? ORDER BY c.seq",
            (task_id, task_id),
        )
        return [_row(r) for r in rows]

    def newest_of_task(
        self, task_id: str, *, exclude: Sequence[str] = (), content: bool = True
    ) -> CheckpointRow | None:
        sql = f"SELECT {_cols(content)} FROM checkpoints WHERE task_id = ?"
        params: list[Any] = [task_id]
        if exclude:
            sql += f" AND kind NOT IN ({','.join('?' * len(exclude))})"
            params.extend(exclude)
        r = self._c.execute(sql + " ORDER BY seq DESC LIMIT 1", params).fetchone()
        return _row(r) if r else None

    def by_hash(self, task_id: str, kind: str, hash: str) -> CheckpointRow | None:
        r = self._c.execute(
            f"SELECT {_META} FROM checkpoints WHERE task_id = ? AND kind = ? AND hash = ? "
            "ORDER BY version DESC LIMIT 1",
            (task_id, kind, hash),
        ).fetchone()
        return _row(r) if r else None

    def of_phase_exists(self, task_id: str, phase: str) -> bool:
        r = self._c.execute(
            "SELECT 1 FROM checkpoints WHERE task_id = ? AND (phase = ? OR kind = ?) LIMIT 1",
            (task_id, phase, phase),
        ).fetchone()
        return r is not None

    def count(self) -> int:
        # Kept up to date by a trigger (migration 0007): counting 100,000s of rows after every
        # command cost more than the rest of the status together.
        r = self._c.execute("SELECT value FROM meta WHERE key = 'checkpoint_versions'").fetchone()
        if r is not None:
            return int(r["value"])
        return int(self._c.execute("SELECT count(*) AS n FROM checkpoints").fetchone()["n"])

    def count_by_source(self, source: str) -> int:
        row = self._c.execute(
            "SELECT count(*) AS n FROM checkpoints WHERE source = ?", (source,)
        ).fetchone()
        return int(row["n"])
