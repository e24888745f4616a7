"""The server's own cost of a durable checkpoint write on PostgreSQL, in instructions, next to its
floor's (a plain INSERT of the same 2 KB): a figure the machine's load does not move, where the
wall and CPU times of bench/pg_write_bench.py move by half between two runs on a shared machine.

The store is made by cairn on the tests' throw-away server (tests/pg.py); that server is then
stopped and the same database is run in single-user mode under valgrind's callgrind, reading the
statements from stdin: ``SELECT * FROM cairn_write_checkpoint(...)`` as the store sends it
(store/postgres/checkpoints.py), or the floor's INSERT. Each side runs twice, with N and N + 200
statements after the same warm-up; the difference / 200 is the cost of one statement and its
commit (single-user mode commits each; ``synchronous_commit = off``, as the fsync is a wait, not
work). Parsing the statement's literals is in both; the client's cost is not in either.

    .venv/bin/python bench/pg_write_instructions.py [--calls 200]

Needs valgrind (``apt-get install valgrind``) and the server binaries (as the tests do).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

from benchlib import payload  # noqa: E402

import pg  # noqa: E402  (tests/pg.py: the throw-away server)

TS = "2026-01-01T00:00:00.000Z"
WARM = 50


def _lit(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value).replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return f"E'{text}'"


def _write(i: int, text: str, path: str) -> str:
    """The one-call write of version i, its parameters as checkpoints.write gives them."""
    from cairn.store.postgres.checkpoints import _around
    from cairn.store.postgres.locks import task_lock_key

    head, tail = _around("write", "write", path)
    args = (
        "bench", "write", f"{i:064x}", 2048, f"{text}{i:012d}\n", None, "write", "[]", TS, path,
        path.casefold(), head, f', "hash": "{i:064x}", "size": 2048, "phase": ', tail,
        task_lock_key("bench"), True,
    )  # fmt: skip
    return f"SELECT * FROM cairn_write_checkpoint({', '.join(_lit(a) for a in args)});"


def _floor(i: int, text: str, path: str) -> str:
    return f"INSERT INTO floor (content) VALUES ({_lit(f'{text}{i:012d}' + chr(10))});"


def _count(server: pg.Server, db: str, script: str, out: Path, added: int) -> int:
    """Instructions of the whole single-user run; ``added``: how many writes must say so."""
    argv = server._argv(
        "postgres", "--single", "-D", str(server.data), "-c", "synchronous_commit=off", db
    )
    runner, tool = (argv[:4], argv[4:]) if argv[0] == "runuser" else ([], argv)
    cmd = [*runner, "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *tool]
    done = subprocess.run(cmd, input=script.encode(), capture_output=True, timeout=1800)
    errors = [
        line
        for line in (done.stdout + done.stderr).decode(errors="replace").splitlines()
        if "ERROR" in line
    ]
    if errors:
        raise SystemExit(f"a statement failed in single-user mode: {errors[0]}")
    if done.stdout.count(b'state = "added"') != added:
        raise SystemExit("a write did not add its version (unchanged or taken): not measured")
    found = re.search(rb"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"callgrind gave no count: {done.stderr.decode(errors='replace')[-500:]}")
    return int(found.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200, help="statements between the two runs")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("no valgrind here: apt-get install valgrind")
    if pg.binaries() is None or pg.os.environ.get(pg.ENV_URL):
        raise SystemExit(f"needs the tests' own server binaries: {pg.HINT}")
    import psycopg

    from cairn.domain.workspace import Workspace

    base = Path(tempfile.mkdtemp(prefix="cairn-pg-instr-"))
    server = pg.server()
    assert server is not None
    try:
        url = pg.new_database()
        with Workspace.init(base, store=url) as ws:
            ws.create_task("bench", "instructions", ["work"])
            ws.start_phase("bench", "work")
            ws.write_checkpoint("bench", "write", "first")
            path = ws.artifact_path("bench", "write")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE floor (id BIGSERIAL PRIMARY KEY, content TEXT NOT NULL)")
        server.stop()
        db = url.rpartition("/")[2]
        text = payload()[:-13]
        per: dict[str, float] = {}
        start = 1000
        for name, make in (("floor", _floor), ("write", _write)):
            counts = []
            for n in (0, args.calls):
                todo = range(start, start + WARM + n)
                start += WARM + n
                script = "\n".join(make(i, text, path) for i in todo) + "\n"
                out = server.root / f"cg.{name}.{n}"
                added = len(todo) if name == "write" else 0
                counts.append(_count(server, db, script, out, added))
            per[name] = (counts[1] - counts[0]) / args.calls
    finally:
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)
    f, w = per["floor"], per["write"]
    print("PostgreSQL server, instructions per statement and its commit (callgrind, single-user)")
    print(f"{'INSERT of the same 2 KB (the floor)':<52}{f / 1000:>10,.0f}k{1:>9.2f}x")
    print(
        f"{'cairn_write_checkpoint (the whole durable write)':<52}{w / 1000:>10,.0f}k{w / f:>9.2f}x"
    )


if __name__ == "__main__":
    main()
