"""What a poller and a lease keeper cost: ``tx.meta.change_token()`` (one query, the dashboard's
poll) against its floor (a bare ``SELECT max(id) FROM events`` on the same connection), and one
renewal tick of 10 leases (one unsynced write) against the floor of an empty unsynced write, on
SQLite, and on PostgreSQL when ``CAIRN_BENCH_PG_URL`` names a database that may be filled.

    .venv/bin/python bench/lease_bench.py [--events 20000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cairn.store.base import Store
from cairn.store.factory import open_store

TS = "2026-01-01T00:00:00.000Z"


def _median_us(fn: Callable[[], object], runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(times)


def _fill(store: Store, events: int) -> None:
    with store.write() as tx:
        for i in range(events):
            tx.events.append(None, "bench", TS, {"i": i})
        for i in range(50):
            tx.leases.acquire(f"phase:t/{i}", f"run:{i}", host="m1", pid=1, ttl_s=30)


def _measure(name: str, store: Store, floor_sql: Callable[[Any], object], runs: int) -> None:
    def token() -> object:
        with store.read() as tx:
            return tx.meta.change_token()

    def floor() -> object:
        with store.read() as tx:
            return floor_sql(tx)

    held = [(f"phase:t/{i}", f"run:{i}") for i in range(10)]

    def renew() -> object:
        with store.light_write() as tx:
            return tx.leases.renew(held, 30)

    def empty_write() -> object:
        with store.light_write():
            return None

    t, f = _median_us(token, runs), _median_us(floor, runs)
    r, e = _median_us(renew, runs // 4), _median_us(empty_write, runs // 4)
    print(f"{name}: change_token {t:.0f} µs vs floor {f:.0f} µs ({t / f:.2f}x)")
    print(f"{name}: renew 10 leases {r:.0f} µs vs an empty light write {e:.0f} µs ({r / e:.2f}x)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=400)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "cairn.db", create=True)
        _fill(store, args.events)
        conn = store._conn  # type: ignore[attr-defined]
        _measure(
            f"sqlite ({args.events} events)",
            store,
            lambda _tx: conn.execute("SELECT max(id) FROM events").fetchone(),
            args.runs,
        )
        store.close()
    url = os.environ.get("CAIRN_BENCH_PG_URL")
    if url:
        pg = open_store(url, create=True)
        _fill(pg, args.events)

        _measure(
            f"postgresql ({args.events} events)", pg, lambda tx: tx.events.last_id(), args.runs
        )
        pg.close()
    else:
        print("postgresql: set CAIRN_BENCH_PG_URL to an empty database to measure it too")


if __name__ == "__main__":
    main()
