"""Run a task's phases with a model: each phase in a fresh context built from the recovery brief.

A phase is one pydantic-ai agent run. It starts from the phase prompt (task, phase, instructions,
the recovery brief), works with the tools, and ends when the model answers without a tool call.
The history processor (:mod:`cairn.agent.compaction`) keeps the context inside its window. When the
phase ends the runtime makes sure it left a checkpoint, marks it done and goes on to the next phase
in a fresh context.

Faults: a provider that keeps failing (after retries) or a run that breaks its limits fails the
phase cleanly (``cairn phase`` state ``failed``, the error kept, progress steps untouched), and the
run stops. A runtime killed mid-phase leaves its run ``running`` with a dead pid; the next run marks
it crashed, logs a crash recovery and resumes the phase from the newest checkpoint.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cairn.agent.state import AgentState, Stats
from cairn.core.errors import TransitionError, UsageError

if TYPE_CHECKING:
    from pydantic_ai.models import Model

    from cairn.domain.workspace import Workspace

SCHEMA_RUN = "cairn.agent_run/1"

SYSTEM_PROMPT = """\
You are an autonomous agent working inside a cairn workspace, one phase at a time. Your context will
be compacted when it fills up; anything that lives only in your context can be lost. So:
- Load only what the phase needs. Prefer files over memory: write results to files as you go.
- Record each finished step with `progress` and write the phase's result with `checkpoint` (kinds
  such as analysis, plan, progress, complete, tested). Right after a checkpoint is a safe point for
  compaction; after a compaction you get a recovery brief: continue from it, do not start over.
- For work that needs reading more than 500 lines, writing more than 100, several rounds of
  inspection, debugging or many steps, use `spawn_subagents` (when offered): give each a task spec,
  inputs, expected outputs and a token budget; you get back only short summaries.
- Paths are relative to the workspace; nothing outside it can be touched.
- When the phase's work is done and checkpointed, answer with a short summary and no tool call.
"""


@dataclass
class RunOptions:
    model: str | Model
    phases: Sequence[str] | None = None
    window: int | None = None
    instructions: str | None = None
    subagents: bool = True
    subagent_model: str | None = None  # default: the same model
    retries: int | None = None
    retry_delay: float | None = None
    request_timeout: float | None = None
    request_limit: int | None = (
        None  # model requests per phase (default [agent] request_limit, 300)
    )
    summary_tokens: int | None = None


@dataclass
class PhaseResult:
    phase: str
    state: str  # done | failed | blocked
    summary: str = ""
    error: str | None = None
    resumed: bool = False

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class RunResult:
    run_id: str
    task_id: str
    model: str
    state: str  # done | failed
    phases: list[PhaseResult] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)
    crash_recovered: list[str] = field(default_factory=list)  # ids of crashed runs picked up

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_RUN,
            "run": self.run_id,
            "task": self.task_id,
            "model": self.model,
            "state": self.state,
            "phases": [p.to_json() for p in self.phases],
            "stats": self.stats.to_json(),
            "crash_recovered": self.crash_recovered,
        }


def _pid_alive(pid: int | None) -> bool:
    """Whether a process with this pid runs and could be a cairn runtime (not a reused pid)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
    except OSError:
        return True  # no /proc (macOS): trust the pid
    return any(word in cmdline for word in (b"cairn", b"python", b"pytest"))


def _agent_config(ws: Workspace) -> dict[str, Any]:
    cfg = ws.config.section("agent")
    commands = cfg.get("commands", [])
    if not isinstance(commands, list) or not all(isinstance(c, str) and c for c in commands):
        # A bare string would be read letter by letter: an allowlist of one-letter programs.
        raise UsageError(
            f"[agent] commands in .cairn/config.toml is {commands!r}; it must be a list of "
            'program names, e.g. commands = ["pytest", "python"]'
        )
    return cfg


def run_task(ws: Workspace, task_id: str, options: RunOptions) -> RunResult:
    """Run the task's open phases (or ``options.phases``) with the model; see the module doc."""
    return asyncio.run(arun_task(ws, task_id, options))


