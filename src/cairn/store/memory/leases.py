"""Leases in memory; the store's clock is the process's."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence

from cairn.store.contract.leases import LeaseRow, row_from
from cairn.store.memory.state import MemoryState

_KEY = "leases"


@dataclasses.dataclass(frozen=True, slots=True)
class _Lease:
    key: str
    holder: str
    host: str
    pid: int
    ttl_s: float
    acquired: float
    renewed: float
    expires: float

    def row(self, clock: float) -> LeaseRow:
        return row_from(
            self.key,
            self.holder,
            self.host,
            self.pid,
            self.ttl_s,
            self.acquired,
            self.renewed,
            self.expires,
            clock,
        )


class MemoryLeases:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    def _rows(self) -> dict[str, _Lease]:
        rows: dict[str, _Lease] = self._s.extra.get(_KEY, {})
        return rows

    def acquire(
        self, key: str, holder: str, *, host: str, pid: int, ttl_s: float, steal: bool = False
    ) -> LeaseRow | None:
        clock = time.time()
        have = self._rows().get(key)
        if have is not None and have.holder != holder and have.expires > clock and not steal:
            return None
        acquired = have.acquired if have is not None and have.holder == holder else clock
        new = _Lease(key, holder, host, pid, float(ttl_s), acquired, clock, clock + ttl_s)
        self._s.extra[_KEY] = {**self._rows(), key: new}
        return new.row(clock)

    def renew(self, leases: Sequence[tuple[str, str]], ttl_s: float) -> list[str]:
        clock = time.time()
        rows = dict(self._rows())
        kept: list[str] = []
        for key, holder in leases:
            have = rows.get(key)
            if have is not None and have.holder == holder:
                rows[key] = dataclasses.replace(
                    have, ttl_s=float(ttl_s), renewed=clock, expires=clock + ttl_s
                )
                kept.append(key)
        self._s.extra[_KEY] = rows
        return kept

    def release(self, key: str, holder: str) -> bool:
        rows = self._rows()
        have = rows.get(key)
        if have is None or have.holder != holder:
            return False
        self._s.extra[_KEY] = {k: v for k, v in rows.items() if k != key}
        return True

    def get(self, key: str) -> LeaseRow | None:
        have = self._rows().get(key)
        return None if have is None else have.row(time.time())

    def many(self, keys: Sequence[str]) -> dict[str, LeaseRow]:
        clock = time.time()
        rows = self._rows()
        return {k: rows[k].row(clock) for k in keys if k in rows}

    def all(self) -> list[LeaseRow]:
        clock = time.time()
        return [r.row(clock) for _, r in sorted(self._rows().items())]
