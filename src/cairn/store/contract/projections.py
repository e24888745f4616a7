"""Projection bookkeeping: which file holds which (task, kind), the hash last projected there and
the one before it, and the file's mtime/size when last checked (so unchanged files are not hashed).

Paths are unique case-insensitively (two artifacts must not share a file on macOS or Windows).
Stat fields are rebuildable: a backend may keep them in an unsynced write.
"""

from __future__ import annotations

from cairn.core.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Protocol
else:
    Protocol = object  # importing typing costs ~3 ms of start-up; these Protocols only type


class ProjectionRow(Record):
    path: str
    task_id: str
    kind: str
    hash: str
    prev_hash: str | None
    mtime_ns: int | None
    size: int | None


class ProjectionStat(Record):
    """The narrow row a full pass over every artifact reads (cheap with tens of thousands)."""

    path: str
    mtime_ns: int | None
    size: int | None


class ProjectionsArea(Protocol):
    def get(self, path: str) -> ProjectionRow | None: ...

    def owner(self, path: str) -> ProjectionRow | None:
        """The row whose path matches case-insensitively."""
        ...

    def record(self, path: str, task_id: str, kind: str, hash: str) -> None:
        """``path`` now should hold ``hash``; stat is cleared. prev_hash becomes the hash it had
        if that was seen on disk (its stat set), else it stays: prev_hash is always the newest
        content known to have been in the file, so a file left behind by writers killed before
        projecting (one or many in a row, or a batch) is told from a hand edit."""
        ...

    def claim(self, path: str, task_id: str, kind: str, hash: str) -> ProjectionRow | None:
        """``record`` for (task, kind), unless ``path`` (matched case-insensitively) belongs to
        another (task, kind): then nothing changes and that owner's row is returned. None when
        recorded. One step for the write path, which otherwise asks ``owner`` first."""
        ...

    def set_stat(self, path: str, mtime_ns: int, size: int, *, hash: str | None = None) -> None:
        """Remember the file's stat; with ``hash``, only if the row still expects that hash."""
        ...

    def stats(self, *, task_id: str | None = None, kind: str | None = None) -> list[ProjectionStat]:
        """Path order is unspecified."""
        ...

    def stats_of_tasks(self, task_ids: Sequence[str]) -> list[ProjectionStat]:
        """``stats(task_id=...)`` of several tasks in one look-up: the stats of the first id,
        then of the next (within a task, path order is unspecified)."""
        ...

    def all(self) -> list[ProjectionRow]: ...

    def move(self, old_path: str, new_path: str) -> None:
        """Rename a row (artifact names changed by a migration); MissingRow if absent."""
        ...

    def forget(self, task_id: str) -> list[str]:
        """Drop the rows of a task's files (a deleted task: nothing projects them again);
        returns their paths."""
        ...
