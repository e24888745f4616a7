"""The projectors of this process at its exit and across a fork: each flushes what it queued
before the process ends, and a fork never copies a flush in progress (``projector.py``)."""

from __future__ import annotations

import atexit
import os
import sys
import weakref
from _thread import allocate_lock

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


# Projectors with a queue to flush before the process exits (a killed process is repaired by the
# next command instead).
# Projector objects (typed loosely: projector.py imports this module, not the other way).
LIVE: weakref.WeakSet[Any] = weakref.WeakSet()


def _flush_at_exit() -> None:
    for projector in list(LIVE):
        try:
            projector.flush()
        except Exception as exc:
            sys.stderr.write(
                f"cairn: the readable files were not brought current at exit ({exc}); the store "
                "has every write, and the next `cairn` command rewrites them\n"
            )


atexit.register(_flush_at_exit)


# A fork (workers use the "fork" start method) waits for a background flush to end: a thread inside
# SQLite at the instant of a fork leaves SQLite's own locks held in the child, which then hangs at
# its first open. The flush lock is held across the fork, then released (parent) or made anew.
_HELD_FOR_FORK: list[Any] = []


def _before_fork() -> None:
    for projector in list(LIVE):
        if projector._flushing.acquire(timeout=30):
            _HELD_FOR_FORK.append(projector)


def _after_fork_in_parent() -> None:
    while _HELD_FOR_FORK:
        _HELD_FOR_FORK.pop()._flushing.release()


def _after_fork_in_child() -> None:
    """A forked child (a worker) starts with fresh locks and no background thread: the parent's
    thread may have held a lock at the fork, and its connection must not cross it."""
    _HELD_FOR_FORK.clear()
    for projector in list(LIVE):
        projector._mu = allocate_lock()
        projector._wake = None  # made anew on the mutex above if a thread starts here
        projector._flushing = allocate_lock()
        projector._thread = None
        projector._due = None
        projector._next_ok = 0.0
        projector._bg_ws = None  # kept open in the parent; never used (nor closed) here


os.register_at_fork(
    before=_before_fork,
    after_in_parent=_after_fork_in_parent,
    after_in_child=_after_fork_in_child,
)
