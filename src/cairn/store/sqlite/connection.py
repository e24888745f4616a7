"""The embedded SQLite store: WAL, a busy timeout, immediate write transactions, synced commits.

The areas (``sqlite/tasks.py`` ...) are built once per connection and run their statements on it;
the transaction boundaries are this module's.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from _thread import RLock
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from cairn.core.errors import StoreError
from cairn.store.base import Row, Transaction
from cairn.store.sqlite.areas import AREAS
from cairn.store.sqlite.migrations import MIGRATIONS, RENAMED

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# A writer waits this long for another process's transaction before giving up. Long on purpose: an
# agent's write should wait out a busy peer rather than surface "database is locked".
BUSY_TIMEOUT_MS = 60_000


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {d[0]: v for d, v in zip(cursor.description, row, strict=True)}


# Below this much free space a "disk I/O error" is taken for what it nearly always is then: SQLite
# could not grow the WAL or its shared-memory file.
_LOW_SPACE = 1 << 20


def _free_bytes(path: Path) -> int | None:
    try:
        st = os.statvfs(path.parent)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def integrity(path: Path) -> str | None:
    """``PRAGMA integrity_check`` of the store on a connection of its own that writes nothing:
    "ok", the first problem found, or None when it could not be run (the disk refuses reads)."""
    for mode in ("ro", "ro&immutable=1"):  # immutable: no -shm needed (a full or read-only disk)
        try:
            conn = sqlite3.connect(f"file:{path}?mode={mode}", uri=True, timeout=5)
        except sqlite3.Error:
            continue
        try:
            row = conn.execute("PRAGMA integrity_check").fetchone()
            return str(row[0]) if row else "no answer"
        except sqlite3.DatabaseError as exc:
            if "I/O" in str(exc) or "unable to open" in str(exc):
                continue  # not an answer about the store: try the next way of opening it
            return str(exc)
        finally:
            conn.close()
    return None


def read_only_reason(path: Path) -> str | None:
    """Why the store's folder cannot be written (SQLite needs the folder for its -wal and -shm
    files), or None when it can."""
    try:
        if os.statvfs(path.parent).f_flag & os.ST_RDONLY:
            return f"{path.parent} is on a read-only file system"
    except OSError:
        return None
    for where in (path, path.parent):
        if where.exists() and not os.access(where, os.W_OK):
            return f"no permission to write {where}"
    return None


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A connection that never writes: read-only with the WAL's shared memory when that file can
    be used, else ``immutable`` (the main file alone: on a read-only folder no -shm can be made,
    and no other process can be writing there)."""
    last: sqlite3.Error | None = None
    for mode in ("ro", "ro&immutable=1"):
        if mode != "ro" and _wal_size(path):
            # The newest commits are in the -wal file, which cannot be read without its shared
            # memory: reading the main file alone would show an older state as the current one.
            raise StoreError(
                f"the store {path} has commits in {path.name}-wal that cannot be read on a "
                "read-only workspace without its -shm file; open it once where it is writable "
                "(any read does), then it reads read-only too"
            )
        conn = sqlite3.connect(
            f"file:{path}?mode={mode}", uri=True, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.Error as exc:
            conn.close()
            last = exc
    assert last is not None
    raise last


def _wal_size(path: Path) -> int:
    try:
        return os.stat(f"{path}-wal").st_size
    except OSError:
        return 0


def migrations_state(path: Path) -> tuple[list[str], list[str]] | None:
    """(pending, unknown) migration names of the store at ``path``, read without writing (opening
    a store applies its pending migrations, so ``cairn doctor`` asks before it opens); None when
    the file cannot be read."""
    try:
        conn = _connect_read_only(path)
    except (sqlite3.Error, StoreError):
        return None
    try:
        try:
            applied = {r[0] for r in conn.execute("SELECT name FROM cairn_migrations")}
        except sqlite3.DatabaseError:
            return None
    finally:
        conn.close()
    known = [m[0] for m in MIGRATIONS]  # names only: no .sql file read
    return [n for n in known if n not in applied], sorted(applied - set(known))


def _explain(path: Path, exc: BaseException) -> StoreError:
    """One line for an SQLite error. Advice that gives the history up (move the store aside) is
    only given when ``integrity_check`` says the store is damaged: a full disk or a failing read
    raises "disk I/O error" too, and freeing space brings the same store back whole."""
    msg = str(exc)
    name = getattr(exc, "sqlite_errorname", "") or ""
    io = "disk I/O" in msg or name.startswith("SQLITE_IOERR")
    full = "is full" in msg or name == "SQLITE_FULL" or getattr(exc, "errno", None) == errno.ENOSPC
    if full or io:
        free = _free_bytes(path)
        if full or (free is not None and free < _LOW_SPACE):
            room = "" if free is None else f", {free:,} bytes free"
            return StoreError(
                f"disk full: the disk holding the store {path} has no room left ({msg}{room}); "
                "nothing was lost. Free space and run the command again"
            )
    if "readonly" in msg or name.startswith("SQLITE_READONLY") or "unable to open" in msg:
        reason = read_only_reason(path)
        if reason is not None:
            return StoreError(
                f"the workspace is read-only ({reason}); nothing was written. Reads work; make "
                "the folder writable to change anything"
            )
    if io or "not a database" in msg or "malformed" in msg:
        verdict = integrity(path)
        if verdict is None or verdict == "ok":
            said = "its integrity check could not run" if verdict is None else "it is intact"
            return StoreError(
                f"the store {path} could not be read or written ({msg}); {said}, nothing was "
                "lost. Check the disk (free space, permissions, a failing or network drive) and "
                "run the command again; `cairn doctor` checks the store"
            )
        return StoreError(
            f"the store {path} is corrupt or truncated ({msg}; integrity check: {verdict[:120]}); "
            "nothing was changed. Restore it from a backup, or move it aside and run `cairn init` "
            "to start a new store (artifacts/ stays as it is)"
        )
    return StoreError(f"the store {path} cannot be used: {msg}")


class SQLiteStore:
    dialect = "sqlite"

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = path
        # One connection, so one transaction at a time: threads sharing the store (a background
        # flush, a test's writers) take turns instead of nesting BEGINs on it.
        self._lock = RLock()  # threading's, without importing threading (~1 ms at start-up)
        if not create and not path.exists():
            raise StoreError(f"no store at {path}; run `cairn init` in the project folder")
        if not create and path.stat().st_size == 0:
            # `cairn init` writes the header at once, so an empty file is a truncated store;
            # opening it would silently start a new, empty one.
            raise StoreError(
                f"the store {path} is empty (0 bytes: truncated?); nothing was changed. Restore "
                "it from a backup, or move it aside and run `cairn init` to start a new store"
            )
        # Why the store can only be read (a read-only mount, no write permission), or None.
        self.read_only: str | None = None if create else read_only_reason(path)
        try:
            if self.read_only is not None:
                self._conn = _connect_read_only(path)
            else:
                self._conn = sqlite3.connect(
                    path,
                    timeout=BUSY_TIMEOUT_MS / 1000,
                    isolation_level=None,
                    check_same_thread=False,
                )
            self._conn.row_factory = _dict_row
            self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            # Refuse a foreign or newer store before anything below writes to the file (switching
            # to WAL rewrites the header).
            applied = self._check()
            if self.read_only is not None:
                self._read_only_ready(applied)
                return
            # WAL lets readers (status, recover) run while a writer commits.
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()
            if mode is None or next(iter(mode.values())).lower() != "wal":
                raise StoreError(f"could not switch {path} to WAL mode (got {mode})")
            # FULL: a commit is on disk before the call that made it returns.
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._migrate(applied)
            conn = self._conn
            self._tx = Transaction(
                {}, lazy={name: partial(make, conn) for name, make in AREAS.items()}
            )
        except (sqlite3.DatabaseError, StoreError) as exc:
            if hasattr(self, "_conn"):
                self._conn.close()
            if isinstance(exc, StoreError):
                raise
            raise _explain(path, exc) from exc

    def _read_only_ready(self, applied: list[str]) -> None:
        pending = [m[0] for m in MIGRATIONS if m[0] not in applied]
        if pending:
            raise StoreError(
                f"the store {self.path} needs migration {pending[0]!r}, which cannot be written: "
                f"the workspace is read-only ({self.read_only}); open it once where it is "
                "writable, or with the cairn that wrote it"
            )
        conn = self._conn
        self._tx = Transaction({}, lazy={name: partial(make, conn) for name, make in AREAS.items()})

    def _refuse_write(self) -> None:
        if self.read_only is not None:
            raise StoreError(
                f"the workspace is read-only ({self.read_only}); nothing was written. Reads "
                "(status, recover, task list/show, checkpoint show/list, log) work; make the "
                "folder writable to change anything"
            )

    # -- migrations ------------------------------------------------------------------------------
    def _check(self) -> list[str]:
        """The migrations applied so far; refuses a foreign store or one from a newer cairn."""
        known = [m[0] for m in MIGRATIONS]  # names only: no .sql file read
        has_table = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='cairn_migrations'"
        ).fetchone()
        applied: list[str] = []
        if has_table:
            applied = [r["name"] for r in self._conn.execute("SELECT name FROM cairn_migrations")]
            self._renamed = [a for a in applied if a in RENAMED]
            applied = [RENAMED.get(a, a) for a in applied]
        else:
            tables = self._conn.execute("SELECT count(*) AS n FROM sqlite_master").fetchone()
            if tables and tables["n"]:
                raise StoreError(f"{self.path} is an SQLite file but not a cairn store")
        unknown = [a for a in applied if a not in known]
        if unknown:
            raise StoreError(
                f"the store {self.path} was written by a newer cairn (migration {unknown[-1]!r}); "
                "upgrade cairn (`pip install -U cairn-agent`) to use it; nothing was changed"
            )
        return applied

    def _migrate(self, applied: list[str]) -> None:
        pending = [(m[0], m[1]) for m in MIGRATIONS if m[0] not in applied]
        renamed = getattr(self, "_renamed", [])
        if not pending and not renamed:
            return
        with self._write(sync=True) as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS cairn_migrations "
                "(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, applied_at TEXT NOT NULL)"
            )
            for old in renamed:
                conn.execute(
                    "UPDATE cairn_migrations SET name = ? WHERE name = ?", (RENAMED[old], old)
                )
            # Another process may have migrated while we waited for the lock.
            done = {r["name"] for r in conn.execute("SELECT name FROM cairn_migrations")}
            for name, sql in pending:
                if name in done:
                    continue
                for statement in _split(sql):
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO cairn_migrations (name, applied_at) VALUES (?, ?)",
                    (name, datetime.now(UTC).isoformat()),
                )

    def applied_migrations(self) -> list[str]:
        rows = self._conn.execute("SELECT name FROM cairn_migrations ORDER BY id").fetchall()
        return [r["name"] for r in rows]

    # -- transactions ----------------------------------------------------------------------------
    @contextmanager
    def _write(self, *, sync: bool) -> Iterator[sqlite3.Connection]:
        conn = self._conn
        if not sync:
            # Derived data (projection bookkeeping) can be rebuilt, so it skips the fsync.
            conn.execute("PRAGMA synchronous=NORMAL")
        try:
            self._begin_immediate()
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            if not sync:
                conn.execute("PRAGMA synchronous=FULL")

    def _begin_immediate(self) -> None:
        # busy_timeout already waits; this loop covers the rare SQLITE_BUSY that SQLite returns
        # without calling the busy handler (e.g. while a WAL checkpoint restarts the log).
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        delay = 0.001
        while True:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"the store {self.path} stayed locked for {BUSY_TIMEOUT_MS // 1000} s by "
                        "another process; check for a stuck cairn process and retry"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.05)

    def write(self, *, task: str | None = None) -> _Write:
        # One file, one writer at a time: a write scoped to a task takes the whole lock too.
        self._refuse_write()
        return _Write(self, True)

    def light_write(self, *, rows_only: bool = False) -> _Write:
        self._refuse_write()
        return _Write(self, False)

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        conn = self._conn
        try:
            with self._lock:
                conn.execute("BEGIN")
                try:
                    yield self._tx
                finally:
                    conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise _explain(self.path, exc) from exc

    # The names before the contract, kept while other modules call them.
    transaction = write
    light_transaction = light_write

    def integrity_check(self) -> str:
        row = self._conn.execute("PRAGMA integrity_check").fetchone()
        return str(next(iter(row.values()))) if row else "no answer"

    def close(self) -> None:
        self._conn.close()


