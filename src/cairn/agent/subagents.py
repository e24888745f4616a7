"""Model subagents: fresh contexts, run in parallel, each returning a summary capped in tokens.

The orchestrator sees only the summary (default cap 1,500 tokens). The full transcript is kept under
``.cairn/subagents/<task>/<id>.md`` (and ``.json`` for tools), listed in the status file. A subagent
that overruns its token budget or its time limit is stopped and its result is marked partial. Its own
spend goes to the ledger as ``subagent_work``, outside the orchestrator's context.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from cairn.agent.state import AgentState, Stats, SubagentTask
from cairn.core import names
from cairn.core.errors import ValidationError

SUBAGENT_SYSTEM = """\
You are a subagent of cairn. You work alone, in a fresh context, on one task; nobody sees your
work but the files you write and the summary you return. Read the inputs you need, produce the
expected outputs as files in the workspace, then answer with a summary of at most {cap} tokens:
what you produced (paths), the key figures, and anything the orchestrator must decide. Do not
paste file contents into the summary.
"""
MAX_PARALLEL = 8


@dataclass(frozen=True)
class SubagentResult:
    id: str
    name: str
    state: str  # done | partial | failed
    summary: str
    summary_tokens: int
    used_tokens: int
    budget_tokens: int
    transcript: str
    outputs_present: tuple[str, ...]
    outputs_missing: tuple[str, ...]
    error: str | None = None

    @property
    def partial(self) -> bool:
        return self.state != "done"

    def report_line(self) -> str:
        head = f"[subagent {self.name}: {self.state}"
        if self.partial:
            head += " — PARTIAL RESULT"
        head += f"; {self.used_tokens:,} of {self.budget_tokens:,} tokens]"
        tail = f"(transcript: {self.transcript}"
        if self.outputs_missing:
            tail += f"; missing outputs: {', '.join(self.outputs_missing)}"
        return f"{head}\n{self.summary}\n{tail})"


def _check(st: AgentState, t: SubagentTask, i: int) -> tuple[str, str, list[str], list[str], int]:
    if not isinstance(t, dict):
        raise ValidationError(f"subagent {i}: give an object with name, task, inputs, outputs")
    name = str(t.get("name") or f"sub{i + 1}")
    names.task_id(name)
    spec = str(t.get("task") or "").strip()
    if not spec:
        raise ValidationError(f"subagent {name}: 'task' (what to do) is empty")
    inputs = [str(p) for p in t.get("inputs") or []]
    outputs = [str(p) for p in t.get("outputs") or []]
    for p in (*inputs, *outputs):
        names.inside(st.ws.root, p, f"subagent {name} path")
    budget = int(t.get("budget_tokens") or st.settings.subagent_tokens)
    if budget < 1_000:
        raise ValidationError(f"subagent {name}: budget_tokens {budget} is too small (>= 1000)")
    return name, spec, inputs, outputs, budget


async def run_subagents(parent: AgentState, tasks: list[SubagentTask]) -> list[SubagentResult]:
    if not tasks:
        raise ValidationError("give at least one subagent task")
    if len(tasks) > 20:
        raise ValidationError("at most 20 subagents per call; split the work")
    checked = [_check(parent, t, i) for i, t in enumerate(tasks)]
    if len({c[0] for c in checked}) != len(checked):
        raise ValidationError("subagent names repeat; give each a distinct name")
    gate = asyncio.Semaphore(MAX_PARALLEL)

    async def one(c: tuple[str, str, list[str], list[str], int]) -> SubagentResult:
        async with gate:
            return await _run_one(parent, *c)

    results = await asyncio.gather(*(one(c) for c in checked))
    for r in results:
        parent.stats.subagents += 1
        parent.stats.subagent_partial += int(r.partial)
        parent.stats.subagent_tokens += r.used_tokens
        parent.stats.subagent_summary_tokens += r.summary_tokens
    parent.ws.projector.render_status()
    return list(results)


def _cap(st: AgentState, text: str, cap: int, transcript: str) -> str:
    if st.meter.text(text) <= cap:
        return text
    note = f"\n[… summary cut to {cap:,} tokens; the rest is in {transcript}]"
    lo, hi = 0, len(text)
    budget = cap - st.meter.text(note)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if st.meter.text(text[:mid]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo] + note


async def _run_one(
    parent: AgentState, name: str, spec: str, inputs: list[str], outputs: list[str], budget: int
) -> SubagentResult:
    from pydantic_ai import Agent
    from pydantic_ai.capabilities import ProcessHistory
    from pydantic_ai.exceptions import AgentRunError, UsageLimitExceeded
    from pydantic_ai.usage import UsageLimits

    from cairn.agent.compaction import process_history
    from cairn.agent.tools import build_tools
    from cairn.domain import journal
    from cairn.domain.base import now
    from cairn.domain.budget import record
    from cairn.domain.budget_context import new_id
    from cairn.models.agent_adapter import ResilientModel, agent_model
    from cairn.models.meter import Meter, overhead_tokens

    ws = parent.ws
    assert parent.subagent_model is not None
    sub_id = new_id("sub")
    cap = parent.settings.summary_tokens
    folder = f".cairn/subagents/{parent.task_id}"
    transcript = f"{folder}/{sub_id}.md"
    started = now()
    with ws.store.write() as tx:
        tx.runs.start_subagent(
            sub_id,
            run_id=parent.run_id,
            task_id=parent.task_id,
            name=name,
            spec={"task": spec, "inputs": inputs, "outputs": outputs},
            model=parent.subagent_model,
            budget_tokens=budget,
            transcript=transcript,
            started_at=started,
        )
        journal.append(tx, parent.task_id, "subagent.started", started, id=sub_id, name=name)
    st = AgentState(
        ws=ws,
        task_id=parent.task_id,
        phase=parent.phase,
        run_id=parent.run_id,
        model_name=parent.subagent_model,
        settings=parent.settings,
        meter=Meter(parent.subagent_model),
        context_id=parent.context_id,
        stats=Stats(),
        role="subagent",
        allow_commands=parent.allow_commands,
        command_timeout=parent.command_timeout,
    )
    tools = build_tools(st, orchestrator=False)
    st.overhead = overhead_tokens(st.meter, SUBAGENT_SYSTEM.format(cap=cap), tools)
    st.enter_overhead()
    model = ResilientModel(agent_model(parent.subagent_model, ws.config, ws.root))
    agent: Agent[AgentState, str] = Agent(
        model,
        deps_type=AgentState,
        instructions=SUBAGENT_SYSTEM.format(cap=cap),
        tools=tools,
        capabilities=[ProcessHistory(process_history)],
        retries=3,
    )
    prompt = "\n".join(
        [
            f"## Subagent: {name}",
            "",
            "### Task",
            spec,
            "",
            "### Inputs",
            *([f"- {p}" for p in inputs] or ["- (none)"]),
            "",
            "### Expected outputs",
            *([f"- {p}" for p in outputs] or ["- (a summary only)"]),
            "",
            f"### Budget\n{budget:,} tokens in all; summary at most {cap:,} tokens.",
        ]
    )
    state, error = "done", None
    messages: list[Any] = []
    summary = ""
    try:
        async with model:  # closes the provider's HTTP client when the subagent ends
            result = await asyncio.wait_for(
                agent.run(
                    prompt,
                    deps=st,
                    usage_limits=UsageLimits(total_tokens_limit=budget, request_limit=500),
                ),
                parent.subagent_timeout,
            )
        summary = str(result.output)
        messages = result.all_messages()
    except UsageLimitExceeded as exc:
        state, error = "partial", f"stopped: over its budget of {budget:,} tokens ({exc})"
    except TimeoutError:
        state, error = "partial", f"stopped: past its time limit of {parent.subagent_timeout:g} s"
    except AgentRunError as exc:
        from cairn.models import scrub

        state, error = "failed", scrub(f"{type(exc).__name__}: {exc}")
    if not messages:
        messages = list(st.last_messages)
    present = tuple(p for p in outputs if (ws.root / p).exists())
    missing = tuple(p for p in outputs if p not in present)
    if state != "done":
        summary = (
            f"PARTIAL: {error}. Outputs present: {', '.join(present) or 'none'}; "
            f"missing: {', '.join(missing) or 'none'}. Check or redo the missing part."
        )
    summary = _cap(st, summary, cap, transcript)
    summary_tokens = st.meter.text(summary)
    used = st.stats.input_tokens + st.stats.output_tokens
    _save_transcript(ws.root / folder, sub_id, name, prompt, messages, summary, state, used)
    ended = now()
    with ws.store.write() as tx:
        tx.runs.finish_subagent(
            sub_id,
            state=state,
            used_tokens=used,
            summary=summary,
            summary_tokens=summary_tokens,
            finished_at=ended,
            error=error,
        )
        journal.append(
            tx,
            parent.task_id,
            "subagent.finished",
            ended,
            id=sub_id,
            name=name,
            state=state,
            used_tokens=used,
            summary_tokens=summary_tokens,
        )
    record(
        ws,
        "subagent_work",
        used,
        source=f"subagent {name} ({sub_id})",
        task_id=parent.task_id,
        context_id=parent.context_id,
        exact=True,
        render=False,
    )
    return SubagentResult(
        sub_id,
        name,
        state,
        summary,
        summary_tokens,
        used,
        budget,
        transcript,
        present,
        missing,
        error,
    )


def _save_transcript(
    folder: Any,
    sub_id: str,
    name: str,
    prompt: str,
    messages: list[Any],
    summary: str,
    state: str,
    used: int,
) -> None:
    from pydantic_ai.messages import ModelMessagesTypeAdapter

    from cairn.core.fsutil import atomic_write
    from cairn.models.meter import message_text

    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(folder / f"{sub_id}.json", ModelMessagesTypeAdapter.dump_json(messages, indent=1))
    md = [f"# Subagent {name} ({sub_id}): {state}, {used:,} tokens", "", "## Prompt", "", prompt]
    for i, m in enumerate(messages, 1):
        md += ["", f"## {i}. {type(m).__name__}", "", message_text(m)]
    md += ["", "## Summary returned", "", summary, ""]
    atomic_write(folder / f"{sub_id}.md", "\n".join(md).encode("utf-8"))
