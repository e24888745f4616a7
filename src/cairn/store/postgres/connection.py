"""The PostgreSQL store: a connection pool, one write lock for the whole store, committed writes.

Semantics follow the SQLite store, so that the domain sees one contract:

- ``write()`` takes the store's write lock (a transaction-scoped advisory lock) at once, so two
  writers on any number of machines never interleave their read-modify-writes (the areas give ids
  as max + 1 under it), and commits with ``synchronous_commit = on``: when the block ends the
  commit is flushed to the server's WAL.
- ``light_write()`` is the same lock without waiting for the flush (rebuildable bookkeeping).
- ``read()`` is a REPEATABLE READ, READ ONLY snapshot and takes no lock.

A connection the server dropped (restart, network) is discarded: a transaction that had not begun
is retried once on a fresh connection; one that had begun fails with a clear error and the pool
reconnects for the next. Errors at open say in one line what to do.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from cairn.core.errors import StoreError
from cairn.store.base import Transaction
from cairn.store.postgres.areas import AREAS
from cairn.store.postgres.errors import describe, explain_open, safe_url
from cairn.store.postgres.migrations import MIGRATIONS

# pg_advisory_xact_lock keys (any two constants; "cairn" in ASCII, then the store write lock and
# the migration lock).
LOCK_CLASS = 0x636169
WRITE_LOCK = 1
MIGRATE_LOCK = 2
# How long a transaction waits for a connection (a server restarting, a full pool) before failing.
POOL_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10
POOL_MAX = 8

_BEGIN_WRITE = f"BEGIN; SELECT pg_advisory_xact_lock({LOCK_CLASS}, {WRITE_LOCK})"
_BEGIN_LIGHT = (
    f"BEGIN; SET LOCAL synchronous_commit = off; "
    f"SELECT pg_advisory_xact_lock({LOCK_CLASS}, {WRITE_LOCK})"
)
_BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

Conn = psycopg.Connection[dict[str, Any]]


class _Handoff:
    """The connection opened to check the server becomes the pool's first one: a command that opens
    the store pays for one connection set-up, not two."""

    lock: ClassVar[threading.Lock] = threading.Lock()
    waiting: ClassVar[dict[str, list[Conn]]] = {}


class _PoolConnection(psycopg.Connection[dict[str, Any]]):
    @classmethod
    def connect(cls, conninfo: str = "", **kwargs: Any) -> Any:
        with _Handoff.lock:
            ready = _Handoff.waiting.get(conninfo)
            if ready:
                return ready.pop()
        return super().connect(conninfo, **kwargs)


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

    def __init__(self, url: str, *, create: bool = False) -> None:
        self.url = url
        self.where = safe_url(url)
        self._local = threading.local()
        self._txs: weakref.WeakKeyDictionary[Conn, Transaction] = weakref.WeakKeyDictionary()
        self._txs_lock = threading.Lock()
        try:
            first: Conn = _PoolConnection.connect(url, **_kwargs())
        except (psycopg.Error, ValueError) as exc:
            raise explain_open(self.where, exc) from exc
        try:
            self._migrate(first, create=create)
        except BaseException:
            first.close()
            raise
        with _Handoff.lock:
            _Handoff.waiting.setdefault(url, []).append(first)
        self._pool: ConnectionPool[Conn] = ConnectionPool(
            url,
            connection_class=_PoolConnection,
            kwargs=_kwargs(),
            min_size=1,
            max_size=POOL_MAX,
            timeout=POOL_TIMEOUT_S,
            open=True,
            name="cairn",
            num_workers=2,  # they only (re)connect; each is a thread a command starts
        )
        # A store nobody closes (a command leaves its workspace to the garbage collector) still
        # ends its pool's threads and connections, when collected or at exit.
        self._finalizer = weakref.finalize(self, _close_pool, self._pool, url, os.getpid())

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
        with self._pool.connection() as conn:
            return self._applied(conn) or []

    # -- transactions ----------------------------------------------------------------------------
    def _tx(self, conn: Conn) -> Transaction:
        with self._txs_lock:
            tx = self._txs.get(conn)
            if tx is None:
                lazy = {name: partial(make, conn) for name, make in AREAS.items()}
                tx = self._txs[conn] = Transaction({}, lazy=lazy)
            return tx

    @contextmanager
    def _transaction(self, begin: str, what: str) -> Iterator[Transaction]:
        if getattr(self._local, "busy", False):
            # On one connection SQLite refuses a nested BEGIN; here a nested writer would wait
            # for the lock its own outer transaction holds, for ever.
            raise StoreError("a store transaction was opened inside another on the same thread")
        self._local.busy = True
        try:
            with ExitStack() as stack:
                conn = self._begin(stack, begin)
                try:
                    yield self._tx(conn)
                except BaseException:
                    if not conn.broken:
                        conn.execute("ROLLBACK")
                    raise
                try:
                    conn.execute("COMMIT")
                except psycopg.OperationalError as exc:
                    raise StoreError(
                        f"the PostgreSQL store {self.where} went away during a commit "
                        f"({describe(exc)}); this {what} may or may not have been saved: check, "
                        "then retry once the server is back"
                    ) from exc
        except psycopg.OperationalError as exc:
            raise StoreError(
                f"the PostgreSQL store {self.where} went away mid-{what} ({describe(exc)}); "
                f"nothing of this {what} was saved; retry once the server is back"
            ) from exc
        finally:
            self._local.busy = False

    def _begin(self, stack: ExitStack, begin: str) -> Conn:
        """A pooled connection with ``begin`` run on it. One the server dropped while it sat idle
        (a restart) is discarded and the begin retried once on another: nothing had begun."""
        for attempt in (1, 2):
            with ExitStack() as inner:
                try:
                    conn = inner.enter_context(self._pool.connection())
                except PoolTimeout as exc:
                    raise StoreError(
                        f"the PostgreSQL store {self.where} did not answer for "
                        f"{POOL_TIMEOUT_S:.0f} s; check that the server is running and reachable, "
                        "then retry (nothing was written)"
                    ) from exc
                try:
                    conn.execute(begin)
                except psycopg.OperationalError:
                    if attempt == 2 or not conn.broken:
                        raise
                    continue  # leaving ``inner`` hands the broken connection back: discarded
                stack.push(inner.pop_all())
                return conn
        raise AssertionError("unreachable")

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        with self._transaction(_BEGIN_WRITE, "write") as tx:
            yield tx

    @contextmanager
    def light_write(self) -> Iterator[Transaction]:
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


def _close_pool(pool: ConnectionPool[Conn], url: str, pid: int) -> None:
    if os.getpid() != pid:
        # A forked child's copy: its connections are the parent's sessions (closing them would
        # end those) and its threads did not survive the fork. Leave it alone.
        return
    with _Handoff.lock:
        for conn in _Handoff.waiting.pop(url, []):
            conn.close()
    pool.close()
