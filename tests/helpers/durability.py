"""The SIGKILL harness: kill writers at random instants, then check the store and the readable tree.

Used by ``tests/test_durability.py`` (100+ trials) and ``bench/kill_bench.py`` (1,000).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from kill_child import KINDS, TASK, content_ok, ensure_task  # noqa: E402

KILL_CHILD = HERE / "kill_child.py"
_STEP_LINE = re.compile(r"^- ((✅|⏳|⏸️|❌) .+|\(no steps recorded yet\))$")


@dataclass
class Tally:
    trials: int = 0
    acknowledged: int = 0  # acknowledgements checked, summed over checks (each check sees all)
    unique_writes: dict[str, int] = field(default_factory=dict)  # workspace -> acknowledged writes
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    torn: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # How often a kill left something for the next command to repair: evidence that the kills
    # land inside the windows that matter (between commit and projection, mid file write).
    stale_artifacts: int = 0
    temp_files: int = 0

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.torn or self.problems)

    def summary(self) -> str:
        return (
            f"{self.trials} trials, {sum(self.unique_writes.values())} acknowledged writes "
            f"({self.acknowledged} checks): "
            f"lost {len(self.lost)}, duplicated {len(self.duplicated)}, torn {len(self.torn)}, "
            f"other problems {len(self.problems)}; kills that left a stale artifact "
            f"{self.stale_artifacts}, a temporary file {self.temp_files}"
        )


class Zygote:
    """A long-lived child that has imported cairn and forks one writer per trial."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(KILL_CHILD), "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def _ask(self, line: str) -> int:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError("the kill-test zygote died")
        return int(answer)

    def spawn(self, ws: Path, ack: Path, seed: int, worker: str) -> int:
        return self._ask(f"run {ws} {ack} {seed} {worker}")

    def reap(self, pid: int) -> int:
        return self._ask(f"reap {pid}")

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=10)


def new_workspace(root: Path, store: str | None = None) -> tuple[Path, Path]:
    """A workspace for kill trials; ``store`` a PostgreSQL URL, or None for the SQLite file."""
    from cairn.domain.workspace import Workspace

    root.mkdir(parents=True, exist_ok=True)
    Workspace.init(root, store=store).close()
    ensure_task(str(root))
    return root, root / "acks.log"


def kill_trial(zygote: Zygote, ws: Path, ack: Path, rng: Random, max_delay: float, n: int) -> str:
    """Fork a writer and SIGKILL it at a random instant; returns how it ended.

    One trial in ten kills it while it starts (opening the store); the others wait until it has
    acknowledged a random number (0-8) of writes and then kill it a random 0-``max_delay`` s later,
    so the kill lands at a random point of a write whatever the machine's load.
    """
    start = ack.stat().st_size if ack.exists() else 0
    pid = zygote.spawn(ws, ack, rng.randrange(1 << 30), f"t{n}")
    if rng.random() < 0.1:
        time.sleep(rng.uniform(0, 0.01))
    else:
        want = rng.randint(0, 8) + 1  # + its "ready" line
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with ack.open("rb") as fh:
                    fh.seek(start)
                    if fh.read().count(b"\n") >= want:
                        break
            except FileNotFoundError:
                pass
            time.sleep(0.0005)
        time.sleep(rng.uniform(0, max_delay))
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    status = zygote.reap(pid)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        return "killed"
    return f"exited with status {status}"


def _next_command(ws: Path) -> int:
    """The command a user runs next (`cairn status`), in-process; returns its exit code."""
    from cairn.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["-C", str(ws), "status"])
    gc.collect()  # the CLI leaves its connection to the garbage collector
    if code:
        raise AssertionError(f"`cairn status` after a kill failed: {err.getvalue()}")
    return code


def check(ws: Path, ack: Path, tally: Tally) -> None:
    """Everything the issue asks after a kill, added to ``tally``."""
    from cairn.domain.workspace import Workspace

    before = len(tally.lost) + len(tally.duplicated) + len(tally.torn) + len(tally.problems)
    with Workspace.open(ws) as w:
        verdict = w.store.integrity_check()
        if verdict != "ok":
            tally.problems.append(f"integrity_check: {verdict}")
    # Read the store directly, before any command has had a chance to repair anything.
    cps = _query(
        ws, "SELECT kind, version, hash, source, content FROM checkpoints WHERE task_id = ?", TASK
    )
    steps = _query(ws, "SELECT text, state FROM steps WHERE task_id = ?", TASK)
    nexts = {
        json.loads(r["data"]).get("text")
        for r in _query(ws, "SELECT data FROM events WHERE type = 'next.set'")
    }
    recoveries = Counter(r["note"] for r in _query(ws, "SELECT note FROM recoveries"))
    by_version = {(r["kind"], r["version"]): r for r in cps}
    for r in cps:
        where = f"{r['kind']} v{r['version']}"
        if hashlib.sha256(r["content"].encode("utf-8")).hexdigest() != r["hash"]:
            tally.torn.append(f"{where}: content does not match its hash")
        if r["source"] == "write" and not content_ok(r["content"]):
            tally.torn.append(f"{where}: content fails its own checksum")
        if r["source"] == "hand-edit":
            tally.problems.append(f"{where}: a stale artifact was taken for a hand edit")
    written = Counter(r["hash"] for r in cps if r["source"] == "write")
    tally.duplicated += [
        f"checkpoint {h[:12]} stored {n} times" for h, n in written.items() if n > 1
    ]
    step_rows = Counter(r["text"] for r in steps)
    tally.duplicated += [f"step {t!r} stored {n} times" for t, n in step_rows.items() if n > 1]
    step_state = {r["text"]: r["state"] for r in steps}

    lines = ack.read_text(encoding="utf-8").splitlines() if ack.exists() else []
    tally.unique_writes[str(ws)] = sum(1 for ln in lines if not ln.startswith("ready "))
    for line in lines:
        what, _, rest = line.partition(" ")
        if what == "ready":
            continue
        tally.acknowledged += 1
        if what == "checkpoint":
            kind, version, digest = rest.split(" ")
            row = by_version.get((kind, int(version)))
            if row is None or row["hash"] != digest:
                tally.lost.append(f"checkpoint {kind} v{version}")
        elif what == "step":
            state, _, text = rest.partition(" ")
            if step_state.get(text) != state:
                tally.lost.append(f"step {text!r} ({state})")
        elif what == "next":
            if rest not in nexts:
                tally.lost.append(f"next action {rest!r}")
        elif what == "recovery":
            if recoveries[rest] != 1:
                tally.lost.append(f"recovery {rest!r} stored {recoveries[rest]} times")
        else:
            tally.problems.append(f"unreadable acknowledgement {line!r}")

    tally.stale_artifacts += _stale(ws)
    tally.temp_files += any(p.name.endswith(".tmp") for p in ws.rglob("*"))
    _next_command(ws)
    check_tree(ws, tally)
    tally.trials += 1
    after = len(tally.lost) + len(tally.duplicated) + len(tally.torn) + len(tally.problems)
    if after > before:
        tally.problems.append(f"(trial {tally.trials} in {ws} found the problems above)")


