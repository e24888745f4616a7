"""The runtime's per-context state (pydantic-ai ``deps``) and its accounting into the budget ledger."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from typing_extensions import TypedDict

if TYPE_CHECKING:
    from cairn.domain.budget import BudgetSettings
    from cairn.domain.workspace import Workspace
    from cairn.models.meter import Meter

SAFE_POINT_TOOLS = ("checkpoint", "progress")


class SubagentTask(TypedDict, total=False):
    """One subagent: what to do, what to read, what to produce, and its token budget."""

    name: str
    task: str
    inputs: list[str]
    outputs: list[str]
    budget_tokens: int


class Reported(Protocol):
    def report_line(self) -> str: ...


# How the runtime runs subagents (cairn.agent.subagents.run_subagents), handed to the tools through
# the state: the tools offer spawn_subagents without importing what spawns them.
Spawn = Callable[["AgentState", list[SubagentTask]], Awaitable[Sequence[Reported]]]


@dataclass
class Stats:
    """Figures for one run (all phases) of an orchestrator, or for one subagent."""

    requests: int = 0
    entered: int = 0  # tokens that entered this agent's context(s), summed over the run
    fixed: int = 0  # of which: system prompt and tool definitions, once per context
    peak: int = 0  # the largest the context got, in tokens
    input_tokens: int = 0  # billed by the provider (or the scripted model's own count)
    output_tokens: int = 0
    tool_calls: int = 0
    tool_errors: int = 0  # unknown tools, bad arguments, failing tools: returned to the model
    refused: int = 0  # paths outside the workspace, commands not allowed
    provider_retries: int = 0
    compactions: int = 0
    suboptimal: int = 0
    subagents: int = 0
    subagent_partial: int = 0
    subagent_tokens: int = 0  # the subagents' own spend, outside this context
    subagent_summary_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens + self.subagent_tokens

    def to_json(self) -> dict[str, int]:
        out = {k: int(v) for k, v in self.__dict__.items()}
        out["total_tokens"] = self.total_tokens
        return out


@dataclass
class AgentState:
    """What the tools and the history processor share during one phase (or one subagent)."""

    ws: Workspace
    task_id: str
    phase: str | None
    run_id: str
    model_name: str
    settings: BudgetSettings
    meter: Meter
    context_id: str
    stats: Stats
    role: str = "orchestrator"  # or "subagent"
    make_prompt: Callable[[str, bool], str] | None = None
    overhead: int = 0  # instructions and tool definitions, sent with every request
    allow_commands: tuple[str, ...] = ()
    command_timeout: float = 60.0
    subagent_model: str | None = None
    subagent_timeout: float = 600.0
    spawn: Spawn | None = None  # set for an orchestrator that may spawn subagents
    # bookkeeping
    ledgered: set[int] = field(default_factory=set)
    kept: list[Any] = field(default_factory=list)  # keeps ledgered messages alive (ids stay unique)
    entered_at_checkpoint: int = 0
    checkpoints_written: int = 0
    pending_compaction: bool = False
    responses_since_compaction: int = 1
    stale_usage: set[int] = field(
        default_factory=set
    )  # responses whose usage predates a compaction
    replayed: set[int] = field(default_factory=set)  # messages kept in the tail of a compaction
    last_messages: list[Any] = field(default_factory=list)
    ledger_batch: list[tuple[str, int, str, bool]] = field(default_factory=list)

    @property
    def window(self) -> int:
        return self.settings.window

    def context_tokens(self, messages: list[Any]) -> int:
        """Tokens the next request sends: the provider's count of the last one, plus what came after.

        Falls back to counting every message offline when no usable provider figure exists.
        """
        from pydantic_ai.messages import ModelResponse

        for i in range(len(messages) - 1, -1, -1):
            m = messages[i]
            if isinstance(m, ModelResponse):
                u = m.usage
                if u.input_tokens > 0 and id(m) not in self.stale_usage:
                    after = self.meter.messages(messages[i + 1 :])
                    return int(u.input_tokens + u.output_tokens + after)
                break
        return self.overhead + self.meter.messages(messages)

    def account(self, messages: list[Any]) -> None:
        """Record in the ledger what entered the context since the last request."""
        from pydantic_ai.messages import (
            ModelRequest,
            ModelResponse,
            RetryPromptPart,
            ToolReturnPart,
            UserPromptPart,
        )

        from cairn.models.meter import part_text

        items: list[tuple[str, int, str, bool]] = []
        for m in messages:
            if id(m) in self.ledgered:
                continue
            self.ledgered.add(id(m))
            self.kept.append(m)
            if id(m) in self.replayed:
                # Kept from before a compaction: it enters the new context, but was billed once.
                n = self.meter.message(m)
                items.append(("orchestration", n, "tail kept after compaction", self.meter.exact))
                continue
            if isinstance(m, ModelResponse):
                self.stats.requests += 1
                self.responses_since_compaction += 1
                u = m.usage
                self.stats.input_tokens += int(u.input_tokens)
                self.stats.output_tokens += int(u.output_tokens)
                exact = u.output_tokens > 0
                tokens = int(u.output_tokens) if exact else self.meter.message(m)
                items.append(("orchestration", tokens, "model response", exact or self.meter.exact))
                continue
            if not isinstance(m, ModelRequest):
                continue
            for p in m.parts:
                n = self.meter.text(part_text(p))
                if isinstance(p, UserPromptPart):
                    items.append(("specs", n, "phase prompt and recovery brief", self.meter.exact))
                elif isinstance(p, ToolReturnPart):
                    self.stats.tool_calls += 1
                    if p.outcome != "success":
                        self.stats.tool_errors += 1
                    cat = (
                        "subagent_summaries"
                        if p.tool_name == "spawn_subagents"
                        else "orchestration"
                    )
                    items.append((cat, n, f"tool {p.tool_name}", self.meter.exact))
                elif isinstance(p, RetryPromptPart):
                    self.stats.tool_errors += 1
                    items.append(("orchestration", n, "tool error", self.meter.exact))
        if not items:
            return
        self.stats.entered += sum(t for _, t, _, _ in items)
        if self.role == "subagent":
            return  # a subagent's spend is recorded once, as subagent work, when it ends
        self.ledger_batch.extend(items)
        self.flush()

    def enter_overhead(self) -> None:
        """Record that a new context starts with the system prompt and the tool definitions."""
        if not self.overhead:
            return
        self.stats.entered += self.overhead
        self.stats.fixed += self.overhead
        if self.role == "orchestrator":
            self.ledger_batch.append(
                ("specs", self.overhead, "system prompt and tool definitions", self.meter.exact)
            )

    def flush(self) -> None:
        from cairn.domain.budget import record_many

        if not self.ledger_batch:
            return
        batch, self.ledger_batch = self.ledger_batch, []
        # One row per category and source per request keeps the ledger small.
        merged: dict[tuple[str, str, bool], int] = {}
        for cat, n, src, exact in batch:
            merged[(cat, src, exact)] = merged.get((cat, src, exact), 0) + n
        record_many(
            self.ws,
            [(c, n, s, e) for (c, s, e), n in merged.items()],
            task_id=self.task_id,
            context_id=self.context_id,
            render=False,
            journal=False,
        )