class _Write:
    """One write transaction as a plain context manager (the write path runs one per call): the
    store's lock, BEGIN IMMEDIATE, then COMMIT (synced unless ``sync`` is off) or ROLLBACK."""

    __slots__ = ("_store", "_sync")

    def __init__(self, store: SQLiteStore, sync: bool) -> None:
        self._store = store
        self._sync = sync

    def __enter__(self) -> Transaction:
        store = self._store
        store._lock.acquire()
        try:
            if not self._sync:
                # Derived data (projection bookkeeping) can be rebuilt, so it skips the fsync.
                store._conn.execute("PRAGMA synchronous=NORMAL")
            try:
                store._begin_immediate()
            except BaseException:
                if not self._sync:
                    store._conn.execute("PRAGMA synchronous=FULL")
                raise
        except sqlite3.DatabaseError as exc:
            store._lock.release()
            raise _explain(store.path, exc) from exc
        except BaseException:
            store._lock.release()
            raise
        return store._tx

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        store = self._store
        conn = store._conn
        try:
            if kind is None:
                conn.execute("COMMIT")
            else:
                conn.execute("ROLLBACK")
        except sqlite3.DatabaseError as err:
            if isinstance(err, sqlite3.IntegrityError):
                raise
            raise _explain(store.path, err) from err
        finally:
            try:
                if not self._sync:
                    conn.execute("PRAGMA synchronous=FULL")
            finally:
                store._lock.release()
        if isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.IntegrityError):
            raise _explain(store.path, exc) from exc


def _split(sql: str) -> list[str]:
    """Split a migration script into statements, keeping trigger bodies whole."""
    out: list[str] = []
    buf = ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
