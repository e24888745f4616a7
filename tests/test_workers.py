"""Worker subagents: parallel runs, time limits, crashes with log tails, capped summaries, I/O checks."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cairn.core.errors import ValidationError
from cairn.core.procs import alive
from cairn.domain.workers import (
    TRUNCATION_MARKER,
    Worker,
    WorkerResult,
    cap_summary,
    spawn,
    spawn_many,
    stored_results,
)
from cairn.domain.workspace import Workspace

PY = sys.executable


@pytest.fixture
def ws(ws_path: Path) -> Any:
    w = Workspace.open(ws_path)
    w.create_task("t1", "workers", phases=["work"])
    w.start_phase("t1", "work")
    yield w
    w.close()


def _count(path: Path) -> int:
    """Append a line to ``path`` and return how many lines it has: how often this code ran."""
    with path.open("a") as f:
        f.write("x\n")
    return len(path.read_text().splitlines())


def test_workers_run_in_parallel_in_their_own_processes(ws: Workspace) -> None:
    root = ws.root
    me = os.getpid()

    def meet(name: str) -> str:
        (root / f"here_{name}").write_text(str(os.getpid()))
        deadline = time.monotonic() + 10
        while len(list(root.glob("here_*"))) < 3:  # only possible if all three run at once
            if time.monotonic() > deadline:
                raise TimeoutError("the other workers never started")
            time.sleep(0.01)
        assert os.getpid() != me and os.getcwd() == str(root)
        return f"{name} met the others"

    res = spawn_many(ws, "t1", [Worker(n, fn=meet, args=(n,)) for n in "abc"], max_parallel=3)
    assert [r.state for r in res] == ["done"] * 3, [r.summary for r in res]
    assert [r.summary for r in res] == [f"{n} met the others" for n in "abc"]
    pids = {(root / f"here_{n}").read_text() for n in "abc"}
    assert len(pids) == 3 and str(me) not in pids
    types = [e.type for e in ws.events("t1", limit=50)]
    assert types.count("worker.started") == 3 and types.count("worker.finished") == 3


def test_max_parallel_is_respected(ws: Workspace) -> None:
    root = ws.root

    def job(name: str) -> int:
        (root / f"run_{name}").touch()
        time.sleep(0.15)
        seen = len(list(root.glob("run_*")))
        (root / f"run_{name}").unlink()
        return seen

    res = spawn_many(
        ws, "t1", [Worker(f"w{i}", fn=job, args=(str(i),)) for i in range(4)], max_parallel=2
    )
    assert all(r.state == "done" for r in res)
    assert max(int(r.summary) for r in res) <= 2


def test_timeout_kills_the_whole_process_group(ws: Workspace) -> None:
    script = (
        "print('started the long job', flush=True)\n"
        "import subprocess, time\n"
        "p = subprocess.Popen(['sleep', '30'])\n"
        "open('grandchild.pid', 'w').write(str(p.pid))\n"
        "time.sleep(30)\n"
    )
    quick = Worker("quick", fn=lambda: "quick done")
    # Generous: on a loaded machine the interpreter alone can take a second to start.
    slow = Worker("slow", cmd=[PY, "-c", script], timeout=8.0)
    t0 = time.monotonic()
    res = spawn_many(ws, "t1", [slow, quick])
    assert time.monotonic() - t0 < 20
    r = res[0]
    assert r.state == "timeout" and r.exit_code is None
    assert "timed out after 8 s" in r.summary and "started the long job" in r.log_tail
    assert res[1].state == "done" and res[1].summary == "quick done"
    gpid = int((ws.root / "grandchild.pid").read_text())
    deadline = time.monotonic() + 5
    while alive(gpid, None) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(gpid, None), "the worker's own child outlived the timeout"
    assert [e.data["state"] for e in ws.events("t1", types=["worker.failed"])] == ["timeout"]


def test_crashes_and_non_zero_exits_report_their_log_tail(ws: Workspace) -> None:
    def raises() -> None:
        for i in range(30):
            print(f"row {i} ok")
        raise RuntimeError("bad data at row 30")

    def dies() -> None:
        print("about to vanish", flush=True)
        os._exit(7)

    def segfaults() -> None:
        print("about to crash", flush=True)
        os.kill(os.getpid(), signal.SIGSEGV)

    exits = [PY, "-c", "import sys; print('partial work'); sys.exit(3)"]
    res = spawn_many(
        ws,
        "t1",
        [
            Worker("raises", fn=raises),
            Worker("dies", fn=dies),
            Worker("segv", fn=segfaults),
            Worker("exits", cmd=exits),
            Worker("missing", cmd=["no-such-program-xyz"]),
            Worker("fine", fn=lambda: "fine"),
            Worker("sysexit", fn=lambda: sys.exit(4)),
            Worker("sysexit0", fn=lambda: sys.exit(0)),
        ],
        max_parallel=3,
    )
    by = {r.name: r for r in res}
    assert by["fine"].state == "done" and by["sysexit0"].state == "done"
    assert (by["sysexit"].state, by["sysexit"].exit_code) == ("failed", 4)
    r = by["raises"]
    assert r.state == "failed" and r.exit_code == 1
    assert r.summary.startswith("raised RuntimeError: bad data at row 30")
    tail = r.log_tail.splitlines()
    assert len(tail) == 20 and tail[-1] == "RuntimeError: bad data at row 30"
    assert "row 29 ok" in r.log_tail and "_child_main" not in r.log_tail
    assert by["dies"].state == "failed" and by["dies"].exit_code == 7
    assert "exited with code 7 before reporting" in by["dies"].summary
    assert "about to vanish" in by["dies"].log_tail
    assert by["segv"].state == "failed" and "SIGSEGV" in by["segv"].summary
    assert by["exits"].state == "failed" and by["exits"].exit_code == 3
    assert "partial work" in by["exits"].summary
    assert by["missing"].state == "failed" and "could not start" in by["missing"].summary
    log = (ws.root / r.log_path).read_text()
    assert r.log_path == "logs/workers/t1/raises.log" and "row 0 ok" in log


def test_summary_is_capped_with_a_marker(ws: Workspace) -> None:
    long = "word " * 2000
    res = spawn_many(
        ws,
        "t1",
        [
            Worker("big", fn=lambda: long),
            Worker("small", fn=lambda: long, summary_chars=200),
            Worker("data", fn=lambda: {"clean": 1120, "dropped": [3, 9]}),
        ],
    )
    big, small, data = res
    assert len(big.summary) <= 1500 and TRUNCATION_MARKER in big.summary
    assert len(small.summary) <= 200 and small.summary.endswith(f"{big.log_path[:-7]}small.log]")
    assert "9,999 characters in all" in small.summary
    assert long.strip() in (ws.root / small.log_path).read_text()  # the full text stays in the log
    assert data.summary == '{"clean":1120,"dropped":[3,9]}'
    assert cap_summary("short", 10, "x.log") == "short"


def test_cmd_summary_from_stdout_or_summary_file(ws: Workspace) -> None:
    lines = "; ".join(f"print('line {i}')" for i in range(15))
    writes = "open('out/repair_summary.md', 'w').write('Fixed. 1,120 clean examples.')"
    (ws.root / "out").mkdir()
    res = spawn_many(
        ws,
        "t1",
        [
            Worker("tail", cmd=[PY, "-c", lines + "; print()"]),
            Worker("file", cmd=[PY, "-c", writes], outputs=["out/repair_summary.md"]),
            Worker("fnfile", fn=lambda: None, summary_file="out/repair_summary.md"),
        ],
        max_parallel=1,
    )
    assert res[0].summary == "\n".join(f"line {i}" for i in range(5, 15))
    assert res[1].summary == "Fixed. 1,120 clean examples."
    assert res[2].summary == "Fixed. 1,120 clean examples."


def test_missing_inputs_refused_before_anything_starts(ws: Workspace) -> None:
    (ws.root / "have.txt").write_text("x")
    with pytest.raises(ValidationError, match=r"worker 'b' needs input data/none\.jsonl"):
        spawn_many(
            ws,
            "t1",
            [
                Worker("a", fn=lambda: "a", inputs=["have.txt"]),
                Worker("b", fn=lambda: "b", inputs=["data/none.jsonl"]),
            ],
        )
    assert stored_results(ws, "t1") == []


def test_missing_outputs_fail_the_worker(ws: Workspace) -> None:
    def half() -> str:
        Path("made.txt").write_text("ok")
        return "made both"

    r = spawn(ws, "t1", Worker("half", fn=half, outputs=["made.txt", "also.txt"]))
    assert r.state == "failed"
    assert "declared outputs are missing: also.txt" in r.summary
    assert r.outputs == ["made.txt", "also.txt"]


def test_bad_definitions_are_clear_errors(ws: Workspace) -> None:
    cases: list[tuple[list[Worker], str]] = [
        ([Worker("x")], "exactly one of fn"),
        ([Worker("x", fn=print, cmd=["ls"])], "exactly one of fn"),
        ([Worker("x", cmd="ls -l")], "list of strings"),  # type: ignore[arg-type]
        ([Worker("../x", fn=print)], "worker name"),
        ([Worker("x", fn=print), Worker("X", fn=print)], "unique name"),
        ([Worker("x", fn=print, outputs=["../../etc/x"])], "outside the workspace"),
        ([Worker("x", fn=print, timeout=0)], "timeout"),
    ]
    for workers, message in cases:
        with pytest.raises(ValidationError, match=message):
            spawn_many(ws, "t1", workers)
    with pytest.raises(ValidationError, match="max_parallel"):
        spawn_many(ws, "t1", [Worker("x", fn=print)], max_parallel=0)


def test_finished_workers_are_reused_and_changes_rerun(ws: Workspace) -> None:
    counter = ws.root / "runs.txt"

    def job() -> str:
        Path("result.txt").write_text("r")
        return f"run {_count(counter)}"

    first = spawn(ws, "t1", Worker("job", fn=job, outputs=["result.txt"]))
    assert (first.summary, first.reused) == ("run 1", False)
    again = spawn(ws, "t1", Worker("job", fn=job, outputs=["result.txt"]))
    assert (again.summary, again.reused, again.state) == ("run 1", True, "done")
    (ws.root / "result.txt").unlink()  # its output is gone: run again
    assert spawn(ws, "t1", Worker("job", fn=job, outputs=["result.txt"])).summary == "run 2"
    forced = spawn(ws, "t1", Worker("job", fn=job, outputs=["result.txt"], rerun=True))
    assert forced.summary == "run 3" and not forced.reused
    types = [e.type for e in ws.events("t1", limit=100)]
    assert "worker.reused" in types and "worker.rerun" in types

    def flaky() -> str:
        if _count(ws.root / "flaky.txt") == 1:
            raise RuntimeError("first time fails")
        return "second time works"

    assert spawn(ws, "t1", Worker("flaky", fn=flaky)).state == "failed"
    r = spawn(ws, "t1", Worker("flaky", fn=flaky))  # a failed worker runs again
    assert (r.state, r.summary, r.reused) == ("done", "second time works", False)


def test_status_file_shows_worker_states(ws: Workspace) -> None:
    status = ws.root / ws.config.status_file

    def look() -> str:
        text = status.read_text()
        line = next(ln for ln in text.splitlines() if ln.startswith("| look "))
        return line

    res = spawn_many(ws, "t1", [Worker("look", fn=look), Worker("bad", fn=lambda: 1 / 0)])
    assert "🔄 running" in res[0].summary  # what the status file said while it ran
    text = status.read_text()
    assert "## Workers" in text
    assert "| look | t1 | ✅ done |" in text
    assert "| bad | t1 | ❌ failed |" in text
    assert isinstance(res[0], WorkerResult)


def test_worker_may_use_the_orchestrators_workspace(ws: Workspace) -> None:
    parent_store = ws.store

    def record() -> str:
        assert ws.store is not parent_store  # its own connection in this process
        ws.progress("t1", "cleaned the pairs in a worker", state="done")
        return "recorded"

    r = spawn(ws, "t1", Worker("rec", fn=record))
    assert (r.state, r.summary) == ("done", "recorded"), r.summary
    assert ws.store is parent_store
    assert [s.text for s in ws.steps("t1")] == ["cleaned the pairs in a worker"]
