"""Workers on a local two-node Ray cluster against the local executor, in the same run.

    .venv/bin/python bench/ray_bench.py [--workers 8] [--seconds 0.5] [--rounds 3]

Starts a throw-away cluster (a head and one more node, two CPUs each, on loopback), then in fresh
orchestrator processes, taking turns:
- ``work``: ``--workers`` workers that each sleep ``--seconds`` (a job of known length), at most 4
  at once; the floor is ``ceil(workers / 4) * seconds``;
- ``noop``: as many workers that return at once: the per-worker cost of each executor.
Each process runs one worker first (for Ray: joining the cluster, ``connect+first``), then a
``cold`` noop batch (for Ray: its nodes start their Python worker processes), then the measured
batches. Prints medians and the ratios Ray / local.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "helpers"))

from raycluster import local_cluster  # noqa: E402

SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    from cairn.domain.workers import Worker, spawn_many
    from cairn.domain.workspace import Workspace

    n, seconds, tag = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]

    def job(s):
        time.sleep(s)
        return "ok"

    ws = Workspace.open(".", search=False)
    ws.create_task(tag, phases=["work"], exist_ok=True)
    out = {}
    for label, s in (("first", 0.0), ("cold", 0.0), ("noop", 0.0), ("work", seconds)):
        workers = [Worker(f"{label}{i}", fn=job, args=(s,), rerun=True) for i in range(n)]
        if label == "first":
            workers = workers[:1]
        t0 = time.perf_counter()
        results = spawn_many(ws, tag, workers, max_parallel=4)
        out[label] = time.perf_counter() - t0
        assert all(r.ok for r in results), [r.summary for r in results]
    print(json.dumps(out))
    """
)


def _one(
    root: Path, executor: str, address: str, n: int, seconds: float, tag: str
) -> dict[str, float]:
    import os

    env = {**os.environ, "CAIRN_WORKERS_EXECUTOR": executor, "RAY_ADDRESS": address}
    r = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(n), str(seconds), tag],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if r.returncode != 0:
        raise SystemExit(f"{executor} run failed:\n{r.stderr[-3000:]}")
    result: dict[str, float] = json.loads(r.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=0.5)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from cairn.domain.workspace import Workspace

    with tempfile.TemporaryDirectory(prefix="cairn-raybench-") as tmp, local_cluster() as address:
        root = Path(tmp)
        Workspace.init(root).close()
        got: dict[str, list[dict[str, float]]] = {"local": [], "ray": []}
        for i in range(args.rounds):
            for executor in got:
                got[executor].append(
                    _one(root, executor, address, args.workers, args.seconds, f"{executor}{i}")
                )
    med = {
        ex: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for ex, runs in got.items()
    }
    floor = math.ceil(args.workers / 4) * args.seconds
    print(f"{args.workers} workers, at most 4 at once, {args.rounds} rounds (medians, seconds)")
    print(f"{'':16}{'local':>10}{'ray':>10}{'ray/local':>11}")
    for key, label in (
        ("first", "connect+first"),
        ("cold", "cold noop batch"),
        ("noop", "noop batch"),
        ("work", f"work ({args.seconds:g} s each)"),
    ):
        loc, ray = med["local"][key], med["ray"][key]
        print(f"{label:16}{loc:10.2f}{ray:10.2f}{ray / loc:10.1f}x")
    print(
        f"work floor (ceil(n/4) x seconds): {floor:.2f} s; ray work / floor = "
        f"{med['ray']['work'] / floor:.2f}, local work / floor = {med['local']['work'] / floor:.2f}"
    )
    per = (med["ray"]["noop"] - med["local"]["noop"]) / args.workers
    print(f"Ray's extra cost per worker (noop): {per * 1000:.0f} ms")


if __name__ == "__main__":
    main()
