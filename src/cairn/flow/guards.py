"""What keeps a durable run safe: one runner per task, and no silent re-run of a changed workflow."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from cairn.core import names
from cairn.core.errors import UsageError

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace

_HELD_LOCKS: set[str] = set()


class WorkflowChanged(UsageError):
    """Phases that earlier runs started or finished were renamed, removed or reordered."""


@contextlib.contextmanager
def run_lock(ws: Workspace, task_id: str) -> Iterator[None]:
    """Only one process runs a task's phases at a time.

    A POSIX record lock (``lockf``) is released when its process dies and, unlike ``flock``, is not
    inherited by forked children, so a worker outliving a killed orchestrator does not hold it.
    """
    key = names.task_key(task_id)
    if key in _HELD_LOCKS:
        raise UsageError(
            f"task {task_id!r} is already running in this process; do not call task.run() "
            "from inside one of its own phases"
        )
    folder = ws.cairn_dir / "runs"
    folder.mkdir(exist_ok=True)
    path = folder / f"{key}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise UsageError(
                f"task {task_id!r} is being run by another process (pid {holder}); wait for it "
                "to finish, or stop that process and run again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        _HELD_LOCKS.add(key)
        try:
            yield
        finally:
            _HELD_LOCKS.discard(key)
    finally:
        os.close(fd)


def check_order(task_id: str, started: list[str], registered: list[str], command: str) -> None:
    """Raise :class:`WorkflowChanged` unless the phases started earlier lead the registered order."""
    n = len(started)
    if started == registered[:n]:
        return
    i = next(i for i, name in enumerate(started) if i >= len(registered) or registered[i] != name)
    first = started[i]
    if first not in registered:
        guess = ""
        if i < len(registered) and registered[i] not in started:
            guess = f" (renamed to {registered[i]!r}?)"
        raise WorkflowChanged(
            f"phase {first!r} of task {task_id!r} was started or finished by an earlier run, but "
            f"the workflow no longer defines it{guess}. cairn does not re-run finished work "
            f"silently: keep the old name (@task.phase({first!r})), or run "
            f"`{command} --reset {first}` to run the phases from there again (their earlier "
            "checkpoints stay in the history)"
        )
    raise WorkflowChanged(
        f"the phases of task {task_id!r} changed order: earlier runs went "
        f"{' → '.join(started)}, the workflow now goes {' → '.join(registered)}. cairn does not "
        f"re-run finished work silently: restore the old order, or run `{command} --reset "
        f"{first}` to run {first!r} and the phases after it again"
    )
