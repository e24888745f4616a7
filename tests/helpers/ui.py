"""What the dashboard's tests and its benchmark share: a store of many tasks made fast through
the store contract, and a real ``cairn ui`` process on a free loopback port."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PHASES = ("analysis", "plan", "implement", "test")


def generate_tasks(root: Path, n: int) -> None:
    """``n`` tasks of four phases in one durable write: a quarter done, some active, one failed in
    fifty, the rest pending, each with a next action."""
    from cairn.domain.workspace import Workspace

    with Workspace.open(root, listeners=()) as ws, ws.store.write() as tx:
        for i in range(n):
            ts = f"2026-01-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}.000Z"
            tid = f"t{i:05d}"
            tx.tasks.create(tid, f"Generated task {i}", ts)
            for name in PHASES:
                tx.tasks.add_phase(tid, name, gated=False)
            if i % 4 == 0:
                for name in PHASES:
                    tx.tasks.set_phase_state(tid, name, "active", ts)
                    tx.tasks.set_phase_state(tid, name, "done", ts)
            elif i % 50 == 1:
                tx.tasks.set_phase_state(tid, "analysis", "active", ts)
                tx.tasks.set_phase_state(tid, "analysis", "failed", ts, "ValueError: generated")
            elif i % 10 == 2:
                tx.tasks.set_phase_state(tid, "analysis", "active", ts)
            tx.tasks.set_next_action(tid, f"step {i}", ts)


@contextmanager
def running_ui(root: Path, *extra: str, timeout: float = 30.0) -> Iterator[str]:
    """A ``cairn ui`` process serving ``root`` on a free port; yields its address and stops it
    (also when the test fails)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cairn", "-C", str(root), "ui", "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + timeout
        line = ""
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line or proc.poll() is not None:
                break
        m = re.search(r"(http://\S+)", line)
        if m is None:
            err = proc.stderr.read() if proc.stderr and proc.poll() is not None else ""
            raise RuntimeError(f"cairn ui did not start: {line!r} {err}")
        yield m.group(1)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
