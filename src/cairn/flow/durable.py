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

import json
import os
import socket
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from cairn.core import names
from cairn.core.errors import CairnError, NotFound, TransitionError, UsageError, ValidationError
from cairn.domain.notices import Change
from cairn.flow.context import PhaseContext, open_task_stream, spawn_task_workers
from cairn.flow.guards import WorkflowChanged, check_order, run_lock
from cairn.flow.refresh import StatusRefresher
from cairn.flow.results import PhaseOutcome, RunReport, encode_result, one_line, outcome_line

if TYPE_CHECKING:
    from cairn.core.rules import PhaseRun
    from cairn.domain.workspace import Workspace

PhaseFn = Callable[[PhaseContext], Any]
RESERVED_PHASES = ("progress",)  # the kind cairn renders the progress steps into
MAX_ERROR_CHARS = 20_000
# `cairn run FILE --reset PHASE` sets this before loading FILE, so that a file calling task.run() at
# import time is reset too. Key: task key, or "*" for the first task that runs.
PENDING_RESETS: dict[str, str] = {}


class PhaseFailed(CairnError):
    """A phase function raised, or returned something cairn cannot store. The phase is failed."""


@dataclass(frozen=True)
class PhaseSpec:
    name: str
    fn: PhaseFn
    needs: tuple[str, ...] = ()
    gated: bool = False


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
        self._refresher = StatusRefresher(ws.root, ws.listener_specs)

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
            self._sync(specs)
            # The status file is rendered when a phase has run for a while (see refresh.py) and
            # at the end of the run, not at every phase boundary.
            self._refresher = StatusRefresher(ws.root, ws.listener_specs)
            try:
                for spec in specs:
                    outcome = self._run_phase(spec, report, say)
                    report.outcomes.append(outcome)
                    say(outcome_line(outcome))
            finally:
                self._refresher.close()
                ws.announce(Change("run", self.id, settle=True))
        return report

    def reset(self, phase: str) -> list[str]:
        """Forget the result of ``phase`` and of every phase recorded after it, so they run again.

        Checkpoints they wrote stay in the history. A phase the workflow no longer defines is
        removed from the task. Returns the phases reset.
        """
        names.phase_name(phase)
        with run_lock(self.workspace, self.id):
            reset, removed = self.workspace.reset_phases(self.id, phase, keep=self._specs)
        return reset + removed

    def history(self) -> list[dict[str, Any]]:
        """Every recorded attempt of this task's phases, oldest first."""
        keys = (
            "phase",
            "attempt",
            "state",
            "pid",
            "started_at",
            "finished_at",
            "result_type",
            "result_kind",
            "result_version",
            "error",
        )
        return [{k: getattr(r, k) for k in keys} for r in self.workspace.phase_runs(self.id)]

    def result(self, phase: str) -> Any:
        """The recorded result of a finished phase (see the module docs for what is recorded)."""
        return self._recorded(phase)[0]

    # -- internals -------------------------------------------------------------------------------
    def _sync(self, specs: list[PhaseSpec]) -> bool:
        """Check the recorded phases against the registered ones, then record the registered ones
        (new phases, gates, order). Returns whether anything changed."""
        ws = self.workspace
        task = ws.task(self.id)
        registered = [s.name for s in specs]
        started = [p.name for p in task.phases if p.state != "pending"]
        check_order(task.id, started, registered, self.command)
        return ws.sync_phases(task.id, [(s.name, s.gated) for s in specs])

    def _state(self, phase: str) -> tuple[str, str | None]:
        """(canonical task id, state of ``phase`` or None if the task has no such phase)."""
        task = self.workspace.task(self.id)
        return task.id, next((p.state for p in task.phases if p.name == phase), None)

    def _recorded(self, phase: str) -> tuple[Any, str | None]:
        """(result, artifact path) of a done phase, from its last finished run."""
        ws = self.workspace
        task_id, state = self._state(phase)
        if state != "done":
            raise NotFound(
                f"phase {phase!r} of task {task_id!r} has not finished"
                + (f" (it is {state})" if state else " (no such phase)")
                + "; only a finished phase has a result"
            )
        done = [r for r in ws.phase_runs(task_id, phase) if r.state == "done"]
        if not done:  # finished by hand (`cairn phase done`): its own checkpoint, if any
            if ws.has_checkpoint(task_id, phase):
                return ws.checkpoint(task_id, phase).content, ws.artifact_path(task_id, phase)
            return None, None
        row = done[-1]
        kind, rtype = row.result_kind, row.result_type
        if rtype == "none":
            return None, None
        if rtype == "json":
            return json.loads(row.result_json or "null"), ws.artifact_path(task_id, kind or phase)
        cp = ws.checkpoint(task_id, kind or phase, row.result_version)
        return (cp if rtype == "checkpoint" else cp.content), cp.path

    def _check_needs(self, spec: PhaseSpec) -> None:
        """Refuse to start ``spec`` (unless it is done: then it is skipped) before its needs are
        done with a checkpoint. Only a phase with needs pays for these reads."""
        ws = self.workspace
        task = ws.task(self.id)
        task_id = task.id
        states = {p.name: p.state for p in task.phases}
        if states.get(spec.name) == "done":
            return
        for need in spec.needs:
            state = states.get(need)
            if state != "done":
                raise TransitionError(
                    f"phase {spec.name!r} needs {need!r}, which is {state or 'missing'}; run "
                    f"`{self.command}` to finish it first"
                )
            if not ws.phase_checkpointed(task_id, need):
                raise TransitionError(
                    f"phase {spec.name!r} needs {need!r}, which finished without a checkpoint; "
                    f"make {need!r} return ctx.checkpoint(...) or a str, then run "
                    f"`{self.command} --reset {need}`"
                )

    def _run_phase(
        self, spec: PhaseSpec, report: RunReport, say: Callable[[str], None]
    ) -> PhaseOutcome:
        ws = self.workspace
        name = spec.name
        if spec.needs:
            self._check_needs(spec)
        run = ws.begin_phase_run(self.id, name, pid=os.getpid(), host=socket.gethostname())
        if run is None:  # done in an earlier run
            result, path = self._recorded(name)
            return PhaseOutcome(name, "skipped", 0, result, 0.0, path)
        task_id = run.task_id
        if run.restarted and run.crashed_pid is not None:
            from cairn.recovery.brief import recover

            note = (
                f"phase {name} was running (pid {run.crashed_pid}, attempt {run.crashed_attempt}) "
                f"when its process died; it runs again from its start (attempt {run.attempt})"
            )
            recover(ws, trigger="crash", task_id=task_id, safe_point=False, note=note)
            report.recoveries.append(f"crash detected: {note}; crash recovery logged")
            say(f"  ⚠  {report.recoveries[-1]}")
        self._refresher.arm()
        ctx = PhaseContext(ws, task_id, name, run.attempt, self.result)
        say(f"  ▶  {name}: running (attempt {run.attempt})")
        t0 = time.perf_counter()
        try:
            value = spec.fn(ctx)
        except BaseException as exc:
            self._fail(run, traceback.format_exc())
            if not isinstance(exc, Exception):
                raise
            raise PhaseFailed(
                f"phase {name!r} of task {task_id!r} failed: {type(exc).__name__}: "
                f"{one_line(str(exc))} (traceback in the journal: `cairn log --task {task_id} "
                f"--type phase.failed --json`); fix it and run `{self.command}` again"
            ) from exc
        seconds = time.perf_counter() - t0
        try:
            enc = encode_result(task_id, name, value)
            path = ws.finish_phase_run(
                run, enc.type, text=enc.text, checkpoint=enc.checkpoint, result_json=enc.json
            )
        except ValidationError as exc:
            self._fail(run, str(exc))
            raise PhaseFailed(
                f"{exc}. The phase is marked failed; what it wrote is kept. Fix it and run "
                f"`{self.command}` again"
            ) from None
        self._refresher.disarm()
        action = "rerun" if run.restarted and run.crashed_pid is not None else "ran"
        return PhaseOutcome(name, action, run.attempt, value, seconds, path, len(ctx.earlier_steps))

    def _fail(self, run: PhaseRun, error: str) -> None:
        if len(error) > MAX_ERROR_CHARS:
            error = "[… start cut]\n" + error[-MAX_ERROR_CHARS:]
        self.workspace.fail_phase_run(run, error)


__all__ = [
    "PENDING_RESETS",
    "PhaseFailed",
    "PhaseOutcome",
    "PhaseSpec",
    "RunReport",
    "TaskHandle",
    "WorkflowChanged",
]
