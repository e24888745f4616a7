"""The workspace: tasks, phases, checkpoints, progress steps and the event journal over a store.

Every change is one durable transaction that also appends to the event journal; after it commits,
the workspace announces it to its listeners (``domain/notices.py``), the readable tree among them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cairn.core import names, rules
from cairn.core.config import DEFAULT_CONFIG, Config, load_config
from cairn.core.errors import (
    CairnError,
    NotAWorkspace,
    NotFound,
    TransitionError,
    UsageError,
    ValidationError,
)
from cairn.core.model import STEP_STATES, Checkpoint, Event, Phase, Recovery, Step, Task
from cairn.domain.notices import Change, Listener, Projection
from cairn.store import Row, Store, Tx, open_store
from cairn.store.contract.runs import PhaseRunRow

CAIRN_DIR = ".cairn"
DB_NAME = "cairn.db"
ENV_WORKSPACE = "CAIRN_WORKSPACE"
STEP_ALIASES = {
    "✅": "done",
    "⏳": "active",
    "⏸️": "todo",
    "⏸": "todo",
    "❌": "failed",
    "in-progress": "active",
    "in_progress": "active",
    "pending": "todo",
}


# The progress file shows at most this many steps; the store keeps them all.
PROGRESS_FILE_STEPS = 200


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _one_line(text: str) -> str:
    """A step or next action is one line: line breaks (and the blanks around them) become a space,
    so a pasted multi-line text cannot break the progress file, the status file or the brief."""
    if "\n" not in text and "\r" not in text:
        return text
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: $CAIRN_WORKSPACE or cwd) with ``.cairn/``."""
    if start is None:
        env = os.environ.get(ENV_WORKSPACE)
        start = Path(env) if env else Path.cwd()
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CAIRN_DIR / DB_NAME).exists():
            return folder
    raise NotAWorkspace(
        f"no cairn workspace at or above {start}; run `cairn init` in the project folder first"
    )


