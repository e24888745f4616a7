"""Store metadata and the change token, in SQL shared by the SQLite and PostgreSQL stores."""

from __future__ import annotations

from cairn.store.contract.meta import RECORD_SETS
from cairn.store.sqlite.dialect import SQLiteDialect

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cairn.store.sql import Conn, Dialect


class SQLiteMeta:
    __slots__ = ("_c", "_d", "_token")

    def __init__(self, conn: Conn, dialect: Dialect | None = None) -> None:
        self._c = conn
        self._d = dialect or SQLiteDialect(conn)
        self._token = (
            "SELECT (SELECT coalesce(max(id), 0) FROM events) AS e, "
            f"(SELECT count(*) FROM leases WHERE expires_at <= {self._d.clock}) AS x"
        )

    def get(self, key: str) -> str | None:
        r = self._c.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if r is None else str(r["value"])

    def put(self, key: str, value: str) -> None:
        self._d.store_wide("meta.put")
        self._c.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def delete(self, key: str) -> None:
        self._d.store_wide("meta.delete")
        self._c.execute("DELETE FROM meta WHERE key = ?", (key,))

    def holds(self, records: str) -> bool:
        if records not in RECORD_SETS:  # the name becomes SQL: only the contract's names
            raise ValueError(f"no record set {records!r}; known: {', '.join(RECORD_SETS)}")
        return self._c.execute(f"SELECT 1 FROM {records} LIMIT 1").fetchone() is not None

    def holding(self, records: tuple[str, ...]) -> frozenset[str]:
        unknown = [r for r in records if r not in RECORD_SETS]  # the names become SQL
        if unknown:
            raise ValueError(f"no record set {unknown[0]!r}; known: {', '.join(RECORD_SETS)}")
        if not records:
            return frozenset()
        # One statement, one round trip on a server: an EXISTS per set, each under a name of its
        # own (PostgreSQL would name them all "exists", and the rows are dicts).
        sql = "SELECT " + ", ".join(
            f"EXISTS (SELECT 1 FROM {r}) AS h{i}" for i, r in enumerate(records)
        )
        row = self._c.execute(sql).fetchone()
        return frozenset(r for i, r in enumerate(records) if row[f"h{i}"])

    def change_token(self) -> str:
        r = self._c.execute(self._token, self._d.clock_params()).fetchone()
        return f"{r['e']}.{r['x']}"
