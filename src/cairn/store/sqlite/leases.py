"""Leases, in SQL shared by the SQLite and PostgreSQL stores, timed by the store's clock (the
dialect's: this host's for an SQLite file, the server's for PostgreSQL, so that machines whose
clocks disagree agree on expiry). An acquire reads, then writes, under the store's write lock, so
it never races another writer; a renewal updates rows by key, under any lock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cairn.store.contract.leases import LeaseRow, row_from
from cairn.store.sqlite.dialect import SQLiteDialect

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cairn.store.sql import Conn, Dialect

_COLS = "key, holder, host, pid, ttl_s, acquired_at, renewed_at, expires_at"


def _row(r: dict[str, Any], clock: float | None) -> LeaseRow:
    return row_from(
        r["key"],
        r["holder"],
        r["host"],
        r["pid"],
        r["ttl_s"],
        r["acquired_at"],
        r["renewed_at"],
        r["expires_at"],
        r["clock"] if clock is None else clock,
    )


class SQLiteLeases:
    __slots__ = ("_c", "_d", "_read")

    def __init__(self, conn: Conn, dialect: Dialect | None = None) -> None:
        self._c = conn
        self._d = dialect or SQLiteDialect(conn)
        # A row's ``expired`` is judged by the store's clock, read with it.
        self._read = f"SELECT {_COLS}{self._d.clock_column} FROM leases"

    def acquire(
        self, key: str, holder: str, *, host: str, pid: int, ttl_s: float, steal: bool = False
    ) -> LeaseRow | None:
        self._d.store_wide("leases.acquire")
        have = self.get(key)
        if have is not None and have.holder != holder and not have.expired and not steal:
            return None
        c, now = self._d.clock_params(), self._d.clock
        until, u = self._d.clock_plus(c, ttl_s)
        self._c.execute(
            f"INSERT INTO leases ({_COLS}) VALUES (?, ?, ?, ?, ?, {now}, {now}, {until}) "
            "ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, host = excluded.host, "
            "pid = excluded.pid, ttl_s = excluded.ttl_s, renewed_at = excluded.renewed_at, "
            "expires_at = excluded.expires_at, acquired_at = "
            "CASE WHEN leases.holder = excluded.holder THEN leases.acquired_at "
            "ELSE excluded.acquired_at END",
            (key, holder, host, pid, ttl_s, *c, *c, *u),
        )
        return self.get(key)

    def renew(self, leases: Sequence[tuple[str, str]], ttl_s: float) -> list[str]:
        # Rows by key, under any lock: an acquire (a read, then a write) holds the store lock.
        if not leases:
            return []
        c, now = self._d.clock_params(), self._d.clock
        until, u = self._d.clock_plus(c, ttl_s)
        return self._d.update_held(
            f"UPDATE leases SET renewed_at = {now}, expires_at = {until}, ttl_s = ?",
            (*c, *u, ttl_s),
            leases,
        )

    def release(self, key: str, holder: str) -> bool:
        self._d.store_wide("leases.release")
        cur = self._c.execute("DELETE FROM leases WHERE key = ? AND holder = ?", (key, holder))
        return bool(cur.rowcount)

    def get(self, key: str) -> LeaseRow | None:
        r = self._c.execute(f"{self._read} WHERE key = ?", (key,)).fetchone()
        return None if r is None else _row(r, self._d.read_clock())

    def many(self, keys: Sequence[str]) -> dict[str, LeaseRow]:
        clock = self._d.read_clock()
        out: dict[str, LeaseRow] = {}
        for where, params in self._d.any_of("key", list(dict.fromkeys(keys))):
            for r in self._c.execute(f"{self._read} WHERE {where}", params).fetchall():
                out[r["key"]] = _row(r, clock)
        return out

    def all(self) -> list[LeaseRow]:
        clock = self._d.read_clock()
        rows = self._c.execute(f"{self._read} ORDER BY key").fetchall()
        return [_row(r, clock) for r in rows]
