"""The budget ledger: context windows, and an append-only record of what entered each one.

A *context* is one window's life (an outside session, an agent phase, the span between two
compactions); the budget is measured against the newest one. Ledger entries are never changed.
"""

from __future__ import annotations

from cairn.core.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Protocol
else:
    Protocol = object  # importing typing costs ~3 ms of start-up; these Protocols only type


# Records, not dataclasses: the session-start hook starts a context (core/record.py says why).
class BudgetContextRow(Record):
    id: str
    started_at: str
    kind: str
    task_id: str | None
    run_id: str | None
    note: str | None


class LedgerEntryRow(Record):
    id: int
    ts: str
    context_id: str
    task_id: str | None
    category: str
    source: str
    tokens: int
    exact: bool


class LedgerArea(Protocol):
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
        """DuplicateKey if ``context_id`` exists."""
        ...

    def context(self, context_id: str) -> BudgetContextRow | None: ...

    def current_context(self) -> BudgetContextRow | None:
        """The newest context: the latest ``started_at``, and of those the last one made."""
        ...

    def newest_context(self, *, note: str) -> BudgetContextRow | None:
        """The newest context (as :meth:`current_context` orders them) whose ``note`` is
        ``note``: a client session's own, whose hooks note its session id; None when none is."""
        ...

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
        """Its id is higher than every id before it."""
        ...

    def totals(self, context_id: str | None) -> dict[str, tuple[int, bool]]:
        """Per category of the context (None: of all contexts): tokens, and whether every entry
        was exact. Categories without entries are absent."""
        ...

    def exact_totals(self, context_id: str | None) -> dict[str, int]:
        """Per category of the context (None: of all contexts), the tokens of its exact entries
        (a provider's or client's own count); categories with none are absent."""
        ...

    def top_sources(
        self, context_id: str | None, *, per_category: int
    ) -> dict[str, list[tuple[str, int]]]:
        """Per category, up to ``per_category`` (source, tokens summed) pairs, the most first
        (ties by source), taken from the 200 largest (category, source) sums."""
        ...

    def category_total(self, category: str) -> int:
        """Tokens of ``category`` over all contexts."""
        ...

    def is_empty(self) -> bool: ...
