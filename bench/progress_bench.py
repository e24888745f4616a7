"""Progress steps as they pile up: per-step time early and late, and the store's size, one run.

Records ``--steps`` steps (default 100,000) on one task with the default library call
``Workspace.progress`` (each durable when it returns) and prints the median time per step of the
first and the last ``--window`` steps (default 1,000) side by side, and the store's size at ten
points with the bytes per step. Targets (issue 9): the last window within 1.5x the first, and the
size linear in the steps (bytes per step flat).

    .venv/bin/python bench/progress_bench.py [--steps 100000] [--window 1000] [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from benchlib import load

TARGET = 1.5


def store_bytes(db: Path) -> int:
    """The store's logical size (pages in use, WAL included), as another reader sees it."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    finally:
        conn.close()
    return int((pages - free) * size)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--window", type=int, default=1000)
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = ap.parse_args()
    window = min(args.window, max(1, args.steps // 10))
    from cairn.domain.workspace import Workspace

    base = Path(tempfile.mkdtemp(prefix="cairn-progress-bench-"))
    try:
        ws = Workspace.init(base)
        ws.create_task("long", "a long run", ["work"])
        ws.start_phase("long", "work")
        db = base / ".cairn" / "cairn.db"
        start_size = store_bytes(db)
        times: list[float] = []
        cpu: list[float] = []  # this thread's CPU time per step: the work, apart from the load
        sizes: list[tuple[int, int]] = []
        marks = {max(1, args.steps * k // 10) for k in range(1, 11)}
        t_start = time.perf_counter()
        for i in range(1, args.steps + 1):
            state = "active" if i % 100 == 0 else "done"
            t0, c0 = time.perf_counter(), time.thread_time()
            ws.progress("long", f"step {i}: ran the next part of the suite", state)
            times.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
            if i in marks:
                sizes.append((i, store_bytes(db) - start_size))
        total = time.perf_counter() - t_start
        flush = getattr(ws, "flush", None)
        if flush is not None:
            flush()
        ws.close()
        first = statistics.median(times[:window]) * 1000
        last = statistics.median(times[-window:]) * 1000
        cpu_first = statistics.median(cpu[:window]) * 1000
        cpu_last = statistics.median(cpu[-window:]) * 1000
        print(f"{args.steps:,} steps on one task in {total:.1f} s ({load()})")
        print(f"{'':<34}{'median ms/step':>15}{'ratio':>8}{'CPU ms/step':>13}{'ratio':>8}")
        print(
            f"{f'first {window:,} steps':<34}{first:>15.3f}{1:>7.2f}x{cpu_first:>13.3f}{1:>7.2f}x"
        )
        print(
            f"{f'last {window:,} steps':<34}{last:>15.3f}{last / first:>7.2f}x"
            f"{cpu_last:>13.3f}{cpu_last / cpu_first:>7.2f}x"
        )
        print(f"\n{'steps':>10}{'store MB':>10}{'bytes/step':>12}")
        for n, size in sizes:
            print(f"{n:>10,}{size / 1e6:>10.2f}{size / n:>12,.0f}")
        per = [size / n for n, size in sizes]
        growth = per[-1] / per[0] if per and per[0] else float("nan")
        ok = last <= TARGET * first
        print(
            f"\ntargets: last window <= {TARGET}x the first: {'met' if ok else 'MISSED'} "
            f"({last / first:.2f}x; CPU {cpu_last / cpu_first:.2f}x); bytes per step, last point / first point: {growth:.2f} "
            "(1.0 is linear)"
        )
        if args.json:
            print(json.dumps({"first_ms": first, "last_ms": last, "sizes": sizes}))
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
