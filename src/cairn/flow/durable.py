"""Durable phases for Python programs: a finished phase is never run again, a crashed one restarts.

A :class:`TaskHandle` holds the ordered phase functions of one task. ``run()`` walks them in order:

- a phase recorded as **done** is skipped and the value it returned is given back from the store;
- a phase still **active** in the store was running when its process died: a crash recovery is
  logged (``logs/compaction_recovery.log``) and the phase runs again from its start, with the
  progress steps of the earlier attempt visible in ``ctx.steps``;
- a pending or failed phase runs; ``needs=[...]`` are checked first.

What a phase function returns becomes its result, recorded in the same transaction that marks the
phase done:

===================  =========================================================================
return value         recorded as / given back on a later run
===================  =========================================================================
``ctx.checkpoint()``  that checkpoint (kind and version); a later run gets the same ``Checkpoint``
``str``              a checkpoint whose kind is the phase name; a later run gets the same text
dict/list/number     JSON, also shown as a checkpoint named after the phase; a later run gets it
                     back parsed (tuples come back as lists)
``None``             nothing; a later run gets ``None``
anything else        refused: the phase is marked failed with the reason, and nothing it wrote is
                     lost
===================  =========================================================================

Like a durable step in DBOS, a phase is identified by its task, its name and its position. Phases
that were started or finished in earlier runs must keep their names and order: a renamed or
reordered phase raises :class:`WorkflowChanged` that says how to continue (keep the old name, or
``cairn run FILE --reset PHASE``), never re-running finished work silently.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, overload

from cairn.core import names
from cairn.core.errors import CairnError, NotFound, TransitionError, UsageError, ValidationError
from cairn.core.fsutil import file_lock
from cairn.core.model import Checkpoint
from cairn.flow.context import PhaseContext, open_task_stream, spawn_task_workers
from cairn.flow.refresh import StatusRefresher

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace
    from cairn.store import Row, Tx

PhaseFn = Callable[[PhaseContext], Any]
RESERVED_PHASES = ("progress",)  # the kind cairn renders the progress steps into
MAX_ERROR_CHARS = 20_000
_HELD_LOCKS: set[str] = set()
# `cairn run FILE --reset PHASE` sets this before loading FILE, so that a file calling task.run() at
# import time is reset too. Key: task key, or "*" for the first task that runs.
PENDING_RESETS: dict[str, str] = {}


class PhaseFailed(CairnError):
    """A phase function raised, or returned something cairn cannot store. The phase is failed."""


class WorkflowChanged(UsageError):
    """Phases that earlier runs started or finished were renamed, removed or reordered."""


@dataclass(frozen=True)
class PhaseSpec:
    name: str
    fn: PhaseFn
    needs: tuple[str, ...] = ()
    gated: bool = False


@dataclass(frozen=True)
class PhaseOutcome:
    phase: str
    action: str  # "skipped" (done earlier), "ran", or "rerun" (restarted after a crash)
    attempt: int
    result: Any
    seconds: float
    checkpoint: str | None  # artifact holding the result, if any
    earlier_steps: int = 0


@dataclass
class RunReport:
    task_id: str
    outcomes: list[PhaseOutcome] = field(default_factory=list)
    recoveries: list[str] = field(default_factory=list)
    reset: list[str] = field(default_factory=list)

    @property
    def results(self) -> dict[str, Any]:
        return {o.phase: o.result for o in self.outcomes}

    def __getitem__(self, phase: str) -> Any:
        return self.results[phase]

    @property
    def skipped(self) -> list[str]:
        return [o.phase for o in self.outcomes if o.action == "skipped"]

    def lines(self) -> list[str]:
        out = [f"task {self.task_id}:"]
        if self.reset:
            out.append(f"  ↺  reset: {', '.join(self.reset)} will run again")
        out += [f"  ⚠  {r}" for r in self.recoveries]
        out += [outcome_line(o) for o in self.outcomes]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": "cairn.run/1",
            "task": self.task_id,
            "recoveries": self.recoveries,
            "reset": self.reset,
            "phases": [
                {
                    "phase": o.phase,
                    "action": o.action,
                    "attempt": o.attempt,
                    "seconds": round(o.seconds, 4),
                    "checkpoint": o.checkpoint,
                    "earlier_steps": o.earlier_steps,
                }
                for o in self.outcomes
            ],
        }


def outcome_line(o: PhaseOutcome) -> str:
    where = f" → {o.checkpoint}" if o.checkpoint else ""
    if o.action == "skipped":
        return f"  ⏭  {o.phase}: done in an earlier run, skipped{where}"
    if o.action == "rerun":
        return (
            f"  🔁 {o.phase}: ran again from its start (attempt {o.attempt}, "
            f"{o.earlier_steps} earlier step(s) visible) in {o.seconds:.2f} s{where}"
        )
    again = f" (attempt {o.attempt})" if o.attempt > 1 else ""
    return f"  ✅ {o.phase}: ran{again} in {o.seconds:.2f} s{where}"


@dataclass(frozen=True)
class _Encoded:
    type: str
    text: str | None = None
    json: str | None = None
    checkpoint: Checkpoint | None = None


def _encode_result(task_id: str, phase: str, value: Any) -> _Encoded:
    if value is None:
        return _Encoded("none")
    if isinstance(value, Checkpoint):
        if value.task_id != task_id:
            raise ValidationError(
                f"phase {phase!r} returned a checkpoint of task {value.task_id!r}, not of "
                f"{task_id!r}; return one written with this phase's ctx.checkpoint(...)"
            )
        return _Encoded("checkpoint", checkpoint=value)
    if isinstance(value, str):
        return _Encoded("text", text=value)
    if isinstance(value, dict | list | tuple | int | float | bool):
        try:
            compact = json.dumps(value, ensure_ascii=False, allow_nan=False)
            pretty = json.dumps(value, ensure_ascii=False, allow_nan=False, indent=2)
        except (TypeError, ValueError) as exc:
            raise ValidationError(
                f"phase {phase!r} returned a {type(value).__name__} that is not JSON ({exc}); "
                "return plain dicts/lists of str, numbers, bools and None, a str, or "
                "ctx.checkpoint(...)"
            ) from None
        text = (
            f"# {task_id}: {phase}\n\nResult of phase `{phase}` (JSON, recorded by cairn run):\n\n"
            f"```json\n{pretty}\n```\n"
        )
        return _Encoded("json", text=text, json=compact)
    raise ValidationError(
        f"phase {phase!r} returned a {type(value).__name__}, which cairn cannot store; return a "
        "str, a JSON-serializable dict/list, ctx.checkpoint(...), or None"
    )


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


@contextlib.contextmanager
def run_lock(ws: Workspace, task_id: str) -> Iterator[None]:
    """Only one process runs a task's phases at a time.

    A POSIX record lock (``lockf``) is released when its process dies and, unlike ``flock``, is not
    inherited by forked children, so a worker outliving a killed orchestrator does not hold it.
    """
    key = names.task_key(task_id)
    if key in _HELD_LOCKS:
        raise UsageError(
            f"task {task_id!r} is already running in this process; do not call task.run() "
            "from inside one of its own phases"
        )
    folder = ws.cairn_dir / "runs"
    folder.mkdir(exist_ok=True)
    path = folder / f"{key}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise UsageError(
                f"task {task_id!r} is being run by another process (pid {holder}); wait for it "
                "to finish, or stop that process and run again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        _HELD_LOCKS.add(key)
        try:
            yield
        finally:
            _HELD_LOCKS.discard(key)
    finally:
        os.close(fd)


def check_order(task_id: str, started: list[str], registered: list[str], command: str) -> None:
    """Raise :class:`WorkflowChanged` unless the phases started earlier lead the registered order."""
    n = len(started)
    if started == registered[:n]:
        return
    i = next(i for i, name in enumerate(started) if i >= len(registered) or registered[i] != name)
    first = started[i]
    if first not in registered:
        guess = ""
        if i < len(registered) and registered[i] not in started:
            guess = f" (renamed to {registered[i]!r}?)"
        raise WorkflowChanged(
            f"phase {first!r} of task {task_id!r} was started or finished by an earlier run, but "
            f"the workflow no longer defines it{guess}. cairn does not re-run finished work "
            f"silently: keep the old name (@task.phase({first!r})), or run "
            f"`{command} --reset {first}` to run the phases from there again (their earlier "
            "checkpoints stay in the history)"
        )
    raise WorkflowChanged(
        f"the phases of task {task_id!r} changed order: earlier runs went "
        f"{' → '.join(started)}, the workflow now goes {' → '.join(registered)}. cairn does not "
        f"re-run finished work silently: restore the old order, or run `{command} --reset "
        f"{first}` to run {first!r} and the phases after it again"
    )


class TaskHandle:
    """The phases of one task, registered with :meth:`phase` and run durably with :meth:`run`."""

    def __init__(self, ws: Workspace, task_id: str, *, order: Sequence[str] | None = None) -> None:
        self.workspace = ws
        self.id = task_id
        self._specs: dict[str, PhaseSpec] = {}
        self._order = [names.phase_name(p) for p in order] if order is not None else None
        self.source: str | None = None  # the workflow file, for the hints in error messages
        self.runs = 0
        self.last_report: RunReport | None = None
        self._refresher = StatusRefresher(ws.root)

    def __repr__(self) -> str:
        return f"TaskHandle({self.id!r}, phases={self.phase_names})"

    # -- registration ----------------------------------------------------------------------------
    @overload
    def phase(self, name: PhaseFn, /) -> PhaseFn: ...

    @overload
    def phase(
        self, name: str | None = None, /, *, needs: Sequence[str] = (), gated: bool = False
    ) -> Callable[[PhaseFn], PhaseFn]: ...

    def phase(
        self,
        name: str | PhaseFn | None = None,
        /,
        *,
        needs: Sequence[str] = (),
        gated: bool = False,
    ) -> PhaseFn | Callable[[PhaseFn], PhaseFn]:
        """Register a phase: ``@task.phase``, ``@task.phase("plan", needs=["analysis"])``.

        Phases run in the order they are registered (or the ``phases=`` order given to
        ``task()``). ``gated=True`` makes the phase wait for an approved review of the plan (the
        rule in :mod:`cairn.domain.gates`), as ``cairn task new --gate`` does.
        """
        if callable(name):
            return self._register(name.__name__, name, needs, gated)
        given = name

        def decorate(fn: PhaseFn) -> PhaseFn:
            return self._register(given or fn.__name__, fn, needs, gated)

        return decorate

    def _register(self, name: str, fn: PhaseFn, needs: Sequence[str], gated: bool) -> PhaseFn:
        names.phase_name(name)
        if name in RESERVED_PHASES:
            raise ValidationError(
                f"phase name {name!r} is reserved (cairn renders progress steps under it); "
                "choose another name"
            )
        if name in self._specs:
            raise ValidationError(
                f"task {self.id!r} already has a phase {name!r}; give each phase its own name"
            )
        if self._order is not None and name not in self._order:
            raise ValidationError(
                f"phase {name!r} is not among the phases declared for task {self.id!r} "
                f"({', '.join(self._order)}); add it to phases=[...] or rename it"
            )
        self._specs[name] = PhaseSpec(name, fn, tuple(names.phase_name(n) for n in needs), gated)
        return fn

    @property
    def phase_names(self) -> list[str]:
        if self._order is not None:
            return [p for p in self._order if p in self._specs]
        return list(self._specs)

    def _ordered_specs(self) -> list[PhaseSpec]:
        if self._order is not None:
            missing = [p for p in self._order if p not in self._specs]
            if missing:
                raise UsageError(
                    f"task {self.id!r} declares phases {', '.join(missing)} but no function is "
                    "registered for them; decorate one with @task.phase(NAME) for each"
                )
        specs = [self._specs[n] for n in self.phase_names]
        if not specs:
            raise UsageError(
                f"task {self.id!r} has no phases; register them with @task.phase(NAME) before run()"
            )
        seen: set[str] = set()
        for spec in specs:
            for need in spec.needs:
                if need not in self._specs:
                    raise UsageError(
                        f"phase {spec.name!r} needs {need!r}, which is not a phase of task "
                        f"{self.id!r}; its phases are {', '.join(self.phase_names)}"
                    )
                if need not in seen:
                    raise UsageError(
                        f"phase {spec.name!r} needs {need!r}, which runs after it; move "
                        f"{need!r} earlier"
                    )
            seen.add(spec.name)
        return specs

    @property
    def command(self) -> str:
        return f"cairn run {self.source or 'WORKFLOW.py'}"

    # -- delegation ------------------------------------------------------------------------------
    def stream(self, path: str, key: Callable[[Any], Any], **options: Any) -> Any:
        """A resumable JSONL stream of this task: see :func:`cairn.domain.streams.open_stream`."""
        return open_task_stream(self.workspace, self.id, path, key, **options)

    def spawn_many(self, workers: Sequence[Any], *, max_parallel: int = 3) -> list[Any]:
        """Worker subagents of this task in parallel: see :func:`cairn.domain.workers.spawn_many`."""
        return spawn_task_workers(self.workspace, self.id, workers, max_parallel=max_parallel)

    # -- running ---------------------------------------------------------------------------------
    def run(self, *, echo: Callable[[str], None] | None = None) -> RunReport:
        """Run the phases in order, skipping those done; return what each one returned.

        ``echo`` (e.g. ``print``) receives the report's lines as they happen, plus a line when a
        phase starts.
        """
        specs = self._ordered_specs()
        ws = self.workspace
        self.runs += 1
        report = RunReport(self.id)
        self.last_report = report
        say = echo or (lambda line: None)
        say(f"task {self.id}:")
        pending = PENDING_RESETS.pop(names.task_key(self.id), None) or PENDING_RESETS.pop("*", None)
        if pending:
            report.reset = self.reset(pending)
            say(f"  ↺  reset: {', '.join(report.reset)} will run again")
        with run_lock(ws, self.id):
            # Heal the readable tree first: a process killed between a commit and its projection
            # left an artifact missing or stale; a hand edit made meanwhile is ingested.
            ws.projector.reconcile()
            with ws.store.transaction() as tx:
                self._sync(tx, specs)
            # The status file is rendered when a phase has run for a while (see refresh.py) and
            # at the end of the run, not at every phase boundary.
            self._refresher = StatusRefresher(ws.root)
            try:
                for spec in specs:
                    outcome = self._run_phase(spec, report, say)
                    report.outcomes.append(outcome)
                    say(outcome_line(outcome))
            finally:
                self._refresher.close()
                ws.projector.after_change()
        return report

    def reset(self, phase: str) -> list[str]:
        """Forget the result of ``phase`` and of every phase recorded after it, so they run again.

        Checkpoints they wrote stay in the history. A phase the workflow no longer defines is
        removed from the task. Returns the phases reset.
        """
        names.phase_name(phase)
        ws = self.workspace
        registered = set(self._specs)
        from cairn.domain.workspace import now

        with run_lock(ws, self.id), ws.store.transaction() as tx:
            task_id = ws._task_row(tx, self.id)["id"]
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
                if r["name"] in registered:
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
                tx.execute(
                    "UPDATE phase_runs SET state = 'reset' WHERE task_id = ? AND phase = ? "
                    "AND state != 'reset'",
                    (task_id, r["name"]),
                )
            ws._event(tx, task_id, "phase.reset", now(), phases=reset, removed=removed)
        ws.projector.after_change()
        return reset + removed

    def history(self) -> list[dict[str, Any]]:
        """Every recorded attempt of this task's phases, oldest first (phase_runs rows)."""
        with self.workspace.store.read() as tx:
            task_id = self.workspace._task_row(tx, self.id)["id"]
            rows = tx.execute(
                "SELECT phase, attempt, state, pid, started_at, finished_at, result_type, "
                "result_kind, result_version, error FROM phase_runs WHERE task_id = ? ORDER BY id",
                (task_id,),
            )
        return [dict(r) for r in rows]

    def result(self, phase: str) -> Any:
        """The recorded result of a finished phase (see the module docs for what is recorded)."""
        return self._recorded(phase)[0]

    # -- internals -------------------------------------------------------------------------------
    def _sync(self, tx: Tx, specs: list[PhaseSpec]) -> bool:
        """Check the recorded phases against the registered ones; add new phases; fix positions.

        Returns whether anything changed.
        """
        from cairn.domain.workspace import now

        ws = self.workspace
        ts = now()
        task_id = ws._task_row(tx, self.id)["id"]
        rows = tx.execute(
            "SELECT name, position, state, gated FROM phases WHERE task_id = ? "
            "ORDER BY position, name",
            (task_id,),
        )
        registered = [s.name for s in specs]
        started = [r["name"] for r in rows if r["state"] != "pending"]
        check_order(task_id, started, registered, self.command)
        existing = {r["name"]: r for r in rows}
        changed = False
        for spec in specs:
            row = existing.get(spec.name)
            changed = changed or row is None or bool(row["gated"]) != spec.gated
            if row is None:
                tx.execute(
                    "INSERT INTO phases (task_id, name, position, state, gated) "
                    "VALUES (?, ?, ?, 'pending', ?)",
                    (task_id, spec.name, 0, int(spec.gated)),
                )
                ws._event(tx, task_id, "phase.added", ts, phase=spec.name, gated=spec.gated)
            elif bool(row["gated"]) != spec.gated:
                tx.execute(
                    "UPDATE phases SET gated = ? WHERE task_id = ? AND name = ?",
                    (int(spec.gated), task_id, spec.name),
                )
        # Pending phases the workflow does not define hold no work; they would keep the task from
        # ever looking done, so they go (journaled).
        for r in rows:
            if r["name"] not in registered and r["state"] == "pending":
                changed = True
                tx.execute(
                    "DELETE FROM phases WHERE task_id = ? AND name = ?", (task_id, r["name"])
                )
                ws._event(tx, task_id, "phase.removed", ts, phase=r["name"], reason="not defined")
        for pos, name in enumerate(registered, 1):
            row = existing.get(name)
            if row is None or row["position"] != pos:
                changed = True
                tx.execute(
                    "UPDATE phases SET position = ? WHERE task_id = ? AND name = ?",
                    (pos, task_id, name),
                )
        return changed

    def _recorded(self, phase: str) -> tuple[Any, str | None]:
        """(result, artifact path) of a done phase, from its last finished run."""
        ws = self.workspace
        with ws.store.read() as tx:
            task_id = ws._task_row(tx, self.id)["id"]
            state = tx.scalar(
                "SELECT state FROM phases WHERE task_id = ? AND name = ?", (task_id, phase)
            )
            row = tx.one(
                "SELECT * FROM phase_runs WHERE task_id = ? AND phase = ? AND state = 'done' "
                "ORDER BY id DESC LIMIT 1",
                (task_id, phase),
            )
        if state != "done":
            raise NotFound(
                f"phase {phase!r} of task {task_id!r} has not finished"
                + (f" (it is {state})" if state else " (no such phase)")
                + "; only a finished phase has a result"
            )
        if row is None:  # finished by hand (`cairn phase done`): its own checkpoint, if any
            if ws.has_checkpoint(task_id, phase):
                return ws.checkpoint(task_id, phase).content, ws.artifact_path(task_id, phase)
            return None, None
        kind, rtype = row["result_kind"], row["result_type"]
        if rtype == "none":
            return None, None
        if rtype == "json":
            return json.loads(row["result_json"]), ws.artifact_path(task_id, kind)
        cp = ws.checkpoint(task_id, kind, row["result_version"])
        return (cp if rtype == "checkpoint" else cp.content), cp.path

    def _check_needs(self, tx: Tx, task_id: str, spec: PhaseSpec) -> None:
        for need in spec.needs:
            state = tx.scalar(
                "SELECT state FROM phases WHERE task_id = ? AND name = ?", (task_id, need)
            )
            if state != "done":
                raise TransitionError(
                    f"phase {spec.name!r} needs {need!r}, which is {state or 'missing'}; run "
                    f"`{self.command}` to finish it first"
                )
            has = tx.one(
                "SELECT 1 FROM checkpoints WHERE task_id = ? AND (phase = ? OR kind = ?) LIMIT 1",
                (task_id, need, need),
            )
            if has is None:
                raise TransitionError(
                    f"phase {spec.name!r} needs {need!r}, which finished without a checkpoint; "
                    f"make {need!r} return ctx.checkpoint(...) or a str, then run "
                    f"`{self.command} --reset {need}`"
                )

    def _run_phase(
        self, spec: PhaseSpec, report: RunReport, say: Callable[[str], None]
    ) -> PhaseOutcome:
        from cairn.domain.workspace import now

        ws = self.workspace
        name = spec.name
        ts = now()
        crashed: Row | None = None
        # The start marker skips the fsync: it only tells a later run that this phase was running
        # when its process died. It survives a killed process (the WAL frames are written); a
        # power loss may drop it, and then the phase simply looks pending and runs again from its
        # start, which is what a crash recovery does too. The next synced commit makes it durable.
        with ws.store.light_transaction() as tx:
            task_id = ws._task_row(tx, self.id)["id"]
            state = tx.scalar(
                "SELECT state FROM phases WHERE task_id = ? AND name = ?", (task_id, name)
            )
            if state == "done":
                skipped = True
            else:
                skipped = False
                self._check_needs(tx, task_id, spec)
                running = tx.execute(
                    "SELECT * FROM phase_runs WHERE task_id = ? AND phase = ? AND state = "
                    "'running' ORDER BY id",
                    (task_id, name),
                )
                for r in running:
                    # Under the run lock no other runner is alive: these attempts died.
                    tx.execute(
                        "UPDATE phase_runs SET state = 'crashed', finished_at = ? WHERE id = ?",
                        (ts, r["id"]),
                    )
                if state == "active" and running:
                    crashed = running[-1]
                attempt = 1 + (
                    tx.scalar(
                        "SELECT count(*) FROM phase_runs WHERE task_id = ? AND phase = ? AND "
                        "state != 'reset'",
                        (task_id, name),
                    )
                    or 0
                )
                if state == "active":
                    ws._event(
                        tx,
                        task_id,
                        "phase.restarted",
                        ts,
                        phase=name,
                        attempt=attempt,
                        previous_pid=crashed["pid"] if crashed else None,
                    )
                else:
                    row = tx.one(
                        "SELECT gated FROM phases WHERE task_id = ? AND name = ?", (task_id, name)
                    )
                    if row and row["gated"]:
                        from cairn.domain.gates import check_gate

                        check_gate(ws, tx, task_id, name, override=None, ts=ts)
                    tx.execute(
                        "UPDATE phases SET state = 'active', started_at = ?, finished_at = NULL, "
                        "error = NULL WHERE task_id = ? AND name = ?",
                        (ts, task_id, name),
                    )
                    ws._touch(tx, task_id, ts)
                    ws._event(
                        tx,
                        task_id,
                        "phase.started",
                        ts,
                        phase=name,
                        previous=state,
                        attempt=attempt,
                    )
                run_id = tx.insert(
                    "INSERT INTO phase_runs (task_id, phase, attempt, state, pid, host, "
                    "started_at) VALUES (?, ?, ?, 'running', ?, ?, ?)",
                    (task_id, name, attempt, os.getpid(), socket.gethostname(), ts),
                )
        if skipped:
            result, path = self._recorded(name)
            return PhaseOutcome(name, "skipped", 0, result, 0.0, path)
        if crashed is not None:
            from cairn.recovery.brief import recover

            note = (
                f"phase {name} was running (pid {crashed['pid']}, attempt {crashed['attempt']}) "
                f"when its process died; it runs again from its start (attempt {attempt})"
            )
            recover(ws, trigger="crash", task_id=task_id, safe_point=False, note=note)
            report.recoveries.append(f"crash detected: {note}; crash recovery logged")
            say(f"  ⚠  {report.recoveries[-1]}")
        self._refresher.arm()
        ctx = PhaseContext(ws, task_id, name, attempt, self.result)
        say(f"  ▶  {name}: running (attempt {attempt})")
        t0 = time.perf_counter()
        try:
            value = spec.fn(ctx)
        except BaseException as exc:
            self._fail(task_id, name, run_id, traceback.format_exc())
            if not isinstance(exc, Exception):
                raise
            raise PhaseFailed(
                f"phase {name!r} of task {task_id!r} failed: {type(exc).__name__}: "
                f"{_one_line(str(exc))} (traceback in the journal: `cairn log --task {task_id} "
                f"--type phase.failed --json`); fix it and run `{self.command}` again"
            ) from exc
        seconds = time.perf_counter() - t0
        try:
            encoded = _encode_result(task_id, name, value)
            data = None
            if encoded.text is not None:
                ws.projector.reconcile(only=(task_id, name))
                _text, data = ws._coerce_content(encoded.text)
        except ValidationError as exc:
            self._fail(task_id, name, run_id, str(exc))
            raise PhaseFailed(
                f"{exc}. The phase is marked failed; what it wrote is kept. Fix it and run "
                f"`{self.command}` again"
            ) from None
        path = self._finish(task_id, name, run_id, attempt, encoded, data)
        action = "rerun" if crashed is not None else "ran"
        return PhaseOutcome(name, action, attempt, value, seconds, path, len(ctx.earlier_steps))

    def _finish(
        self,
        task_id: str,
        name: str,
        run_id: int,
        attempt: int,
        enc: _Encoded,
        data: bytes | None,
    ) -> str | None:
        from cairn.domain.workspace import now

        ws = self.workspace
        ts = now()
        kind: str | None = None
        version: int | None = None
        path: str | None = None
        with ws.store.transaction() as tx:
            if enc.checkpoint is not None:
                kind, version, path = (
                    enc.checkpoint.kind,
                    enc.checkpoint.version,
                    enc.checkpoint.path,
                )
            elif enc.text is not None and data is not None:
                cp = ws._insert_checkpoint(tx, task_id, name, enc.text, data, (), name, "write", ts)
                kind, version, path = cp.kind, cp.version, cp.path
            tx.execute(
                "UPDATE phases SET state = 'done', finished_at = ?, error = NULL "
                "WHERE task_id = ? AND name = ?",
                (ts, task_id, name),
            )
            ws._touch(tx, task_id, ts)
            ws._event(tx, task_id, "phase.done", ts, phase=name, attempt=attempt, result=enc.type)
            tx.execute(
                "UPDATE phase_runs SET state = 'done', finished_at = ?, result_type = ?, "
                "result_kind = ?, result_version = ?, result_json = ? WHERE id = ?",
                (ts, enc.type, kind, version, enc.json, run_id),
            )
        if enc.text is not None:
            with file_lock(ws.projector.lock_path):
                ws.projector._project_artifact(task_id, name)
        self._refresher.disarm()
        return path

    def _fail(self, task_id: str, name: str, run_id: int, error: str) -> None:
        from cairn.domain.workspace import now

        ws = self.workspace
        ts = now()
        if len(error) > MAX_ERROR_CHARS:
            error = "[… start cut]\n" + error[-MAX_ERROR_CHARS:]
        with ws.store.transaction() as tx:
            tx.execute(
                "UPDATE phases SET state = 'failed', finished_at = ?, error = ? "
                "WHERE task_id = ? AND name = ?",
                (ts, error, task_id, name),
            )
            ws._touch(tx, task_id, ts)
            ws._event(tx, task_id, "phase.failed", ts, phase=name, error=error)
            tx.execute(
                "UPDATE phase_runs SET state = 'failed', finished_at = ?, error = ? WHERE id = ?",
                (ts, error, run_id),
            )
        ws.projector.after_change()
