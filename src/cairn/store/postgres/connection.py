"""The PostgreSQL store: a connection pool, write locks, committed writes.

Semantics follow the SQLite store, so that the domain sees one contract:

- ``write()`` takes the store's write lock (a transaction-scoped advisory lock) at once, so two
  writers on any number of machines never interleave their read-modify-writes (the areas give ids
  as max + 1 under it), and commits with ``synchronous_commit = on``: when the block ends the
  commit is flushed to the server's WAL.
- ``write(task=T)`` is a write that touches only task T's rows and appends to the journal (a
  checkpoint): it holds the store lock *shared* and T's own lock, so writers of different tasks
  run at once; the journal's ids are given under a journal lock taken at the append (the last
  statement of such a write) and held to the commit, so they still grow in commit order. Writes
  of one task still take turns, and a plain ``write()`` still excludes every other writer.
- ``light_write()`` is the store lock without waiting for the flush (rebuildable bookkeeping);
  ``light_write(rows_only=True)`` holds it shared, for rows named by key (projection stats,
  lease renewals), so that a projection flush or a renewal never stops the writers.
- ``read()`` is a REPEATABLE READ, READ ONLY snapshot and takes no lock.

BEGIN, the locks and every statement whose result nobody reads are sent with the next statement
that is read (``batch.py``), so a write costs a round trip per result it needs plus the COMMIT,
not one per statement; a transaction that sent nothing ends with nothing. A checkpoint write is
one server-side call that takes its own locks (migration 0006), sent alone and committed by the
server with it: one round trip in all (``checkpoints.py``, ``TxConn.whole``).

A pooled connection the server dropped while idle (a restart) is seen before use (its socket has
the server's goodbye or EOF waiting) and replaced; one that drops during a transaction fails it
with a clear error, and the pool reconnects for the next. Errors at open say in one line what to
do.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import weakref
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

if TYPE_CHECKING:
    from psycopg_pool import ConnectionPool

from cairn.core.errors import StoreError
from cairn.store.base import Transaction
from cairn.store.postgres.areas import AREAS
from cairn.store.postgres.batch import TxConn
from cairn.store.postgres.errors import describe, explain_open, safe_url
from cairn.store.postgres.locks import (
    LOCK_CLASS,
    MIGRATE_LOCK,
    ROWS,
    TASK_CLASS,
    WRITE_LOCK,
    task_lock_key,
)
from cairn.store.postgres.migrations import MIGRATIONS

# How long a transaction waits for a connection (a server restarting, a full pool) before failing.
POOL_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10
POOL_MAX = 8

_LOCK_STORE = f"SELECT pg_advisory_xact_lock({LOCK_CLASS}, {WRITE_LOCK})"
_BEGIN_WRITE = f"BEGIN; {_LOCK_STORE}"
_BEGIN_LIGHT = f"BEGIN; SET LOCAL synchronous_commit = off; {_LOCK_STORE}"
_BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
_BEGIN_TASK = "BEGIN"
# Rows named by key only (projection stats, lease renewals): beside any other shared holder.
_BEGIN_ROWS = (
    "BEGIN; SET LOCAL synchronous_commit = off; "
    f"SELECT pg_advisory_xact_lock_shared({LOCK_CLASS}, {WRITE_LOCK})"
)


@lru_cache(maxsize=1024)
def _lock_task(task_id: str) -> str:
    """The store lock shared and the task's own (its key a literal, no parameter)."""
    return (
        f"pg_advisory_xact_lock_shared({LOCK_CLASS}, {WRITE_LOCK}), "
        f"pg_advisory_xact_lock({TASK_CLASS}, {task_lock_key(task_id)})"
    )


Conn = psycopg.Connection[dict[str, Any]]
_IDLE = TransactionStatus.IDLE


class _Conns:
    """The store's connections. The one opened to check the server serves every transaction
    while it is free: a command runs one at a time and needs no pool (nor the import of
    psycopg_pool, nor its threads). A second thread that wants one meanwhile gets it from a
    pool, made then, that also replaces a direct connection the server dropped."""

    def __init__(self, url: str, first: Conn) -> None:
        self.url = url
        self.pid = os.getpid()
        self.direct: Conn | None = first
        self.busy = False
        self.pool: ConnectionPool[Conn] | None = None
        self.lock = threading.Lock()

    def take_direct(self) -> Conn | None:
        with self.lock:
            conn = self.direct
            if conn is None or self.busy:
                return None
            if _dropped(conn):
                conn.close()
                self.direct = None
                return None
            self.busy = True
            return conn

    def give_back(self, conn: Conn) -> None:
        with self.lock:
            self.busy = False
            if conn.closed or conn.broken or conn.pgconn.transaction_status != _IDLE:
                with contextlib.suppress(Exception):
                    conn.close()
                self.direct = None

    def the_pool(self) -> ConnectionPool[Conn]:
        with self.lock:
            if self.pool is None:
                from psycopg_pool import ConnectionPool

                self.pool = ConnectionPool(
                    self.url,
                    kwargs=_kwargs(),
                    min_size=1,
                    max_size=POOL_MAX,
                    timeout=POOL_TIMEOUT_S,
                    open=True,
                    name="cairn",
                    num_workers=2,  # they only (re)connect; each is a thread
                )
            return self.pool

    def close(self) -> None:
        if os.getpid() != self.pid:
            # A forked child's copy: its connections are the parent's sessions (closing them
            # would end those) and its threads did not survive the fork. Leave it alone.
            return
        with self.lock:
            direct, self.direct = self.direct, None
            pool, self.pool = self.pool, None
        if direct is not None:
            direct.close()
        if pool is not None:
            pool.close()


