"""Leases on PostgreSQL, timed by the server's clock (``clock_timestamp()``), so machines whose
clocks disagree agree on expiry. Writes hold the store's write lock, so a read-then-write here
never races another machine's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cairn.store.contract.leases import LeaseRow, row_from
from cairn.store.postgres import locks
from cairn.store.postgres.conn import Conn

_COLS = "key, holder, host, pid, ttl_s, acquired_at, renewed_at, expires_at"
_CLOCK = "extract(epoch from clock_timestamp())::double precision"


def _row(r: dict[str, Any]) -> LeaseRow:
    return row_from(
        r["key"],
        r["holder"],
        r["host"],
        r["pid"],
        r["ttl_s"],
        r["acquired_at"],
        r["renewed_at"],
        r["expires_at"],
        r["clock"],
    )


class PgLeases:
    __slots__ = ("_c",)

    def __init__(self, conn: Conn) -> None:
        self._c = conn

    def acquire(
        self, key: str, holder: str, *, host: str, pid: int, ttl_s: float, steal: bool = False
    ) -> LeaseRow | None:
        locks.store_wide(self._c, "leases.acquire")
        have = self.get(key)
        if have is not None and have.holder != holder and not have.expired and not steal:
            return None
        self._c.execute(
            f"INSERT INTO leases ({_COLS}) VALUES (%s, %s, %s, %s, %s, {_CLOCK}, {_CLOCK}, "
            f"{_CLOCK} + %s) ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, "
            "host = excluded.host, pid = excluded.pid, ttl_s = excluded.ttl_s, "
            "renewed_at = excluded.renewed_at, expires_at = excluded.expires_at, acquired_at = "
            "CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at "
            "ELSE excluded.acquired_at END",
            (key, holder, host, pid, ttl_s, ttl_s),
        )
        return self.get(key)

    def renew(self, leases: Sequence[tuple[str, str]], ttl_s: float) -> list[str]:
        # Rows by key, under any lock: an acquire (a read, then a write) holds the store lock.
        if not leases:
            return []
        # One round trip for all of them (a keeper renews every lease of its process at once).
        rows = self._c.execute(
            f"UPDATE leases SET renewed_at = {_CLOCK}, expires_at = {_CLOCK} + %s, ttl_s = %s "
            "FROM unnest(%s::text[], %s::text[]) AS mine(key, holder) "
            "WHERE leases.key = mine.key AND leases.holder = mine.holder RETURNING leases.key",
            (ttl_s, ttl_s, [k for k, _ in leases], [h for _, h in leases]),
        ).fetchall()
        got = {r["key"] for r in rows}
        return [k for k, _ in leases if k in got]

    def release(self, key: str, holder: str) -> bool:
        locks.store_wide(self._c, "leases.release")
        cur = self._c.execute("DELETE FROM leases WHERE key = %s AND holder = %s", (key, holder))
        return bool(cur.rowcount)

    def get(self, key: str) -> LeaseRow | None:
        r = self._c.execute(
            f"SELECT {_COLS}, {_CLOCK} AS clock FROM leases WHERE key = %s", (key,)
        ).fetchone()
        return None if r is None else _row(r)

    def many(self, keys: Sequence[str]) -> dict[str, LeaseRow]:
        if not keys:
            return {}
        rows = self._c.execute(
            f"SELECT {_COLS}, {_CLOCK} AS clock FROM leases WHERE key = ANY(%s)",
            (list(dict.fromkeys(keys)),),
        ).fetchall()
        return {r["key"]: _row(r) for r in rows}

    def all(self) -> list[LeaseRow]:
        rows = self._c.execute(
            f"SELECT {_COLS}, {_CLOCK} AS clock FROM leases ORDER BY key"
        ).fetchall()
        return [_row(r) for r in rows]
