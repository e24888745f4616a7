"""Per durable phase overhead: cairn phases vs DBOS steps (SQLite) vs LangGraph nodes (SqliteSaver).

Each system runs the same shape of work: ``--tasks`` independent runs (a cairn task, a DBOS workflow,
a LangGraph thread) of ``--phases`` phases/steps/nodes whose bodies do nothing but return the same
2 KB string, which each system records durably (cairn: a checkpoint named after the phase; DBOS:
the step's recorded output; LangGraph: the state written by the node). All databases live on the
same disk (under ``--dir``).

Figures per system (medians over all runs of all rounds):
- ``between``: time from one phase body's start to the next one's start, i.e. the per-phase cost of
  recording the result and starting the next phase durably;
- ``per phase``: wall time of a whole run divided by its number of phases (includes the run's own
  start and end).

DBOS and LangGraph are installed in this benchmark's own venv (``bench/.venv-compare``, created on
the first run with ``pip install dbos langgraph langgraph-checkpoint-sqlite``); cairn runs from the
interpreter that runs this script. LangGraph is measured with ``durability="sync"`` (each step is
persisted before the next starts, as cairn and DBOS do) and, for reference, with its default
``"async"`` durability (the write overlaps the next node, so a crash can lose the last step).
Rounds interleave the systems so that background load hits all of them alike.

    .venv/bin/python bench/phase_bench.py [--tasks 20] [--phases 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-compare"
PACKAGES = ["dbos", "langgraph", "langgraph-checkpoint-sqlite"]
PAYLOAD = "x" * 2048
SYSTEMS = ("cairn", "dbos", "langgraph-sync", "langgraph-async")


# -- the measured runs (each in its own process) ---------------------------------------------------
def run_cairn(folder: Path, tasks: int, phases: int) -> dict[str, Any]:
    import cairn

    project = cairn.open(folder)
    between: list[float] = []
    per_phase: list[float] = []
    for t in range(tasks):
        task = project.task(f"bench{t}")
        stamps: list[float] = []

        def body(ctx: Any, stamps: list[float] = stamps) -> str:
            stamps.append(time.perf_counter())
            return PAYLOAD

        for i in range(phases):
            task.phase(f"p{i}")(body)
        t0 = time.perf_counter()
        task.run()
        per_phase.append((time.perf_counter() - t0) / phases)
        between += [b - a for a, b in itertools.pairwise(stamps)]
    project.close()
    return {"between": between, "per_phase": per_phase, "storage": "cairn SQLite store (WAL)"}


def run_dbos(folder: Path, tasks: int, phases: int) -> dict[str, Any]:
    import logging

    from dbos import DBOS

    logging.disable(logging.WARNING)
    db = folder / "dbos_sys.sqlite"
    DBOS(config={"name": "phase-bench", "system_database_url": f"sqlite:///{db}"})
    stamps: list[float] = []

    @DBOS.step()
    def step(i: int) -> str:
        stamps.append(time.perf_counter())
        return PAYLOAD

    @DBOS.workflow()
    def workflow(n: int) -> int:
        for i in range(n):
            step(i)
        return n

    DBOS.launch()
    between: list[float] = []
    per_phase: list[float] = []
    try:
        for _ in range(tasks):
            stamps.clear()
            t0 = time.perf_counter()
            workflow(phases)
            per_phase.append((time.perf_counter() - t0) / phases)
            between += [b - a for a, b in itertools.pairwise(stamps)]
    finally:
        DBOS.destroy()
    import sqlite3

    mode = sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0]
    return {"between": between, "per_phase": per_phase, "storage": f"SQLite ({mode} journal)"}


def run_langgraph(folder: Path, tasks: int, phases: int, durability: str) -> dict[str, Any]:
    from typing import TypedDict

    from langgraph.checkpoint.sqlite import SqliteSaver
    from langgraph.graph import END, START, StateGraph

    class State(TypedDict):
        out: str

    stamps: list[float] = []

    def node(state: State) -> dict[str, str]:
        stamps.append(time.perf_counter())
        return {"out": PAYLOAD}

    builder = StateGraph(State)
    prev = START
    for i in range(phases):
        builder.add_node(f"n{i}", node)
        builder.add_edge(prev, f"n{i}")
        prev = f"n{i}"
    builder.add_edge(prev, END)
    between: list[float] = []
    per_phase: list[float] = []
    with SqliteSaver.from_conn_string(str(folder / f"langgraph_{durability}.sqlite")) as saver:
        graph = builder.compile(checkpointer=saver)
        for t in range(tasks):
            stamps.clear()
            config: Any = {"configurable": {"thread_id": f"t{t}"}, "recursion_limit": phases + 10}
            t0 = time.perf_counter()
            graph.invoke({"out": ""}, config, durability=durability)  # type: ignore[arg-type]
            per_phase.append((time.perf_counter() - t0) / phases)
            between += [b - a for a, b in itertools.pairwise(stamps)]
        mode = saver.conn.execute("PRAGMA journal_mode").fetchone()[0]
        sync = saver.conn.execute("PRAGMA synchronous").fetchone()[0]
    return {
        "between": between,
        "per_phase": per_phase,
        "storage": f"SQLite ({mode} journal, synchronous={sync})",
    }


def worker(system: str, folder: Path, tasks: int, phases: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if system == "cairn":
        out = run_cairn(folder, tasks, phases)
    elif system == "dbos":
        out = run_dbos(folder, tasks, phases)
    else:
        out = run_langgraph(folder, tasks, phases, system.split("-", 1)[1])
    print("RESULT " + json.dumps(out))


# -- the driver ------------------------------------------------------------------------------------
def ensure_venv(install: bool) -> tuple[Path | None, str]:
    python = VENV / "bin" / "python"
    check = [str(python), "-c", "import dbos, langgraph.checkpoint.sqlite"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python, ""
    if not install:
        return None, f"{VENV} is missing or incomplete (run without --no-install to create it)"
    print(f"creating {VENV} and installing {', '.join(PACKAGES)} (once) ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PACKAGES],
        capture_output=True,
        text=True,
    )
    if pip.returncode != 0 or subprocess.run(check, capture_output=True).returncode != 0:
        last = (pip.stderr or pip.stdout).strip().splitlines()[-1:] or ["unknown error"]
        return None, f"pip install {' '.join(PACKAGES)} failed: {last[0]}"
    return python, ""


def measure(
    system: str, python: Path, folder: Path, tasks: int, phases: int
) -> dict[str, Any] | str:
    shutil.rmtree(folder, ignore_errors=True)
    cmd = [str(python), __file__, "--worker", system, "--dir", str(folder)]
    cmd += ["--tasks", str(tasks), "--phases", str(phases)]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[7:])
            return result
    tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit {done.returncode}"]
    return f"could not run: {tail[0][:200]}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=20)
    ap.add_argument("--phases", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", default=str(HERE / "out" / "phase_bench"))
    ap.add_argument("--no-install", action="store_true", help="do not create the compare venv")
    ap.add_argument("--worker", choices=SYSTEMS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    folder = Path(args.dir).resolve()
    if args.worker:
        worker(args.worker, folder, args.tasks, args.phases)
        return 0

    compare_python, why = ensure_venv(not args.no_install)
    pythons: dict[str, Path | None] = {"cairn": Path(sys.executable)}
    for s in SYSTEMS[1:]:
        pythons[s] = compare_python
    collected: dict[str, dict[str, list[float]]] = {
        s: {"between": [], "per_phase": []} for s in SYSTEMS
    }
    problems: dict[str, str] = {}
    storage: dict[str, str] = {}
    for _ in range(args.rounds):
        for system in SYSTEMS:
            python = pythons[system]
            if python is None:
                problems[system] = why
                continue
            got = measure(system, python, folder / system, args.tasks, args.phases)
            if isinstance(got, str):
                problems[system] = got
                continue
            storage[system] = got["storage"]
            collected[system]["between"] += got["between"]
            collected[system]["per_phase"] += got["per_phase"]

    print(
        f"\nPer durable phase overhead: {args.tasks} runs x {args.phases} phases x {args.rounds} "
        f"rounds, 2 KB result per phase, databases under {folder}\n"
    )
    header = f"{'system':<17} {'between (ms)':>13} {'p90 (ms)':>9} {'per phase (ms)':>15}"
    print(header + f" {'cairn is':>16}  storage")
    print("-" * (len(header) + 40))
    medians: dict[str, tuple[float, float]] = {}
    for system in SYSTEMS:
        data = collected[system]
        if not data["between"]:
            continue
        between = sorted(data["between"])
        medians[system] = (statistics.median(between), statistics.median(data["per_phase"]))
    base = medians.get("cairn")
    for system in SYSTEMS:
        if system not in medians:
            print(f"{system:<17} {problems.get(system, 'no data')}")
            continue
        b, per = medians[system]
        p90 = sorted(collected[system]["between"])[
            int(0.9 * (len(collected[system]["between"]) - 1))
        ]
        ratio = ""
        if base and system != "cairn":
            ratio = f"{b / base[0]:.2f}x faster" if b > base[0] else f"{base[0] / b:.2f}x slower"
        print(
            f"{system:<17} {b * 1000:>13.3f} {p90 * 1000:>9.3f} {per * 1000:>15.3f} {ratio:>16}  "
            f"{storage.get(system, '')}"
        )
    print(
        "\n'between' ratios compare medians of the time from one phase body to the next. "
        "langgraph-async does not persist a step before the next one starts; it is shown for "
        "reference, not as a like-for-like durable step."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
