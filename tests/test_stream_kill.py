"""Kill-test: writers SIGKILLed at random instants; reopening must leave exactly the acknowledged keys.

Each trial forks a writer that resumes the stream and acknowledges every key on a pipe after
``write()`` returns. After the kill the stream is reopened: no duplicates, no torn line, every
acknowledged key present, and at most one more (the record in flight, written whole). Each round
ends with an unkilled run that must complete every missing key exactly once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path
from typing import Any

from cairn.domain.streams import open_stream
from cairn.domain.workspace import Workspace

N_KEYS = 3000
ROUNDS = 20
KILLS_PER_ROUND = 5
POLICIES: list[str | None] = [None, "every", "none", "n:10", "ms:5"]


def _record(i: int) -> dict[str, Any]:
    # Every 61st record spans several pages, so a kill can cut its write short.
    size = 200_000 if i % 61 == 0 else 40
    return {"id": i, "payload": (f"{i:06d}" * (size // 6 + 1))[:size]}


def _key(r: dict[str, Any]) -> Any:
    return r["id"]


def _writer(root: Path, rel: str, policy: str | None, ack_fd: int) -> None:
    ws = Workspace.open(root, search=False)
    with open_stream(ws, rel, _key, sync=policy) as out:
        for i in range(N_KEYS):
            if i in out:
                continue
            if out.write(_record(i)):
                os.write(ack_fd, b"%d\n" % i)


def _run_child(root: Path, rel: str, policy: str | None, kill_after: float | None) -> set[int]:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(r)
            _writer(root, rel, policy, w)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(w)
    if kill_after is not None:
        time.sleep(kill_after)
        os.kill(pid, signal.SIGKILL)
    chunks = []
    while True:
        data = os.read(r, 65536)
        if not data:
            break
        chunks.append(data)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    if kill_after is None:
        assert os.waitstatus_to_exitcode(status) == 0
    return {int(x) for x in b"".join(chunks).split()}


def _check(ws: Workspace, rel: str, acked: set[int]) -> tuple[set[int], bool]:
    """Reopen, check the invariants; returns the keys present and whether a repair happened."""
    missing = sorted(set(range(N_KEYS)) - acked)
    with open_stream(ws, rel, _key) as out:
        present = out.keys()
        repaired = out.repaired is not None
        assert not out.bad_lines, out.bad_lines
        assert out.duplicates == 0
    raw = (ws.root / rel).read_bytes()
    assert raw == b"" or raw.endswith(b"\n")
    ids = []
    for line in raw.splitlines():
        rec = json.loads(line)
        assert rec == _record(rec["id"]), f"record {rec['id']} differs from what was written"
        ids.append(rec["id"])
    assert len(ids) == len(set(ids)), "duplicate records"
    assert set(ids) == present
    assert acked <= present, f"lost acknowledged keys {sorted(acked - present)[:5]}"
    extra = present - acked
    assert extra <= set(missing[:1]), f"keys present but never written: {sorted(extra)[:5]}"
    return present, repaired


def test_sigkill_at_random_instants_loses_and_duplicates_nothing(ws_path: Path) -> None:
    rng = random.Random(1234)
    ws = Workspace.open(ws_path, search=False)
    repairs = 0
    kills = 0
    for round_no in range(ROUNDS):
        rel = f"kill/r{round_no}.jsonl"
        policy = POLICIES[round_no % len(POLICIES)]
        acked: set[int] = set()
        for _ in range(KILLS_PER_ROUND):
            acked |= _run_child(ws_path, rel, policy, kill_after=rng.uniform(0.0, 0.03))
            kills += 1
            acked, repaired = _check(ws, rel, acked)
            repairs += repaired
        # Resume without a kill: every missing key is written once, and nothing else.
        before = set(acked)
        newly = _run_child(ws_path, rel, policy, kill_after=None)
        assert newly == set(range(N_KEYS)) - before
        present, _ = _check(ws, rel, set(range(N_KEYS)))
        assert present == set(range(N_KEYS))
    ws.close()
    assert kills == ROUNDS * KILLS_PER_ROUND >= 100
    print(f"{kills} kills, {repairs} torn tails repaired")
