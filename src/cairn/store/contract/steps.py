"""Progress steps: one line each, in the order they were first recorded (ids grow)."""

from __future__ import annotations

from cairn.core.model import Step
from cairn.core.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Protocol
else:
    Protocol = object  # importing typing costs ~3 ms of start-up; these Protocols only type


STEP_ROW_STATES = ("done", "active", "todo", "failed")


# A stored step has the fields of the domain's step: one class under two names.
StepRow = Step


# (id, state, text, phase) of a step: what the progress file shows of it, read as a plain tuple
# because every step renders a view of up to 200 of them.
StepLine = tuple[int, str, str, "str | None"]


class ProgressDoc(Record):
    """The progress file's current text, rendered from the steps; one per task, replaced."""

    task_id: str
    hash: str
    content: str
    updated_at: str


class StepsArea(Protocol):
    def add(self, task_id: str, phase: str | None, text: str, state: str, ts: str) -> StepRow:
        """A new step; its id is higher than every id before it."""
        ...

    def update(self, step_id: int, *, state: str, phase: str | None, ts: str) -> StepRow:
        """MissingRow if absent."""
        ...

    def by_text(self, task_id: str, text: str) -> StepRow | None:
        """The newest step of the task with exactly this text."""
        ...

    def of_task(
        self, task_id: str, *, phase: str | None = None, limit: int | None = None
    ) -> list[StepRow]:
        """Oldest first; with ``limit``, the newest ``limit`` of them (still oldest first)."""
        ...

    def open_before(self, task_id: str, before_id: int, *, limit: int) -> list[StepRow]:
        """The oldest ``limit`` steps not done with an id below ``before_id``, oldest first."""
        ...

    def lines(self, task_id: str, *, limit: int | None = None) -> list[StepLine]:
        """``of_task`` (without a phase) as StepLine tuples."""
        ...

    def open_lines_before(self, task_id: str, before_id: int, *, limit: int) -> list[StepLine]:
        """``open_before`` as StepLine tuples."""
        ...

    def count(self, task_id: str) -> int:
        """Without reading the steps (a counter the store keeps)."""
        ...

    def tails(self, task_ids: Sequence[str], *, limit: int) -> dict[str, tuple[list[StepRow], int]]:
        """For each task, in one look-up: its newest ``limit`` steps (oldest first, as
        ``of_task(limit=...)``) and its ``count``. Every id is a key of the answer."""
        ...

    def doc(self, task_id: str) -> ProgressDoc | None: ...

    def put_doc(self, task_id: str, content: str, hash: str, ts: str) -> None:
        """Replace the task's progress text (its size is bounded by the caller's view)."""
        ...
