"""A core command run as the process's own (the ``cairn`` script, ``python -m cairn.hooks``) ends
without the interpreter's teardown (core/procs.exit_now): what that teardown did that matters is
done first, and the process looks the same from outside."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cairn.domain.workspace import Workspace

# The process entry: ``cairn.cli.main()`` without arguments, as the console script calls it.
_CLI = r"""
import atexit, sys
mark = sys.argv.pop(1)
atexit.register(lambda: open(mark, "w").write("ran"))
import os
real_exit = os._exit
def fast_exit(code):  # the end that skips the teardown, seen
    with open(mark + ".fast", "w") as fh:
        fh.write(str(code))
    real_exit(code)
os._exit = fast_exit
extra = sys.argv.pop(1)
if extra == "thread":
    import threading, time
    def late():
        time.sleep(0.3)
        open(mark + ".thread", "w").write("done")
    threading.Thread(target=late).start()
elif extra == "gc":  # whether cycles are collected while the command runs, said at exit
    import gc
    atexit.register(lambda: print("gc", gc.isenabled(), file=sys.stderr))
elif extra == "open":
    from cairn.domain.workspace import Workspace
    ws = Workspace.open(sys.argv.pop(1))  # never closed by this script
    ws.record_event(None, "test.note", n=1)
from cairn.cli import main
sys.exit(main())
"""


def _run(tmp: Path, *argv: str, extra: str = "-") -> subprocess.CompletedProcess[str]:
    mark = tmp / "atexit.mark"
    for old in (mark, tmp / "atexit.mark.fast"):
        old.unlink(missing_ok=True)
    return subprocess.run(
        [sys.executable, "-c", _CLI, str(mark), extra, *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _ws(path: Path, events: int = 0) -> Path:
    with Workspace.open(path) as ws:
        ws.create_task("t", phases=["plan", "implement"])
        ws.start_phase("t", "plan")
        ws.write_checkpoint("t", "plan", "# Plan\n")
        for n in range(events):
            ws.record_event("t", "test.note", n=n, text="x" * 200)
    return path


def test_output_exit_code_and_exit_handlers_are_kept(ws_path: Path, tmp_path: Path) -> None:
    ws = _ws(ws_path, events=400)
    # A long answer (more than any buffer) arrives whole; then the exit handlers ran.
    r = _run(tmp_path, "-C", str(ws), "log", "--limit", "400", "--json")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)["events"]) == 400
    assert (tmp_path / "atexit.mark").read_text() == "ran"
    assert (tmp_path / "atexit.mark.fast").read_text() == "0"  # it ended at once
    # The store was closed (SQLite folds its WAL back in when the last connection closes).
    assert not (ws / ".cairn" / "cairn.db-wal").exists()
    # A failing command keeps its code (as main() returns it in-process) and its message.
    from cairn.cli import main

    r = _run(tmp_path, "-C", str(ws), "recover", "--task", "nosuch")
    assert r.returncode == main(["-C", str(ws), "recover", "--task", "nosuch"]) != 0, r
    assert "no task 'nosuch'" in r.stderr
    assert (tmp_path / "atexit.mark").read_text() == "ran"


def test_a_workspace_left_open_is_closed_first(ws_path: Path, tmp_path: Path) -> None:
    ws = _ws(ws_path)
    r = _run(tmp_path, str(ws), "-C", str(ws), "status", extra="open")
    assert r.returncode == 0, r.stderr
    assert not (ws / ".cairn" / "cairn.db-wal").exists()
    with Workspace.open(ws) as again:
        assert [e.type for e in again.events(limit=1)] == ["test.note"]


def test_another_thread_means_the_usual_exit(ws_path: Path, tmp_path: Path) -> None:
    ws = _ws(ws_path)
    r = _run(tmp_path, "-C", str(ws), "status", extra="thread")
    assert r.returncode == 0, r.stderr
    # The usual exit waited for the thread; os._exit would have cut it off.
    assert (tmp_path / "atexit.mark.thread").read_text() == "done"
    assert (tmp_path / "atexit.mark").read_text() == "ran"
    assert not (tmp_path / "atexit.mark.fast").exists()


def test_the_hook_entry_point_ends_the_same_way(ws_path: Path) -> None:
    ws = _ws(ws_path)
    payload = {"session_id": "s1", "cwd": str(ws), "hook_event_name": "SessionStart"}
    r = subprocess.run(
        [sys.executable, "-m", "cairn.hooks", "session-start"],
        input=json.dumps({**payload, "source": "startup"}),
        capture_output=True,
        text=True,
        cwd=ws,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert "Recovery brief: t" in out["hookSpecificOutput"]["additionalContext"]
    assert not (ws / ".cairn" / "cairn.db-wal").exists()
    with Workspace.open(ws) as again:
        assert [e.type for e in again.events(limit=5) if e.type == "recovery"] == ["recovery"]


def test_in_process_callers_get_the_code_back(ws_path: Path) -> None:
    import gc

    from cairn.cli import main

    ws = _ws(ws_path)
    assert main(["-C", str(ws), "status"]) == 0  # returns: no exit inside a test or a library
    assert gc.isenabled()  # and the caller's process keeps collecting cycles


def test_a_core_command_in_its_own_process_runs_without_cycle_collection(
    ws_path: Path, tmp_path: Path
) -> None:
    ws = _ws(ws_path)
    r = _run(tmp_path, "-C", str(ws), "recover", extra="gc")
    assert r.returncode == 0 and "Recovery brief" in r.stdout, r.stderr
    assert "gc False" in r.stderr
    r = _run(tmp_path, "-C", str(ws), "doctor", extra="gc")  # not a core command: as before
    assert "gc True" in r.stderr, r.stderr
