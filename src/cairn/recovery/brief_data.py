"""The recovery brief as :func:`cairn.recovery.brief.build_brief` returns it (``--json`` shape
``cairn.brief/1``, docs/json.md)."""

from __future__ import annotations

from cairn.core.record import Record, assign

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SCHEMA_BRIEF = "cairn.brief/1"


class Brief(Record):
    __slots__ = (  # noqa: RUF023
        "text",
        "tokens",
        "exact",
        "max_tokens",
        "trigger",
        "task_id",
        "phase",
        "checkpoint",
        "reloaded",
        "data",
    )
    text: str
    tokens: int
    exact: bool
    max_tokens: int
    trigger: str
    task_id: str | None
    phase: str | None
    checkpoint: str | None
    reloaded: tuple[str, ...]
    data: dict[str, Any]

    def __init__(
        self,
        text: str,
        tokens: int,
        exact: bool,
        max_tokens: int,
        trigger: str,
        task_id: str | None,
        phase: str | None,
        checkpoint: str | None,
        reloaded: tuple[str, ...],
        data: dict[str, Any] | None = None,
    ) -> None:
        assign(self, "text", text)
        assign(self, "tokens", tokens)
        assign(self, "exact", exact)
        assign(self, "max_tokens", max_tokens)
        assign(self, "trigger", trigger)
        assign(self, "task_id", task_id)
        assign(self, "phase", phase)
        assign(self, "checkpoint", checkpoint)
        assign(self, "reloaded", reloaded)
        assign(self, "data", {} if data is None else data)

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
