"""``CheckpointsArea.write`` made of the areas' single steps, for the backends where a statement
costs no round trip (SQLite, memory); PostgreSQL does it in one server-side call instead."""

from __future__ import annotations

from collections.abc import Sequence

from cairn.store.contract.checkpoints import WRITTEN, CheckpointWrite

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cairn.store.contract.checkpoints import CheckpointsArea
    from cairn.store.contract.events import EventsArea
    from cairn.store.contract.projections import ProjectionsArea
    from cairn.store.contract.tasks import TasksArea


def write_in_steps(
    checkpoints: CheckpointsArea,
    projections: ProjectionsArea,
    tasks: TasksArea,
    events: EventsArea,
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
) -> CheckpointWrite:
    row = checkpoints.add_if_changed(
        task_id,
        kind,
        content,
        hash=hash,
        size=size,
        phase=phase,
        source=source,
        files=files,
        ts=ts,
    )
    if row is None:
        return CheckpointWrite(
            None, checkpoints.newest(task_id, kind, content=False), projections.owner(path)
        )
    # Claimed after the insert: a path taken by another (task, kind) makes the caller raise,
    # which rolls the version back with the rest.
    taken = projections.claim(path, task_id, kind, hash)
    if taken is not None:
        return CheckpointWrite(None, None, taken)
    tasks.touch(task_id, ts)
    data = {
        "kind": kind,
        "version": row.version,
        "hash": hash,
        "size": row.size,
        "phase": row.phase,
        "source": source,
        "path": path,
    }
    events.append(task_id, WRITTEN, ts, data)
    return CheckpointWrite(row)