class Workspace:
    """A project folder with a cairn store. Open one with :func:`cairn.open` or ``Workspace.open``."""

    def __init__(
        self, root: Path, store: Store, config: Config, *, listeners: Sequence[str] | None = None
    ) -> None:
        from cairn.domain.notices import DEFAULT_LISTENERS, NoProjection, load_listeners

        self.root = root
        self.store = store
        self.config = config
        self.cairn_dir = root / CAIRN_DIR
        self.listeners: list[Listener] = load_listeners(
            self, DEFAULT_LISTENERS if listeners is None else listeners
        )
        first = self.listeners[0] if self.listeners else NoProjection(self)
        self.projector: Projection = first  # type: ignore[assignment]

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def init(cls, root: Path | str = ".", *, listeners: Sequence[str] | None = None) -> Workspace:
        root = Path(root).resolve()
        if not root.is_dir():
            raise UsageError(f"{root} is not a folder; create it first")
        cdir = root / CAIRN_DIR
        cdir.mkdir(exist_ok=True)
        cfg_path = cdir / "config.toml"
        if not cfg_path.exists():
            cfg_path.write_text(DEFAULT_CONFIG, encoding="utf-8")
        config = load_config(cfg_path)
        store = open_store(cdir / DB_NAME, create=True)
        ws = cls(root, store, config, listeners=listeners)
        for d in (config.artifacts_dir, config.logs_dir):
            (root / d).mkdir(parents=True, exist_ok=True)
        ws.refresh()
        return ws

    @classmethod
    def open(
        cls,
        root: Path | str | None = None,
        *,
        search: bool = True,
        listeners: Sequence[str] | None = None,
    ) -> Workspace:
        if root is None or search:
            found = find_root(None if root is None else Path(root))
        else:
            found = Path(root).resolve()
            if not (found / CAIRN_DIR / DB_NAME).exists():
                raise NotAWorkspace(f"{found} is not a cairn workspace; run `cairn init` there")
        config = load_config(found / CAIRN_DIR / "config.toml")
        store = open_store(found / CAIRN_DIR / DB_NAME)
        return cls(found, store, config, listeners=listeners)

    def close(self) -> None:
        try:
            for listener in self.listeners:
                listener.close()  # brings the readable tree current first
        finally:
            self.store.close()

    def flush(self) -> None:
        """Bring the readable tree current now. A write is durable when it returns and its files
        follow within ~0.1 s (at once at the end of a batch, on close and at exit); call this
        when the next line reads them."""
        for listener in self.listeners:
            listener.flush()

    def _announce(self, change: Change) -> None:
        for listener in self.listeners:
            listener.committed(change)

    def _before_write(self, task_id: str, kind: str) -> None:
        for listener in self.listeners:
            listener.before_write(task_id, kind)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- paths -----------------------------------------------------------------------------------
    def artifact_path(self, task_id: str, kind: str) -> str:
        return f"{self.config.artifacts_dir}/{task_id}_{kind}.md"

    def path(self, rel: str) -> Path:
        return names.inside(self.root, rel)

    # -- journal ---------------------------------------------------------------------------------
    @staticmethod
    def _event(tx: Tx, task_id: str | None, type_: str, ts: str, **data: Any) -> int:
        return tx.insert(
            "INSERT INTO events (ts, task_id, type, data) VALUES (?, ?, ?, ?)",
            (ts, task_id, type_, json.dumps(data, ensure_ascii=False, default=str)),
        )

    def record_event(self, task_id: str | None, type_: str, **data: Any) -> int:
        """Append an event of an outside kind (hooks, workers) to the journal, durably."""
        with self.store.transaction() as tx:
            if task_id is not None:
                task_id = self._task_row(tx, task_id)["id"]
            return self._event(tx, task_id, type_, now(), **data)

    def events(
        self,
        task_id: str | None = None,
        *,
        limit: int = 50,
        after: int = 0,
        types: Sequence[str] = (),
    ) -> list[Event]:
        sql = "SELECT * FROM events WHERE id > ?"
        params: list[Any] = [after]
        with self.store.read() as tx:
            if task_id is not None:
                task_id = self._task_row(tx, task_id)["id"]
                sql += " AND task_id = ?"
                params.append(task_id)
            if types:
                sql += f" AND type IN ({','.join('?' * len(types))})"
                params.extend(types)
            sql += " ORDER BY id DESC LIMIT ?"
            params.append(limit)
            rows = tx.execute(sql, params)
        return [
            Event(r["id"], r["ts"], r["task_id"], r["type"], json.loads(r["data"]))
            for r in reversed(rows)
        ]

    # -- tasks -----------------------------------------------------------------------------------
    def create_task(
        self,
        task_id: str,
        title: str = "",
        phases: Iterable[str] = (),
        gates: Iterable[str] = (),
        *,
        exist_ok: bool = False,
    ) -> Task:
        names.task_id(task_id)
        phase_list = [names.phase_name(p) for p in phases]
        if len(set(phase_list)) != len(phase_list):
            raise ValidationError(f"phase names repeat in {phase_list}; give each phase once")
        gate_set = {names.phase_name(g) for g in gates}
        missing = gate_set - set(phase_list)
        if missing:
            raise ValidationError(
                f"--gate names {sorted(missing)}, which are not among the phases {phase_list}"
            )
        if len(title) > 500:
            raise ValidationError("the title is over 500 characters; keep it to one line")
        ts = now()
        with self.store.transaction() as tx:
            existing = tx.one("SELECT id FROM tasks WHERE key = ?", (names.task_key(task_id),))
            if existing:
                if exist_ok and existing["id"] == task_id:
                    pass
                elif existing["id"] != task_id:
                    raise ValidationError(
                        f"task {task_id!r} differs only in case from the existing task "
                        f"{existing['id']!r}; use that id or a different name"
                    )
                else:
                    raise UsageError(
                        f"task {task_id!r} already exists; see it with `cairn task show {task_id}`"
                    )
            else:
                seq = (tx.scalar("SELECT max(seq) FROM tasks") or 0) + 1
                tx.execute(
                    "INSERT INTO tasks (id, key, title, created_at, updated_at, seq) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (task_id, names.task_key(task_id), title, ts, ts, seq),
                )
                self._event(
                    tx,
                    task_id,
                    "task.created",
                    ts,
                    title=title,
                    phases=phase_list,
                    gates=sorted(gate_set),
                )
            for name in phase_list:
                self._ensure_phase(tx, task_id, name, gated=name in gate_set, ts=ts)
        self._announce(Change("task", task_id))
        return self.task(task_id)

    def add_phases(self, task_id: str, phases: Iterable[str]) -> Task:
        with self.store.transaction() as tx:
            task_id = self._task_row(tx, task_id)["id"]
            for name in phases:
                self._ensure_phase(tx, task_id, names.phase_name(name), gated=False, ts=now())
        self._announce(Change("task", task_id))
        return self.task(task_id)

    def _ensure_phase(self, tx: Tx, task_id: str, name: str, *, gated: bool, ts: str) -> None:
        if tx.one("SELECT 1 FROM phases WHERE task_id = ? AND name = ?", (task_id, name)):
            return
        pos = (tx.scalar("SELECT max(position) FROM phases WHERE task_id = ?", (task_id,)) or 0) + 1
        tx.execute(
            "INSERT INTO phases (task_id, name, position, state, gated) VALUES (?, ?, ?, ?, ?)",
            (task_id, name, pos, "pending", int(gated)),
        )
        self._event(tx, task_id, "phase.added", ts, phase=name, position=pos, gated=gated)

    def _task_row(self, tx: Tx, task_id: str) -> Row:
        names.task_id(task_id)
        row = tx.one("SELECT * FROM tasks WHERE key = ?", (names.task_key(task_id),))
        if row is None:
            raise NotFound(
                f"no task {task_id!r}; create it with `cairn task new {task_id}` "
                "or list tasks with `cairn task list`"
            )
        return row

    def _load_task(self, tx: Tx, row: Row) -> Task:
        phases = tuple(
            Phase(
                r["name"],
                r["position"],
                r["state"],
                bool(r["gated"]),
                r["started_at"],
                r["finished_at"],
                r["error"],
            )
            for r in tx.execute(
                "SELECT * FROM phases WHERE task_id = ? ORDER BY position", (row["id"],)
            )
        )
        return Task(
            row["id"],
            row["title"],
            row["created_at"],
            row["updated_at"],
            row["next_action"],
            phases,
        )

    def task(self, task_id: str) -> Task:
        with self.store.read() as tx:
            return self._load_task(tx, self._task_row(tx, task_id))

    def has_task(self, task_id: str) -> bool:
        with self.store.read() as tx:
            return (
                tx.one("SELECT 1 FROM tasks WHERE key = ?", (names.task_key(task_id),)) is not None
            )

    def tasks(self, *, limit: int | None = None) -> list[Task]:
        with self.store.read() as tx:
            sql = "SELECT * FROM tasks ORDER BY updated_at DESC, seq DESC"
            rows = tx.execute(sql + (" LIMIT ?" if limit else ""), (limit,) if limit else ())
            return [self._load_task(tx, r) for r in rows]

    def active_tasks(self) -> list[Task]:
        with self.store.read() as tx:
            rows = tx.execute(
                "SELECT t.* FROM tasks t WHERE EXISTS (SELECT 1 FROM phases p WHERE "
                "p.task_id = t.id AND p.state = 'active') ORDER BY t.updated_at DESC"
            )
            return [self._load_task(tx, r) for r in rows]

    def resolve_task(self, task_id: str | None) -> str:
        """The named task, or the one active task when none is named."""
        if task_id is not None:
            with self.store.read() as tx:
                return str(self._task_row(tx, task_id)["id"])
        active = self.active_tasks()
        if len(active) == 1:
            return active[0].id
        if not active:
            with self.store.read() as tx:
                rows = tx.execute(
                    "SELECT t.id FROM tasks t WHERE EXISTS (SELECT 1 FROM phases p WHERE "
                    "p.task_id = t.id AND p.state != 'done') OR NOT EXISTS (SELECT 1 FROM phases "
                    "p2 WHERE p2.task_id = t.id) LIMIT 2"
                )
            if len(rows) == 1:
                return str(rows[0]["id"])
            if not rows:
                raise UsageError("no open task; create one with `cairn task new TASK --phases ...`")
            raise UsageError("no task is active and several are open; name the task")
        ids = ", ".join(t.id for t in active[:5])
        raise UsageError(f"several tasks are active ({ids}); name the task")

    def _touch(self, tx: Tx, task_id: str, ts: str) -> None:
        tx.execute("UPDATE tasks SET updated_at = ? WHERE id = ?", (ts, task_id))

    # -- phases ----------------------------------------------------------------------------------
    def start_phase(
        self,
        task_id: str,
        phase: str,
        *,
        reopen: bool = False,
        override: str | None = None,
        create: bool = False,
    ) -> Task:
        names.phase_name(phase)
        ts = now()
        with self.store.transaction() as tx:
            task_id = self._task_row(tx, task_id)["id"]
            row = tx.one("SELECT * FROM phases WHERE task_id = ? AND name = ?", (task_id, phase))
            if row is None:
                if not create:
                    known = [
                        r["name"]
                        for r in tx.execute(
                            "SELECT name FROM phases WHERE task_id = ? ORDER BY position",
                            (task_id,),
                        )
                    ]
                    raise NotFound(
                        f"task {task_id!r} has no phase {phase!r}; its phases are "
                        f"{', '.join(known) or '(none)'}; add one with "
                        f"`cairn task add-phase {task_id} {phase}`"
                    )
                self._ensure_phase(tx, task_id, phase, gated=False, ts=ts)
                row = tx.one(
                    "SELECT * FROM phases WHERE task_id = ? AND name = ?", (task_id, phase)
                )
                assert row is not None
            state = row["state"]
            refusal = rules.start_refusal(task_id, phase, state, reopen=reopen)
            if refusal:
                raise TransitionError(refusal)
            other = tx.one(
                "SELECT name FROM phases WHERE task_id = ? AND state = 'active'", (task_id,)
            )
            if other:
                raise TransitionError(
                    f"phase {other['name']!r} of {task_id!r} is still active; finish it first "
                    f"(`cairn phase done {task_id} {other['name']}`, or `cairn phase fail ...`)"
                )
            event = "phase.reopened" if state == "done" else "phase.started"
            self._activate(
                tx, task_id, phase, bool(row["gated"]), override, ts, event, previous=state
            )
        self._announce(Change("phase", task_id))
        return self.task(task_id)

    def finish_phase(self, task_id: str, phase: str) -> Task:
        return self._end_phase(task_id, phase, "done", None)

    def fail_phase(self, task_id: str, phase: str, error: str) -> Task:
        return self._end_phase(task_id, phase, "failed", error)

    def block_phase(self, task_id: str, phase: str, reason: str) -> Task:
        return self._end_phase(task_id, phase, "blocked", reason)

    def _end_phase(self, task_id: str, phase: str, new: str, error: str | None) -> Task:
        names.phase_name(phase)
        ts = now()
        with self.store.transaction() as tx:
            task_id = self._task_row(tx, task_id)["id"]
            row = tx.one("SELECT * FROM phases WHERE task_id = ? AND name = ?", (task_id, phase))
            if row is None:
                raise NotFound(f"task {task_id!r} has no phase {phase!r}; see `cairn task show`")
            refusal = rules.end_refusal(task_id, phase, row["state"], new)
            if refusal:
                raise TransitionError(refusal)
            self._close(tx, task_id, phase, new, error, ts)
        self._announce(Change("phase", task_id))
        return self.task(task_id)

    # The writes of a phase's state and its event, for the commands above and the durable runner
    # below alike (the allowed moves are checked by the caller, with cairn.core.rules).
    def _activate(
        self,
        tx: Tx,
        task_id: str,
        phase: str,
        gated: bool,
        override: str | None,
        ts: str,
        event: str,
        **data: Any,
    ) -> None:
        if gated:
            from cairn.domain.gates import check_gate

            check_gate(self, tx, task_id, phase, override=override, ts=ts)
        tx.execute(
            "UPDATE phases SET state = 'active', started_at = ?, finished_at = NULL, "
            "error = NULL WHERE task_id = ? AND name = ?",
            (ts, task_id, phase),
        )
        self._touch(tx, task_id, ts)
        self._event(tx, task_id, event, ts, phase=phase, **data)

    def _close(
        self, tx: Tx, task_id: str, phase: str, new: str, error: str | None, ts: str, **data: Any
    ) -> None:
        tx.execute(
            "UPDATE phases SET state = ?, finished_at = ?, error = ? "
            "WHERE task_id = ? AND name = ?",
            (new, ts, error, task_id, phase),
        )
        self._touch(tx, task_id, ts)
        self._event(
            tx,
            task_id,
            f"phase.{new}",
            ts,
            phase=phase,
            **data,
            **({"error": error} if error else {}),
        )

    # -- durable phase runs (task.run(), `cairn run`: cairn.flow.durable) ------------------------
    # The runner moves phases through the states and events above. What it adds: the phases kept
    # in line with the workflow's definition, the restart in place of a phase whose process died
    # (cairn.core.rules.run_action), and one attempt record per start holding the phase's result.
    def sync_phases(self, task_id: str, phases: Sequence[tuple[str, bool]]) -> bool:
        """Make the task's phases the given ``(name, gated)`` ones, in that order; returns whether
        anything changed. A pending phase not given goes (journaled): it holds no work and would
        keep the task from ever looking done. The caller refuses a renamed or reordered started
        phase first (a started phase not given keeps its place after the given ones)."""
        ts = now()
        changed = False
        with self.store.transaction() as tx:
            task_id = self._task_row(tx, task_id)["id"]
            rows = tx.execute(
                "SELECT name, position, state, gated FROM phases WHERE task_id = ? "
                "ORDER BY position, name",
                (task_id,),
            )
            existing = {r["name"]: r for r in rows}
            given = [names.phase_name(name) for name, _gated in phases]
            for name, gated in phases:
                row = existing.get(name)
                if row is None:
                    changed = True
                    self._ensure_phase(tx, task_id, name, gated=gated, ts=ts)
                elif bool(row["gated"]) != gated:
                    changed = True
                    tx.execute(
                        "UPDATE phases SET gated = ? WHERE task_id = ? AND name = ?",
                        (int(gated), task_id, name),
                    )
            for r in rows:
                if r["name"] not in given and r["state"] == "pending":
                    changed = True
                    tx.execute(
                        "DELETE FROM phases WHERE task_id = ? AND name = ?", (task_id, r["name"])
                    )
                    self._event(
                        tx, task_id, "phase.removed", ts, phase=r["name"], reason="not defined"
                    )
            for pos, name in enumerate(given, 1):
                row = existing.get(name)
                if row is None or row["position"] != pos:
                    changed = True
                    tx.execute(
                        "UPDATE phases SET position = ? WHERE task_id = ? AND name = ?",
                        (pos, task_id, name),
                    )
        return changed

    def begin_phase_run(
        self, task_id: str, phase: str, *, pid: int, host: str
    ) -> rules.PhaseRun | None:
        """Start ``phase`` as a new attempt, or restart it if it is still active (the process of
        the earlier attempt died: its record is marked crashed). None if the phase is done."""
        names.phase_name(phase)
        ts = now()
        # The start marker skips the fsync: it only tells a later run that this phase was running
        # when its process died. It survives a killed process (the WAL frames are written); a
        # power loss may drop it, and then the phase simply looks pending and runs again from its
        # start, which is what a crash recovery does too. The next synced commit makes it durable.
        with self.store.light_transaction() as tx:
            task_id = self._task_row(tx, task_id)["id"]
            row = tx.one(
                "SELECT state, gated FROM phases WHERE task_id = ? AND name = ?", (task_id, phase)
            )
            if row is None:
                raise NotFound(f"task {task_id!r} has no phase {phase!r}; see `cairn task show`")
            state = row["state"]
            action = rules.run_action(state)
            if action == rules.RUN_SKIP:
                return None
            # The runner holds the task's run lock: attempts still running died.
            running = tx.runs.crash_running(task_id, phase, ts)
            crashed = running[-1] if action == rules.RUN_RESTART and running else None
            attempt = 1 + tx.runs.attempts(task_id, phase)
            if action == rules.RUN_RESTART:
                self._event(
                    tx,
                    task_id,
                    "phase.restarted",
                    ts,
                    phase=phase,
                    attempt=attempt,
                    previous_pid=crashed.pid if crashed else None,
                )
            else:
                self._activate(
                    tx,
                    task_id,
                    phase,
                    bool(row["gated"]),
                    None,
                    ts,
                    "phase.started",
                    previous=state,
                    attempt=attempt,
                )
            run = tx.runs.add_phase_run(task_id, phase, attempt=attempt, pid=pid, host=host, ts=ts)
        return rules.PhaseRun(
            run.id,
            task_id,
            phase,
            attempt,
            action == rules.RUN_RESTART,
            crashed.pid if crashed else None,
            crashed.attempt if crashed else None,
        )

    def finish_phase_run(
        self,
        run: rules.PhaseRun,
        result_type: str,
        *,
        text: str | None = None,
        checkpoint: Checkpoint | None = None,
        result_json: str | None = None,
    ) -> str | None:
        """Mark the phase of ``run`` done with its result, in one durable transaction; returns the
        artifact holding the result. ``text`` is stored as a checkpoint named after the phase,
        ``checkpoint`` names one the phase wrote. Raises ValidationError, changing nothing, when
        ``text`` cannot be stored. The status file is the runner's to render (when its run ends,
        or while a phase runs long), not a cost paid at every phase boundary."""
        task_id, phase = run.task_id, run.phase
        data = None
        if text is not None:
            self._before_write(task_id, phase)  # a hand edit first
            text, data = self._coerce_content(text)
        ts = now()
        kind = version = path = None
        cp: Checkpoint | None = None
        with self.store.transaction() as tx:
            if checkpoint is not None:
                kind, version, path = checkpoint.kind, checkpoint.version, checkpoint.path
            elif text is not None and data is not None:
                cp = self._insert_checkpoint(tx, task_id, phase, text, data, (), phase, "write", ts)
                kind, version, path = cp.kind, cp.version, cp.path
            self._close(
                tx, task_id, phase, "done", None, ts, attempt=run.attempt, result=result_type
            )
            tx.runs.end_phase_run(
                run.id,
                "done",
                ts,
                result_type=result_type,
                result_kind=kind,
                result_version=version,
                result_json=result_json,
            )
        if cp is not None:
            self._announce(Change("checkpoint", task_id, phase, cp))
        else:
            self._announce(Change("phase", task_id))
        return path

    def fail_phase_run(self, run: rules.PhaseRun, error: str) -> None:
        """Mark the phase of ``run`` failed with ``error`` (what it wrote is kept)."""
        ts = now()
        with self.store.transaction() as tx:
            self._close(tx, run.task_id, run.phase, "failed", error, ts)
            tx.runs.end_phase_run(run.id, "failed", ts, error=error)
        self._announce(Change("phase", run.task_id))

    def reset_phases(
        self, task_id: str, phase: str, *, keep: Iterable[str]
    ) -> tuple[list[str], list[str]]:
        """Make ``phase`` and every phase started after it pending again, so they run again; those
        not in ``keep`` (no longer defined) are removed. Their checkpoints stay in the history.
        Returns (reset, removed)."""
        names.phase_name(phase)
        kept = set(keep)
        with self.store.transaction() as tx:
            task_id = self._task_row(tx, task_id)["id"]
            rows = tx.execute(
                "SELECT name, state FROM phases WHERE task_id = ? ORDER BY position, name",
                (task_id,),
            )
            order = [r["name"] for r in rows]
            if phase not in order:
                raise NotFound(
                    f"task {task_id!r} has no recorded phase {phase!r}; its phases are "
                    f"{', '.join(order) or '(none)'}"
                )
            idx = order.index(phase)
            affected = [r for r in rows[idx:] if r["state"] != "pending" or r["name"] == phase]
            reset, removed = [], []
            for r in affected:
                if r["name"] in kept:
                    tx.execute(
                        "UPDATE phases SET state = 'pending', started_at = NULL, finished_at = "
                        "NULL, error = NULL WHERE task_id = ? AND name = ?",
                        (task_id, r["name"]),
                    )
                    reset.append(r["name"])
                else:
                    tx.execute(
                        "DELETE FROM phases WHERE task_id = ? AND name = ?", (task_id, r["name"])
                    )
                    removed.append(r["name"])
                tx.runs.reset_phase_runs(task_id, r["name"])
            self._event(tx, task_id, "phase.reset", now(), phases=reset, removed=removed)
        self._announce(Change("phase", task_id))
        return reset, removed

    def phase_checkpointed(self, task_id: str, phase: str) -> bool:
        """Whether a checkpoint was written during ``phase`` or is named after it."""
        with self.store.read() as tx:
            task_id = self._task_row(tx, task_id)["id"]
            hit = tx.one(
                "SELECT 1 FROM checkpoints WHERE task_id = ? AND (phase = ? OR kind = ?) LIMIT 1",
                (task_id, phase, phase),
            )
        return hit is not None

    def phase_runs(self, task_id: str, phase: str | None = None) -> list[PhaseRunRow]:
        """The recorded attempts of the task's phases (or of one), oldest first."""
        with self.store.read() as tx:
            task_id = self._task_row(tx, task_id)["id"]
            return tx.runs.phase_runs(task_id, phase)

    # -- checkpoints -----------------------------------------------------------------------------
    def _coerce_content(self, content: str | bytes) -> tuple[str, bytes]:
        if isinstance(content, bytes):
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValidationError(
                    f"checkpoint content is not UTF-8 (byte 0x{content[exc.start]:02x} at offset "
                    f"{exc.start}); convert it, e.g. `iconv -t UTF-8`, and write again"
                ) from exc
            data = content
        else:
            text = content
            try:
                data = text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ValidationError(
                    f"checkpoint content holds text that cannot be UTF-8 ({exc.reason} at "
                    f"{exc.start}); clean it and write again"
                ) from exc
        if "\x00" in text:
            raise ValidationError("checkpoint content holds NUL bytes; checkpoints are text")
        limit = self.config.max_checkpoint_bytes
        if len(data) > limit:
            raise ValidationError(
                f"checkpoint is {len(data):,} bytes, over the {limit:,}-byte limit; write a "
                "summary and keep the bulk in a file it names (or raise [checkpoints] max_bytes)"
            )
        return text, data

    def write_checkpoint(
        self,
        task_id: str,
        kind: str,
        content: str | bytes,
        *,
        files: Iterable[str] = (),
        phase: str | None = None,
        source: str = "write",
    ) -> Checkpoint:
        names.kind(kind)
        text, data = self._coerce_content(content)
        file_list = tuple(dict.fromkeys(self._check_reload_path(f) for f in files))
        # A hand edit of this very artifact must be ingested before it is overwritten.
        self._before_write(task_id, kind)
        ts = now()
        with self.store.transaction() as tx:
            cp = self._insert_checkpoint(
                tx, task_id, kind, text, data, file_list, phase, source, ts
            )
        self._announce(Change("checkpoint", cp.task_id, kind, cp))
        return cp

    def _check_reload_path(self, rel: str) -> str:
        p = names.inside(self.root, rel, "file to reload")
        return p.relative_to(self.root.resolve()).as_posix()

    def _insert_checkpoint(
        self,
        tx: Tx,
        task_id: str,
        kind: str,
        text: str,
        data: bytes,
        files: tuple[str, ...],
        phase: str | None,
        source: str,
        ts: str,
    ) -> Checkpoint:
        task_id = self._task_row(tx, task_id)["id"]
        if phase is None:
            active = tx.one(
                "SELECT name FROM phases WHERE task_id = ? AND state = 'active'", (task_id,)
            )
            phase = active["name"] if active else None
        path = self.artifact_path(task_id, kind)
        owner = tx.one(
            "SELECT task_id, kind FROM projections WHERE path_key = ?", (path.casefold(),)
        )
        if owner and (owner["task_id"], owner["kind"]) != (task_id, kind):
            raise ValidationError(
                f"{path} already holds task {owner['task_id']!r} kind {owner['kind']!r}; "
                "choose another kind name"
            )
        last = tx.one(
            "SELECT version, hash FROM checkpoints WHERE task_id = ? AND kind = ? "
            "ORDER BY version DESC LIMIT 1",
            (task_id, kind),
        )
        version = (last["version"] if last else 0) + 1
        digest = content_hash(data)
        seq = (tx.scalar("SELECT max(seq) FROM checkpoints WHERE task_id = ?", (task_id,)) or 0) + 1
        tx.execute(
            "INSERT INTO checkpoints (task_id, kind, version, hash, size, content, phase, source, "
            "files, created_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                task_id,
                kind,
                version,
                digest,
                len(data),
                text,
                phase,
                source,
                json.dumps(files),
                ts,
                seq,
            ),
        )
        tx.execute(
            "INSERT INTO projections (path, path_key, task_id, kind, hash, prev_hash) "
            "VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (path) DO UPDATE SET "
            "prev_hash = projections.hash, hash = excluded.hash, mtime_ns = NULL, size = NULL",
            (path, path.casefold(), task_id, kind, digest),
        )
        self._touch(tx, task_id, ts)
        self._event(
            tx,
            task_id,
            "checkpoint.written",
            ts,
            kind=kind,
            version=version,
            hash=digest,
            size=len(data),
            phase=phase,
            source=source,
            path=path,
        )
        return Checkpoint(
            task_id, kind, version, digest, len(data), phase, source, files, ts, path, text
        )

    def _row_to_checkpoint(self, r: Row) -> Checkpoint:
        return Checkpoint(
            r["task_id"],
            r["kind"],
            r["version"],
            r["hash"],
            r["size"],
            r["phase"],
            r["source"],
            tuple(json.loads(r["files"])),
            r["created_at"],
            self.artifact_path(r["task_id"], r["kind"]),
            r.get("content"),
        )

    def checkpoint(self, task_id: str, kind: str, version: int | None = None) -> Checkpoint:
        names.kind(kind)
        with self.store.read() as tx:
            task_id = self._task_row(tx, task_id)["id"]
            if version is None:
                row = tx.one(
                    "SELECT * FROM checkpoints WHERE task_id = ? AND kind = ? "
                    "ORDER BY version DESC LIMIT 1",
                    (task_id, kind),
                )
            else:
                row = tx.one(
                    "SELECT * FROM checkpoints WHERE task_id = ? AND kind = ? AND version = ?",
                    (task_id, kind, version),
                )
            if row is None and version is not None:
                have = tx.one(
                    "SELECT min(version) AS lo, max(version) AS hi FROM checkpoints "
                    "WHERE task_id = ? AND kind = ?",
                    (task_id, kind),
                )
                if have is not None and have["hi"] is not None:
                    lo, hi = have["lo"], have["hi"]
                    span = f"version {lo}" if lo == hi else f"versions {lo}-{hi}"
                    raise NotFound(
                        f"no version {version} of checkpoint {kind!r} for task {task_id!r}; it "
                        f"has {span} (`cairn checkpoint history {task_id} {kind}`)"
                    )
            if row is None:
                kinds = [
                    r["kind"]
                    for r in tx.execute(
                        "SELECT DISTINCT kind FROM checkpoints WHERE task_id = ?", (task_id,)
                    )
                ]
                which = f"version {version} of " if version else ""
                raise NotFound(
                    f"no {which}checkpoint {kind!r} for task {task_id!r}; it has: "
                    f"{', '.join(sorted(kinds)) or 'no checkpoints yet'}"
                )
        return self._row_to_checkpoint(row)

    def has_checkpoint(self, task_id: str, kind: str) -> bool:
        with self.store.read() as tx:
            task_id = self._task_row(tx, task_id)["id"]
            return (
                tx.one(
                    "SELECT 1 FROM checkpoints WHERE task_id = ? AND kind = ? LIMIT 1",
                    (task_id, kind),
                )
                is not None
            )

    def checkpoints(self, task_id: str) -> list[tuple[Checkpoint, int]]:
        """The newest version of each kind (without content) and the number of versions."""
        with self.store.read() as tx:
            task_id = self._task_row(tx, task_id)["id"]
            rows = tx.execute(
                "SELECT c.task_id, c.kind, c.version, c.hash, c.size, c.phase, c.source, c.files, "
                "c.created_at, c.seq FROM checkpoints c JOIN (SELECT kind, max(version) AS v "
                "FROM checkpoints WHERE task_id = ? GROUP BY kind) m ON c.kind = m.kind AND "
                "c.version = m.v WHERE c.task_id = ? ORDER BY c.seq",
                (task_id, task_id),
            )
        return [(self._row_to_checkpoint(r), int(r["version"])) for r in rows]

    def history(self, task_id: str, kind: str) -> list[Checkpoint]:
        with self.store.read() as tx:
            task_id = self._task_row(tx, task_id)["id"]
            rows = tx.execute(
                "SELECT task_id, kind, version, hash, size, phase, source, files, created_at "
                "FROM checkpoints WHERE task_id = ? AND kind = ? ORDER BY version",
                (task_id, kind),
            )
        return [self._row_to_checkpoint(r) for r in rows]

    def newest_checkpoint(
        self, task_id: str, *, exclude: Sequence[str] = ("progress",), with_content: bool = True
    ) -> Checkpoint | None:
        cols = (
            "*"
            if with_content
            else ("task_id, kind, version, hash, size, phase, source, files, created_at")
        )
        with self.store.read() as tx:
            task_id = self._task_row(tx, task_id)["id"]
            sql = f"SELECT {cols} FROM checkpoints WHERE task_id = ?"
            params: list[Any] = [task_id]
            if exclude:
                sql += f" AND kind NOT IN ({','.join('?' * len(exclude))})"
                params.extend(exclude)
            row = tx.one(sql + " ORDER BY seq DESC LIMIT 1", params)
        return self._row_to_checkpoint(row) if row else None

    # -- progress steps and next action ----------------------------------------------------------
    def progress(
        self, task_id: str, text: str, state: str = "done", phase: str | None = None
    ) -> Step:
        state = STEP_ALIASES.get(state, state)
        text = _one_line(text)
        if state not in STEP_STATES:
            raise ValidationError(
                f"state {state!r} is not one of {', '.join(STEP_STATES)} "
                "(done ✅, active ⏳, todo ⏸️, failed ❌)"
            )
        text = text.strip()
        if not text or "\x00" in text or len(text) > 2000:
            raise ValidationError("a progress step is one line of 1-2000 characters, without NUL")
        self._before_write(task_id, "progress")
        ts = now()
        with self.store.transaction() as tx:
            task_id = self._task_row(tx, task_id)["id"]
            if phase is None:
                active = tx.one(
                    "SELECT name FROM phases WHERE task_id = ? AND state = 'active'", (task_id,)
                )
                phase = active["name"] if active else None
            else:
                known = [
                    r["name"]
                    for r in tx.execute(
                        "SELECT name FROM phases WHERE task_id = ? ORDER BY position", (task_id,)
                    )
                ]
                if phase not in known:
                    raise NotFound(
                        f"task {task_id!r} has no phase {phase!r}; its phases are "
                        f"{', '.join(known) or '(none)'} (leave the phase out to use the active one)"
                    )
            existing = tx.one(
                "SELECT id FROM steps WHERE task_id = ? AND text = ? ORDER BY id DESC LIMIT 1",
                (task_id, text),
            )
            if existing:
                step_id = int(existing["id"])
                tx.execute(
                    "UPDATE steps SET state = ?, updated_at = ?, phase = ? WHERE id = ?",
                    (state, ts, phase, step_id),
                )
            else:
                step_id = tx.insert(
                    "INSERT INTO steps (task_id, phase, text, state, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (task_id, phase, text, state, ts, ts),
                )
            self._event(
                tx, task_id, "step.recorded", ts, step=step_id, text=text, state=state, phase=phase
            )
            cp = self._write_progress_checkpoint(tx, task_id, ts)
        self._announce(Change("checkpoint", task_id, "progress", cp))
        return Step(step_id, task_id, phase, text, state, ts, ts)

    def set_next(self, task_id: str, text: str) -> Task:
        text = _one_line(text).strip()
        if not text or "\x00" in text or len(text) > 2000:
            raise ValidationError("the next action is one line of 1-2000 characters, without NUL")
        # The next action is rendered into the progress file: ingest a hand edit of it first.
        self._before_write(task_id, "progress")
        ts = now()
        with self.store.transaction() as tx:
            task_id = self._task_row(tx, task_id)["id"]
            tx.execute(
                "UPDATE tasks SET next_action = ?, updated_at = ? WHERE id = ?", (text, ts, task_id)
            )
            self._event(tx, task_id, "next.set", ts, text=text)
            cp = self._write_progress_checkpoint(tx, task_id, ts)
        self._announce(Change("checkpoint", task_id, "progress", cp))
        return self.task(task_id)

    def steps(
        self, task_id: str, *, limit: int | None = None, phase: str | None = None
    ) -> list[Step]:
        """Progress steps of a task (or of one of its phases), oldest first; ``limit``: the last N."""
        with self.store.read() as tx:
            task_id = self._task_row(tx, task_id)["id"]
            return self._steps(tx, task_id, limit, phase)

    @staticmethod
    def _steps(
        tx: Tx, task_id: str, limit: int | None = None, phase: str | None = None
    ) -> list[Step]:
        where, params = "task_id = ?", [task_id]
        if phase is not None:
            where += " AND phase = ?"
            params.append(phase)
        if limit:
            rows = tx.execute(
                f"SELECT * FROM (SELECT * FROM steps WHERE {where} ORDER BY id DESC LIMIT ?) "
                "ORDER BY id",
                (*params, limit),
            )
        else:
            rows = tx.execute(f"SELECT * FROM steps WHERE {where} ORDER BY id", params)
        return [
            Step(
                r["id"],
                r["task_id"],
                r["phase"],
                r["text"],
                r["state"],
                r["created_at"],
                r["updated_at"],
            )
            for r in rows
        ]

    def _write_progress_checkpoint(self, tx: Tx, task_id: str, ts: str) -> Checkpoint:
        """Render the seed's progress file from the steps and store it as a new version."""
        from cairn.core.templates import render_progress

        row = self._task_row(tx, task_id)
        task = self._load_task(tx, row)
        total = tx.scalar("SELECT count(*) FROM steps WHERE task_id = ?", (task_id,)) or 0
        if total <= PROGRESS_FILE_STEPS:
            steps = self._steps(tx, task_id)
        else:
            # A twelve-hour run records thousands of steps; every one is a new version of this
            # file, so it keeps a bounded view (older open steps, then the newest) and the full
            # list stays in the store (`cairn task show TASK`). Without the cap the stored
            # versions grow with the square of the number of steps.
            recent = self._steps(tx, task_id, limit=PROGRESS_FILE_STEPS // 2)
            first_recent = recent[0].id if recent else 0
            older_open = [
                Step(
                    r["id"],
                    r["task_id"],
                    r["phase"],
                    r["text"],
                    r["state"],
                    r["created_at"],
                    r["updated_at"],
                )
                for r in tx.execute(
                    "SELECT * FROM steps WHERE task_id = ? AND id < ? AND state != 'done' "
                    "ORDER BY id LIMIT ?",
                    (task_id, first_recent, PROGRESS_FILE_STEPS // 2),
                )
            ]
            steps = [*older_open, *recent]
        text = render_progress(task, steps, omitted=total - len(steps))
        data = text.encode("utf-8")
        if len(data) > self.config.max_checkpoint_bytes:
            steps = self._steps(tx, task_id, limit=20)
            text = render_progress(task, steps, omitted=total - len(steps))
            data = text.encode("utf-8")
        return self._insert_checkpoint(
            tx, task_id, "progress", text, data, (), None, "progress", ts
        )

    # -- recoveries ------------------------------------------------------------------------------
    def recoveries(self, *, limit: int = 20) -> list[Recovery]:
        with self.store.read() as tx:
            rows = tx.execute(
                "SELECT * FROM (SELECT * FROM recoveries ORDER BY id DESC LIMIT ?) ORDER BY id",
                (limit,),
            )
        return [
            Recovery(
                r["id"],
                r["ts"],
                r["trigger"],
                r["task_id"],
                r["phase"],
                r["checkpoint"],
                tuple(json.loads(r["reloaded"])),
                None if r["safe_point"] is None else bool(r["safe_point"]),
                r["note"],
            )
            for r in rows
        ]

    def refresh(self) -> None:
        """Re-project the readable tree: status file, artifacts, recovery log (a full pass)."""
        for listener in self.listeners:
            listener.refresh()

    @contextlib.contextmanager
    def batch(self) -> Iterator[Workspace]:
        """Many writes, one projection: inside the block every write is durable when its call
        returns, and the readable tree (artifacts, ``CURRENT_WORK_STATUS.md``) is brought up to
        date once, when the block ends (also when it ends by an exception). Outside a batch the
        tree follows each write within ~0.1 s."""
        for listener in self.listeners:
            listener.begin_batch()
        try:
            yield self
        finally:
            for listener in self.listeners:
                listener.end_batch()


def open_workspace(path: str | Path | None = None, *, create: bool = False) -> Workspace:
    """Open the workspace at or above ``path``; with ``create=True`` initialise it if missing."""
    if create:
        root = Path(path or ".").resolve()
        try:
            return Workspace.open(root)
        except NotAWorkspace:
            return Workspace.init(root)
    return Workspace.open(path)


__all__ = ["CairnError", "Workspace", "find_root", "open_workspace"]
