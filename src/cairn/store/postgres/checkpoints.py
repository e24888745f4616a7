"""Checkpoint versions on PostgreSQL."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

from cairn.store.contract.checkpoints import CheckpointRow, CheckpointWrite
from cairn.store.contract.projections import ProjectionRow
from cairn.store.postgres import locks
from cairn.store.postgres.conn import Conn

_META = "task_id, kind, version, hash, size, phase, source, files, created_at, seq"
_C_META = ", ".join(f"c.{c.strip()}" for c in _META.split(","))


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


# A task's next sequence number: its newest checkpoint's + 1, ORDER BY + LIMIT so that the plan
# reads one entry of checkpoints_seq (a max() was planned as a scan of the task's every version).
_NEXT_SEQ = (
    "coalesce((SELECT seq FROM checkpoints WHERE task_id = %s ORDER BY seq DESC LIMIT 1), 0) + 1"
)
# The newest seq given, on the task's row, where the one-call write (pg 0009) takes the next from.
_KEEP_SEQ = "UPDATE tasks SET checkpoint_seq = %s WHERE id = %s"


def _cols(content: bool) -> str:
    return _META + (", content" if content else "")


# The whole write, one server-side call (migration 0006). Its event's data is written around the
# version and phase the server gives, as the journal's encoder writes it (events.py).
_WRITE = "SELECT * FROM cairn_write_checkpoint(" + ", ".join(["%s"] * 16) + ")"
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode


@functools.lru_cache(maxsize=256)  # a task's writes repeat their kind, source and path
def _around(kind: str, source: str, path: str) -> tuple[str, str]:
    """The event's data before its version, and after its phase."""
    return (
        f'{{"kind": {_encode(kind)}, "version": ',
        f', "source": {_encode(source)}, "path": {_encode(path)}}}',
    )


