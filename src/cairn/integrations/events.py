"""The hook events cairn handles: one table for the hook runner and for the installer.

Each row says what ``cairn hook <arg>`` does, how long the agent should wait for it, and, for each
agent, the event's name in the agent's hook settings and the matcher its group is installed with.
Claude Code and Codex CLI use the same names and matchers today; the columns are apart so that
either can change without touching the other. Imported at hook start-up: nothing but core.record.
"""

from __future__ import annotations

from cairn.core.record import Record

AGENTS = ("claude", "codex")
# SessionStart sources: the agent started, resumed, cleared or compacted its context.
SOURCES = ("startup", "resume", "clear", "compact")


# Records, not NamedTuples: a hook process builds these classes at start-up, and making the two
# tuple classes (generated code run through exec) was ~0.25 ms of it.
class Hook(Record):
    """How one agent names an event in its settings, and the matcher cairn installs it under."""

    event: str
    matcher: str | None


class HookEvent(Record):
    arg: str  # `cairn hook ARG`, `python -m cairn.hooks ARG`
    does: str  # what cairn does on this event
    timeout: int  # seconds the agent waits for the hook
    claude: Hook
    codex: Hook | None  # None: not installed for Codex

    def hook(self, agent: str) -> Hook | None:
        return self.codex if agent == "codex" else self.claude

    @property
    def names(self) -> frozenset[str]:
        return frozenset(h.event for h in (self.claude, self.codex) if h is not None)


def _both(event: str, matcher: str | None) -> tuple[Hook, Hook]:
    return Hook(event, matcher), Hook(event, matcher)


EVENTS: tuple[HookEvent, ...] = (
    HookEvent(
        "session-start",
        "injects the recovery brief as additional context and logs the recovery; after a "
        "compaction, with the safe-point verdict PreCompact recorded",
        15,
        *_both("SessionStart", "startup|resume|clear|compact"),
    ),
    HookEvent(
        "pre-compact",
        "records the compaction: safe point or mid-phase, tool calls and time since the last "
        "checkpoint; warns the user when it is mid-phase",
        15,
        *_both("PreCompact", "manual|auto"),
    ),
    HookEvent(
        "post-compact",
        "stores the compaction's summary for the audit (records the compaction if PreCompact "
        "did not)",
        15,
        *_both("PostCompact", "manual|auto"),
    ),
    HookEvent(
        "stop",
        "reminds (or, with [hooks] stop_block, makes) the agent to checkpoint when a phase has "
        "gone unsaved too long",
        10,
        *_both("Stop", None),
    ),
    HookEvent(
        "subagent-stop",
        "records a subagent's own work, read from its own transcript, as subagent work outside "
        "the context (its task and report are counted in the parent's)",
        10,
        *_both("SubagentStop", None),
    ),
    HookEvent(
        "post-tool-use",
        "the compaction forecast: near the client's auto-compaction point, mid-phase, tells the "
        "agent once to finish its step and checkpoint now (below it: a bare interpreter start)",
        10,
        *_both("PostToolUse", None),
    ),
)
BY_ARG = {e.arg: e for e in EVENTS}


def find(value: str) -> HookEvent | None:
    """``session-start``, ``session_start`` or ``SessionStart`` → its row; None if unknown."""
    for e in EVENTS:
        if value in e.names:
            return e
    return BY_ARG.get(value.strip().lower().replace("_", "-"))
