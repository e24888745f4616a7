"""1,000 SIGKILL trials: writers killed at random instants, then every acknowledged write checked.

Each trial forks a writer (checkpoints, progress steps, next actions through the library, with an
acknowledgement line appended after each call returns), SIGKILLs it after a random delay, reopens the
store and checks: ``PRAGMA integrity_check``, every acknowledged write present (else *lost*), no
write stored twice (*duplicated*), every stored version and projected file whole and equal to the
store's newest after the next command (else *torn*), and no temporary file left behind.

Usage: ``python bench/kill_bench.py [--trials 1000] [--seed N] [--max-delay 0.004]``
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "helpers"))

from durability import run_kill_trials


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument(
        "--max-delay",
        type=float,
        default=0.004,
        help="seconds between an acknowledgement and the kill",
    )
    args = ap.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    base = Path(tempfile.mkdtemp(prefix="cairn-kill-"))
    start = time.perf_counter()
    try:
        tally = run_kill_trials(base, args.trials, seed=seed, max_delay=args.max_delay)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    took = time.perf_counter() - start
    print(f"seed {seed}, {took:.0f} s")
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
