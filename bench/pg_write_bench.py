"""The PostgreSQL store's write latency, write throughput and `cairn status` start-up, each next to
its floor measured in the same run on the same server.

* Latency: ``Workspace.write_checkpoint`` (2 KB, the default library call) and its store
  transaction alone, against the floor: a plain INSERT + COMMIT of the same bytes on one open
  connection, ``synchronous_commit = on``. They take turns in blocks. Target: ≤ 2x the floor.
* Throughput: 8 writer processes at once, each writing checkpoints to its own task of one shared
  store, against 8 processes doing the floor's INSERT + COMMIT; writes per second over a fixed
  window. (Writers of different tasks hold the store lock shared and their task's own lock, so
  they overlap except at the journal append; see store/postgres/locks.py.)
* `cairn status` on a shared store of 10,000 tasks, fresh processes, against `python -c pass`
  plus one connection set-up: `python -c "import psycopg; psycopg.connect(url).close()"` minus
  `python -c pass`, measured in the same run (the connect alone is printed too). Target: ≤ 5x
  pass + one connection set-up.

The server is a throw-away one started for the run (tests/pg.py), or CAIRN_TEST_PG_URL's.

    .venv/bin/python bench/pg_write_bench.py [--rounds 20] [--block 10] [--seconds 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

from benchlib import child_env, cli_command, load, payload, time_processes  # noqa: E402

import pg  # noqa: E402  (tests/pg.py: the throw-away server)

TARGET_WRITE = 2.0
TARGET_STATUS = 5.0
WRITERS = 8
TS = "2026-01-01T00:00:00.000Z"

# One connection set-up as a process pays it: import psycopg, connect, authenticate, close.
_CONNECT = "import sys, psycopg; psycopg.connect(sys.argv[1]).close()"
# The same, ended as a cairn command ends (core/procs.exit_now: no interpreter teardown, which
# costs this process ~50 ms): what the status's own work is measured against.
_CONNECT_EXIT = _CONNECT + "; import os; os._exit(0)"

_FLOOR_SQL = "CREATE TABLE IF NOT EXISTS floor (id BIGSERIAL PRIMARY KEY, content TEXT NOT NULL)"

# One writer process of the throughput test: waits for the start file, writes for `seconds`,
# prints how many writes it finished.
_WRITER = r"""
import os, sys, time
mode, url, root, name, start, seconds, text = sys.argv[1:8]
seconds = float(seconds)
if mode == "floor":
    import psycopg
    conn = psycopg.connect(url, options="-c synchronous_commit=on")
    write = lambda i: (conn.execute("INSERT INTO floor (content) VALUES (%s)", (text + str(i),)),
                       conn.commit())
else:
    from cairn.domain.workspace import Workspace
    ws = Workspace.open(root)
    write = lambda i: ws.write_checkpoint(name, "bench", text + str(i))
while not os.path.exists(start):
    time.sleep(0.001)
end = time.perf_counter() + seconds
n = 0
while time.perf_counter() < end:
    write(n)
    n += 1
print(n, flush=True)
"""


def server_cpu_ns() -> int | None:
    """CPU time used so far by every process of the run's own server (the postmaster and its
    children: backends, WAL writer, checkpointer), from /proc; None for a server elsewhere."""
    if os.environ.get(pg.ENV_URL) or pg.server() is None:
        return None
    s = pg.server()
    assert s is not None
    try:
        top = int((s.data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            if int(entry) != top and ppid != top:
                continue
            with open(f"/proc/{entry}/schedstat", "rb") as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return total


class Floor:
    """INSERT + COMMIT of the same bytes, one open connection, synchronous_commit on."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url, options="-c synchronous_commit=on")
        self.conn.execute(_FLOOR_SQL)
        self.conn.commit()

    def write(self, text: str) -> float:
        t0 = time.perf_counter()
        self.conn.execute("INSERT INTO floor (content) VALUES (%s)", (text,))
        self.conn.commit()
        return time.perf_counter() - t0


def timed_store(ws: Any, into: list[float]) -> None:
    from contextlib import contextmanager

    real = ws.store.write

    @contextmanager
    def timed(**kw):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        with real(**kw) as tx:
            yield tx
        into.append(time.perf_counter() - t0)

    ws.store.write = timed


