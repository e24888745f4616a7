"""What changed since the projector last looked, so that a command's check follows its work.

Kept in ``.cairn/projection.state`` (derived, rewritten under the projection lock, never synced):

* ``mark``: every checkpoint written up to this journal event is on disk. Commits after it whose
  writer died before projecting them are found by one range read of the journal, not by looking
  at every artifact.
* ``log``: the recovery log as cairn last wrote it (size, mtime, inode, the newest recovery in it
  and how many it holds), so that the next recovery appends to it instead of rendering it whole
  (``recovery_log.bring_log_current``).
* ``dirs``: (mtime, inode) of the projected folders as cairn left them. A file added, removed or
  saved by rename in one changes its folder, which calls for a look at every file in it; an edit in
  place does not, so the files of the most recently updated tasks are looked at each time too.
"""

from __future__ import annotations

import contextlib
import json
import os

from cairn.core.fsutil import atomic_write
from cairn.core.record import Record, field
from cairn.store.contract.projections import ProjectionRow, ProjectionStat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from cairn.domain.workspace import Workspace
    from cairn.store import Tx

STATE_FILE = "projection.state"
# More unprojected commits than this and one pass over every artifact is cheaper.
MAX_EVENTS = 5000
# The number of most recently updated tasks whose artifacts every command looks at.
HOT_TASKS = 20


class Look(Record):
    mark: int | None = None
    dirs: dict[str, list[int]] = field(default_factory=dict)
    log: list[int] | None = None


def folders(ws: Workspace) -> dict[str, Path]:
    return {
        "artifacts": ws.root / ws.config.artifacts_dir,
        "logs": ws.root / ws.config.logs_dir,
        "status": (ws.root / ws.config.status_file).parent,
    }


def stamps(ws: Workspace) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for name, path in folders(ws).items():
        with contextlib.suppress(FileNotFoundError):
            st = os.stat(path)
            out[name] = [st.st_mtime_ns, st.st_ino]
    return out


def load(ws: Workspace) -> Look:
    try:
        with open(ws.cairn_dir / STATE_FILE, "rb") as fh:
            data = json.loads(fh.read())
        log = data.get("log")
        return Look(data.get("mark"), data.get("dirs", {}), log if isinstance(log, list) else None)
    except (FileNotFoundError, ValueError, AttributeError):
        return Look()  # never looked (or unreadable): a full look comes first


def save(ws: Workspace, look: Look) -> None:
    state: dict[str, object] = {"mark": look.mark, "dirs": look.dirs}
    if look.log is not None:
        state["log"] = look.log
    data = json.dumps(state).encode()
    atomic_write(ws.cairn_dir / STATE_FILE, data)


def commits_in(
    tx: Tx, ws: Workspace, mark: int | None, *, limit: int | None = MAX_EVENTS
) -> tuple[int, list[tuple[str, str, str]] | None]:
    """(newest event id, [(path, task, kind)] of checkpoints written after ``mark``), or None in
    place of the list when they are unknown or more than ``limit`` to check one by one; inside the
    caller's read transaction (a flush and a look each read all they need in one)."""
    top = tx.events.last_id()
    if mark is None or top < mark or (limit is not None and top - mark > limit):
        return top, None  # never looked, a store put back in place, or a long absence
    if top == mark:
        return top, []
    rows = tx.events.query(types=_WRITES, after=mark, limit=top - mark)
    found: dict[str, tuple[str, str, str]] = {}
    for r in rows:
        if r.task_id is None:
            continue
        if r.type == "checkpoint.written":
            path, kind = r.data.get("path"), r.data.get("kind")
        else:  # a step or next action re-rendered the progress file
            path, kind = ws.artifact_path(r.task_id, "progress"), "progress"
        if isinstance(path, str) and isinstance(kind, str):
            found[path] = (path, r.task_id, kind)
    return top, list(found.values())


# The journal events after which an artifact holds new content.
_WRITES = ("checkpoint.written", "step.recorded", "next.set")


def to_check(
    ws: Workspace, mark: int | None, *, full: bool
) -> tuple[int, list[ProjectionStat], bool]:
    """What a look checks, in one read (on a server each transaction is a round trip or two):
    (newest event id, the projection stats to compare with the files, whether they are every
    file's: with ``full``, or when the commits since ``mark`` are unknown). Else the files of
    the most recently updated tasks (every write touches its task: where a person is likely to
    be editing) and those of the commits since ``mark``."""
    with ws.store.read() as tx:
        top, others = commits_in(tx, ws, mark)
        if full or others is None:
            return top, tx.projections.stats(), True
        tasks = tx.tasks.recent(limit=HOT_TASKS)
        # One look-up for them all.
        stats = tx.projections.stats_of_tasks([t.id for t in tasks]) if tasks else []
        known = {st.path for st in stats}
        for p in dict.fromkeys(p for p, _t, _k in others if p not in known):
            row = tx.projections.get(p)
            if row is not None:
                stats.append(ProjectionStat(row.path, row.mtime_ns, row.size))
        return top, stats, False


def rows(ws: Workspace, paths: list[str]) -> list[ProjectionRow]:
    if not paths:
        return []
    with ws.store.read() as tx:
        found = [tx.projections.get(p) for p in paths]
    return [r for r in found if r is not None]
