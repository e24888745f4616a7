"""The budget ledger (``budget_contexts``, ``budget_ledger``), in SQL shared by the SQLite and
PostgreSQL stores (``store/sql.py``)."""

from __future__ import annotations

from cairn.store.contract import DuplicateKey
from cairn.store.contract.ledger import BudgetContextRow, LedgerEntryRow
from cairn.store.sqlite.dialect import SQLiteDialect

TYPE_CHECKING = False
if TYPE_CHECKING:  # importing typing costs ~3 ms of start-up (a session start writes a context)
    from typing import Any

    from cairn.store.sql import Conn, Dialect

_CTX = "id, started_at, kind, task_id, run_id, note"
TOP_SCAN = 200


def _ctx(r: dict[str, Any]) -> BudgetContextRow:
    return BudgetContextRow(
        r["id"], r["started_at"], r["kind"], r["task_id"], r["run_id"], r["note"]
    )


def _scope(context_id: str | None) -> tuple[str, list[Any]]:
    return ("", []) if context_id is None else ("WHERE context_id = ?", [context_id])


class SQLiteLedger:
    __slots__ = ("_c", "_d")

    def __init__(self, conn: Conn, dialect: Dialect | None = None) -> None:
        self._c = conn
        self._d = dialect or SQLiteDialect(conn)

    def new_context(
        self,
        context_id: str,
        *,
        ts: str,
        kind: str,
        task_id: str | None,
        run_id: str | None,
        note: str | None,
    ) -> BudgetContextRow:
        self._d.store_wide("ledger.new_context")
        if self.context(context_id) is not None:
            raise DuplicateKey(f"budget context {context_id!r} exists already")
        self._c.execute(
            f"INSERT INTO budget_contexts ({_CTX}) VALUES (?, ?, ?, ?, ?, ?)",
            (context_id, ts, kind, task_id, run_id, note),
        )
        return BudgetContextRow(context_id, ts, kind, task_id, run_id, note)

    def context(self, context_id: str) -> BudgetContextRow | None:
        r = self._c.execute(
            f"SELECT {_CTX} FROM budget_contexts WHERE id = ?", (context_id,)
        ).fetchone()
        return _ctx(r) if r else None

    def current_context(self) -> BudgetContextRow | None:
        # Creation order breaks a tie within a millisecond (SQLite's rowid, a sequence column).
        order = self._d.creation_order("budget_contexts")
        r = self._c.execute(
            f"SELECT {_CTX} FROM budget_contexts ORDER BY started_at DESC, {order} DESC LIMIT 1"
        ).fetchone()
        return _ctx(r) if r else None

    def newest_context(self, *, note: str) -> BudgetContextRow | None:
        order = self._d.creation_order("budget_contexts")
        r = self._c.execute(
            f"SELECT {_CTX} FROM budget_contexts WHERE note = ? "
            f"ORDER BY started_at DESC, {order} DESC LIMIT 1",
            (note,),
        ).fetchone()
        return _ctx(r) if r else None

    def add(
        self,
        *,
        ts: str,
        context_id: str,
        task_id: str | None,
        category: str,
        source: str,
        tokens: int,
        exact: bool,
    ) -> LedgerEntryRow:
        self._d.store_wide("ledger.add")
        rid = int(
            self._c.execute("SELECT coalesce(max(id), 0) + 1 AS n FROM budget_ledger").fetchone()[
                "n"
            ]
        )
        self._c.execute(
            "INSERT INTO budget_ledger (id, ts, context_id, task_id, category, source, tokens, "
            "exact) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (rid, ts, context_id, task_id, category, source, tokens, int(exact)),
        )
        return LedgerEntryRow(rid, ts, context_id, task_id, category, source, tokens, exact)

    def totals(self, context_id: str | None) -> dict[str, tuple[int, bool]]:
        where, params = _scope(context_id)
        rows = self._c.execute(
            f"SELECT category, sum(tokens) AS used, min(exact) AS exact FROM budget_ledger {where} "
            "GROUP BY category",
            params,
        ).fetchall()
        return {r["category"]: (int(r["used"] or 0), bool(r["exact"])) for r in rows}

    def exact_totals(self, context_id: str | None) -> dict[str, int]:
        where, params = _scope(context_id)
        rows = self._c.execute(
            f"SELECT category, sum(tokens) AS used FROM budget_ledger "
            f"{where + ' AND' if where else 'WHERE'} exact = 1 GROUP BY category",
            params,
        ).fetchall()
        return {r["category"]: int(r["used"] or 0) for r in rows}

    def top_sources(
        self, context_id: str | None, *, per_category: int
    ) -> dict[str, list[tuple[str, int]]]:
        where, params = _scope(context_id)
        rows = self._c.execute(
            f"SELECT category, source, sum(tokens) AS t FROM budget_ledger {where} "
            "GROUP BY category, source ORDER BY t DESC, source LIMIT ?",
            (*params, TOP_SCAN),
        ).fetchall()
        out: dict[str, list[tuple[str, int]]] = {}
        for r in rows:
            lst = out.setdefault(r["category"], [])
            if len(lst) < per_category:
                lst.append((r["source"], int(r["t"])))
        return out

    def category_total(self, category: str) -> int:
        r = self._c.execute(
            "SELECT coalesce(sum(tokens), 0) AS n FROM budget_ledger WHERE category = ?",
            (category,),
        ).fetchone()
        return int(r["n"])

    def is_empty(self) -> bool:
        return self._c.execute("SELECT 1 FROM budget_ledger LIMIT 1").fetchone() is None
