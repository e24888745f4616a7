"""What a durable run reports, and how a phase's return value is recorded (see cairn.flow.durable)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cairn.core.errors import ValidationError
from cairn.core.model import Checkpoint


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
class Encoded:
    type: str
    text: str | None = None
    json: str | None = None
    checkpoint: Checkpoint | None = None


def encode_result(task_id: str, phase: str, value: Any) -> Encoded:
    if value is None:
        return Encoded("none")
    if isinstance(value, Checkpoint):
        if value.task_id != task_id:
            raise ValidationError(
                f"phase {phase!r} returned a checkpoint of task {value.task_id!r}, not of "
                f"{task_id!r}; return one written with this phase's ctx.checkpoint(...)"
            )
        return Encoded("checkpoint", checkpoint=value)
    if isinstance(value, str):
        return Encoded("text", text=value)
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
        return Encoded("json", text=text, json=compact)
    raise ValidationError(
        f"phase {phase!r} returned a {type(value).__name__}, which cairn cannot store; return a "
        "str, a JSON-serializable dict/list, ctx.checkpoint(...), or None"
    )


def one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"