async def arun_task(ws: Workspace, task_id: str, options: RunOptions) -> RunResult:
    from cairn.domain import journal
    from cairn.domain.base import now
    from cairn.domain.budget import settings
    from cairn.domain.budget_context import new_id
    from cairn.models.agent_adapter import agent_model

    task = ws.task(task_id)
    task_id = task.id
    model_name = options.model if isinstance(options.model, str) else str(options.model.model_name)
    model = agent_model(options.model, ws.config, ws.root)
    cfg = _agent_config(ws)
    st_settings = settings(ws.config, window=options.window, model=model_name)
    if options.summary_tokens:
        from dataclasses import replace

        st_settings = replace(st_settings, summary_tokens=options.summary_tokens)

    # Crash detection: a run of this task still marked running whose lease expired (on any
    # machine) or, on this host, whose process is gone (domain/leases.py).
    from cairn.domain import leases

    crashed: list[str] = []
    keeper = leases.keeper(ws.store, ws.config)
    key = leases.agent_key(task_id)
    with ws.store.write() as tx:
        lease = tx.leases.get(key)
        for r in tx.runs.running_agent_runs(task_id):
            live = leases.agent_liveness(lease, r.id, r.pid)
            if lease is None and not _pid_alive(r.pid):
                live = leases.Liveness(False, "process gone", live.host, r.pid, None, None)
            mine = live.host == leases.host_name() and live.pid == os.getpid()
            if live.alive and not mine:
                raise UsageError(
                    f"agent run {r.id} (pid {live.pid} on {live.host}) is still working on "
                    f"{task_id}; wait for it or stop it first"
                )
            # Its subagents died with it: their results are partial at best.
            tx.runs.crash_agent_run(
                r.id,
                ts=now(),
                error="the runtime died mid-run (found by the next run)",
                subagent_error="the runtime died while this subagent ran",
            )
            crashed.append(r.id)
        run_id = new_id("run")
        started = now()
        tx.runs.start_agent_run(run_id, task_id, model_name, started, os.getpid())
        # The runs found above are dead (or this process's own): the lease is taken over.
        tx.leases.acquire(
            key,
            leases.agent_holder(run_id),
            host=leases.host_name(),
            pid=os.getpid(),
            ttl_s=keeper.ttl_s,
            steal=True,
        )
        journal.append(
            tx,
            task_id,
            "agent.run_started",
            started,
            run=run_id,
            model=model_name,
            crashed=crashed,
        )

    keeper.add(key, leases.agent_holder(run_id))
    phases = _pick_phases(ws, task_id, options.phases)
    result = RunResult(run_id, task_id, model_name, "done", crash_recovered=crashed)
    stats = result.stats
    instructions = options.instructions or _instructions(ws, task_id)
    try:
        # Entering the model owns its HTTP client, which is closed when the run ends.
        async with model:
            for name in phases:
                pr = await _run_phase(
                    ws,
                    task_id,
                    name,
                    model,
                    model_name,
                    options,
                    cfg,
                    st_settings,
                    stats,
                    run_id,
                    instructions,
                    crashed=bool(crashed),
                )
                result.phases.append(pr)
                if pr.state != "done":
                    result.state = "failed"
                    break
    except BaseException as exc:
        result.state = "failed"
        _finish_run(ws, run_id, "failed", stats, f"{type(exc).__name__}: {exc}")
        raise
    _finish_run(
        ws,
        run_id,
        result.state,
        stats,
        None if result.state == "done" else (result.phases[-1].error if result.phases else None),
    )
    return result


