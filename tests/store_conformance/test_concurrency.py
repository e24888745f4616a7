"""Concurrent writers (threads on a store that lives in one process, separate processes on one
that can be shared) and a writer SIGKILLed mid-stream: nothing acknowledged is lost, no version
or id is given twice, and every version holds exactly the content its writer gave."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

import pytest

from cairn.store import Store

from .conftest import BACKENDS, TS

WRITERS = 4
EACH = 25

# One writer: each transaction adds a plan version, a step and an event, and prints the version
# only after the commit returned (that line is the acknowledgement).
_CHILD = """
import sys
from cairn.store import open_store
path, name, n, ts = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
store = open_store(path)
i = 0
while n < 0 or i < n:
    text = f"{name}-{i}"
    with store.write() as tx:
        row = tx.checkpoints.add("T1", "plan", text, hash="h-" + text, size=len(text),
                                 phase=None, source="write", files=(), ts=ts)
        tx.steps.add("T1", None, text, "done", ts)
        tx.events.append("T1", "w", ts, {"text": text})
    print(row.version, text, flush=True)
    i += 1
"""


def _write(store: Store, name: str, i: int) -> int:
    text = f"{name}-{i}"
    with store.write() as tx:
        row = tx.checkpoints.add(
            "T1",
            "plan",
            text,
            hash="h-" + text,
            size=len(text),
            phase=None,
            source="write",
            files=(),
            ts=TS,
        )
        tx.steps.add("T1", None, text, "done", TS)
        tx.events.append("T1", "w", TS, {"text": text})
    return row.version


def _check(store: Store, acked: dict[int, str], total: int) -> None:
    with store.read() as tx:
        history = tx.checkpoints.history("T1", "plan")
        assert [r.version for r in history] == list(range(1, total + 1))
        for version, text in acked.items():
            row = tx.checkpoints.get("T1", "plan", version)
            assert row is not None and row.content == text and row.hash == "h-" + text
        steps = tx.steps.of_task("T1")
        assert len(steps) == total and len({s.id for s in steps}) == total
        events = tx.events.query(task_id="T1", limit=total + 10)
        assert len(events) == total and len({e.id for e in events}) == total
        assert {e.data["text"] for e in events} == {s.text for s in steps}
        assert {s.text for s in steps} >= set(acked.values())


def test_concurrent_threads(store: Store, task: str) -> None:
    acked: dict[int, str] = {}
    lock = threading.Lock()
    errors: list[BaseException] = []

    def run(name: str) -> None:
        try:
            for i in range(EACH):
                version = _write(store, name, i)
                with lock:
                    assert version not in acked
                    acked[version] = f"{name}-{i}"
        except BaseException as exc:  # reported below, not swallowed
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"w{n}",)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    _check(store, acked, WRITERS * EACH)


def _shared(backend: str) -> None:
    if not BACKENDS[backend][1]:
        pytest.skip(
            f"the {backend} store lives in one process, so no other process can reach it; "
            "test_concurrent_threads covers its writers"
        )


def _spawn(path: str, name: str, n: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, path, name, str(n), TS],
        stdout=subprocess.PIPE,
        text=True,
    )


def test_concurrent_processes(
    backend: str, connect: Callable[[], Store], task: str, location: str
) -> None:
    _shared(backend)
    procs = [_spawn(location, f"p{n}", EACH) for n in range(WRITERS)]
    acked: dict[int, str] = {}
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0
        for line in out.splitlines():
            version, text = line.split()
            assert int(version) not in acked
            acked[int(version)] = text
    _check(connect(), acked, WRITERS * EACH)


def test_a_killed_writer_loses_nothing_acknowledged(
    backend: str, connect: Callable[[], Store], task: str, location: str
) -> None:
    _shared(backend)
    for trial in range(3):
        proc = _spawn(location, f"k{trial}", -1)
        assert proc.stdout is not None
        acked: dict[int, str] = {}
        for _ in range(20 + 15 * trial):
            version, text = proc.stdout.readline().split()
            acked[int(version)] = text
        os.kill(proc.pid, signal.SIGKILL)  # mid-stream: it was writing the next one
        proc.wait()
        # Lines printed before the kill but not read yet are acknowledgements too.
        for line in proc.stdout.read().splitlines():
            version, text = line.split()
            acked[int(version)] = text
        proc.stdout.close()
        store = connect()
        with store.read() as tx:
            newest = tx.checkpoints.newest("T1", "plan")
        assert newest is not None and newest.version >= max(acked)
        with store.read() as tx:
            for version, text in acked.items():
                row = tx.checkpoints.get("T1", "plan", version)
                assert row is not None and row.content == text
        assert store.integrity_check() == "ok"
