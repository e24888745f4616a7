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
    from cairn.domain.workspace import Workspace, now

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


class _Floors:
    """The two floors on the same disk: an SQLite commit (WAL, synchronous=FULL) of the payload,
    and a file write with fsync, rename and directory fsync."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.db = folder / "floor.db"
        self.conn = sqlite3.connect(self.db, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, content TEXT)")

    def sqlite_commit(self, text: str) -> float:
        t0 = time.perf_counter()
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("INSERT INTO t (content) VALUES (?)", (text,))
        self.conn.execute("COMMIT")
        return time.perf_counter() - t0

    def file_write(self, payload: bytes) -> float:
        target, tmp = self.folder / "floor.md", self.folder / ".floor.md.tmp"
        t0 = time.perf_counter()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, payload)
        os.fsync(fd)
        os.close(fd)
        os.replace(tmp, target)
        dfd = os.open(self.folder, os.O_RDONLY)
        os.fsync(dfd)
        os.close(dfd)
        return time.perf_counter() - t0

    def close(self) -> None:
        self.conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.db}{suffix}").unlink(missing_ok=True)
        (self.folder / "floor.md").unlink(missing_ok=True)


class _Writer:
    """``Workspace.write_checkpoint`` on one workspace, timing the whole call and its synced
    store transaction separately."""

    def __init__(self, root: Path, *, batched: bool = False) -> None:
        from contextlib import ExitStack, contextmanager

        from cairn.domain.workspace import Workspace

        self.ws = Workspace.open(root)
        self.stack = ExitStack()
        if batched:
            # Workspace.batch(): every write durable and its artifact projected, the status file
            # rendered once when the block ends (here: when the bench closes the writer).
            self.stack.enter_context(self.ws.batch())
        active = self.ws.active_tasks()
        if active:
            self.task = active[0].id
        else:
            self.ws.create_task("bench", "write latency", ["work"])
            self.ws.start_phase("bench", "work")
            self.task = "bench"
        self.tx_times: list[float] = []
        real_tx = self.ws.store.transaction

        @contextmanager
        def timed():  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            with real_tx() as tx:
                yield tx
            self.tx_times.append(time.perf_counter() - t0)

        self.ws.store.transaction = timed  # type: ignore[method-assign]

    def write(self, text: str) -> float:
        t0 = time.perf_counter()
        self.ws.write_checkpoint(self.task, "benchwrite", text)
        return time.perf_counter() - t0


def write_latencies(
    big: Path, small: Path, batched: Path, payload: bytes, n: int
) -> dict[str, float]:
    """Interleaved rounds (floors and writes one after the other), so that all see the same disk."""
    floors = _Floors(big)
    big_w, small_w = _Writer(big), _Writer(small)
    batch_w = _Writer(batched, batched=True)
    text = payload.decode("utf-8")
    times: dict[str, list[float]] = {"sqlite": [], "file": [], "big": [], "small": [], "batch": []}
    try:
        for i in range(n):
            unique = f"{text[:-13]}{i:012d}\n"
            times["sqlite"].append(floors.sqlite_commit(unique))
            times["file"].append(floors.file_write(unique.encode()))
            times["big"].append(big_w.write(unique))
            times["small"].append(small_w.write(unique))
            times["batch"].append(batch_w.write(unique))
    finally:
        floors.close()
        for w in (big_w, small_w, batch_w):
            w.stack.close()
            w.ws.close()
    out = {k: statistics.median(v) * 1000 for k, v in times.items()}
    out["big_tx"] = statistics.median(big_w.tx_times) * 1000
    out["small_tx"] = statistics.median(small_w.tx_times) * 1000
    return out


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
        small = base / "small"
        if small.exists():
            shutil.rmtree(small)
        small.mkdir()
        from cairn.domain.workspace import Workspace

        Workspace.init(small).close()
        batched = base / "batched"
        if batched.exists():
            shutil.rmtree(batched)
        batched.mkdir()
        Workspace.init(batched).close()
        lat = write_latencies(root, small, batched, payload, args.writes)
        floor = lat["sqlite"]
        print(f"\n{'2 KB durable write (interleaved rounds)':<52}{'median ms':>10}{'vs floor':>10}")
        rows = (
            ("SQLite commit, WAL, synchronous=FULL (the floor)", floor),
            ("file write + fsync + rename + dir fsync", lat["file"]),
            ("write_checkpoint, 1-task workspace (whole call)", lat["small"]),
            ("  of which the synced store transaction", lat["small_tx"]),
            ("write_checkpoint, 1,000-task workspace", lat["big"]),
            ("  of which the synced store transaction", lat["big_tx"]),
            ("write_checkpoint inside ws.batch() (tree at block end)", lat["batch"]),
        )
        for name, ms in rows:
            print(f"{name:<52}{ms:>10.3f}{ms / floor:>9.2f}x")
        ok_cli = status[0] < TARGET_CLI_MS and recover[0] < TARGET_CLI_MS
        ok_write = lat["small"] <= TARGET_WRITE_RATIO * floor
        print(
            f"\ntargets: status and recover < {TARGET_CLI_MS:.0f} ms: "
            f"{'met' if ok_cli else 'MISSED'}; write_checkpoint within "
            f"{TARGET_WRITE_RATIO:.0f}x the SQLite floor: "
            f"{'met' if ok_write else 'MISSED'} ({lat['small'] / floor:.2f}x; the store "
            f"transaction alone {lat['small_tx'] / floor:.2f}x; inside ws.batch() "
            f"{lat['batch'] / floor:.2f}x)"
        )
        if args.json:
            print(
                json.dumps(
                    {
                        "python_pass_ms": baseline[0],
                        "status_ms": status[0],
                        "recover_ms": recover[0],
                        **{f"write_{k}_ms": v for k, v in lat.items()},
                    }
                )
            )
    finally:
        if not args.keep and not args.dir:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