def _finish_run(ws: Workspace, run_id: str, state: str, stats: Stats, error: str | None) -> None:
    from cairn.domain import journal
    from cairn.domain.base import now
    from cairn.models import scrub

    error = None if error is None else scrub(error)

    from cairn.domain import leases

    with ws.store.write() as tx:
        run = tx.runs.agent_run(run_id)
        ended = now()
        tx.runs.finish_agent_run(run_id, state=state, ts=ended, usage=stats.to_json(), error=error)
        if run is not None:
            key = leases.agent_key(run.task_id)
            leases.keeper(ws.store, ws.config).drop(key, leases.agent_holder(run_id))
            tx.leases.release(key, leases.agent_holder(run_id))
        journal.append(
            tx,
            run.task_id if run else None,
            "agent.run_finished",
            ended,
            run=run_id,
            state=state,
            **{k: v for k, v in stats.to_json().items() if v},
        )
    ws.projector.render_status()


def _pick_phases(ws: Workspace, task_id: str, wanted: Sequence[str] | None) -> list[str]:
    task = ws.task(task_id)
    if wanted:
        known = {p.name for p in task.phases}
        unknown = [p for p in wanted if p not in known]
        if unknown:
            raise UsageError(
                f"task {task_id} has no phase {', '.join(unknown)}; its phases are "
                f"{', '.join(p.name for p in task.phases) or '(none)'}"
            )
        return list(wanted)
    if not task.phases:
        raise UsageError(
            f"task {task_id} has no phases; add some with `cairn task add-phase {task_id} ...`"
        )
    out = [p.name for p in task.phases if p.state in ("pending", "active", "failed")]
    if not out:
        raise UsageError(f"every phase of {task_id} is done; name one with --phase to redo it")
    return out


def _instructions(ws: Workspace, task_id: str) -> str:
    """The task's own instructions: its ``spec`` checkpoint if there is one, else its title."""
    if ws.has_checkpoint(task_id, "spec"):
        return ws.checkpoint(task_id, "spec").content or ""
    task = ws.task(task_id)
    return task.title or f"Work on task {task_id}."


def _make_prompt_fn(ws: Workspace, task_id: str, phase: str, instructions: str) -> Any:
    task = ws.task(task_id)
    names = [p.name for p in task.phases]
    pos = names.index(phase) + 1 if phase in names else 0

    def make(brief: str, resumed: bool) -> str:
        cps = [f"{cp.path} ({cp.kind} v{n})" for cp, n in ws.checkpoints(task_id)][-15:]
        return "\n".join(
            [
                f"# Task {task.id}: {task.title or task.id}",
                f"## Phase: {phase}",
                f"Phase {pos} of {len(names)} ({', '.join(names)}).",
                f"Resumed: {'yes' if resumed else 'no'}",
                "",
                "### Instructions",
                instructions.strip(),
                "",
                "### Where the work stands",
                brief.strip(),
                "",
                "Checkpoints of this task (read those this phase needs): "
                + (", ".join(cps) or "none yet"),
                "",
                f"Work on phase {phase} only. Checkpoint its result, then answer with a short "
                "summary.",
            ]
        )

    return make