def store_url(ws: Path) -> str | None:
    """The workspace's store when it is a server (PostgreSQL), else None (the SQLite file)."""
    from cairn.core.config import load_config

    where = load_config(ws / ".cairn" / "config.toml").store
    return where if "://" in where else None


def _query(ws: Path, sql: str, *params: object) -> list[dict[str, Any]]:
    """Rows read straight from the workspace's store (SQLite file or PostgreSQL database)."""
    url = store_url(ws)
    if url is not None:
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(url, row_factory=dict_row) as pconn:
            return pconn.execute(sql.replace("?", "%s").encode(), params).fetchall()
    conn = sqlite3.connect(f"file:{ws / '.cairn' / 'cairn.db'}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def _newest(ws: Path) -> list[tuple[str, str]]:
    rows = _query(
        ws,
        "SELECT c.kind, c.hash FROM checkpoints c JOIN (SELECT kind, max(version) AS v FROM "
        "checkpoints WHERE task_id = ? GROUP BY kind) m ON c.kind = m.kind AND c.version = m.v "
        "WHERE c.task_id = ?",
        TASK,
        TASK,
    )
    return [(r["kind"], r["hash"]) for r in rows]


def _stale(ws: Path) -> int:
    """1 if some artifact is not the store's newest version (the kill came after a commit)."""
    for kind, digest in _newest(ws):
        path = ws / "artifacts" / f"{TASK}_{kind}.md"
        if not path.exists() or hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            return 1
    return 0


def check_tree(ws: Path, tally: Tally) -> None:
    """After a command: no temporary files, every artifact parses and is the store's newest."""
    temps = [p.relative_to(ws).as_posix() for p in ws.rglob("*") if p.name.endswith(".tmp")]
    if temps:
        tally.problems.append(f"temporary files left after a command: {temps}")
    for kind, digest in _newest(ws):
        path = ws / "artifacts" / f"{TASK}_{kind}.md"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            tally.problems.append(f"{path.name} missing")
            continue
        if hashlib.sha256(data).hexdigest() != digest:
            tally.torn.append(f"{path.name} is not the store's newest {kind}")
            continue
        text = data.decode("utf-8")
        if kind in KINDS and not content_ok(text):
            tally.torn.append(f"{path.name} does not parse")
        if kind == "progress":
            lines = [ln for ln in text.splitlines() if ln.startswith("- ")]
            if not text.startswith("# ") or not all(_STEP_LINE.match(ln) for ln in lines):
                tally.torn.append(f"{path.name} does not parse")
    from cairn.domain.workspace import Workspace

    with Workspace.open(ws) as w:
        expected_log = w.projector.recovery_log_text()
    log = (ws / "logs" / "compaction_recovery.log").read_text(encoding="utf-8")
    if log != expected_log:
        tally.torn.append("logs/compaction_recovery.log is not the store's recoveries")
    status = (ws / "CURRENT_WORK_STATUS.md").read_text(encoding="utf-8")
    if not status.startswith("# Current Work Status") or TASK not in status:
        tally.torn.append("CURRENT_WORK_STATUS.md does not parse")


def run_kill_trials(
    base: Path,
    trials: int,
    *,
    seed: int = 0,
    max_delay: float = 0.004,
    trials_per_workspace: int = 25,
    tally: Tally | None = None,
    store: Callable[[], str] | None = None,
) -> Tally:
    """``store`` makes each workspace's store (a new PostgreSQL database); default SQLite."""
    tally = tally or Tally()
    rng = Random(seed)
    zygote = Zygote()
    try:
        ws = ack = None
        for n in range(trials):
            if n % trials_per_workspace == 0:
                root = base / f"ws{n // trials_per_workspace}"
                ws, ack = new_workspace(root, store() if store else None)
            assert ws is not None and ack is not None
            ended = kill_trial(zygote, ws, ack, rng, max_delay, n)
            if ended != "killed":
                tally.problems.append(f"trial {n}: the writer {ended} before the kill")
            check(ws, ack, tally)
    finally:
        zygote.close()
    return tally
