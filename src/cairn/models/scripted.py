"""The scripted model: a deterministic stand-in for an LLM that follows a task's plan.

It is a pydantic-ai ``FunctionModel``: it sees only the messages the runtime sends (like a real
model), and answers with tool calls through the real tool interface, so every file it produces is
written by the runtime's tools and can be checked by a verifier.

A *suite* maps a phase name (``## Phase: NAME`` in the prompt) or a subagent name
(``## Subagent: NAME``) to a :class:`Script`: an ordered list of units, each a few tool calls whose
arguments may depend on the results of the unit's earlier calls (read a file, then write its fixed
version). The model works out where it is from what it can see, as a real model must after a
compaction: a unit is done when its last call's result is visible, units before the newest visible
one are done, and a resumed phase (``Resumed: yes``) first lists the folders of the units' outputs
and counts a unit done when its outputs exist. A result it needs but cannot see (masked by a
compaction) makes it call again.

This module is the model only: suites are handed to it. The registry of named suites, with the
built-in demo suites, is :mod:`cairn.models.scripted_suites`; the benchmark's suites live in
``bench/agent_suites/`` and are registered by the benchmark itself.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic_ai.messages import ModelMessage, ModelResponse
    from pydantic_ai.models import Model
    from pydantic_ai.models.function import AgentInfo

MASK_PREFIX = "[masked"
_HEADER = re.compile(r"^## (Phase|Subagent): ([A-Za-z0-9_.\-]+)", re.M)

Args = dict[str, Any]
ArgsFn = Callable[[list[str]], Args]


@dataclass(frozen=True)
class Call:
    """One tool call. ``args`` may be a function of the unit's earlier results (as strings)."""

    tool: str
    args: Args | ArgsFn
    say: str = ""  # text the model writes with the call (its reasoning, in a real model)


@dataclass(frozen=True)
class Unit:
    id: str
    calls: tuple[Call, ...]
    outputs: tuple[str, ...] = ()  # files whose existence shows, after a restart, that it is done


@dataclass(frozen=True)
class Script:
    units: tuple[Unit, ...]
    final: str | Callable[[dict[str, str]], str] = "done"
    delay: float = 0.0  # seconds per response, to model a slow model (time limits, parallelism)


@dataclass
class Suite:
    """Scripts by phase (or ``sub:<name>``), with the task it solves: files, phases, a verifier."""

    name: str
    scripts: dict[str, Script] = field(default_factory=dict)
    phases: tuple[str, ...] = ()
    instructions: str = ""
    setup: Callable[[Path], None] | None = None
    verify: Callable[[Path], tuple[bool, str]] | None = None


# -- reading the conversation ------------------------------------------------------------------------
def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return "\n".join(c for c in content if isinstance(c, str))
    return str(content)


def _view(messages: list[ModelMessage]) -> tuple[str | None, bool, dict[str, str]]:
    from pydantic_ai.messages import ModelRequest, RetryPromptPart, ToolReturnPart, UserPromptPart

    key: str | None = None
    resumed = False
    results: dict[str, str] = {}
    for m in messages:
        if not isinstance(m, ModelRequest):
            continue
        for p in m.parts:
            if isinstance(p, UserPromptPart):
                text = _text_of(p.content)
                found = _HEADER.search(text)
                if found:
                    kind, name = found.groups()
                    key = name if kind == "Phase" else f"sub:{name}"
                    resumed = "\nResumed: yes" in text
            elif isinstance(p, ToolReturnPart | RetryPromptPart) and p.tool_call_id:
                # An error is a result too: the script moves on, as a model reading it would.
                content = (
                    p.model_response_str() if isinstance(p, ToolReturnPart) else p.model_response()
                )
                if not content.startswith(MASK_PREFIX):
                    results[p.tool_call_id] = content
    return key, resumed, results


def _listed(results: dict[str, str]) -> set[str]:
    paths: set[str] = set()
    for cid, text in results.items():
        if cid.startswith("scan-"):
            paths.update(line.split("\t")[0].strip() for line in text.splitlines() if line.strip())
    return paths


def next_action(script: Script, resumed: bool, results: dict[str, str]) -> tuple[str, Any]:
    """``("call", (Call, call_id, args))`` for the next tool call, or ``("final", text)``."""
    units = script.units
    dirs = sorted({o.rsplit("/", 1)[0] if "/" in o else "." for u in units for o in u.outputs})
    if resumed and dirs and not any(c.startswith("scan-") for c in results):
        return "scan", dirs
    listed = _listed(results)
    newest = -1
    for i, u in enumerate(units):
        seen = any(f"{u.id}#{j}" in results for j in range(len(u.calls)))
        if seen or (u.outputs and all(o in listed for o in u.outputs)):
            newest = i
    for i, u in enumerate(units):
        last_seen = f"{u.id}#{len(u.calls) - 1}" in results
        if i < newest and not any(f"{u.id}#{j}" in results for j in range(len(u.calls))):
            continue  # earlier than what we can see: done before a compaction
        if u.outputs and all(o in listed for o in u.outputs):
            continue
        if last_seen:
            continue
        for j, call in enumerate(u.calls):
            cid = f"{u.id}#{j}"
            if cid in results:
                continue
            prev = [results.get(f"{u.id}#{k}", "") for k in range(j)]
            if any(f"{u.id}#{k}" not in results for k in range(j)):
                # An earlier result of this unit was masked: start the unit again.
                call, cid, prev = u.calls[0], f"{u.id}#0", []
            args = call.args(prev) if callable(call.args) else call.args
            return "call", (call, cid, args)
    final = script.final(results) if callable(script.final) else script.final
    return "final", final


def scripted_model(suite: Suite, name: str | None = None) -> Model:
    """The pydantic-ai model that plays ``suite`` (named ``scripted:<name>``, the suite's by default)."""
    from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
    from pydantic_ai.models.function import FunctionModel
    from pydantic_ai.usage import RequestUsage

    from cairn.core.tokens import count_tokens

    model_name = f"scripted:{name or suite.name}"

    async def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        key, resumed, results = _view(messages)
        script = suite.scripts.get(key or "")
        parts: list[Any]
        if script is None:
            parts = [TextPart(f"The scripted suite {suite.name!r} has no script for {key!r}.")]
        else:
            if script.delay:
                await asyncio.sleep(script.delay)
            what, value = next_action(script, resumed, results)
            if what == "scan":
                parts = [TextPart("Resuming: checking which outputs already exist.")]
                parts += [
                    ToolCallPart("list_files", {"path": d}, tool_call_id=f"scan-{i}")
                    for i, d in enumerate(value)
                ]
            elif what == "call":
                call, cid, args = value
                parts = [TextPart(call.say)] if call.say else []
                parts.append(ToolCallPart(call.tool, args, tool_call_id=cid))
            else:
                parts = [TextPart(str(value))]
        response = ModelResponse(parts=parts)
        # Usage as a provider would report it: the whole context in, the response out.
        seen = "\n".join(_render(m) for m in messages) + (info.instructions or "")
        out = "\n".join(_render(response) for _ in (0,))
        response.usage = RequestUsage(
            input_tokens=count_tokens(seen), output_tokens=count_tokens(out)
        )
        return response

    return FunctionModel(respond, model_name=model_name)


def _render(m: Any) -> str:
    from cairn.models.meter import message_text

    return message_text(m)


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)