async def _run_phase(
    ws: Workspace,
    task_id: str,
    phase: str,
    model: Model,
    model_name: str,
    options: RunOptions,
    cfg: dict[str, Any],
    st_settings: Any,
    stats: Stats,
    run_id: str,
    instructions: str,
    *,
    crashed: bool,
) -> PhaseResult:
    from pydantic_ai import Agent
    from pydantic_ai.capabilities import ProcessHistory
    from pydantic_ai.exceptions import AgentRunError
    from pydantic_ai.usage import UsageLimits

    from cairn.agent.compaction import process_history
    from cairn.agent.subagents import run_subagents
    from cairn.agent.tools import build_tools
    from cairn.domain.budget import new_context
    from cairn.models import scrub
    from cairn.models.agent_adapter import ResilientModel
    from cairn.models.meter import Meter, overhead_tokens
    from cairn.recovery.brief import MIN_TOKENS, build_brief, recover

    task = ws.task(task_id)
    state = next(p.state for p in task.phases if p.name == phase)
    resumed = state == "active"
    bound = max(MIN_TOKENS, min(ws.config.brief_max_tokens, st_settings.window // 10))
    if resumed:
        brief = recover(
            ws,
            max_tokens=bound,
            trigger="crash" if crashed else "resume",
            task_id=task_id,
            safe_point=False if crashed else None,
            note=(
                f"the agent runtime died mid-phase {phase}; run {run_id} resumes it from the "
                "newest checkpoint"
                if crashed
                else f"phase {phase} was left active; run {run_id} resumes it"
            ),
        )
    else:
        try:
            ws.start_phase(task_id, phase, reopen=state == "done")
        except TransitionError as exc:
            return PhaseResult(phase, "blocked", error=str(exc))
        if state == "failed":
            # A failed phase (the provider gave up, a limit was hit) is picked up where it stopped.
            resumed = True
            brief = recover(
                ws,
                max_tokens=bound,
                trigger="resume",
                task_id=task_id,
                note=f"phase {phase} had failed; run {run_id} resumes it from the newest checkpoint",
            )
        else:
            brief = build_brief(ws, task_id=task_id, trigger="startup", max_tokens=bound)
    context_id = new_context(ws, "agent-phase", task_id=task_id, run_id=run_id, note=phase)
    make_prompt = _make_prompt_fn(ws, task_id, phase, instructions)
    allow = tuple(str(c) for c in cfg.get("commands", []) or [])
    st = AgentState(
        ws=ws,
        task_id=task_id,
        phase=phase,
        run_id=run_id,
        model_name=model_name,
        settings=st_settings,
        meter=Meter(model_name),
        context_id=context_id,
        stats=stats,
        make_prompt=make_prompt,
        allow_commands=allow,
        command_timeout=float(cfg.get("command_timeout", 60)),
        subagent_model=(options.subagent_model or model_name) if options.subagents else None,
        spawn=run_subagents if options.subagents else None,
        subagent_timeout=float(cfg.get("subagent_timeout", 600)),
    )
    tools = build_tools(st, orchestrator=True)
    st.overhead = overhead_tokens(st.meter, SYSTEM_PROMPT, tools)
    # The system prompt and the tool definitions are part of every context too.
    st.enter_overhead()

    def on_retry(attempt: int, what: str) -> None:
        stats.provider_retries += 1
        ws.record_event(
            task_id,
            "agent.provider_retry",
            run=run_id,
            phase=phase,
            attempt=attempt,
            error=scrub(what)[:300],
        )

    wrapped = ResilientModel(
        model,
        retries=int(options.retries if options.retries is not None else cfg.get("retries", 3)),
        base_delay=float(
            options.retry_delay if options.retry_delay is not None else cfg.get("retry_delay", 1.0)
        ),
        timeout=float(options.request_timeout or cfg.get("request_timeout", 300)),
        on_retry=on_retry,
    )
    agent: Agent[AgentState, str] = Agent(
        wrapped,
        deps_type=AgentState,
        instructions=SYSTEM_PROMPT,
        tools=tools,
        capabilities=[ProcessHistory(process_history)],
        retries=3,
    )
    prompt = make_prompt(brief.text, resumed)
    try:
        result = await agent.run(
            prompt,
            deps=st,
            usage_limits=UsageLimits(
                request_limit=options.request_limit or int(cfg.get("request_limit", 300))
            ),
        )
    except (AgentRunError, TimeoutError) as exc:
        st.flush()
        error = scrub(f"{type(exc).__name__}: {exc}")
        ws.fail_phase(task_id, phase, f"agent run {run_id}: {error}"[:2000])
        return PhaseResult(phase, "failed", error=error, resumed=resumed)
    # The final answer enters the ledger too (the processor saw everything before it).
    st.account(result.all_messages())
    st.flush()
    summary = str(result.output).strip()
    if st.checkpoints_written == 0:
        # Every phase leaves a checkpoint, so the next one (and any recovery) can start from it.
        from cairn.core.names import kind as check_kind

        kind = check_kind(phase) if len(phase) <= 64 else "complete"
        ws.write_checkpoint(
            task_id,
            kind,
            f"# Phase {phase} complete\n\n{summary or '(no summary)'}\n",
            phase=phase,
        )
    ws.finish_phase(task_id, phase)
    return PhaseResult(phase, "done", summary=summary[:2000], resumed=resumed)
