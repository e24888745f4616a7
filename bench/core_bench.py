"""Core speed: `cairn status` / `cairn recover` at scale, and the durable checkpoint write latency.

Builds a workspace with 1,000 tasks and 100,000 checkpoint versions through the domain's own row
writers (``Workspace._insert_checkpoint`` and friends, one transaction per task, so the rows are the
ones ``cairn checkpoint write`` would store), then prints, side by side:

* wall time of ``cairn status`` and ``cairn recover`` (median of N fresh processes) next to
  ``python -c pass`` with the same interpreter;
* the latency of ``Workspace.write_checkpoint`` (2 KB, synced) next to two floors on the same disk:
  an SQLite commit of the same bytes (WAL, synchronous=FULL) and a file write with fsync, rename and
  directory fsync.

Usage: ``python bench/core_bench.py [--tasks 1000] [--versions 100000] [--runs 21] [--dir DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KINDS = ("analysis", "plan", "plan_approved", "progress", "complete", "tested", "notes")
PHASES = ("analysis", "plan", "implement", "test")
TARGET_CLI_MS = 150.0
TARGET_WRITE_RATIO = 2.0


def _content(task: str, kind: str, version: int) -> str:
    body = "\n".join(
        f"- step {i} of {kind} for {task}: touched `src/{task}/mod{i}.py` and re-ran the suite"
        for i in range(10)
    )
    return (
        f"# {task} {kind} v{version}\n\n**Task**: {task}\n**Files to modify**: "
        f"src/{task}/core.py, tests/test_{task}.py\n\n{body}\n"
    )


def build(root: Path, n_tasks: int, n_versions: int, n_active: int = 3) -> float:
    """Fill ``root`` with a workspace of ``n_tasks`` tasks and ``n_versions`` checkpoint versions."""
    from cairn.workspace import Workspace, now

    start = time.perf_counter()
    ws = Workspace.init(root)
    per_task = max(1, n_versions // n_tasks)
    extra = n_versions - per_task * n_tasks
    for t in range(n_tasks):
        tid = f"task{t:04d}"
        if t >= n_tasks - n_active:
            ws_state = "active"
        elif t % 50 == 0:
            ws_state = "failed"
        elif t % 3 == 0:
            ws_state = ""  # untouched: all phases pending
        else:
            ws_state = "done"
        ts = now()
        with ws.store.transaction() as tx:
            tx.execute(
                "INSERT INTO tasks (id, key, title, created_at, updated_at, seq) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (tid, tid.casefold(), f"Bench task {t}", ts, ts, t + 1),
            )
            ws._event(tx, tid, "task.created", ts, title=f"Bench task {t}", phases=list(PHASES))
            for pos, name in enumerate(PHASES, 1):
                tx.execute(
                    "INSERT INTO phases (task_id, name, position, state, gated) "
                    "VALUES (?, ?, ?, 'pending', 0)",
                    (tid, name, pos),
                )
                ws._event(tx, tid, "phase.added", ts, phase=name, position=pos, gated=False)
            # Two steps per task, recorded the way Workspace.progress records them.
            for i in range(2):
                step_id = tx.insert(
                    "INSERT INTO steps (task_id, phase, text, state, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (tid, "analysis", f"step {i} of {tid}", "done", ts, ts),
                )
                ws._event(
                    tx, tid, "step.recorded", ts, step=step_id, text=f"step {i}", state="done"
                )
            count = per_task + (1 if t < extra else 0)
            versions: dict[str, int] = {}
            for i in range(count):
                kind = KINDS[i % len(KINDS)]
                versions[kind] = versions.get(kind, 0) + 1
                text = _content(tid, kind, versions[kind])
                data = text.encode("utf-8")
                ws._insert_checkpoint(
                    tx, tid, kind, text, data, (f"src/{tid}/core.py",), "analysis", "write", ts
                )
            if ws_state:
                done = PHASES[:1] if ws_state == "active" else PHASES
                for name in done:
                    tx.execute(
                        "UPDATE phases SET state = 'done', started_at = ?, finished_at = ? "
                        "WHERE task_id = ? AND name = ?",
                        (ts, ts, tid, name),
                    )
                if ws_state == "active":
                    tx.execute(
                        "UPDATE phases SET state = 'active', started_at = ? WHERE task_id = ? "
                        "AND name = 'plan'",
                        (ts, tid),
                    )
                    tx.execute(
                        "UPDATE tasks SET next_action = ? WHERE id = ?",
                        (f"Implement the ranking for {tid}", tid),
                    )
                elif ws_state == "failed":
                    tx.execute(
                        "UPDATE phases SET state = 'failed', error = 'tests failed' "
                        "WHERE task_id = ? AND name = 'test'",
                        (tid,),
                    )
    ws.refresh()
    ws.close()
    return time.perf_counter() - start


def _cli_command() -> list[str]:
    script = Path(sys.executable).with_name("cairn")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cairn"]


def _env() -> dict[str, str]:
    """Child environment with bytecode caching on (in a private folder), as an installed cairn has:
    some sandboxes set PYTHONDONTWRITEBYTECODE, which would make every run recompile cairn."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "cairn-bench-pycache")
    return env


def time_process(cmd: list[str], cwd: Path, runs: int) -> tuple[float, float, float]:
    """Median wall time, 90th percentile wall time and median CPU time (ms) of fresh processes."""
    import resource

    env = _env()
    for _ in range(2):  # warm the bytecode cache and the page cache
        subprocess.run(cmd, cwd=cwd, capture_output=True, check=False, env=env)
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        out = subprocess.run(cmd, cwd=cwd, capture_output=True, check=False, env=env)
        times.append((time.perf_counter() - t0) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
        if out.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {out.stderr.decode()[-500:]}")
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1], statistics.median(cpu)


