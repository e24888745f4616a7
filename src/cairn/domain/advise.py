"""Delegate to a subagent, or do it directly? The seed's rules, with a defined precedence.

The seed lists triggers for a subagent (over 500 lines to read, over 100 to write, several rounds of
inspection, detailed debugging, complex multi-step work) and cases where the overhead is not worth it
(edits under 50 lines, work under 10 minutes, sequential dependencies that need immediate feedback,
and work whose details you need to see). The lists overlap ("debugging" is on both), so the rules are
checked in this order and the first that fires decides:

1. ``need-details`` → direct. If you must see the details, a summary would hide exactly what you need.
2. ``sequential`` → direct. Each step needs the previous result at once; a round trip per step costs
   more than it saves.
3. ``read-lines`` (> 500) → delegate. Reading is what fills a context fastest.
4. ``write-lines`` (> 100) → delegate.
5. ``rounds`` (2 or more rounds of inspection or analysis) → delegate.
6. ``debugging`` → delegate (investigation whose outcome, not its trail, is what you need).
7. ``multi-step`` → delegate.
8. ``small-edit`` (edit under 50 lines) → direct.
9. ``quick`` (under 10 minutes) → direct.
10. ``default`` → direct: no trigger fired, so a subagent's overhead (spec, summary, wait) is not
    worth it; use checkpoints instead.

Every rule that fired is reported, with the one that decided.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cairn.core.errors import ValidationError

SCHEMA_ADVICE = "cairn.advice/1"
READ_LINES_LIMIT = 500
WRITE_LINES_LIMIT = 100
EDIT_LINES_LIMIT = 50
QUICK_MINUTES = 10
SEVERAL_ROUNDS = 2
TOKENS_PER_LINE = 10  # a line of code or data is 8-12 tokens on average
# and each round of inspection adds ~1 k tokens of commands, outputs and notes
SUBAGENT_OVERHEAD = 1_500  # task spec (~1 k) and a summary (~0.5 k) in the orchestrator's context

# (rule, decision, description), in precedence order.
RULES: tuple[tuple[str, str, str], ...] = (
    ("need-details", "direct", "you need to see the details yourself (learning or debugging)"),
    ("sequential", "direct", "sequential dependencies that need immediate feedback"),
    ("read-lines", "delegate", f"more than {READ_LINES_LIMIT} lines to read"),
    ("write-lines", "delegate", f"more than {WRITE_LINES_LIMIT} lines to write"),
    ("rounds", "delegate", f"{SEVERAL_ROUNDS} or more rounds of inspection or analysis"),
    ("debugging", "delegate", "detailed debugging or investigation"),
    ("multi-step", "delegate", "complex multi-step implementation"),
    ("small-edit", "direct", f"a simple edit of under {EDIT_LINES_LIMIT} lines"),
    ("quick", "direct", f"a quick task of under {QUICK_MINUTES} minutes"),
    ("default", "direct", "no trigger fired: a subagent's overhead is not worth it"),
)


@dataclass(frozen=True)
class Advice:
    decision: str  # "delegate" or "direct"
    rule: str
    reason: str
    fired: list[str] = field(default_factory=list)
    direct_tokens: int = 0
    delegated_tokens: int = SUBAGENT_OVERHEAD

    @property
    def delegate(self) -> bool:
        return self.decision == "delegate"

    def text(self) -> str:
        verb = "Delegate to a subagent" if self.delegate else "Do it directly"
        lines = [f"{verb} (rule {self.rule}: {self.reason})."]
        others = [r for r in self.fired if r != self.rule]
        if others:
            lines.append(f"Also fired, lower in precedence: {', '.join(others)}.")
        lines.append(
            f"Estimated cost to the orchestrator's context: ~{self.direct_tokens:,} tokens "
            f"directly, ~{self.delegated_tokens:,} delegated (spec + summary)."
        )
        if not self.delegate:
            lines.append("Write a checkpoint when it is done, so compaction after it is safe.")
        else:
            lines.append(
                "Give the subagent a task spec, its inputs, the expected outputs and a token "
                "budget; keep only its summary."
            )
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_ADVICE,
            "decision": self.decision,
            "rule": self.rule,
            "reason": self.reason,
            "fired": self.fired,
            "estimated_tokens": {"direct": self.direct_tokens, "delegated": self.delegated_tokens},
            "precedence": [r for r, _, _ in RULES],
        }


def _count(value: int | None, what: str) -> int:
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValidationError(f"{what} must be a whole number >= 0, not {value!r}")
    return value


def advise(
    *,
    read_lines: int = 0,
    write_lines: int = 0,
    rounds: int = 0,
    sequential: bool = False,
    need_details: bool = False,
    minutes: float | None = None,
    debugging: bool = False,
    multi_step: bool = False,
    edit_lines: int | None = None,
) -> Advice:
    """Apply the seed's rules in the module's precedence order; the first that fires decides."""
    read_lines = _count(read_lines, "read_lines")
    write_lines = _count(write_lines, "write_lines")
    rounds = _count(rounds, "rounds")
    if edit_lines is not None:
        edit_lines = _count(edit_lines, "edit_lines")
    if minutes is not None and (not isinstance(minutes, int | float) or minutes < 0):
        raise ValidationError(f"minutes must be a number >= 0, not {minutes!r}")
    fires = {
        "need-details": need_details,
        "sequential": sequential,
        "read-lines": read_lines > READ_LINES_LIMIT,
        "write-lines": write_lines > WRITE_LINES_LIMIT,
        "rounds": rounds >= SEVERAL_ROUNDS,
        "debugging": debugging,
        "multi-step": multi_step,
        "small-edit": edit_lines is not None and edit_lines < EDIT_LINES_LIMIT,
        "quick": minutes is not None and minutes < QUICK_MINUTES,
        "default": True,
    }
    fired = [r for r, _, _ in RULES if fires[r]]
    rule, decision, reason = next(x for x in RULES if fires[x[0]])
    detail = ""
    if rule == "read-lines":
        detail = f" ({read_lines} lines)"
    elif rule == "write-lines":
        detail = f" ({write_lines} lines)"
    elif rule == "rounds":
        detail = f" ({rounds} rounds)"
    direct = TOKENS_PER_LINE * (read_lines + write_lines + (edit_lines or 0)) + 1_000 * rounds
    return Advice(
        decision,
        rule,
        reason + detail,
        [r for r in fired if r != "default" or r == rule],
        direct,
        SUBAGENT_OVERHEAD,
    )
