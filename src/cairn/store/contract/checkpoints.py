"""Checkpoints: append-only versions of a task's documents, numbered 1, 2, ... per (task, kind).

``seq`` orders all versions of one task (any kind): "the newest checkpoint of the task" is the
highest seq. Rows read without content have ``content=None``.
"""

from __future__ import annotations

from collections.abc import Sequence

from cairn.core.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol

    from cairn.store.contract.projections import ProjectionRow
else:
    Protocol = object  # importing typing costs ~3 ms of start-up; these Protocols only type


class CheckpointRow(Record):
    NOT_SHOWN = ("content",)
    task_id: str
    kind: str
    version: int
    hash: str
    size: int
    phase: str | None
    source: str
    files: tuple[str, ...]
    created_at: str
    seq: int
    content: str | None = None


class CheckpointWrite(Record):
    """What :meth:`CheckpointsArea.write` did. ``added``: the version written (None: nothing was).
    ``unchanged``: the newest version (without content) when it already had this hash and these
    files. Neither: the artifact's path belongs to another (task, kind). ``owner``: when nothing
    was added, the projection row holding the path (matched case-insensitively; None: none)."""

    added: CheckpointRow | None
    unchanged: CheckpointRow | None = None
    owner: ProjectionRow | None = None


# The journal entry of a checkpoint write, and its data's keys in order (``CheckpointsArea.write``).
WRITTEN = "checkpoint.written"
WRITTEN_KEYS = ("kind", "version", "hash", "size", "phase", "source", "path")


class CheckpointsArea(Protocol):
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
        """The next version of (task, kind): version = newest + 1, seq = the task's newest + 1."""
        ...

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
        """``add`` as a writer wants it, in one step: nothing is added (None) when the newest
        version of (task, kind) already has this hash and these files, and a ``phase`` of None is
        the task's active phase at the time (None when no phase is active)."""
        ...

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
        """The whole of a checkpoint write, in one step: ``add_if_changed``; unless unchanged,
        ``path`` claimed for (task, kind) (``projections.claim``), the task touched and the event
        ``checkpoint.written`` journaled, its data ``WRITTEN_KEYS`` of the new version (``path``:
        this path). When the path is taken the caller raises, rolling back: the version may have
        been added. ``last``: nothing follows in this transaction, so a backend may send its
        commit with it (PostgreSQL: the write is then one round trip); the transaction is over
        when this returns and takes no more statements."""
        ...

    def newest(self, task_id: str, kind: str, *, content: bool = True) -> CheckpointRow | None: ...

    def get(self, task_id: str, kind: str, version: int) -> CheckpointRow | None: ...

    def version_range(self, task_id: str, kind: str) -> tuple[int, int] | None:
        """(lowest, highest) version stored, or None."""
        ...

    def history(self, task_id: str, kind: str) -> list[CheckpointRow]:
        """Every version, oldest first, without content."""
        ...

    def kinds(self, task_id: str) -> list[str]:
        """Sorted."""
        ...

    def newest_each_kind(self, task_id: str) -> list[CheckpointRow]:
        """The newest version of each kind, without content, in the order they were written."""
        ...

    def newest_of_task(
        self, task_id: str, *, exclude: Sequence[str] = (), content: bool = True
    ) -> CheckpointRow | None:
        """The task's most recent version of any kind not in ``exclude``."""
        ...

    def newest_of_tasks(
        self, task_ids: Sequence[str], *, exclude: Sequence[str] = (), content: bool = True
    ) -> dict[str, CheckpointRow]:
        """``newest_of_task`` of several tasks in one look-up, keyed by task id; a task with no
        such version is left out."""
        ...

    def by_hash(self, task_id: str, kind: str, hash: str) -> CheckpointRow | None:
        """The newest version of (task, kind) with that content hash, without content."""
        ...

    def of_phase_exists(self, task_id: str, phase: str) -> bool:
        """Whether a version was written during ``phase`` or is of the kind named after it."""
        ...

    def count(self) -> int:
        """Versions in the whole store."""
        ...

    def count_by_source(self, source: str) -> int:
        """Versions in the whole store that came from ``source`` (e.g. ``hand-edit``)."""
        ...