def floor_sqlite(folder: Path, payload: bytes, n: int) -> float:
    path = folder / "floor.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, content TEXT)")
    text = payload.decode("utf-8")
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (content) VALUES (?)", (text,))
        conn.execute("COMMIT")
        times.append(time.perf_counter() - t0)
    conn.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return statistics.median(times) * 1000


def floor_file(folder: Path, payload: bytes, n: int) -> float:
    target = folder / "floor.md"
    tmp = folder / ".floor.md.tmp"
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, payload)
        os.fsync(fd)
        os.close(fd)
        os.replace(tmp, target)
        dfd = os.open(folder, os.O_RDONLY)
        os.fsync(dfd)
        os.close(dfd)
        times.append(time.perf_counter() - t0)
    target.unlink(missing_ok=True)
    return statistics.median(times) * 1000


def write_latency(root: Path, payload: bytes, n: int) -> dict[str, float]:
    """Median latency of ``Workspace.write_checkpoint`` and of its durable store commit alone."""
    from cairn.workspace import Workspace

    ws = Workspace.open(root)
    task = ws.active_tasks()[0].id if ws.active_tasks() else None
    if task is None:
        ws.create_task("bench", "write latency", ["work"])
        ws.start_phase("bench", "work")
        task = "bench"
    text = payload.decode("utf-8")
    store_commit: list[float] = []
    real_tx = ws.store.transaction

    def timed_transaction():  # type: ignore[no-untyped-def]
        from contextlib import contextmanager

        @contextmanager
        def cm():  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            with real_tx() as tx:
                yield tx
            store_commit.append(time.perf_counter() - t0)

        return cm()

    ws.store.transaction = timed_transaction  # type: ignore[method-assign]
    total = []
    for i in range(n):
        t0 = time.perf_counter()
        ws.write_checkpoint(task, "benchwrite", f"{text[:-12]}{i:012d}")
        total.append(time.perf_counter() - t0)
    ws.close()
    return {
        "total_ms": statistics.median(total) * 1000,
        "store_tx_ms": statistics.median(store_commit) * 1000,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--versions", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--writes", type=int, default=300)
    ap.add_argument("--dir", help="build the workspace here (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the workspace afterwards")
    ap.add_argument("--reuse", action="store_true", help="reuse a workspace left in --dir")
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = ap.parse_args()

    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="cairn-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    root = base / "ws"
    reuse = args.reuse and (root / ".cairn" / "cairn.db").exists()
    if root.exists() and not reuse:
        shutil.rmtree(root)
    root.mkdir(exist_ok=True)
    try:
        built = 0.0 if reuse else build(root, args.tasks, args.versions)
        db = root / ".cairn" / "cairn.db"
        print(
            f"workspace: {args.tasks:,} tasks, {args.versions:,} checkpoint versions, "
            f"{db.stat().st_size / 1e6:.0f} MB store, built in {built:.1f} s ({root})"
        )
        cli = _cli_command()
        baseline = time_process([sys.executable, "-c", "pass"], root, args.runs)
        status = time_process([*cli, "status"], root, args.runs)
        recover = time_process([*cli, "recover", "--trigger", "compact"], root, args.runs)
        print(
            f"\n{'command (fresh process)':<32}{'median ms':>10}{'p90 ms':>9}{'CPU ms':>9}"
            f"{'vs python -c pass':>20}"
        )
        for name, (med, p90, cpu) in (
            ("python -c pass", baseline),
            ("cairn status", status),
            ("cairn recover --trigger compact", recover),
        ):
            print(f"{name:<32}{med:>10.1f}{p90:>9.1f}{cpu:>9.1f}{med / baseline[0]:>19.2f}x")
        print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
        payload = (("checkpoint line with some text, 0123456789 " * 60)[:2047] + "\n").encode()
        sql_floor = floor_sqlite(root, payload, args.writes)
        file_floor = floor_file(root, payload, args.writes)
        lat = write_latency(root, payload, args.writes)
        print(f"\n{'2 KB durable write':<44}{'median ms':>10}{'vs SQLite floor':>17}")
        rows = (
            ("SQLite commit, WAL, synchronous=FULL (floor)", sql_floor),
            ("file write + fsync + rename + dir fsync", file_floor),
            ("Workspace.write_checkpoint (whole call)", lat["total_ms"]),
            ("  of which the synced store transaction", lat["store_tx_ms"]),
        )
        for name, ms in rows:
            print(f"{name:<44}{ms:>10.3f}{ms / sql_floor:>16.2f}x")
        ok_cli = status[0] < TARGET_CLI_MS and recover[0] < TARGET_CLI_MS
        ok_write = lat["total_ms"] <= TARGET_WRITE_RATIO * sql_floor
        print(
            f"\ntargets: status and recover < {TARGET_CLI_MS:.0f} ms: "
            f"{'met' if ok_cli else 'MISSED'}; write_checkpoint within "
            f"{TARGET_WRITE_RATIO:.0f}x the SQLite floor: "
            f"{'met' if ok_write else 'MISSED'} ({lat['total_ms'] / sql_floor:.2f}x)"
        )
        if args.json:
            print(
                json.dumps(
                    {
                        "python_pass_ms": baseline[0],
                        "status_ms": status[0],
                        "recover_ms": recover[0],
                        "sqlite_floor_ms": sql_floor,
                        "file_floor_ms": file_floor,
                        **{f"write_{k}": v for k, v in lat.items()},
                    }
                )
            )
    finally:
        if not args.keep and not args.dir:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
