"""The locks a PostgreSQL write takes beyond the one it began with (``connection.py``).

A plain ``write()`` holds the store's write lock, which excludes every other writer: nothing more
is needed. A ``write(task=T)`` holds that lock shared and T's own lock, so it may touch only T's
rows; what every writer shares it locks as it reaches it, always in the same order (task, then an
artifact's path, then the journal), so two such writers never wait for each other in a circle:

- an artifact's path, before its projection row is read or written (two tasks whose artifact
  names collide must not both take the file);
- the journal, before an event is appended: its ids are max + 1, and the lock is held to the
  commit, so they grow in commit order as readers expect (``events.last_id``, ``after=``);
- last, at the commit, the row of the checkpoint count (``meta``; migration 0005).

Anything else that gives store-wide ids or touches other tasks refuses to run in such a write.
A checkpoint write's one server-side call (migration 0006) takes the same locks, in the same
order, on the server, and tells this module which it took (:func:`taken`).
"""

from __future__ import annotations

import functools
from typing import Any

from cairn.core.errors import StoreError

# pg_advisory_xact_lock keys (any constants; "cai" in ASCII, then the store write lock, the
# migration lock and the journal lock). A task's lock is (TASK_CLASS, task_lock_key(its id)), a
# path's (PATH_CLASS, hashtext(its key)): two whose keys hash alike only take turns. Every cairn
# sharing a store must agree on them, so they never change: migration 0006's function has them
# written out.
LOCK_CLASS = 0x636169
WRITE_LOCK = 1
MIGRATE_LOCK = 2
EVENTS_LOCK = 3
TASK_CLASS = 0x636174
PATH_CLASS = 0x636170

# The scope of ``light_write(rows_only=True)``: the store lock shared, no task of its own.
ROWS = "\0rows"

_EVENTS = f"SELECT pg_advisory_xact_lock({LOCK_CLASS}, {EVENTS_LOCK})"
_PATH = f"SELECT pg_advisory_xact_lock({PATH_CLASS}, hashtext(%s))"


@functools.lru_cache(maxsize=1024)  # every write of a task asks again
def task_lock_key(task_id: str) -> int:
    """The second half of a task's lock: its key hashed here, a signed 32-bit integer."""
    import zlib

    from cairn.core.names import task_key

    return zlib.crc32(task_key(task_id).encode()) - (1 << 31)


def scoped(conn: Any) -> bool:
    """Whether the write is scoped to a task (it locks what it shares as it reaches it)."""
    return _scope(conn) not in (None, ROWS)


def taken(conn: Any, *names: str) -> None:
    """Locks a statement took on the server itself (``journal``, a path's key): not again."""
    conn.cairn_locks.update(names)


def _scope(conn: Any) -> str | None:
    return getattr(conn, "cairn_scope", None)


def journal(conn: Any) -> None:
    """Before an event is appended."""
    if _scope(conn) == ROWS:
        store_wide(conn, "an event")
    if _scope(conn) is not None and "journal" not in conn.cairn_locks:
        conn.cairn_locks.add("journal")
        conn.later(_EVENTS)  # sent with the append: no round trip of its own


def path(conn: Any, path_key: str) -> None:
    """Before an artifact path's projection row is read for a write, or written."""
    # A rows-only write (stats) relies on the row locks: it never holds a path while it waits.
    if _scope(conn) not in (None, ROWS) and path_key not in conn.cairn_locks:
        conn.cairn_locks.add(path_key)
        conn.later(_PATH, (path_key,))


def own(conn: Any, task_id: str) -> None:
    """Before a row of ``task_id`` is written: the write must be scoped to it (or to none)."""
    scope = _scope(conn)
    if scope is not None:
        from cairn.core.names import task_key

        if scope == ROWS or task_key(task_id) != task_key(scope):
            to = "rows named by key" if scope == ROWS else f"task {scope!r}"
            raise StoreError(
                f"a write scoped to {to} touched task {task_id!r}; "
                "open it with store.write() (no task)"
            )


def store_wide(conn: Any, what: str) -> None:
    """Before a statement that gives a store-wide id or spans tasks."""
    scope = _scope(conn)
    if scope is not None:
        to = "rows named by key" if scope == ROWS else f"task {scope!r}"
        raise StoreError(
            f"{what} needs the whole store's write lock, but this write is scoped to {to}; "
            "open it with store.write() (no task)"
        )
