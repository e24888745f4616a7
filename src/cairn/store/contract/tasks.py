"""Tasks and their ordered phases.

A task's id keeps the case it was created with; lookups go by its key (the id case-folded), so two
ids that differ only in case are one task. Every method that takes a ``task_id`` expects the
canonical id a ``get`` returned, except ``get`` itself, which takes any casing.
"""

from __future__ import annotations

from collections.abc import Sequence

from cairn.core.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol
else:
    Protocol = object  # importing typing costs ~3 ms of start-up; these Protocols only type


PHASE_ROW_STATES = ("pending", "active", "done", "failed", "blocked")
# open: everywhere. archived: out of the lists below (so out of status and briefs), whole, and
# ``get`` still finds it. deleted: the same, for good; its history stays and its id stays taken.
TASK_STATES = ("open", "archived", "deleted")


class TaskRow(Record):
    id: str
    title: str
    created_at: str
    updated_at: str
    next_action: str | None
    seq: int  # creation order; breaks ties between tasks updated in the same millisecond
    state: str = "open"  # one of TASK_STATES


class PhaseRow(Record):
    task_id: str
    name: str
    position: int
    state: str
    gated: bool
    started_at: str | None
    finished_at: str | None
    error: str | None


class TasksArea(Protocol):
    """The lists (``recent``, ``count``, ``active``, ``unfinished``, ``active_phases``,
    ``failed_phases``) hold open tasks only; ``get`` finds a task in any state."""

    def get(self, task_id: str) -> TaskRow | None:
        """The task whose key matches ``task_id`` case-insensitively."""
        ...

    def create(self, task_id: str, title: str, ts: str) -> TaskRow:
        """A new task (seq = the highest so far + 1); DuplicateKey if its key exists."""
        ...

    def recent(self, *, limit: int | None = None) -> list[TaskRow]:
        """Most recently updated first (ties: newest created first)."""
        ...

    def count(self) -> int: ...

    def get_many(self, task_ids: Sequence[str]) -> dict[str, TaskRow]:
        """The tasks with these ids exactly as stored (ids read from other rows, not a user's
        spelling), in one look-up, keyed by id; an id with no task is left out."""
        ...

    def active(self, *, limit: int | None = None) -> list[TaskRow]:
        """Tasks with an active phase, most recently updated first."""
        ...

    def unfinished(self, *, limit: int | None = None, phaseless: bool = False) -> list[TaskRow]:
        """Tasks with a phase that is not done (and, with ``phaseless``, tasks with no phase),
        most recently updated first."""
        ...

    def archived(self, *, limit: int | None = None) -> list[TaskRow]:
        """Archived tasks, the most recently archived first."""
        ...

    def set_state(self, task_id: str, state: str, ts: str) -> TaskRow:
        """Moves a task to one of TASK_STATES (stamping ``state_at``; ``updated_at`` unchanged).
        MissingRow if absent."""
        ...

    def rename(self, task_id: str, new_id: str) -> TaskRow:
        """Files every record of the task under ``new_id``: phases, checkpoints, steps, events,
        reviews, runs, ledger, compactions, projections (their paths are the caller's to move).
        DuplicateKey if another task has the key of ``new_id``; MissingRow if absent."""
        ...

    def touch(self, task_id: str, ts: str) -> None: ...

    def set_next_action(self, task_id: str, text: str | None, ts: str) -> None:
        """Sets the next action and touches the task."""
        ...

    def phases(self, task_id: str) -> list[PhaseRow]:
        """By position."""
        ...

    def phases_of(self, task_ids: Sequence[str]) -> dict[str, list[PhaseRow]]:
        """The phases of several tasks at once, by position (every id is a key of the answer)."""
        ...

    def phase(self, task_id: str, name: str) -> PhaseRow | None: ...

    def add_phase(self, task_id: str, name: str, *, gated: bool) -> PhaseRow:
        """A pending phase after the last one; DuplicateKey if the task has it already."""
        ...

    def set_phase_state(
        self, task_id: str, name: str, state: str, ts: str, error: str | None = None
    ) -> PhaseRow:
        """``active`` stamps started_at and clears finished_at/error; ``pending`` clears all
        three; any other state stamps finished_at and sets ``error``. MissingRow if absent."""
        ...

    def set_gated(self, task_id: str, name: str, gated: bool) -> None: ...

    def set_position(self, task_id: str, name: str, position: int) -> None:
        """Reordering is the caller's: positions are unique per task only once it is done."""
        ...

    def remove_phase(self, task_id: str, name: str) -> None:
        """MissingRow if absent."""
        ...

    def active_phase(self, task_id: str) -> PhaseRow | None: ...

    def active_phases(self, *, limit: int) -> list[PhaseRow]:
        """Active phases of all tasks, the most recently updated task first."""
        ...

    def failed_phases(self, *, limit: int) -> list[PhaseRow]:
        """Failed phases of all tasks, the most recently failed first."""
        ...
