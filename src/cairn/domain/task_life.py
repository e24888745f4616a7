"""The life of a task after its work: archived, deleted, renamed.

* archived: out of the status, the recovery briefs and ``task list`` (``--archived`` lists them),
  whole in the store and on disk; ``unarchive`` brings it back as it was.
* deleted: out of everything, and its artifacts out of the readable tree. Checkpoints and the
  journal are append-only, so its history stays in the store and its id stays taken.
* renamed: every record filed under the new id, the artifacts moved to their new names.

Each is one write that journals what it did. A hand edit of an artifact is taken in before its
file is removed or moved, so nothing typed into the readable tree is lost.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from cairn.core import names
from cairn.core.errors import TransitionError, UsageError, ValidationError
from cairn.core.model import Task
from cairn.domain.base import canonical, forget_ids, now
from cairn.domain.checkpoints import artifact_path
from cairn.domain.journal import append
from cairn.domain.notices import Change
from cairn.domain.tasks import load, load_many

if TYPE_CHECKING:
    from cairn.domain.base import Site
    from cairn.store import Transaction
    from cairn.store.contract.tasks import TaskRow


def _quiet(tx: Transaction, row: TaskRow, doing: str) -> None:
    """A task with an active phase is in use (an agent, a runner): finish that first."""
    active = tx.tasks.active_phase(row.id)
    if active is not None:
        raise TransitionError(
            f"phase {active.name!r} of {row.id!r} is active; finish it (`cairn phase done "
            f"{row.id} {active.name}`) or fail it (`cairn phase fail {row.id} {active.name} "
            f"--error ...`) before you {doing} the task"
        )


def _take_in_hand_edits(ws: Site, task_id: str) -> None:
    with ws.store.read() as tx:
        kinds = {r.kind for r in tx.projections.all() if r.task_id == task_id}
    for kind in sorted(kinds):
        ws.before_write(task_id, kind)


def archive_task(ws: Site, task_id: str) -> Task:
    ts = now()
    with ws.store.write() as tx:
        row = canonical(tx, task_id)
        if row.state == "archived":
            raise UsageError(f"task {row.id!r} is archived already; `cairn task unarchive` it")
        _quiet(tx, row, "archive")
        tx.tasks.set_state(row.id, "archived", ts)
        append(tx, row.id, "task.archived", ts)
        task = load(tx, row)
    ws.announce(Change("task", row.id))
    return task


def unarchive_task(ws: Site, task_id: str) -> Task:
    ts = now()
    with ws.store.write() as tx:
        row = canonical(tx, task_id)
        if row.state != "archived":
            raise UsageError(f"task {row.id!r} is not archived; nothing to do")
        tx.tasks.set_state(row.id, "open", ts)
        append(tx, row.id, "task.unarchived", ts)
        task = load(tx, row)
    ws.announce(Change("task", row.id))
    return task


def archived_tasks(ws: Site, *, limit: int | None = None) -> list[Task]:
    with ws.store.read() as tx:
        return load_many(tx, tx.tasks.archived(limit=limit))


def delete_task(ws: Site, task_id: str) -> list[str]:
    """Delete a task; returns the readable files removed. The files go inside the transaction,
    before it commits: killed in between, the store still has the task and the next command
    writes its files back."""
    with ws.store.read() as tx:
        row = canonical(tx, task_id)
        _quiet(tx, row, "delete")
    _take_in_hand_edits(ws, row.id)
    ts = now()
    removed: list[str] = []
    with ws.store.write() as tx:
        row = canonical(tx, row.id)
        _quiet(tx, row, "delete")
        paths = tx.projections.forget(row.id)
        tx.tasks.set_state(row.id, "deleted", ts)
        ranges = [tx.checkpoints.version_range(row.id, k) for k in tx.checkpoints.kinds(row.id)]
        versions = sum(r[1] for r in ranges if r is not None)
        append(tx, row.id, "task.deleted", ts, files=sorted(paths), checkpoint_versions=versions)
        for rel in sorted(paths):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(names.inside(ws.root, rel))  # a link is removed, not what it leads to
                removed.append(rel)
    forget_ids(ws.store)
    ws.announce(Change("task", row.id))
    return removed


def rename_task(ws: Site, task_id: str, new_id: str) -> Task:
    names.task_id(new_id)
    with ws.store.read() as tx:
        row = canonical(tx, task_id)
        _quiet(tx, row, "rename")
    if new_id == row.id:
        raise UsageError(f"task {row.id!r} has that name already")
    _take_in_hand_edits(ws, row.id)
    ts = now()
    with ws.store.write() as tx:
        row = canonical(tx, row.id)
        _quiet(tx, row, "rename")
        other = tx.tasks.get(new_id)
        if other is not None and other.id != row.id:
            gone = " (a deleted task: its id stays taken)" if other.state == "deleted" else ""
            raise ValidationError(f"task {other.id!r} exists{gone}; choose another name")
        old_paths = [r for r in tx.projections.all() if r.task_id == row.id]
        renamed = tx.tasks.rename(row.id, new_id)
        moved: list[tuple[str, str]] = []
        for p in old_paths:
            new = artifact_path(ws, renamed.id, p.kind)
            if new == p.path:
                continue
            taken = tx.projections.owner(new)
            if taken is not None and taken.path != p.path:
                raise ValidationError(
                    f"{new} belongs to task {taken.task_id!r}; choose another name"
                )
            tx.projections.move(p.path, new)
            moved.append((p.path, new))
        append(tx, renamed.id, "task.renamed", ts, old=row.id, new=renamed.id, moved=moved)
        # The files move before the commit (as the artifact-name migration does): killed in
        # between, the rows still name the old paths and the next command writes them back.
        for old, new in moved:
            with contextlib.suppress(FileNotFoundError):
                os.replace(names.inside(ws.root, old), names.inside(ws.root, new))
        task = load(tx, renamed)
    forget_ids(ws.store)
    ws.announce(Change("task", renamed.id))
    return task


def deleted_hint(tx: Transaction, task_id: str) -> str | None:
    """The refusal for a task that was deleted, or None."""
    row = tx.tasks.get(task_id)
    if row is None or row.state != "deleted":
        return None
    return (
        f"task {row.id!r} was deleted; its history stays in the store "
        f"(`cairn log --task {row.id}`) and its id stays taken: choose another name"
    )
