"""Leases: a time-bounded claim on something running (a phase run, a worker run), renewed by its
process while it lives, so that a run whose process died is seen as dead from any machine.

A lease is one row per ``key`` (``phase:<task>/<phase>``, ``worker:<task>/<name>``) naming its
``holder`` (the run that holds it) and the host and pid of the process that renews it. Time is the
**store's** clock, never the caller's: ``ttl_s`` is counted from the moment the store executes the
call, and :attr:`LeaseRow.expired` / :attr:`LeaseRow.remaining_s` are judged by the store's clock
when the row was read. So two machines whose clocks disagree still agree on whether a lease lapsed.

Rules the backends keep (``tests/store_conformance/test_leases.py``):

- :meth:`LeasesArea.acquire` takes a free or expired key, or one the same holder has; a live lease
  of another holder is taken only with ``steal=True`` (the caller saw that holder's process die on
  its own host: the pid fast path).
- :meth:`LeasesArea.renew` extends only the leases still held by their holder; an expired lease that
  nobody took is extended too (an outage longer than the time-out, during which no one resumed
  the run: the run is still the only one).
- :meth:`LeasesArea.release` drops a lease only if the holder still has it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class LeaseRow:
    key: str
    holder: str
    host: str
    pid: int
    ttl_s: float
    acquired_at: str  # ISO 8601 UTC by the store's clock
    renewed_at: str
    expires_at: str
    remaining_s: float  # expires_at minus the store's clock at the read; <= 0 once expired

    @property
    def expired(self) -> bool:
        return self.remaining_s <= 0


class LeasesArea(Protocol):
    def acquire(
        self, key: str, holder: str, *, host: str, pid: int, ttl_s: float, steal: bool = False
    ) -> LeaseRow | None:
        """Take ``key`` for ``holder`` for ``ttl_s`` seconds; None (changing nothing) if another
        holder's lease on it is live and ``steal`` is false."""
        ...

    def renew(self, leases: Sequence[tuple[str, str]], ttl_s: float) -> list[str]:
        """Extend each ``(key, holder)`` still held by that holder to ``ttl_s`` from now; returns
        the keys renewed (a key missing from it was lost: released or taken over)."""
        ...

    def release(self, key: str, holder: str) -> bool:
        """Drop the lease if ``holder`` has it; whether it did."""
        ...

    def get(self, key: str) -> LeaseRow | None: ...

    def many(self, keys: Sequence[str]) -> dict[str, LeaseRow]:
        """The leases among ``keys`` that exist, by key (one query)."""
        ...

    def all(self) -> list[LeaseRow]:
        """Every lease, by key."""
        ...


def iso(epoch_s: float) -> str:
    """An instant of a backend's clock (seconds since the epoch) as the contract's ISO text."""
    from datetime import UTC, datetime

    text = datetime.fromtimestamp(epoch_s, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def row_from(
    key: str,
    holder: str,
    host: str,
    pid: int,
    ttl_s: float,
    acquired: float,
    renewed: float,
    expires: float,
    clock: float,
) -> LeaseRow:
    """A row from a backend's stored instants and its clock at the read."""
    return LeaseRow(
        key,
        holder,
        host,
        int(pid),
        float(ttl_s),
        iso(acquired),
        iso(renewed),
        iso(expires),
        round(expires - clock, 3),
    )