class PgCheckpoints:
    __slots__ = ("_c",)

    def __init__(self, conn: Conn) -> None:
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
        locks.own(self._c, task_id)
        files = tuple(files)
        # One round trip: the version and the task's sequence number are max + 1, given under
        # the write's lock (the store's, or the task's).
        r = self._c.execute(
            "INSERT INTO checkpoints (task_id, kind, version, hash, size, content, phase, source, "
            "files, created_at, seq) SELECT %s, %s, "
            "(SELECT coalesce(max(version), 0) + 1 FROM checkpoints WHERE task_id = %s AND kind = %s), "
            "%s, %s, %s, %s, %s, %s, %s, "
            f"{_NEXT_SEQ} RETURNING version, seq",
            (
                task_id,
                kind,
                task_id,
                kind,
                hash,
                size,
                content,
                phase,
                source,
                json.dumps(files),
                ts,
                task_id,
            ),
        ).fetchone()
        version, seq = int(r["version"]), int(r["seq"])
        self._c.later(_KEEP_SEQ, (seq, task_id))
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
        locks.own(self._c, task_id)
        files = tuple(files)
        # One round trip, as in add(): the newest version looked at, version, seq and the
        # active phase worked out in the insert, under the store's write lock.
        r = self._c.execute(
            "WITH newest AS (SELECT version, hash, files FROM checkpoints "
            "WHERE task_id = %(t)s AND kind = %(k)s ORDER BY version DESC LIMIT 1) "
            "INSERT INTO checkpoints (task_id, kind, version, hash, size, content, phase, source, "
            "files, created_at, seq) SELECT %(t)s, %(k)s, "
            "coalesce((SELECT version FROM newest), 0) + 1, %(h)s, %(n)s, %(c)s, "
            "coalesce(%(p)s, (SELECT name FROM phases WHERE task_id = %(t)s AND state = 'active' "
            "ORDER BY position LIMIT 1)), %(s)s, %(f)s, %(ts)s, "
            f"{_NEXT_SEQ.replace('%s', '%(t)s')} WHERE NOT EXISTS (SELECT 1 FROM newest WHERE hash = %(h)s AND files = %(f)s) "
            "RETURNING version, seq, phase",
            {
                "t": task_id,
                "k": kind,
                "h": hash,
                "n": size,
                "c": content,
                "p": phase,
                "s": source,
                "f": json.dumps(files),
                "ts": ts,
            },
        ).fetchone()
        if r is None:
            return None
        self._c.later(_KEEP_SEQ, (int(r["seq"]), task_id))
        return CheckpointRow(
            task_id, kind, int(r["version"]), hash, size, r["phase"], source, files, ts,
            int(r["seq"]), content,
        )  # fmt: skip

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
        locks.own(self._c, task_id)
        files = tuple(files)
        files_json = json.dumps(files)
        scoped = locks.scoped(self._c)
        # A scoped write whose only statement this is needs no BEGIN: the call takes the locks
        # and the server commits it, one round trip (batch.TxConn.whole).
        whole = last and scoped and self._c.alone
        key = path.casefold()
        head, tail = _around(kind, source, path)
        params = (
            task_id, kind, hash, size, content, phase, source, files_json, ts, path, key, head,
            f', "hash": {_encode(hash)}, "size": {_encode(size)}, "phase": ', tail,
            locks.task_lock_key(task_id) if whole else None, scoped,
        )  # fmt: skip
        if whole:
            r = self._c.whole(_WRITE, params).fetchone()
        else:
            r = self._c.execute(_WRITE, params).fetchone()
            if scoped:
                locks.taken(self._c, key, *(("journal",) if r["state"] == "added" else ()))
        state = r["state"]
        if state == "added":
            added = CheckpointRow(
                task_id, kind, int(r["version"]), hash, size, r["phase"], source, files, ts,
                int(r["seq"]), content,
            )  # fmt: skip
            return CheckpointWrite(added)
        owner = None
        if r["o_path"] is not None:
            owner = ProjectionRow(
                r["o_path"], r["o_task"], r["o_kind"], r["o_hash"], r["o_prev"], r["o_mtime"],
                r["o_size"],
            )  # fmt: skip
        if state == "taken":
            return CheckpointWrite(None, None, owner)
        newest = CheckpointRow(
            task_id, kind, int(r["version"]), r["hash"], int(r["size"]), r["phase"], r["source"],
            tuple(json.loads(r["files"])), r["created_at"], int(r["seq"]),
        )  # fmt: skip
        return CheckpointWrite(None, newest, owner)

    def newest(self, task_id: str, kind: str, *, content: bool = True) -> CheckpointRow | None:
        r = self._c.execute(
            f"SELECT {_cols(content)} FROM checkpoints WHERE task_id = %s AND kind = %s "
            "ORDER BY version DESC LIMIT 1",
            (task_id, kind),
        ).fetchone()
        return _row(r) if r else None

    def get(self, task_id: str, kind: str, version: int) -> CheckpointRow | None:
        r = self._c.execute(
            f"SELECT {_cols(True)} FROM checkpoints WHERE task_id = %s AND kind = %s AND version = %s",
            (task_id, kind, version),
        ).fetchone()
        return _row(r) if r else None

    def version_range(self, task_id: str, kind: str) -> tuple[int, int] | None:
        r = self._c.execute(
            "SELECT min(version) AS lo, max(version) AS hi FROM checkpoints "
            "WHERE task_id = %s AND kind = %s",
            (task_id, kind),
        ).fetchone()
        return None if r is None or r["hi"] is None else (int(r["lo"]), int(r["hi"]))

    def history(self, task_id: str, kind: str) -> list[CheckpointRow]:
        rows = self._c.execute(
            f"SELECT {_META} FROM checkpoints WHERE task_id = %s AND kind = %s ORDER BY version",
            (task_id, kind),
        )
        return [_row(r) for r in rows]

    def kinds(self, task_id: str) -> list[str]:
        rows = self._c.execute(
            "SELECT DISTINCT kind FROM checkpoints WHERE task_id = %s ORDER BY kind", (task_id,)
        )
        return [r["kind"] for r in rows]

    def newest_each_kind(self, task_id: str) -> list[CheckpointRow]:
        rows = self._c.execute(
            f"SELECT {_C_META} FROM checkpoints c JOIN (SELECT kind, max(version) AS v "
            "FROM checkpoints WHERE task_id = %s GROUP BY kind) m ON c.kind = m.kind AND "
            "c.version = m.v WHERE c.task_id = %s ORDER BY c.seq",
            (task_id, task_id),
        )
        return [_row(r) for r in rows]

    def newest_of_task(
        self, task_id: str, *, exclude: Sequence[str] = (), content: bool = True
    ) -> CheckpointRow | None:
        sql = f"SELECT {_cols(content)} FROM checkpoints WHERE task_id = %s"
        params: list[Any] = [task_id]
        if exclude:
            sql += f" AND kind NOT IN ({','.join(['%s'] * len(exclude))})"
            params.extend(exclude)
        r = self._c.execute(sql + " ORDER BY seq DESC LIMIT 1", params).fetchone()
        return _row(r) if r else None

    def by_hash(self, task_id: str, kind: str, hash: str) -> CheckpointRow | None:
        r = self._c.execute(
            f"SELECT {_META} FROM checkpoints WHERE task_id = %s AND kind = %s AND hash = %s "
            "ORDER BY version DESC LIMIT 1",
            (task_id, kind, hash),
        ).fetchone()
        return _row(r) if r else None

    def of_phase_exists(self, task_id: str, phase: str) -> bool:
        r = self._c.execute(
            "SELECT 1 FROM checkpoints WHERE task_id = %s AND (phase = %s OR kind = %s) LIMIT 1",
            (task_id, phase, phase),
        ).fetchone()
        return r is not None

    def newest_of_tasks(
        self, task_ids: Sequence[str], *, exclude: Sequence[str] = (), content: bool = True
    ) -> dict[str, CheckpointRow]:
        if not task_ids:
            return {}
        # One round trip for every task: each one's newest version by its (task, seq) index.
        cols = ", ".join(f"c.{c.strip()}" for c in _cols(content).split(","))
        rows = self._c.execute(
            f"SELECT {cols} FROM unnest(%s::text[]) AS t(id) CROSS JOIN LATERAL (SELECT * FROM "
            "checkpoints WHERE task_id = t.id AND kind <> ALL(%s::text[]) ORDER BY seq DESC "
            "LIMIT 1) c",
            (list(task_ids), list(exclude)),
        )
        return {r["task_id"]: _row(r) for r in rows}

    def count(self) -> int:
        # Kept up to date by a trigger (migration 0007): counting 100,000s of rows after every
        # command cost more than the rest of the status together.
        r = self._c.execute("SELECT value FROM meta WHERE key = 'checkpoint_versions'").fetchone()
        if r is not None:
            return int(r["value"])
        return int(self._c.execute("SELECT count(*) AS n FROM checkpoints").fetchone()["n"])

    def count_by_source(self, source: str) -> int:
        row = self._c.execute(
            "SELECT count(*) AS n FROM checkpoints WHERE source = %s", (source,)
        ).fetchone()
        return int(row["n"])
