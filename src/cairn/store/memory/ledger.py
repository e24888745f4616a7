"""The budget ledger in memory: contexts in creation order, entries appended."""

from __future__ import annotations

from cairn.store.contract import DuplicateKey
from cairn.store.contract.ledger import BudgetContextRow, LedgerEntryRow
from cairn.store.memory.state import MemoryState

_CONTEXTS, _ENTRIES = "budget_contexts", "budget_ledger"
TOP_SCAN = 200


class MemoryLedger:
    def __init__(self, state: MemoryState) -> None:
        self._s = state

    def _contexts(self) -> list[BudgetContextRow]:
        rows: list[BudgetContextRow] = self._s.extra.get(_CONTEXTS, [])
        return rows

    def _entries(self, context_id: str | None = None) -> list[LedgerEntryRow]:
        rows: list[LedgerEntryRow] = self._s.extra.get(_ENTRIES, [])
        return rows if context_id is None else [e for e in rows if e.context_id == context_id]

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
        if self.context(context_id) is not None:
            raise DuplicateKey(f"budget context {context_id!r} exists already")
        row = BudgetContextRow(context_id, ts, kind, task_id, run_id, note)
        self._s.extra[_CONTEXTS] = [*self._contexts(), row]
        return row

    def context(self, context_id: str) -> BudgetContextRow | None:
        return next((c for c in self._contexts() if c.id == context_id), None)

    def current_context(self) -> BudgetContextRow | None:
        best: BudgetContextRow | None = None
        for c in self._contexts():  # creation order: a later one wins a tie
            if best is None or c.started_at >= best.started_at:
                best = c
        return best

    def newest_context(self, *, note: str) -> BudgetContextRow | None:
        best: BudgetContextRow | None = None
        for c in self._contexts():
            if c.note == note and (best is None or c.started_at >= best.started_at):
                best = c
        return best

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
        entries = self._entries()
        rid = entries[-1].id + 1 if entries else 1
        row = LedgerEntryRow(rid, ts, context_id, task_id, category, source, tokens, exact)
        self._s.extra[_ENTRIES] = [*entries, row]
        return row

    def totals(self, context_id: str | None) -> dict[str, tuple[int, bool]]:
        out: dict[str, tuple[int, bool]] = {}
        for e in self._entries(context_id):
            used, exact = out.get(e.category, (0, True))
            out[e.category] = (used + e.tokens, exact and e.exact)
        return out

    def exact_totals(self, context_id: str | None) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self._entries(context_id):
            if e.exact:
                out[e.category] = out.get(e.category, 0) + e.tokens
        return out

    def top_sources(
        self, context_id: str | None, *, per_category: int
    ) -> dict[str, list[tuple[str, int]]]:
        sums: dict[tuple[str, str], int] = {}
        for e in self._entries(context_id):
            sums[(e.category, e.source)] = sums.get((e.category, e.source), 0) + e.tokens
        ranked = sorted(sums.items(), key=lambda kv: (-kv[1], kv[0][1]))[:TOP_SCAN]
        out: dict[str, list[tuple[str, int]]] = {}
        for (category, source), tokens in ranked:
            lst = out.setdefault(category, [])
            if len(lst) < per_category:
                lst.append((source, tokens))
        return out

    def category_total(self, category: str) -> int:
        return sum(e.tokens for e in self._entries() if e.category == category)

    def is_empty(self) -> bool:
        return not self._entries()
