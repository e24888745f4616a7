"""Compaction at safe points, as a pydantic-ai history processor.

Before every model request the processor measures the context. Past ``compact_at`` (default 75 % of
the window) it waits for a safe point, the request right after a ``checkpoint`` or ``progress`` tool
call, and compacts there. If the context reaches ``hard_limit`` (default 90 %) first, it compacts
anyway and records the compaction as suboptimal, with the tokens that entered since the last
checkpoint. The end of a phase is always a safe point: every phase starts in a fresh context.

Compacting replaces the history by the phase prompt rebuilt around a fresh recovery brief (logged
through :func:`cairn.recovery.brief.recover`, so ``logs/compaction_recovery.log`` gets an entry) and the
last exchange (the model's last response and the tool results it is waiting on); everything older is
dropped, and large tool outputs or arguments in that tail are masked with a note saying how big they
were and how to get them back.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

# Evaluated at run time: pydantic-ai reads the processor's signature to pass it the run context.
from pydantic_ai import RunContext
from pydantic_ai.messages import ModelMessage

from cairn.agent.state import SAFE_POINT_TOOLS, AgentState

MASK_OVER = 800  # tokens: tool outputs or arguments larger than this are masked in the tail


def is_safe_point(messages: list[Any]) -> bool:
    from pydantic_ai.messages import ModelRequest, ToolReturnPart

    if not messages or not isinstance(messages[-1], ModelRequest):
        return False
    return any(
        isinstance(p, ToolReturnPart) and p.tool_name in SAFE_POINT_TOOLS and p.outcome == "success"
        for p in messages[-1].parts
    )


async def process_history(
    ctx: RunContext[AgentState], messages: list[ModelMessage]
) -> list[ModelMessage]:
    st = ctx.deps
    st.account(messages)
    st.last_messages = list(messages)
    tokens = st.context_tokens(messages)
    st.stats.peak = max(st.stats.peak, tokens)
    safe = is_safe_point(messages)
    if safe:
        st.entered_at_checkpoint = st.stats.entered
    if st.role != "orchestrator" or st.make_prompt is None:
        # A subagent has no phases to recover from: past the soft limit its old tool outputs are
        # masked (it reads again what it still needs), so it can finish inside its window.
        if tokens >= st.settings.compact_at * st.window and st.responses_since_compaction:
            return mask_old_outputs(st, messages)
        return messages
    if st.responses_since_compaction == 0:
        return messages  # nothing new since the last compaction: compacting again cannot help
    soft = tokens >= st.settings.compact_at * st.window
    hard = tokens >= st.settings.hard_limit * st.window
    if hard and not safe:
        return compact(st, messages, tokens, safe_point=False)
    if soft and safe:
        return compact(st, messages, tokens, safe_point=True)
    if soft:
        st.pending_compaction = True
    return messages


def mask_old_outputs(st: AgentState, messages: list[Any]) -> list[Any]:
    """Mask tool outputs over 200 tokens in all but the last exchange."""
    from pydantic_ai.messages import ModelRequest, ToolReturnPart

    out: list[Any] = []
    for i, m in enumerate(messages):
        if i >= len(messages) - 2 or not isinstance(m, ModelRequest):
            out.append(m)
            continue
        parts: list[Any] = []
        changed = False
        for part in m.parts:
            q: Any = part
            if isinstance(q, ToolReturnPart):
                n = st.meter.text(q.model_response_str())
                if n > 200:
                    q = dataclasses.replace(
                        q, content=_mask_text("", f"output of {q.tool_name}", n)
                    )
                    changed = True
            parts.append(q)
        out.append(dataclasses.replace(m, parts=parts) if changed else m)
    st.replayed.update(id(m) for m in out if not any(m is x for x in messages))
    st.stats.compactions += 1
    st.responses_since_compaction = 0
    st.last_messages = list(out)
    return out


def _mask_text(text: str, what: str, n: int) -> str:
    return (
        f"[masked after compaction: {what}, {n:,} tokens. Read the file again or repeat the call "
        "if you still need it.]"
    )


def _tail(st: AgentState, messages: list[Any]) -> list[Any]:
    """The last response and the request that answers it, with large parts masked."""
    from pydantic_ai.messages import ModelRequest, ModelResponse, ToolCallPart, ToolReturnPart

    if len(messages) < 2 or not isinstance(messages[-2], ModelResponse):
        return []
    resp, req = messages[-2], messages[-1]
    if not isinstance(req, ModelRequest):
        return []
    new_parts: list[Any] = []
    part: Any
    for part in resp.parts:
        p = part
        if isinstance(p, ToolCallPart):
            args = p.args_as_dict()
            size = st.meter.text(json.dumps(args, ensure_ascii=False))
            if size > MASK_OVER:
                args = {
                    k: (
                        _mask_text("", f"argument {k!r}", st.meter.text(v))
                        if isinstance(v, str) and st.meter.text(v) > 50
                        else v
                    )
                    for k, v in args.items()
                }
                p = dataclasses.replace(p, args=json.dumps(args, ensure_ascii=False))
        new_parts.append(p)
    resp2 = dataclasses.replace(resp, parts=new_parts)
    st.stale_usage.add(id(resp2))
    req_parts: list[Any] = []
    for rpart in req.parts:
        q: Any = rpart
        if isinstance(q, ToolReturnPart):
            n = st.meter.text(q.model_response_str())
            if n > MASK_OVER:
                q = dataclasses.replace(q, content=_mask_text("", f"output of {q.tool_name}", n))
        req_parts.append(q)
    req2 = dataclasses.replace(req, parts=req_parts)
    return [resp2, req2]


def compact(st: AgentState, messages: list[Any], tokens: int, *, safe_point: bool) -> list[Any]:
    from pydantic_ai.messages import ModelRequest, UserPromptPart

    from cairn.domain import journal
    from cairn.domain.base import now
    from cairn.domain.budget import new_context
    from cairn.recovery.brief import MIN_TOKENS, recover

    assert st.make_prompt is not None
    window = st.window
    since = st.stats.entered - st.entered_at_checkpoint
    if safe_point:
        reason = (
            f"runtime compaction at a safe point (after a checkpoint), {tokens:,} tokens = "
            f"{tokens / window:.0%} of the {window:,}-token window"
        )
    else:
        reason = (
            f"SUBOPTIMAL runtime compaction: hard limit {st.settings.hard_limit:.0%} reached "
            f"mid-phase at {tokens:,} tokens; {since:,} tokens entered since the last checkpoint; "
            "recovered from the newest checkpoint"
        )
    st.flush()
    # The brief must leave room to work: at most a tenth of the window (and the configured bound).
    bound = max(MIN_TOKENS, min(st.ws.config.brief_max_tokens, window // 10))
    brief = recover(
        st.ws,
        trigger="compact",
        task_id=st.task_id,
        safe_point=safe_point,
        note=reason,
        max_tokens=bound,
    )
    prompt = st.make_prompt(brief.text, True)
    tail = _tail(st, messages)
    new = [ModelRequest(parts=[UserPromptPart(prompt)]), *tail]
    after = st.overhead + st.meter.messages(new)
    with st.ws.store.write() as tx:
        stamp = now()
        tx.runs.add_agent_compaction(
            ts=stamp,
            run_id=st.run_id,
            task_id=st.task_id,
            phase=st.phase,
            safe_point=safe_point,
            tokens_before=tokens,
            tokens_after=after,
            tokens_since_checkpoint=since,
            window=window,
            reason=reason,
        )
        journal.append(
            tx,
            st.task_id,
            "agent.compacted",
            stamp,
            run=st.run_id,
            phase=st.phase,
            safe_point=safe_point,
            tokens_before=tokens,
            tokens_after=after,
            tokens_since_checkpoint=since,
        )
    st.context_id = new_context(
        st.ws, "compaction", task_id=st.task_id, run_id=st.run_id, note=reason[:200]
    )
    st.stats.compactions += 1
    if not safe_point:
        st.stats.suboptimal += 1
    st.pending_compaction = False
    st.responses_since_compaction = 0
    st.entered_at_checkpoint = st.stats.entered
    st.meter.forget(new)
    st.replayed.update(id(m) for m in tail)
    # What is in the new context enters the ledger of the new context.
    st.enter_overhead()
    st.account(new)
    st.last_messages = list(new)
    return new
