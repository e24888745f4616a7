"""What the core benchmarks share: fresh-process timing, the SQLite floor, quick fixtures.

Not a benchmark itself; ``write_bench.py``, ``startup_bench.py`` and ``progress_bench.py`` import it.
"""

from __future__ import annotations

import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def cli_command() -> list[str]:
    script = Path(sys.executable).with_name("cairn")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cairn"]


def child_env() -> dict[str, str]:
    """Child environment with bytecode caching on (in a private folder), as an installed cairn has:
    some sandboxes set PYTHONDONTWRITEBYTECODE, which would make every run recompile cairn."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "cairn-bench-pycache")
    return env


def time_processes(
    commands: dict[str, tuple[list[str], bytes | None]], cwd: Path, runs: int
) -> dict[str, tuple[float, float, float]]:
    """Median wall, 90th percentile wall and median CPU time (ms) of fresh processes per command.

    The commands take turns (one run of each, then the next round), so that a change in the
    machine's load hits them all alike rather than whichever ran during it."""
    env = child_env()
    for cmd, stdin in commands.values():  # warm the bytecode and page caches
        for _ in range(2):
            subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, check=False, env=env)
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (cmd, stdin) in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            out = subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, env=env)
            wall[name].append((time.perf_counter() - t0) * 1000)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(
                (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
            )
            if out.returncode != 0:
                raise SystemExit(f"{' '.join(cmd)} failed: {out.stderr.decode()[-500:]}")
    result = {}
    for name in commands:
        times = sorted(wall[name])
        result[name] = (
            statistics.median(times),
            times[max(0, int(len(times) * 0.9) - 1)],
            statistics.median(cpu[name]),
        )
    return result


class SQLiteFloor:
    """The floor for a durable write: an INSERT + COMMIT of the same bytes on the same disk,
    WAL, synchronous=FULL, one connection kept open."""

    def __init__(self, folder: Path) -> None:
        self.db = folder / "floor.db"
        self.conn = sqlite3.connect(self.db, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, content TEXT)")

    def write(self, text: str) -> float:
        t0 = time.perf_counter()
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("INSERT INTO t (content) VALUES (?)", (text,))
        self.conn.execute("COMMIT")
        return time.perf_counter() - t0

    def close(self) -> None:
        self.conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.db}{suffix}").unlink(missing_ok=True)


def unsynced(ws: Any) -> None:
    """Skip the fsync for the rest of this connection's life: for building fixtures only, never
    for a timed write (the store sets synchronous=FULL when it opens)."""
    conn = getattr(ws.store, "_conn", None)
    if conn is not None:
        conn.execute("PRAGMA synchronous=OFF")


def payload(size: int = 2048) -> str:
    line = "checkpoint line with some text, 0123456789 "
    return (line * (size // len(line) + 1))[: size - 1] + "\n"


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