def statements_per_write(ws: Any, text: str, writes: int = 20) -> float:
    """Statements (each a round trip) this thread sends per ``write_checkpoint``, counted after
    the timed writes; the background flush runs on a thread of its own."""
    import threading

    import psycopg

    me, seen = threading.get_ident(), [0]
    real = psycopg.Connection.execute

    def counting(self: Any, *args: Any, **kw: Any) -> Any:
        seen[0] += threading.get_ident() == me
        return real(self, *args, **kw)

    psycopg.Connection.execute = counting  # type: ignore[method-assign]
    try:
        for i in range(writes):
            ws.write_checkpoint("bench", "benchwrite", f"{text[:-13]}{i:012d}x")
    finally:
        psycopg.Connection.execute = real  # type: ignore[method-assign]
    return seen[0] / writes


def latency(url: str, root: Path, rounds: int, block: int) -> dict[str, float]:
    from cairn.domain.workspace import Workspace

    ws = Workspace.init(root, store=url)
    ws.create_task("bench", "write latency", ["work"])
    ws.start_phase("bench", "work")
    floor = Floor(url)
    text = payload()
    times: dict[str, list[float]] = {"floor": [], "write": [], "tx": []}
    cpu: dict[str, float] = {"floor": 0.0, "write": 0.0}
    server: dict[str, float] = {"floor": 0.0, "write": 0.0}
    timed_store(ws, times["tx"])
    n = 0
    for _ in range(rounds):
        s0, c0 = server_cpu_ns(), time.process_time()
        for _ in range(block):
            n += 1
            times["floor"].append(floor.write(f"{text[:-13]}{n:012d}\n"))
        s1, c1 = server_cpu_ns(), time.process_time()
        for _ in range(block):
            n += 1
            t0 = time.perf_counter()
            ws.write_checkpoint("bench", "benchwrite", f"{text[:-13]}{n:012d}\n")
            times["write"].append(time.perf_counter() - t0)
        c2, s2 = time.process_time(), server_cpu_ns()
        cpu["floor"] += c1 - c0
        cpu["write"] += c2 - c1
        if s0 is not None and s1 is not None and s2 is not None:
            server["floor"] += (s1 - s0) / 1e9
            server["write"] += (s2 - s1) / 1e9
    sent = statements_per_write(ws, text)
    ws.close()
    floor.conn.close()
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    med["statements"] = sent
    # This process's CPU per write (mean; the server's own CPU is not in it).
    med.update({f"{k}_cpu": v / (rounds * block) * 1000 for k, v in cpu.items()})
    # The server's CPU per write, every process of it (0: a server elsewhere, not measured).
    med.update({f"{k}_server_cpu": v / (rounds * block) * 1000 for k, v in server.items()})
    return med


def throughput(mode: str, url: str, root: Path, seconds: float) -> float:
    start = root / f"go-{mode}"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WRITER,
                mode,
                url,
                str(root),
                f"w{i}",
                str(start),
                str(seconds),
                payload()[:-20],
            ],
            stdout=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        for i in range(WRITERS)
    ]
    time.sleep(3.0)  # let them all import and connect
    start.touch()
    total = 0
    for p in procs:
        out, _ = p.communicate(timeout=seconds + 120)
        if p.returncode != 0:
            raise SystemExit(f"a {mode} writer failed")
        total += int(out.strip())
    return total / seconds


def build_tasks(url: str, root: Path, tasks: int) -> None:
    """A shared store of ``tasks`` tasks (4 phases each, one in a thousand active), inserted in
    bulk: a fixture, not a timed write (the store's own path is timed above)."""
    import psycopg

    from cairn.core.names import task_key
    from cairn.domain.workspace import Workspace

    Workspace.init(root, store=url).close()
    ids = [f"task{t:05d}" for t in range(tasks)]
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO tasks (id, key, title, created_at, updated_at, seq) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [(tid, task_key(tid), f"Bench task {n}", TS, TS, n + 1) for n, tid in enumerate(ids)],
        )
        cur.executemany(
            "INSERT INTO phases (task_id, name, position, state) VALUES (%s, %s, %s, %s)",
            [
                (tid, phase, i + 1, "active" if n % 1000 == 0 and i == 0 else "pending")
                for n, tid in enumerate(ids)
                for i, phase in enumerate(("analysis", "plan", "implement", "test"))
            ],
        )
        conn.commit()
        conn.execute("ANALYZE")  # what autovacuum does for a store that grew over time


