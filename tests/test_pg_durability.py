"""The PostgreSQL store against a real server: writers SIGKILLed at random instants (the same
harness and checks as the SQLite trials), and the server stopped and restarted under a writer.

``bench/pg_kill_bench.py`` runs the kill trials 1,000 times.
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import pytest

from cairn.core.errors import StoreError
from cairn.domain.workspace import Workspace
from helpers.durability import run_kill_trials
from pg import Server, drop_database, new_database

KILL_TRIALS = int(os.environ.get("CAIRN_PG_KILL_TRIALS", "110"))


def test_sigkill_at_random_instants_loses_nothing(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAIRN_KILL_PRELOAD", "cairn.store.postgres")
    seed = int(os.environ.get("CAIRN_KILL_SEED", random.randrange(1 << 30)))
    made: list[str] = []

    def store() -> str:
        made.append(new_database())
        return made[-1]

    try:
        tally = run_kill_trials(tmp_path, KILL_TRIALS, seed=seed, max_delay=0.01, store=store)
    finally:
        for url in made:
            drop_database(url)
    report = f"seed {seed} (rerun with CAIRN_KILL_SEED={seed}): {tally.summary()}"
    assert tally.trials == KILL_TRIALS >= 100, report
    assert tally.clean, (
        report,
        tally.lost[:5],
        tally.duplicated[:5],
        tally.torn[:5],
        tally.problems[:5],
    )
    assert tally.acknowledged > KILL_TRIALS, report
    assert tally.stale_artifacts > 0, report  # kills landed between commit and projection


def _checkpoints(ws: Workspace) -> dict[int, str]:
    with ws.store.read() as tx:
        return {r.version: r.hash for r in tx.checkpoints.history("t", "plan")}


def test_a_server_restart_fails_the_write_in_flight_and_loses_nothing(
    tmp_path: Path, pg_server: Server
) -> None:
    url = new_database()
    try:
        ws = Workspace.init(tmp_path, store=url)
        ws.create_task("t", phases=["a"])
        acked: dict[int, str] = {}
        errors: list[str] = []
        stop = threading.Event()

        def writer() -> None:
            i = 0
            while not stop.is_set():
                try:
                    cp = ws.write_checkpoint("t", "plan", f"# plan {i}\n")
                    acked[cp.version] = cp.hash
                except StoreError as exc:
                    errors.append(str(exc))
                i += 1

        # A write in flight when the server goes: its transaction has begun and holds a row.
        with pytest.raises(StoreError) as failed, ws.store.write() as tx:
            tx.events.append("t", "in.flight", "2026-01-01T00:00:00.000Z", {})
            pg_server.stop("fast")
            tx.events.append("t", "in.flight", "2026-01-01T00:00:00.000Z", {})
        message = str(failed.value)
        assert "went away" in message and "retry once the server is back" in message, message
        assert "cairn-test" not in message  # never the password
        pg_server.start()

        def until(n: int, timeout: float = 60.0) -> None:
            # By count, not by time: under a loaded machine a second may hold few writes.
            deadline = time.monotonic() + timeout
            while len(acked) < n and time.monotonic() < deadline and thread.is_alive():
                time.sleep(0.01)

        thread = threading.Thread(target=writer)
        thread.start()
        until(10)
        pg_server.stop("fast")  # under a writer that keeps writing
        time.sleep(0.5)
        before = len(acked)
        pg_server.start()
        until(before + 10)  # writes acknowledged after the server came back
        stop.set()
        thread.join(timeout=120)
        assert not thread.is_alive()
        for e in errors:  # the writes that failed said why, in a line
            assert "PostgreSQL store" in e and "\n" not in e, e

        # The next write after the server returned works, and nothing acknowledged is lost.
        cp = ws.write_checkpoint("t", "plan", "# after\n")
        acked[cp.version] = cp.hash
        with ws.store.read() as tx:
            assert tx.events.count(task_id="t", types=["in.flight"]) == 0
        stored = _checkpoints(ws)
        assert {v: stored.get(v) for v in acked} == acked
        assert len(set(stored.values())) == len(stored)  # no version stored twice
        assert len(acked) > 20
        ws.close()
    finally:
        drop_database(url)
