"""Two "machines" sharing one PostgreSQL store (issue 12): two workspaces in separate folders, each
used by separate processes under its own host name (CAIRN_HOST). 4 writers on each at once lose
nothing; each sees the other's tasks; a phase SIGKILLed on one is refused on the other while its
lease lives, seen as interrupted there once it expires, and resumed there; the server stopped and
started again mid-run loses nothing acknowledged, and the running phase keeps its lease.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cairn.domain.workspace import Workspace
from pg import pg_server, pg_url  # noqa: F401 (fixtures)

WRITER = """
import pathlib, sys, time
import cairn
from cairn.core.errors import CairnError
name, n = sys.argv[1], int(sys.argv[2])
ws = cairn.open('.')
ws.create_task(name, 'by ' + name, exist_ok=True)
i = 0
while i < n or (n < 0 and not pathlib.Path('stop').exists()):
    text = f'{name}-{i}'
    try:
        cp = ws.write_checkpoint('shared', 'notes', text)
        ws.progress(name, text, state='done')
    except CairnError as exc:  # the server is away: say so, and try again
        print('fail', str(exc).splitlines()[0][:120], flush=True)
        time.sleep(0.2)
        continue
    print('ok', cp.version, text, time.time(), flush=True)
    i += 1
"""

WORKFLOW = """\
import pathlib, time, cairn
task = cairn.open('.').task('job')
@task.phase('work')
def work(ctx):
    pathlib.Path('started').write_text(str(ctx.attempt))
    while not pathlib.Path('fast').exists():
        time.sleep(0.05)
    return 'done on ' + pathlib.Path('.').resolve().name
