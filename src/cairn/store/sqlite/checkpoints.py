"""Checkpoint versions on SQLite."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from json.encoder import encode_basestring as _string

from cairn.store.contract.checkpoints import WRITTEN, CheckpointRow, CheckpointWrite
from cairn.store.sqlite.events import SQLiteEvents
from cairn.store.sqlite.projections import SQLiteProjections

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


# The number of versions (migration 0017: versions are never deleted, so the largest rowid).
COUNT_SQL = "SELECT coalesce(max(rowid), 0) AS n FROM checkpoints"

_META = "task_id, kind, version, hash, size, phase, source, files, created_at, seq"
_C_META = ", ".join(f"c.{c.strip()}" for c in _META.split(","))


# The write path, under the write lock: one look at the task (the sequence number of its newest
# version, kept on its row: migration 0016; its active phase, among its own phases: ``+state``
# keeps the planner off the index of every task's active phases) and at the newest version of
# the kind (is this content already stored?); then the task row updated (the counter, the touch),
# a plain INSERT ... VALUES of the version, the path's claim and the journal entry. Every value
# is known before the insert, so it needs no sub-select and no RETURNING (an INSERT ... SELECT
# with RETURNING took twice as long).
_NEWEST_OF = "FROM checkpoints WHERE task_id = ?1 AND kind = ?2 ORDER BY version DESC LIMIT 1"
_LOOK = (
    "SELECT checkpoint_seq, updated_at, {phase}, "
    f"(SELECT version {_NEWEST_OF}), (SELECT hash {_NEWEST_OF}) FROM tasks WHERE id = ?1"
)
_LOOK_PHASE = _LOOK.format(
    phase="(SELECT name FROM phases WHERE task_id = ?1 AND +state = 'active' "
    "ORDER BY position LIMIT 1)"
)
_LOOK_GIVEN = _LOOK.format(phase="NULL")
_FILES = "SELECT files FROM checkpoints WHERE task_id = ? AND kind = ? AND version = ?"
_INSERT = (
    "INSERT INTO checkpoints (task_id, kind, version, hash, size, content, phase, source, files, "
    "created_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# The touch moves the task in the index of tasks by state and time: left out when the time is the
# same (a write within the same millisecond).
_COUNT_TOUCH = "UPDATE tasks SET checkpoint_seq = ?, updated_at = ? WHERE id = ?"
_COUNT = "UPDATE tasks SET checkpoint_seq = ? WHERE id = ?"
# The journal entry's data as ``json`` writes it (events.py), without building an encoder per
# write; tests/test_store.py compares the two.
_WRITTEN_DATA = (
    '{{"kind": {}, "version": {}, "hash": {}, "size": {}, "phase": {}, "source": {}, "path": {}}}'
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
    __slots__ = ("_c", "_events", "_projections")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn
        self._events: SQLiteEvents | None = None  # made at the first write
        self._projections: SQLiteProjections | None = None

    def _look(
        self, task_id: str, kind: str, hash: str, listed: str, phase: str | None
    ) -> tuple[int, str, str | None, int] | None:
        """(the task's newest seq, its updated_at, the phase, the kind's newest version), or None
        when the newest version already holds this hash and these files. A missing task raises
        what the insert would (the reference to it)."""
        c = self._c
        cur = c.execute(_LOOK_PHASE if phase is None else _LOOK_GIVEN, (task_id, kind))
        cur.row_factory = None
        found = cur.fetchall()  # to the end: no statement is left open on the tables
        if not found:
            raise sqlite3.IntegrityError("FOREIGN KEY constraint failed")
        seq, updated_at, active, newest, newest_hash = found[0]
        if newest_hash == hash:
            # The files are read only then: they follow the content in the row, which a large
            # version keeps in overflow pages.
            cur = c.execute(_FILES, (task_id, kind, newest))
            cur.row_factory = None
            same = cur.fetchall()
            if same and same[0][0] == listed:
                return None
        return seq, updated_at, phase if phase is not None else active, newest or 0

    def _insert(
        self,
        task_id: str,
        kind: str,
        content: str,
        hash: str,
        size: int,
        source: str,
        files: tuple[str, ...],
        listed: str,
        ts: str,
        look: tuple[int, str, str | None, int],
        *,
        touch: bool = False,
    ) -> CheckpointRow:
        """The next version; ``touch``: the task's ``updated_at`` becomes ``ts`` too."""
        task_seq, updated_at, phase, newest = look
        seq, version = task_seq + 1, newest + 1
        c = self._c
        # The counter is raised here, with the touch when there is one (migration 0018 dropped
        # the trigger that compared it after every insert).
        if touch and updated_at != ts:
            c.execute(_COUNT_TOUCH, (seq, ts, task_id))
        else:
            c.execute(_COUNT, (seq, task_id))
        c.execute(_INSERT, (task_id, kind, version, hash, size, content, phase, source, listed,
            ts, seq))  # fmt: skip
        return CheckpointRow(
            task_id, kind, version, hash, size, phase, source, files, ts, seq, content
        )

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
        listed = json.dumps(files)
        # ``phase`` as given (None stays None): the look asks for no active phase.
        cur = self._c.execute(_LOOK_GIVEN, (task_id, kind))
        cur.row_factory = None
        found = cur.fetchall()
        if not found:
            raise sqlite3.IntegrityError("FOREIGN KEY constraint failed")
        task_seq, _, _, newest, _ = found[0]
        row = self._insert(task_id, kind, content, hash, size, source, files, listed, ts,
            (task_seq, "", phase, newest or 0))  # fmt: skip
        return row

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
        listed = json.dumps(files) if files else "[]"
        look = self._look(task_id, kind, hash, listed, phase)
        if look is None:
            return None
        return self._insert(task_id, kind, content, hash, size, source, files, listed, ts, look)

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
        # ``write_in_steps`` (store/checkpoint_write.py) made of this backend's own steps, with
        # the task touched inside the insert's step and the journal's data written directly.
        projections, events = self._projections, self._events
        if projections is None or events is None:
            projections = self._projections = SQLiteProjections(self._c)
            events = self._events = SQLiteEvents(self._c)
        files = tuple(files)
        listed = json.dumps(files) if files else "[]"
        look = self._look(task_id, kind, hash, listed, phase)
        if look is None:
            return CheckpointWrite(
                None, self.newest(task_id, kind, content=False), projections.owner(path)
            )
        row = self._insert(task_id, kind, content, hash, size, source, files, listed, ts, look,
            touch=True)  # fmt: skip
        # Claimed after the insert: a path taken by another (task, kind) makes the caller raise,
        # which rolls the version back with the rest.
        taken = projections.claim(path, task_id, kind, hash)
        if taken is not None:
            return CheckpointWrite(None, None, taken)
        p = row.phase
        data = _WRITTEN_DATA.format(
            _string(kind), row.version, _string(hash), size,
            "null" if p is None else _string(p), _string(source), _string(path),
        )  # fmt: skip
        events.append_encoded(task_id, WRITTEN, ts, data)
        return CheckpointWrite(row)

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
        # The task's newest version is the newest of its kind: the kinds are walked through the
        # primary key (one search each, not a walk over every version), the newest version of
        # each taken, and the highest seq of those wins. No index on (task, seq) (migration 0016).
        not_in = f"WHERE k.kind NOT IN ({','.join('?' * len(exclude))}) " if exclude else ""
        cols = ", ".join(f"c.{c.strip()}" for c in _cols(content).split(","))
        r = self._c.execute(
            "WITH RECURSIVE k(kind) AS (SELECT min(kind) FROM checkpoints WHERE task_id = ?1 "
            "UNION ALL SELECT (SELECT min(kind) FROM checkpoints WHERE task_id = ?1 AND "
            "kind > k.kind) FROM k WHERE k.kind IS NOT NULL) "
            f"SELECT {cols} FROM k JOIN checkpoints c ON c.task_id = ?1 AND c.kind = k.kind AND "
            "c.version = (SELECT max(version) FROM checkpoints WHERE task_id = ?1 AND "
            f"kind = k.kind) {not_in}ORDER BY c.seq DESC LIMIT 1",
            (task_id, *exclude),
        ).fetchone()
        return _row(r) if r else None

    def by_hash(self, task_id: str, kind: str, hash: str) -> CheckpointRow | None:
        r = self._c.execute(
            # The index holds a prefix of the hash (migration 0014), matched only against a plain
            # parameter (``+hash``: else SQLite puts the constant into the prefix term, which then
            # no longer matches the index); named, because the planner would rather walk every
            # version of the kind by the primary key, for the ORDER BY.
            f"SELECT {_META} FROM checkpoints INDEXED BY checkpoints_hash WHERE task_id = ? AND "
            "kind = ? AND substr(hash, 1, 16) = ? AND +hash = ? ORDER BY version DESC LIMIT 1",
            (task_id, kind, hash[:16], hash),
        ).fetchone()
        return _row(r) if r else None

    def of_phase_exists(self, task_id: str, phase: str) -> bool:
        r = self._c.execute(
            "SELECT 1 FROM checkpoints WHERE task_id = ? AND (phase = ? OR kind = ?) LIMIT 1",
            (task_id, phase, phase),
        ).fetchone()
        return r is not None

    def count(self) -> int:
        # The largest rowid (migration 0017): versions are never deleted, so it is their number,
        # found in one search, with no row for every insert to update (a dump holds no count:
        # contract/records.DERIVED).
        return int(self._c.execute(COUNT_SQL).fetchone()["n"])

    def count_by_source(self, source: str) -> int:
        row = self._c.execute(
            "SELECT count(*) AS n FROM checkpoints WHERE source = ?", (source,)
        ).fetchone()
        return int(row["n"])
