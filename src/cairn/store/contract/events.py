"""The journal: append-only events with growing ids. Nothing updates or deletes an event."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cairn.core.model import Event

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol
else:
    Protocol = object  # importing typing costs ~3 ms of start-up; these Protocols only type


# A stored event has the fields of the domain's event: one class under two names.
EventRow = Event


class EventsArea(Protocol):
    def append(self, task_id: str | None, type: str, ts: str, data: Mapping[str, Any]) -> int:
        """The new event's id: higher than every id before it. ``data`` must be JSON-able (values
        that are not are stored as their ``str``)."""
        ...

    def query(
        self,
        *,
        task_id: str | None = None,
        types: Sequence[str] = (),
        after: int = 0,
        limit: int = 50,
    ) -> list[EventRow]:
        """The newest ``limit`` events matching, with id > ``after``, oldest first."""
        ...

    def count(
        self, *, task_id: str | None = None, types: Sequence[str] = (), after: int = 0
    ) -> int: ...

    def last_id(self) -> int:
        """The highest id so far (0 for an empty journal)."""
        ...