def _kwargs() -> dict[str, Any]:
    return {
        "autocommit": True,  # the store writes BEGIN / COMMIT itself
        "row_factory": dict_row,
        "connect_timeout": CONNECT_TIMEOUT_S,
        # Durable means flushed before COMMIT returns, whatever the server's default says.
        "options": "-c synchronous_commit=on",
        "application_name": "cairn",
    }


class PostgresStore:
    dialect = "postgresql"
    # Threads may share it: each transaction takes a pooled connection of its own (the
    # projector's background flush relies on it).
    threads_share = True

    def __init__(self, url: str, *, create: bool = False) -> None:
        self.url = url
        self.where = safe_url(url)
        self._local = threading.local()
        self._txs: weakref.WeakKeyDictionary[Conn, tuple[Transaction, TxConn]] = (
            weakref.WeakKeyDictionary()
        )
        self._txs_lock = threading.Lock()
        try:
            first: Conn = psycopg.Connection.connect(url, **_kwargs())
        except (psycopg.Error, ValueError) as exc:
            raise explain_open(self.where, exc) from exc
        try:
            self._migrate(first, create=create)
        except BaseException:
            first.close()
            raise
        self._conns = _Conns(url, first)
        self._finalizer = weakref.finalize(self, self._conns.close)

    # -- migrations ------------------------------------------------------------------------------
    def _migrate(self, conn: Conn, *, create: bool) -> None:
        known = [name for name, _ in MIGRATIONS]
        try:
            applied = self._applied(conn)
            if applied is None:
                if not create:
                    other = conn.execute(
                        "SELECT count(*) AS n FROM pg_tables WHERE schemaname = current_schema()"
                    ).fetchone()
                    if other and other["n"]:
                        raise StoreError(
                            f"the database {self.where} holds tables but is not a cairn store; "
                            "point [store] url at an empty database or a cairn store"
                        )
                    raise StoreError(
                        f"no cairn store in the database {self.where}; run "
                        "`cairn init --store URL` to create it there"
                    )
                applied = []
            unknown = [a for a in applied if a not in known]
            if unknown:
                raise StoreError(
                    f"the store {self.where} was written by a newer cairn (migration "
                    f"{unknown[-1]!r}); upgrade cairn (`pip install -U cairn-agent`) to use it; "
                    "nothing was changed"
                )
            if all(name in applied for name in known):
                return
            conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({LOCK_CLASS}, {MIGRATE_LOCK})")
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS cairn_migrations (id BIGSERIAL PRIMARY KEY, "
                    "name TEXT NOT NULL UNIQUE, applied_at TEXT NOT NULL)"
                )
                # Another machine may have migrated while this one waited for the lock.
                done = {r["name"] for r in conn.execute("SELECT name FROM cairn_migrations")}
                for name, sql in MIGRATIONS:
                    if name in done:
                        continue
                    conn.execute(sql.encode())  # a script: several statements, no parameters
                    conn.execute(
                        "INSERT INTO cairn_migrations (name, applied_at) VALUES (%s, %s)",
                        (name, datetime.now(UTC).isoformat()),
                    )
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except psycopg.Error as exc:
            raise StoreError(f"the store {self.where} cannot be used: {describe(exc)}") from exc

    @staticmethod
    def _applied(conn: Conn) -> list[str] | None:
        """The migrations applied, or None when the database has no store (one round trip on
        the path every command takes; the connection is in autocommit, so the error leaves no
        aborted transaction behind)."""
        try:
            rows = conn.execute("SELECT name FROM cairn_migrations ORDER BY id").fetchall()
        except psycopg.errors.UndefinedTable:
            return None
        return [r["name"] for r in rows]

    def applied_migrations(self) -> list[str]:
        with ExitStack() as stack:
            return self._applied(self._checkout(stack)) or []

    # -- transactions ----------------------------------------------------------------------------
    def _tx(self, conn: Conn) -> tuple[Transaction, TxConn]:
        with self._txs_lock:
            got = self._txs.get(conn)
            if got is None:
                txc = TxConn(conn)
                lazy = {name: partial(make, txc) for name, make in AREAS.items()}
                got = self._txs[conn] = (Transaction({}, lazy=lazy), txc)
            return got

    @contextmanager
    def _transaction(
        self, begin: str, what: str, scope: str | None = None
    ) -> Iterator[Transaction]:
        if getattr(self._local, "busy", False):
            # On one connection SQLite refuses a nested BEGIN; here a nested writer would wait
            # for the lock its own outer transaction holds, for ever.
            raise StoreError("a store transaction was opened inside another on the same thread")
        self._local.busy = True
        txc: TxConn | None = None
        try:
            with ExitStack() as stack:
                conn = self._checkout(stack)
                tx, txc = self._tx(conn)
                if scope is not None and scope != ROWS:
                    begin += f"; SELECT {_lock_task(scope)}"
                txc.begin(begin, scope)
                try:
                    yield tx
                except BaseException:
                    if conn.broken:
                        txc.drop()
                    else:
                        txc.end("ROLLBACK")
                    raise
                try:
                    txc.end("COMMIT")
                except psycopg.OperationalError as exc:
                    txc.drop()
                    raise StoreError(
                        f"the PostgreSQL store {self.where} went away during a commit "
                        f"({describe(exc)}); this {what} may or may not have been saved: check, "
                        "then retry once the server is back"
                    ) from exc
                except BaseException:
                    # A held-back statement failed: the server aborted the transaction.
                    if not conn.broken:
                        conn.execute("ROLLBACK")
                    raise
        except psycopg.OperationalError as exc:
            if txc is not None and txc.commit_sent:
                # The statement went with its commit (TxConn.whole) and the answer was lost.
                raise StoreError(
                    f"the PostgreSQL store {self.where} went away during a {what} and its commit "
                    f"({describe(exc)}); this {what} may or may not have been saved: check, "
                    "then retry once the server is back"
                ) from exc
            raise StoreError(
                f"the PostgreSQL store {self.where} went away mid-{what} ({describe(exc)}); "
                f"nothing of this {what} was saved; retry once the server is back"
            ) from exc
        finally:
            self._local.busy = False

    def _checkout(self, stack: ExitStack) -> Conn:
        """A pooled connection that is still open. One the server dropped while it sat idle (a
        restart) has the server's goodbye or an EOF waiting on its socket: it is discarded and
        another taken, nothing having begun; seeing so costs no round trip."""
        direct = self._conns.take_direct()
        if direct is not None:
            stack.callback(self._conns.give_back, direct)
            return direct
        from psycopg_pool import PoolTimeout

        pool = self._conns.the_pool()
        for _ in range(POOL_MAX + 1):
            with ExitStack() as inner:
                try:
                    conn = inner.enter_context(pool.connection())
                except PoolTimeout as exc:
                    raise StoreError(
                        f"the PostgreSQL store {self.where} did not answer for "
                        f"{POOL_TIMEOUT_S:.0f} s; check that the server is running and reachable, "
                        "then retry (nothing was written)"
                    ) from exc
                if _dropped(conn):
                    conn.close()  # leaving ``inner`` hands it back: the pool replaces it
                    continue
                stack.push(inner.pop_all())
                return conn
        raise StoreError(
            f"the PostgreSQL store {self.where} keeps dropping its connections; check the server"
        )

    @contextmanager
    def write(self, *, task: str | None = None) -> Iterator[Transaction]:
        with self._transaction(_BEGIN_WRITE if task is None else _BEGIN_TASK, "write", task) as tx:
            yield tx

    @contextmanager
    def light_write(self, *, rows_only: bool = False) -> Iterator[Transaction]:
        if rows_only:
            with self._transaction(_BEGIN_ROWS, "write", ROWS) as tx:
                yield tx
            return
        with self._transaction(_BEGIN_LIGHT, "write") as tx:
            yield tx

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        with self._transaction(_BEGIN_READ, "read") as tx:
            yield tx

    transaction = write
    light_transaction = light_write

    def integrity_check(self) -> str:
        """ "ok" when the server answers and every migration this cairn knows is applied."""
        applied = self.applied_migrations()
        missing = [name for name, _ in MIGRATIONS if name not in applied]
        return "ok" if not missing else f"migrations not applied: {', '.join(missing)}"

    def close(self) -> None:
        self._finalizer()


def _dropped(conn: Conn) -> bool:
    """Whether an idle connection was closed by the server. Nothing is due on an idle pooled
    connection (none LISTENs), so anything readable on its socket is the server's goodbye or
    EOF; should it be a stray notice, replacing the connection costs one connect, nothing else."""
    if conn.closed or conn.broken:
        return True
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return True
    return bool(readable)
