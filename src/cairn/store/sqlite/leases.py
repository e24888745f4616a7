"""Leases on SQLite. The store's clock is this host's (an SQLite file has one host)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from cairn.store.contract.leases import LeaseRow, row_from

_COLS = "key, holder, host, pid, ttl_s, acquired_at, renewed_at, expires_at"


def _row(r: dict[str, Any], clock: float) -> LeaseRow:
    return row_from(
        r["key"],
        r["holder"],
        r["host"],
        r["pid"],
        r["ttl_s"],
        r["acquired_at"],
        r["renewed_at"],
        r["expires_at"],
        clock,
    )


class SQLiteLeases:
    __slots__ = ("_c",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn

    def acquire(
        self, key: str, holder: str, *, host: str, pid: int, ttl_s: float, steal: bool = False
    ) -> LeaseRow | None:
        clock = time.time()
        have = self.get(key)
        if have is not None and have.holder != holder and not have.expired and not steal:
            return None
        acquired = clock if have is None or have.holder != holder else None
        self._c.execute(
            f"INSERT INTO leases ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, host = excluded.host, "
            "pid = excluded.pid, ttl_s = excluded.ttl_s, renewed_at = excluded.renewed_at, "
            "expires_at = excluded.expires_at, acquired_at = "
            "CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at "
            "ELSE excluded.acquired_at END",
            (key, holder, host, pid, ttl_s, acquired or clock, clock, clock + ttl_s),
        )
        return self.get(key)

    def renew(self, leases: Sequence[tuple[str, str]], ttl_s: float) -> list[str]:
        clock = time.time()
        kept: list[str] = []
        for key, holder in leases:
            cur = self._c.execute(
                "UPDATE leases SET renewed_at = ?, expires_at = ?, ttl_s = ? "
                "WHERE key = ? AND holder = ?",
                (clock, clock + ttl_s, ttl_s, key, holder),
            )
            if cur.rowcount:
                kept.append(key)
        return kept

    def release(self, key: str, holder: str) -> bool:
        cur = self._c.execute("DELETE FROM leases WHERE key = ? AND holder = ?", (key, holder))
        return bool(cur.rowcount)

    def get(self, key: str) -> LeaseRow | None:
        r = self._c.execute(f"SELECT {_COLS} FROM leases WHERE key = ?", (key,)).fetchone()
        return None if r is None else _row(r, time.time())

    def many(self, keys: Sequence[str]) -> dict[str, LeaseRow]:
        clock = time.time()
        out: dict[str, LeaseRow] = {}
        wanted = list(dict.fromkeys(keys))
        for i in range(0, len(wanted), 500):  # under SQLite's limit on bound parameters
            part = wanted[i : i + 500]
            marks = ", ".join("?" * len(part))
            for r in self._c.execute(
                f"SELECT {_COLS} FROM leases WHERE key IN ({marks})", part
            ).fetchall():
                out[r["key"]] = _row(r, clock)
        return out

    def all(self) -> list[LeaseRow]:
        clock = time.time()
        rows = self._c.execute(f"SELECT {_COLS} FROM leases ORDER BY key").fetchall()
        return [_row(r, clock) for r in rows]