"""


def _machine(root: Path, url: str, lease: float) -> Path:
    root.mkdir()
    (root / ".cairn").mkdir()
    (root / ".cairn" / "config.toml").write_text(
        f'[store]\npath = "{url}"\nlease_s = {lease}\n', encoding="utf-8"
    )
    Workspace.init(root).close()
    (root / "wf.py").write_text(WORKFLOW, encoding="utf-8")
    return root


def _env(host: str) -> dict[str, str]:
    return {**os.environ, "CAIRN_HOST": host, "PYTHONUNBUFFERED": "1"}


def _cairn(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cairn", *args],
        cwd=root,
        env=_env(root.name),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _json(root: Path, *args: str) -> Any:
    r = _cairn(root, *args, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture
def machines(tmp_path: Path, pg_url: str) -> tuple[Path, Path]:  # noqa: F811
    m1 = _machine(tmp_path / "m1", pg_url, 1.5)
    m2 = _machine(tmp_path / "m2", pg_url, 1.5)
    assert _cairn(m1, "task", "new", "shared", "--title", "written by both").returncode == 0
    return m1, m2


def _writers(m1: Path, m2: Path, n: int) -> list[subprocess.Popen[str]]:
    return [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, f"{root.name}-w{k}", str(n)],
            cwd=root,
            env=_env(root.name),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for root in (m1, m2)
        for k in range(4)
    ]


def _acked(procs: list[subprocess.Popen[str]]) -> tuple[dict[str, int], int]:
    acked: dict[str, int] = {}
    failed = 0
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        for line in out.splitlines():
            word, _, rest = line.partition(" ")
            if word == "ok":
                version, text, _at = rest.split(" ")
                assert text not in acked
                acked[text] = int(version)
            else:
                failed += 1
    return acked, failed


def _check_nothing_lost(root: Path, acked: dict[str, int]) -> None:
    with Workspace.open(root) as ws:
        history = ws.history("shared", "notes")
        assert len({c.version for c in history}) == len(history)  # no version given twice
        for text, version in acked.items():  # every acknowledged write, as written
            assert ws.checkpoint("shared", "notes", version).content == text
        steps = {(s.text) for t in ws.tasks() for s in ws.steps(t.id, limit=10_000)}
        assert set(acked) <= steps


def test_four_writers_on_each_machine_lose_nothing_and_see_each_other(
    machines: tuple[Path, Path],
) -> None:
    m1, m2 = machines
    acked, failed = _acked(_writers(m1, m2, 15))
    assert failed == 0 and len(acked) == 8 * 15
    assert sorted(acked.values()) == list(range(1, 8 * 15 + 1))  # 0 lost updates, no gaps
    for root in (m1, m2):
        _check_nothing_lost(root, acked)
        ids = {t["id"] for t in _json(root, "task", "list")["tasks"]}
        assert {f"{m}-w{k}" for m in ("m1", "m2") for k in range(4)} <= ids
    # each machine's readable tree shows the other's newest write
    assert _cairn(m1, "status").returncode == 0 and _cairn(m2, "status").returncode == 0
    newest = max(acked, key=lambda t: acked[t])
    for root in (m1, m2):
        assert (root / "artifacts" / "shared_notes.md").read_text(encoding="utf-8") == newest


@pytest.fixture
def running(machines: tuple[Path, Path]) -> Iterator[tuple[Path, Path, subprocess.Popen[bytes]]]:
    m1, m2 = machines
    proc = subprocess.Popen([sys.executable, "-m", "cairn", "run", "wf.py"], cwd=m1, env=_env("m1"))
    try:
        deadline = time.monotonic() + 60
        while not (m1 / "started").exists():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.02)
        yield m1, m2, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _wait(cond: Any, what: str, limit: float = 90.0) -> None:
    deadline = time.monotonic() + limit
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _sections(root: Path) -> dict[str, Any]:
    sections: dict[str, Any] = _json(root, "status")["sections"]
    return sections


def test_a_phase_killed_on_one_machine_is_resumed_on_the_other(
    running: tuple[Path, Path, subprocess.Popen[bytes]],
) -> None:
    m1, m2, proc = running
    time.sleep(2.0)  # past the 1.5 s lease: only its renewals keep it
    [live] = _sections(m2)["running_phases"]["phases"]
    assert (live["task"], live["phase"], live["host"], live["pid"]) == (
        "job",
        "work",
        "m1",
        proc.pid,
    )
    assert "on m1" in (m2 / "CURRENT_WORK_STATUS.md").read_text(encoding="utf-8")
    twice = _cairn(m2, "run", "wf.py")  # its own run lock is free: the lease says no
    assert twice.returncode == 2 and "is running on host m1" in twice.stderr
    assert not (m2 / "started").exists()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed = time.monotonic()
    while "stale_phases" not in (seen := _sections(m2)):
        assert time.monotonic() - killed < 30, "the lease never expired"
        time.sleep(0.2)
    [dead] = seen["stale_phases"]["phases"]
    assert (dead["host"], dead["reason"]) == ("m1", "lease expired")
    assert "stopped renewing its lease" in _cairn(m2, "recover").stdout
    (m2 / "fast").write_text("1")
    done = _cairn(m2, "run", "wf.py")
    assert done.returncode == 0, done.stderr
    assert (m2 / "started").read_text() == "2"
    with Workspace.open(m1) as ws:  # the other machine sees it done, by m2
        assert ws.task("job").phases[0].state == "done"
        runs = ws.phase_runs("job", "work")
        assert [(r.state, r.host) for r in runs] == [("crashed", "m1"), ("done", "m2")]
        assert ws.checkpoint("job", "work").content == "done on m2"


def test_the_server_restarted_mid_run_loses_nothing_and_keeps_the_lease(
    tmp_path: Path,
    pg_url: str,  # noqa: F811
    pg_server: Any,  # noqa: F811
) -> None:
    m1 = _machine(tmp_path / "m1", pg_url, 8.0)
    m2 = _machine(tmp_path / "m2", pg_url, 8.0)
    assert _cairn(m1, "task", "new", "shared").returncode == 0
    phase = subprocess.Popen(
        [sys.executable, "-m", "cairn", "run", "wf.py"], cwd=m1, env=_env("m1")
    )
    writers: list[subprocess.Popen[str]] = []
    try:
        deadline = time.monotonic() + 60
        while not (m1 / "started").exists():
            assert time.monotonic() < deadline and phase.poll() is None
            time.sleep(0.02)
        writers = _writers(m1, m2, -1)  # each writes until told to stop
        lines: dict[int, list[str]] = {p.pid: [] for p in writers}
        readers = [
            threading.Thread(target=lambda p=p: lines[p.pid].extend(p.stdout or ()), daemon=True)
            for p in writers
        ]
        for t in readers:
            t.start()

        def acks_after(moment: float) -> int:
            """How many writers acknowledged a write that returned after ``moment``."""
            return sum(
                any(ln.startswith("ok ") and float(ln.split()[3]) > moment for ln in list(got))
                for got in lines.values()
            )

        _wait(lambda: acks_after(0) == 8, "every writer writing")
        down = time.time()
        pg_server.stop()  # mid-run: a write waits for the server or fails saying so, and retries
        time.sleep(2.5)  # an outage well under the 8 s lease
        pg_server.start()
        up = time.time()
        assert up - down < 8.0 * 2 / 3
        _wait(lambda: acks_after(up) == 8, "every writer writing again after the restart")
        for root in (m1, m2):
            (root / "stop").write_text("1")
        for p in writers:
            assert p.wait(timeout=120) == 0, p.stderr.read() if p.stderr else ""
        for t in readers:
            t.join(timeout=30)
        acked: dict[str, int] = {}
        for got in lines.values():
            for ln in got:
                if ln.startswith("ok "):
                    _ok, version, text, _at = ln.split()
                    assert text not in acked
                    acked[text] = int(version)
        # Every acknowledged write is there, as written (a write whose answer the outage cut off
        # may be there too, unacknowledged: its writer wrote it again).
        _check_nothing_lost(m1, acked)
        seen = _sections(m2)
        assert "stale_phases" not in seen  # the lease was not lost to the outage
        [live] = seen["running_phases"]["phases"]
        assert live["host"] == "m1" and live["pid"] == phase.pid
        (m1 / "fast").write_text("1")
        assert phase.wait(timeout=120) == 0  # the phase's own end, after the outage, is recorded
        with Workspace.open(m2) as ws:
            assert ws.task("job").phases[0].state == "done"
            assert [r.state for r in ws.phase_runs("job", "work")] == ["done"]
    finally:
        for p in [phase, *writers]:
            if p.poll() is None:
                p.kill()
            p.wait()


def test_postgresql_notifies_listeners_of_each_change(pg_url: str) -> None:  # noqa: F811
    """A dashboard on PostgreSQL may LISTEN instead of polling the change token."""
    import psycopg

    from cairn.store.factory import open_store

    store = open_store(pg_url, create=True)
    try:
        with psycopg.connect(pg_url, autocommit=True) as listener:
            listener.execute("LISTEN cairn_changes")
            with store.read() as tx:
                before = tx.meta.change_token()
            with store.write() as tx:
                tx.events.append(None, "x", "2026-01-01T00:00:00.000Z", {})
            got = list(listener.notifies(timeout=10, stop_after=1))
        assert [n.channel for n in got] == ["cairn_changes"]
        with store.read() as tx:
            assert tx.meta.change_token() != before
    finally:
        store.close()
