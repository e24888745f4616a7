"""1,000 SIGKILL trials against the PostgreSQL store: the harness and checks of kill_bench.py.

Each trial forks a writer on a workspace whose store is a PostgreSQL database (checkpoints, progress
steps, next actions, recoveries through the library; an acknowledgement line appended after each
call returns), SIGKILLs it after a random delay, and checks straight from the database: every
acknowledged write present (else *lost*), none stored twice (*duplicated*), every version whole
(*torn*), and after the next command the readable tree equal to the store's newest.

The server is a throw-away one started for the run in a temporary folder (tests/pg.py), or the one
CAIRN_TEST_PG_URL names (an account that may CREATE DATABASE).

Usage: ``python bench/pg_kill_bench.py [--trials 1000] [--seed N] [--max-delay 0.01]``
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS / "helpers"))
sys.path.insert(0, str(TESTS))

from durability import run_kill_trials  # noqa: E402

import pg  # noqa: E402  (tests/pg.py: the throw-away server)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--max-delay", type=float, default=0.01, help="seconds after an ack to kill")
    ap.add_argument("--per-database", type=int, default=25, help="trials per workspace/database")
    args = ap.parse_args()
    if not pg.available():
        raise SystemExit(f"no PostgreSQL here: {pg.HINT}")
    os.environ["CAIRN_KILL_PRELOAD"] = "cairn.store.postgres"
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    base = Path(tempfile.mkdtemp(prefix="cairn-pg-kill-"))
    made: list[str] = []

    def store() -> str:
        made.append(pg.new_database())
        return made[-1]

    start = time.perf_counter()
    try:
        tally = run_kill_trials(
            base,
            args.trials,
            seed=seed,
            max_delay=args.max_delay,
            trials_per_workspace=args.per_database,
            store=store,
        )
    finally:
        for url in made:
            pg.drop_database(url)
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)
    took = time.perf_counter() - start
    print(f"PostgreSQL store, seed {seed}, {took:.0f} s, {len(made)} databases")
    print(f"{'trials':<46}{tally.trials:>8}")
    print(f"{'acknowledged writes':<46}{sum(tally.unique_writes.values()):>8}")
    print(f"{'acknowledgement checks (each write, every trial)':<46}{tally.acknowledged:>8}")
    print(f"{'kills that left a stale artifact (repaired)':<46}{tally.stale_artifacts:>8}")
    print(f"{'kills that left a temporary file (removed)':<46}{tally.temp_files:>8}")
    print(f"{'lost':<46}{len(tally.lost):>8}")
    print(f"{'duplicated':<46}{len(tally.duplicated):>8}")
    print(f"{'torn':<46}{len(tally.torn):>8}")
    print(f"{'other problems':<46}{len(tally.problems):>8}")
    for what in (tally.lost, tally.duplicated, tally.torn, tally.problems):
        for line in what[:5]:
            print("  ", line)
    sys.exit(0 if tally.clean else 1)


if __name__ == "__main__":
    main()
