"""A throw-away PostgreSQL server for the tests: started once per test run in a temporary folder on
127.0.0.1 at an unused port, one fresh database per test, stopped at the end (also on failure).

With ``CAIRN_TEST_PG_URL`` set (an account that may CREATE DATABASE) the tests use that server
instead and start none. The server binaries are Debian's (``/usr/lib/postgresql/N/bin``); as root
they run as the ``postgres`` user, because PostgreSQL refuses to run as root.

Use the ``pg_url`` fixture (``from pg import pg_url``) for a database, ``pg_server`` for the server
itself (to stop and start it).
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from services import need

ENV_URL = "CAIRN_TEST_PG_URL"
PASSWORD = "cairn-test"
HINT = "install PostgreSQL (apt-get install postgresql) or set CAIRN_TEST_PG_URL"


def binaries() -> Path | None:
    """The newest Debian PostgreSQL bin folder with initdb and pg_ctl."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name)
    )
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One PostgreSQL cluster in a temporary folder."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="cairn-pg-"))
        self.data = self.root / "data"
        self.port = 0
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self._as_postgres:
            os.chown(pwfile, pw.pw_uid, pw.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "cairn",
            "--pwfile",
            str(pwfile),
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        self._watchdog = self._start_watchdog()
        self.start()

    def _argv(self, tool: str, *args: str) -> list[str]:
        argv = [str(self.bindir / tool), *args]
        return ["runuser", "-u", "postgres", "--", *argv] if self._as_postgres else argv

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            self._argv(tool, *args), check=True, capture_output=True, timeout=120, cwd=self.root
        )

    def _start_watchdog(self) -> subprocess.Popen[bytes]:
        """A process that stops the server and removes its folder once this test run ends, however
        it ends: it waits for the end of a pipe only this process writes to, which the kernel
        closes when the run exits, is SIGTERMed, interrupted or SIGKILLed (an atexit hook or a
        signal handler would miss the last). In its own session: a Ctrl-C of the run's terminal
        does not reach it."""
        stop = self._argv("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        return subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WATCHDOG,
                str(self.data / "postmaster.pid"),
                str(self.root),
                *stop,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=self.root,
            start_new_session=True,
        )

    def url(self, dbname: str = "postgres", *, password: str = PASSWORD) -> str:
        return f"postgresql://cairn:{password}@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        """Start (again) on a new unused port, or the previous one when it is given back."""
        opts = (
            "-c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=on "
            "-c synchronous_commit=on -c max_connections=200 -c shared_buffers=32MB"
        )
        for _ in range(5):
            port = self.port or _free_port()
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.root / "log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    f"{opts} -p {port}",
                    "start",
                )
                self.port = port
                return
            except subprocess.CalledProcessError:
                self.port = 0  # taken meanwhile: another port
        raise RuntimeError(f"PostgreSQL did not start; see {self.root / 'log'}")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
        if self._watchdog.stdin is not None:
            self._watchdog.stdin.close()  # it finds nothing left to stop, and exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._watchdog.wait(timeout=30)


# The watchdog (argv: the server's postmaster.pid, its folder, then the stop command): blocks until
# the test run's end of the pipe closes, then stops the server if it still runs.
_WATCHDOG = """
import os, shutil, subprocess, sys
pidfile, root, stop = sys.argv[1], sys.argv[2], sys.argv[3:]
sys.stdin.buffer.read()
if os.path.exists(pidfile):
    subprocess.run(stop, capture_output=True, timeout=120, check=False)
shutil.rmtree(root, ignore_errors=True)
"""


_lock = threading.RLock()
_server: Server | None = None
_names = itertools.count(1)


def server() -> Server | None:
    """The run's server, started on first use; None when there are no binaries."""
    global _server
    with _lock:
        if _server is None:
            bindir = binaries()
            if bindir is None:
                return None
            _server = Server(bindir)
            atexit.register(stop)
        return _server


def stop() -> None:
    global _server, _template
    with _lock:
        _template = None
        if _server is not None:
            _server.destroy()
            _server = None


def admin_url() -> str | None:
    if os.environ.get(ENV_URL):
        return os.environ[ENV_URL]
    s = server()
    return s.url() if s else None


def available() -> bool:
    return bool(os.environ.get(ENV_URL)) or binaries() is not None


def _with_db(url: str, dbname: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{dbname}"


def _admin(sql: str) -> None:
    import psycopg

    url = admin_url()
    assert url is not None
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.encode())


_template: str | None = None


def _store_template() -> str:
    """A database holding an empty cairn store, made once per run: copying it is quicker than
    running the migrations in every test."""
    global _template
    with _lock:
        if _template is None:
            from cairn.store import open_store

            name = f"cairn_tmpl{os.getpid()}"
            _admin(f'DROP DATABASE IF EXISTS "{name}"')
            _admin(f'CREATE DATABASE "{name}" TEMPLATE template0')
            url = admin_url()
            assert url is not None
            open_store(_with_db(url, name), create=True).close()
            _template = name
            atexit.register(drop_database, _with_db(url, name))
        return _template


def new_database(*, store: bool = False) -> str:
    """The URL of a new database: empty, or with ``store`` an empty cairn store in it."""
    name = f"cairn_t{os.getpid()}_{next(_names)}_{int(time.time() * 1000) % 100000}"
    template = _store_template() if store else "template0"
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = admin_url()
    assert url is not None
    return _with_db(url, name)


def drop_database(url: str) -> None:
    name = url.rpartition("/")[2]
    with contextlib.suppress(Exception):
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url() -> Iterator[str]:
    need("PostgreSQL", available(), HINT)
    url = new_database()
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def pg_server() -> Server:
    """The run's own server (tests that stop and start it); not available with CAIRN_TEST_PG_URL."""
    need("PostgreSQL", binaries() is not None, HINT)
    s = server()
    assert s is not None
    return s


def statements_sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the calling thread sends on any psycopg connection from now on (a
    background flush runs on a thread of its own and is left out)."""
    import psycopg

    me, seen = threading.get_ident(), []
    real = psycopg.Connection.execute

    def execute(self: object, query: object, *args: object, **kw: object) -> object:
        if threading.get_ident() == me:
            seen.append(str(query))
        return real(self, query, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(psycopg.Connection, "execute", execute)
    return seen


def apply_migrations_before(conn: object, before: str) -> list[str]:
    """Bring an empty database (``conn``: a psycopg connection in autocommit) to the schema an
    older cairn left, every PostgreSQL migration named below ``before``; their names."""
    from datetime import UTC, datetime

    from cairn.store.postgres.migrations import MIGRATIONS

    older = [(name, sql) for name, sql in MIGRATIONS if name < before]
    assert any(n.startswith(before) for n, _ in MIGRATIONS), f"no migration {before}"
    run = conn.execute  # type: ignore[attr-defined]
    run(
        "CREATE TABLE cairn_migrations (id BIGSERIAL PRIMARY KEY, "
        "name TEXT NOT NULL UNIQUE, applied_at TEXT NOT NULL)"
    )
    for name, sql in older:
        run(sql.encode())
        run(
            "INSERT INTO cairn_migrations (name, applied_at) VALUES (%s, %s)",
            (name, datetime.now(UTC).isoformat()),
        )
    return [name for name, _ in older]