def connect_ms(url: str, n: int = 20) -> float:
    import psycopg

    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        psycopg.connect(url).close()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


# A fresh `cairn status` that counts the statements it sends (each a round trip), said at exit.
_COUNT_STATUS = r"""
import atexit, sys, psycopg
seen = [0]
real = psycopg.Connection.execute
def execute(self, *a, **k):
    seen[0] += 1
    return real(self, *a, **k)
psycopg.Connection.execute = execute
atexit.register(lambda: print(seen[0], file=sys.stderr, flush=True))
from cairn.cli import main
main(["-C", sys.argv[1], "status"])
"""


def status_statements(root: Path) -> int:
    """The statements (each a round trip) a fresh ``cairn status`` sends, its connect apart."""
    out = subprocess.run(
        [sys.executable, "-c", _COUNT_STATUS, str(root)],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=120,
    )
    if out.returncode != 0:
        raise SystemExit(f"cairn status failed: {out.stderr[-500:]}")
    return int(out.stderr.strip().splitlines()[-1])


def status_report(
    procs: dict[str, tuple[float, float, float]], conn: float, sent: int, tasks: int, runs: int
) -> tuple[float, float, bool]:
    """Prints the status figures; returns (one connection set-up, the limit, whether met).

    The target check is the status's own median against the limit made of the other medians;
    the status's own work (its median minus that of the connect line ended without teardown, as
    a cairn command ends) is printed apart, as a figure: medians of different processes, so under
    load it can come out below zero, and no ratio is made of it. The stricter check beside it
    counts the set-up without the teardown."""
    p_ms, s_ms = procs["pass"][0], procs["status"][0]
    # One connection set-up: `python -c "import psycopg; psycopg.connect(url).close()"` minus
    # `python -c pass`, both in this run (the import is part of what reaching the server costs
    # a fresh process); the connect alone, in a warm process, is printed beside it.
    setup = max(0.0, procs["connect"][0] - p_ms)
    setup_cpu = max(0.0, procs["connect"][2] - procs["pass"][2])
    budget = TARGET_STATUS * p_ms + setup
    print(
        f"\n`cairn status`, {tasks:,} tasks on the shared store, {runs} runs (median wall ms, CPU ms)"
    )
    print(f"{'python -c pass':<62}{p_ms:>10.1f}{procs['pass'][2]:>8.1f}")
    print(
        f"{'python -c import psycopg; connect; close':<62}{procs['connect'][0]:>10.1f}"
        f"{procs['connect'][2]:>8.1f}"
    )
    print(
        f"{'  one connection set-up (the line above minus pass)':<62}{setup:>10.1f}{setup_cpu:>8.1f}"
    )
    print(f"{'  of which connect + auth alone (warm process)':<62}{conn:>10.1f}")
    print(
        f"{'cairn status':<62}{s_ms:>10.1f}{procs['status'][2]:>8.1f}  (p90 "
        f"{procs['status'][1]:.1f}; {sent} statements)"
    )
    bare, bare_cpu = procs["connect_exit"][0], procs["connect_exit"][2]
    print(
        f"{'  the connect line ended without teardown (as cairn ends)':<62}{bare:>10.1f}{bare_cpu:>8.1f}"
    )
    own, own_cpu = s_ms - bare, procs["status"][2] - bare_cpu
    print(
        f"{'  its own work (status minus the line above; medians)':<62}{own:>10.1f}"
        f"{own_cpu:>8.1f}  (the limit leaves {budget - bare:.1f})"
    )
    print(
        f"{'  status / (5x pass + one connection set-up)':<62}{s_ms / budget:>10.2f}"
        f"  (limit {budget:.1f} ms; <= 1.00 meets it"
        + (f"; status = {(s_ms - setup) / p_ms:.2f}x pass + set-up)" if s_ms > setup else ")")
    )
    strict = TARGET_STATUS * p_ms + max(0.0, bare - p_ms)
    print(
        f"{'  the same with the set-up counted without teardown':<62}{s_ms / strict:>10.2f}"
        f"  (limit {strict:.1f} ms)"
    )
    return setup, budget, s_ms <= budget


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--block", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=5.0, help="throughput window per side")
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=15, help="fresh `cairn status` processes")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not pg.available():
        raise SystemExit(f"no PostgreSQL here: {pg.HINT}")
    base = Path(tempfile.mkdtemp(prefix="cairn-pg-bench-"))
    made: list[str] = []

    def database() -> str:
        made.append(pg.new_database())
        return made[-1]

    try:
        for name in ("lat", "tput", "status"):
            (base / name).mkdir()
        med = latency(database(), base / "lat", args.rounds, args.block)
        url = database()
        from cairn.domain.workspace import Workspace

        with Workspace.init(base / "tput", store=url) as ws:
            for i in range(WRITERS):
                ws.create_task(f"w{i}", "", ["work"])
        Floor(url).conn.close()
        store_tput = throughput("store", url, base / "tput", args.seconds)
        floor_tput = throughput("floor", url, base / "tput", args.seconds)
        surl = database()
        build_tasks(surl, base / "status", args.tasks)
        conn = connect_ms(surl)
        procs = time_processes(
            {
                "pass": ([sys.executable, "-c", "pass"], None),
                "connect": ([sys.executable, "-c", _CONNECT, surl], None),
                "connect_exit": ([sys.executable, "-c", _CONNECT_EXIT, surl], None),
                "status": ([*cli_command(), "-C", str(base / "status"), "status"], None),
            },
            base / "status",
            args.runs,
        )
        sent = status_statements(base / "status")
    finally:
        for u in made:
            pg.drop_database(u)
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)

    f = med["floor"]
    print(f"PostgreSQL store, 2 KB checkpoints ({load()})")
    print(f"{'':<62}{'median ms':>10}{'vs floor':>10}{'client CPU ms':>15}{'server CPU ms':>15}")
    for name, ms, used, served in (
        (
            "INSERT + COMMIT, synchronous_commit=on (the floor)",
            f,
            f"{med['floor_cpu']:.3f}",
            f"{med['floor_server_cpu']:.3f}",
        ),
        (
            "write_checkpoint (durable, the default call)",
            med["write"],
            f"{med['write_cpu']:.3f}",
            f"{med['write_server_cpu']:.3f}",
        ),
        ("  of which its store transaction", med["tx"], "", ""),
    ):
        print(f"{name:<62}{ms:>10.3f}{ms / f:>9.2f}x{used:>15}{served:>15}")
    print(
        "  (CPU: mean per write; the client's is this process, its background flush included; "
        "the server's, all its processes)"
    )
    print(f"{'  statements (round trips) per write_checkpoint':<62}{med['statements']:>10.1f}")
    print(f"\n{WRITERS} concurrent writer processes, {args.seconds:.0f} s each side")
    print(f"{'floor INSERT + COMMIT':<62}{floor_tput:>10.0f} writes/s")
    print(
        f"{'write_checkpoint':<62}{store_tput:>10.0f} writes/s "
        f"({store_tput / floor_tput:.2f}x the floor's)"
    )
    p_ms, s_ms = procs["pass"][0], procs["status"][0]
    setup, budget, ok_s = status_report(procs, conn, sent, args.tasks, args.runs)
    ok_w = med["write"] <= TARGET_WRITE * f
    print(
        f"\ntargets: write <= {TARGET_WRITE}x floor: {'met' if ok_w else 'MISSED'} "
        f"({med['write'] / f:.2f}x); status <= {TARGET_STATUS}x pass + one connection set-up "
        f"({budget:.1f} ms): {'met' if ok_s else 'MISSED'}"
    )
    if args.json:
        print(
            json.dumps(
                {
                    **{f"{k}_ms": v for k, v in med.items()},
                    "store_writes_per_s": store_tput,
                    "floor_writes_per_s": floor_tput,
                    "pass_ms": p_ms,
                    "connect_ms": conn,
                    "connection_setup_ms": setup,
                    "status_ms": s_ms,
                    "status_cpu_ms": procs["status"][2],
                    "connect_no_teardown_ms": procs["connect_exit"][0],
                    "status_statements": sent,
                }
            )
        )


if __name__ == "__main__":
    main()
