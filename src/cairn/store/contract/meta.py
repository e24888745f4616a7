"""Small named values of the store itself (counters, pending one-time jobs such as a rename)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol
else:
    Protocol = object  # importing typing costs ~3 ms of start-up; these Protocols only type


# The record sets whose presence `holds()` answers (what the status sections look at).
RECORD_SETS = ("phase_runs", "workers", "reviews", "budget_ledger", "compactions")


class MetaArea(Protocol):
    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str) -> None:
        """Insert or replace."""
        ...

    def delete(self, key: str) -> None:
        """Nothing happens if the key is absent."""
        ...

    def holds(self, records: str) -> bool:
        """Whether the record set ``records`` (one of ``RECORD_SETS``) holds anything; cheap."""
        ...

    def holding(self, records: tuple[str, ...]) -> frozenset[str]:
        """Which of ``records`` (each one of ``RECORD_SETS``) hold anything: ``holds`` for several
        in one look-up (the status asks for all of its sections' sets after every flush)."""
        ...

    def change_token(self) -> str:
        """One cheap query a poller (the dashboard, a status reader on another machine) makes to
        learn whether anything changed: an opaque text, to compare for equality only, that differs
        after every committed change the status shows (every such change journals an event) and
        when a lease runs out (by the store's clock), which changes the status with no write."""
        ...
