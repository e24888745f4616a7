"""Store metadata on PostgreSQL."""

from __future__ import annotations

from cairn.store.contract.meta import RECORD_SETS
from cairn.store.postgres import locks
from cairn.store.postgres.conn import Conn


class PgMeta:
    __slots__ = ("_c",)

    def __init__(self, conn: Conn) -> None:
        self._c = conn

    def get(self, key: str) -> str | None:
        r = self._c.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
        return None if r is None else str(r["value"])

    def put(self, key: str, value: str) -> None:
        locks.store_wide(self._c, "meta.put")
        self._c.execute(
            "INSERT INTO meta (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def delete(self, key: str) -> None:
        locks.store_wide(self._c, "meta.delete")
        self._c.execute("DELETE FROM meta WHERE key = %s", (key,))

    def holds(self, records: str) -> bool:
        if records not in RECORD_SETS:  # the name becomes SQL: only the contract's names
            raise ValueError(f"no record set {records!r}; known: {', '.join(RECORD_SETS)}")
        return self._c.execute(f"SELECT 1 FROM {records} LIMIT 1").fetchone() is not None
