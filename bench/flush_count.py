"""What one projection flush costs after one library write: store transactions, statements (round
trips on PostgreSQL), file writes and the flushing thread's CPU, on SQLite and on PostgreSQL.

The flush is the one the background thread runs about 50 ms after a write (projection/projector.py);
here it is called in the caller's thread (``ws.flush()`` with the background timer off), so that
the counters see it alone. Each round: one ``write_checkpoint``, then the counted flush. The
PostgreSQL server is a throw-away one (tests/pg.py), or CAIRN_TEST_PG_URL's; without one only
SQLite is measured.

    .venv/bin/python bench/flush_count.py [--flushes 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

from benchlib import load, payload  # noqa: E402


class Counts:
    def __init__(self) -> None:
        self.on = False
        self.tx = 0
        self.statements = 0
        self.files = 0

    def count_tx(
        self, real: Callable[..., AbstractContextManager[Any]]
    ) -> Callable[..., AbstractContextManager[Any]]:
        @contextmanager
        def counted(*a: Any, **k: Any) -> Iterator[Any]:
            if self.on:
                self.tx += 1
            with real(*a, **k) as tx:
                yield tx

        return counted


def measure(ws: Any, flushes: int, counts: Counts) -> dict[str, float]:
    store = ws.store
    for name in ("read", "write", "light_write"):
        setattr(store, name, counts.count_tx(getattr(store, name)))
    real_replace = os.replace

    def replace(*a: Any, **k: Any) -> None:
        if counts.on:
            counts.files += 1
        real_replace(*a, **k)

    ws.projector.background = False  # flushed below, in this thread, where the counters look
    ws.create_task("bench", "flush cost", ["work"])
    ws.start_phase("bench", "work")
    text = payload()
    cpu: list[float] = []
    os.replace = replace  # type: ignore[assignment]
    try:
        for i in range(flushes):
            ws.write_checkpoint("bench", "benchwrite", f"{text[:-13]}{i:012d}\n")
            counts.on = True
            c0 = time.thread_time()
            ws.flush()
            cpu.append(time.thread_time() - c0)
            counts.on = False
    finally:
        os.replace = real_replace  # type: ignore[assignment]
    return {
        "transactions": counts.tx / flushes,
        "statements": counts.statements / flushes,
        "file_writes": counts.files / flushes,
        "cpu_ms": statistics.median(cpu) * 1000,
        "cpu_mean_ms": statistics.fmean(cpu) * 1000,
    }


def sqlite_case(base: Path, flushes: int) -> dict[str, float]:
    from cairn.domain.workspace import Workspace

    counts = Counts()
    (base / "sqlite").mkdir()
    ws = Workspace.init(base / "sqlite")
    conn = ws.store._conn  # the statements the flush sends, BEGIN and COMMIT included

    def trace(_sql: str) -> None:
        if counts.on:
            counts.statements += 1

    conn.set_trace_callback(trace)
    try:
        return measure(ws, flushes, counts)
    finally:
        conn.set_trace_callback(None)
        ws.close()


def pg_case(base: Path, flushes: int) -> dict[str, float] | None:
    import pg  # tests/pg.py: the throw-away server

    if not pg.available():
        return None
    import psycopg

    from cairn.domain.workspace import Workspace

    url = pg.new_database()
    counts = Counts()
    real = psycopg.Connection.execute

    def counting(self: Any, *a: Any, **k: Any) -> Any:
        if counts.on:
            counts.statements += 1
        return real(self, *a, **k)

    psycopg.Connection.execute = counting  # type: ignore[method-assign]
    try:
        (base / "pg").mkdir()
        ws = Workspace.init(base / "pg", store=url)
        try:
            return measure(ws, flushes, counts)
        finally:
            ws.close()
    finally:
        psycopg.Connection.execute = real  # type: ignore[method-assign]
        pg.drop_database(url)
        pg.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flushes", type=int, default=200)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="cairn-flush-count-"))
    try:
        out: dict[str, Any] = {"sqlite": sqlite_case(base, args.flushes)}
        out["postgres"] = pg_case(base, args.flushes)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"per flush after one write, {args.flushes} flushes; load {load()}")
    for name, fig in out.items():
        if fig is None:
            print(f"  {name:9s} (no server)")
            continue
        print(
            f"  {name:9s} transactions {fig['transactions']:5.1f}  statements "
            f"{fig['statements']:5.1f}  file writes {fig['file_writes']:4.1f}  CPU "
            f"{fig['cpu_ms']:6.2f} ms (median; mean {fig['cpu_mean_ms']:.2f})"
        )
    if args.json:
        print(json.dumps(out))


if __name__ == "__main__":
    main()
