"""The recovery brief as :func:`cairn.recovery.brief.build_brief` returns it (``--json`` shape
``cairn.brief/1``, docs/json.md)."""

from __future__ import annotations

from cairn.core.record import Record, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SCHEMA_BRIEF = "cairn.brief/1"


class Brief(Record):
    text: str
    tokens: int
    exact: bool
    max_tokens: int
    trigger: str
    task_id: str | None
    phase: str | None
    checkpoint: str | None
    reloaded: tuple[str, ...]
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_BRIEF,
            "text": self.text,
            "tokens": self.tokens,
            "tokens_exact": self.exact,
            "max_tokens": self.max_tokens,
            "trigger": self.trigger,
            "task": self.task_id,
            "phase": self.phase,
            "checkpoint": self.checkpoint,
            "reloaded": list(self.reloaded),
            # Present (null or empty) when there is no task yet, like every documented key.
            "newest_checkpoint": None,
            "other_active": [],
            "next_action": None,
            **self.data,
        }
