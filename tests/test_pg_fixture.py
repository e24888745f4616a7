"""The throw-away PostgreSQL server of tests/pg.py is stopped, and its folder removed, however the
test run that started it ends: SIGTERMed, interrupted or SIGKILLed mid-test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pg
from services import need

TESTS = Path(__file__).resolve().parent

# A test run that starts the server, says where its data folder is, and holds it.
_HOLDER = """
import sys, time
sys.path.insert(0, {tests!r})
from pg import pg_server  # noqa: F401 (the fixture)


def test_hold(pg_server):
    with open({mark!r} + ".tmp", "w") as fh:
        fh.write(str(pg_server.data))
    import os
    os.replace({mark!r} + ".tmp", {mark!r})
    time.sleep(300)
"""


def _postgres_of(data: Path) -> list[int]:
    """The pids of processes running ``postgres -D <data>``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a.endswith(b"postgres") for a in argv[:1]) and str(data).encode() in argv:
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_server_stopped_when_the_run_is_killed(tmp_path: Path, sig: signal.Signals) -> None:
    need("PostgreSQL", pg.binaries() is not None, pg.HINT)
    mark = tmp_path / "data-dir"
    test = tmp_path / "test_holder.py"
    test.write_text(_HOLDER.format(tests=str(TESTS), mark=str(mark)))
    env = {k: v for k, v in os.environ.items() if k != pg.ENV_URL}
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        while not mark.exists():
            assert run.poll() is None, "the holding test run ended before its server started"
            assert time.monotonic() < deadline, "the holding test run never started its server"
            time.sleep(0.1)
        data = Path(mark.read_text())
        assert _postgres_of(data), "the server the run said it started is not running"
        run.send_signal(sig)
        run.wait(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    deadline = time.monotonic() + 60
    while (_postgres_of(data) or data.parent.exists()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _postgres_of(data), f"postgres -D {data} outlived the test run ({sig.name})"
    assert not data.parent.exists(), f"the server's folder {data.parent} was left behind"
