"""The context budget: per-category allocations for a context window, and a ledger of what entered it.

The seed's allocation for a 1 M-token window (specs 50 k, orchestration 50 k, user communication 20 k,
subagent summaries 30 k, buffer 850 k) is scaled to the model's window unless ``[budget]`` in
``.cairn/config.toml`` names amounts. The ledger records, per context, what entered it: category,
source and tokens, marked exact when counted with the model's own tokenizer or taken from the
provider's reported usage. A *context* is one window's life: an outside agent's session, one phase of
the agent runtime, or the span between two compactions. Budgets are measured against the newest one.

"subagent_work" is the subagents' own spend: recorded for the totals, never part of a context.

This module is imported when the status file is rendered, so it stays light (standard library only).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cairn.core.errors import UsageError, ValidationError
from cairn.domain import journal as _journal
from cairn.domain.budget_context import new_id, start_in
from cairn.domain.budget_settings import (
    CATEGORIES,
    DEFAULT_WINDOW,
    LABELS,
    MAX_TOKENS,
    MODEL_WINDOWS,
    OUTSIDE,
    SEED_ALLOCATION,
    UNKNOWN_WINDOW,
    WARN_AT,
    BudgetSettings,
    canonical_category,
    settings,
    window_for,
)
from cairn.domain.notices import Change

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace
    from cairn.store import Tx

SCHEMA_BUDGET = "cairn.budget/1"
# What a client session's hooks record per turn read (integrations/ledger.py): the point read and,
# with the entries, the context they went to and the window that client works with.
SESSION_EVENT = "hook.ledger"
_SESSION_LOOKBACK = 200


# -- ledger ------------------------------------------------------------------------------------------
def new_context(
    ws: Workspace,
    kind: str = "session",
    *,
    task_id: str | None = None,
    run_id: str | None = None,
    note: str | None = None,
) -> str:
    """Start a new context (after a compaction, for a phase, or a fresh outside session)."""
    from cairn.domain.workspace import now

    ts = now()
    if task_id is not None:
        task_id = ws.resolve_task(task_id)
    with ws.store.transaction() as tx:
        return start_in(tx, ts, kind, task_id=task_id, run_id=run_id, note=note)


def session_window(tx: Tx, context_id: str) -> int | None:
    """The window the client of ``context_id``'s session works with, as its hooks recorded it
    (``window`` on the newest ``hook.ledger`` event of that context, or, for a context a hook
    started after a compaction and nothing recorded in yet, of the session its note names);
    None when none did."""
    row = tx.ledger.context(context_id)
    session = row.note if row is not None else None
    by_session = None
    for ev in reversed(tx.events.query(types=(SESSION_EVENT,), limit=_SESSION_LOOKBACK)):
        data = ev.data
        found = data.get("window")
        if not isinstance(found, int) or isinstance(found, bool) or found <= 0:
            continue
        if data.get("context") == context_id:
            return found
        if by_session is None and session and data.get("session") == session:
            by_session = found
    return by_session


def _current_context(tx: Tx) -> str | None:
    row = tx.ledger.current_context()
    return row.id if row else None


@dataclass(frozen=True)
class Entry:
    id: int
    ts: str
    context_id: str
    task_id: str | None
    category: str
    source: str
    tokens: int
    exact: bool


def record(
    ws: Workspace,
    category: str,
    tokens: int,
    *,
    source: str,
    task_id: str | None = None,
    context_id: str | None = None,
    exact: bool = False,
    render: bool = True,
) -> Entry:
    """Record that ``tokens`` entered the context under ``category`` from ``source``."""
    entries = record_many(
        ws,
        [(category, tokens, source, exact)],
        task_id=task_id,
        context_id=context_id,
        render=render,
    )
    return entries[0]


def record_many(
    ws: Workspace,
    items: list[tuple[str, int, str, bool]],
    *,
    task_id: str | None = None,
    context_id: str | None = None,
    render: bool = True,
    journal: bool = True,
) -> list[Entry]:
    """Record several ``(category, tokens, source, exact)`` items in one durable transaction.

    ``journal=False`` skips the event journal: the runtime records after every model request, and
    the ledger is its own append-only record, so the journal (and recovery briefs) stay readable.
    """
    from cairn.domain.workspace import now

    checked: list[tuple[str, int, str, bool]] = []
    for category, tokens, source, exact in items:
        cat = canonical_category(category)
        if not isinstance(tokens, int) or not 0 <= tokens <= MAX_TOKENS:
            raise ValidationError(
                f"tokens must be a whole number from 0 to {MAX_TOKENS:,}, not {tokens!r}"
            )
        src = (source or "").strip()
        if not src or len(src) > 300 or "\x00" in src:
            raise ValidationError("--source is one line of 1-300 characters naming what entered")
        checked.append((cat, tokens, src, exact))
    ts = now()
    out: list[Entry] = []
    if task_id is not None:
        task_id = ws.resolve_task(task_id)
    with ws.store.transaction() as tx:
        if context_id is None:
            context_id = _current_context(tx)
        if context_id is None:
            context_id = new_id("ctx")
            tx.ledger.new_context(
                context_id, ts=ts, kind="session", task_id=task_id, run_id=None, note="first record"
            )
        elif tx.ledger.context(context_id) is None:
            raise ValidationError(f"no budget context {context_id!r}; see `cairn budget --json`")
        for cat, tokens, src, exact in checked:
            row = tx.ledger.add(
                ts=ts,
                context_id=context_id,
                task_id=task_id,
                category=cat,
                source=src,
                tokens=tokens,
                exact=exact,
            )
            out.append(Entry(row.id, ts, context_id, task_id, cat, src, tokens, exact))
        if not journal:
            pass
        elif len(checked) <= 3:
            for e in out:
                _journal.append(
                    tx,
                    task_id,
                    "budget.recorded",
                    ts,
                    category=e.category,
                    tokens=e.tokens,
                    source=e.source,
                    context=context_id,
                )
        else:
            _journal.append(
                tx,
                task_id,
                "budget.recorded",
                ts,
                entries=len(out),
                tokens=sum(e.tokens for e in out),
                context=context_id,
            )
    if render:
        ws.announce(Change("budget", task_id, settle=True))
    return out


def record_text(
    ws: Workspace,
    category: str,
    text: str,
    *,
    source: str,
    model: str | None = None,
    task_id: str | None = None,
    context_id: str | None = None,
) -> Entry:
    """Count ``text`` offline with the model's tokenizer (exact for OpenAI models) and record it."""
    from cairn.core.tokens import count

    c = count(text, model)
    return record(
        ws,
        category,
        c.tokens,
        source=source,
        task_id=task_id,
        context_id=context_id,
        exact=c.exact,
    )


# -- report ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CategoryUse:
    category: str
    label: str
    allocated: int | None
    used: int
    exact: bool
    top_sources: list[tuple[str, int]] = field(default_factory=list)
    # Of ``used``, the tokens a provider or client counted itself (the rest are estimates).
    exact_tokens: int = 0

    @property
    def fraction(self) -> float:
        if not self.allocated:
            return 0.0 if self.used == 0 else float("inf")
        return self.used / self.allocated

    @property
    def level(self) -> str:
        if self.allocated is None:
            return "ok"
        if self.fraction >= 1:
            return "over"
        if self.fraction >= WARN_AT:
            return "warn"
        return "ok"


@dataclass(frozen=True)
class Report:
    settings: BudgetSettings
    context_id: str | None
    scope: str
    categories: list[CategoryUse]
    total_in_context: int
    outside: int
    outside_exact: int = 0  # of ``outside``, what the clients reported (a subagent's usage)

    @property
    def warnings(self) -> list[str]:
        out = []
        for c in self.categories:
            if c.level == "over":
                out.append(
                    f"{c.label}: {c.used:,} of {c.allocated:,} tokens ({c.fraction:.0%}), over "
                    "its allocation"
                    + (
                        "; delegate detail work to subagents and compact at the next checkpoint"
                        if c.category != "subagent_summaries"
                        else "; ask subagents for shorter summaries"
                    )
                )
            elif c.level == "warn":
                out.append(
                    f"{c.label}: {c.used:,} of {c.allocated:,} tokens ({c.fraction:.0%}), past "
                    f"{WARN_AT:.0%}"
                )
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_BUDGET,
            "context": self.context_id,
            "scope": self.scope,
            "settings": self.settings.to_json(),
            "categories": [
                {
                    "category": c.category,
                    "label": c.label,
                    "allocated": c.allocated,
                    "used": c.used,
                    "fraction": None
                    if c.allocated is None
                    else round(c.used / c.allocated, 4)
                    if c.allocated
                    else None,
                    "level": c.level,
                    "exact": c.exact,
                    "exact_tokens": c.exact_tokens,
                    "estimated_tokens": c.used - c.exact_tokens,
                    "top_sources": [{"source": s, "tokens": t} for s, t in c.top_sources],
                }
                for c in self.categories
            ],
            "total_in_context": self.total_in_context,
            "window_fraction": round(self.total_in_context / self.settings.window, 4),
            "subagent_work": self.outside,
            "subagent_work_exact_tokens": self.outside_exact,
            "subagent_work_estimated_tokens": self.outside - self.outside_exact,
            "warnings": self.warnings,
        }


def report(
    ws: Workspace,
    *,
    context_id: str | None = None,
    all_contexts: bool = False,
    window: int | None = None,
    model: str | None = None,
) -> Report:
    with ws.store.read() as tx:
        return _report(
            tx, ws, context_id=context_id, all_contexts=all_contexts, window=window, model=model
        )


def _report(
    tx: Tx,
    ws: Workspace,
    *,
    context_id: str | None = None,
    all_contexts: bool = False,
    window: int | None = None,
    model: str | None = None,
) -> Report:
    if all_contexts:
        scope, cid = "all", None
    else:
        cid = context_id or _current_context(tx)
        if context_id and tx.ledger.context(context_id) is None:
            raise ValidationError(f"no budget context {context_id!r}; see `cairn budget --json`")
        scope = "context"
    own = session_window(tx, cid) if cid and not (window or model) else None
    st = settings(ws.config, window=window, model=model, session_window=own)
    if cid is None and not all_contexts:
        used: dict[str, tuple[int, bool]] = {}
        by_cat: dict[str, list[tuple[str, int]]] = {}
        exact: dict[str, int] = {}
    else:
        used = tx.ledger.totals(cid)
        by_cat = tx.ledger.top_sources(cid, per_category=3)
        exact = tx.ledger.exact_totals(cid)
    # Subagent work is always counted over the whole task's life, not one context.
    outside_total = tx.ledger.category_total(OUTSIDE)
    everywhere = exact if all_contexts else tx.ledger.exact_totals(None)
    cats: list[CategoryUse] = []
    for cat in CATEGORIES:
        u, ex = used.get(cat, (0, True))
        cats.append(
            CategoryUse(
                cat, LABELS[cat], st.allocations[cat], u, ex, by_cat.get(cat, []), exact.get(cat, 0)
            )
        )
    total = sum(c.used for c in cats)
    return Report(st, cid, scope, cats, total, outside_total, everywhere.get(OUTSIDE, 0))


def bar(fraction: float, width: int = 24) -> str:
    filled = min(width, round(min(fraction, 1.0) * width))
    over = "!" if fraction >= 1 else ""
    return "[" + "#" * filled + "." * (width - filled) + "]" + over


def _split(tokens: int, exact: int) -> str:
    """How much of ``tokens`` the clients counted themselves, when not all or none of it."""
    if not tokens or exact in (0, tokens):
        return "" if exact or not tokens else " (estimated)"
    return f" ({exact:,} reported by the client, ~{tokens - exact:,} estimated)"


def render_text(rep: Report) -> str:
    st = rep.settings
    head = (
        f"Context budget — window {st.window:,} tokens"
        + (" (the session's client)" if st.window_from == "session" else "")
        + (" (seed allocation, scaled)" if st.scaled else " (from .cairn/config.toml)")
    )
    scope = "all contexts" if rep.scope == "all" else f"context {rep.context_id or '(none yet)'}"
    out = [head, f"Measured over: {scope}", ""]
    wide = max(len(c.label) for c in rep.categories)
    for c in rep.categories:
        frac = c.fraction if c.allocated else 0.0
        mark = {"over": "  OVER", "warn": "  WARN"}.get(c.level, "")
        approx = "" if c.exact or not c.used else " ~"
        out.append(
            f"{c.label:<{wide}}  {bar(frac)} {c.used:>9,}{approx} / {c.allocated or 0:>9,}"
            f" {frac:>5.0%}{mark}"
        )
    out.append("")
    out.append(
        f"In context: {rep.total_in_context:,} tokens ({rep.total_in_context / st.window:.1%} of "
        f"the window); subagent work outside it: {rep.outside:,} tokens"
        + _split(rep.outside, rep.outside_exact)
    )
    for w in rep.warnings:
        out.append(f"warning: {w}")
    if rep.total_in_context == 0 and rep.outside == 0:
        out.append(
            "Nothing recorded yet: `cairn budget record CATEGORY TOKENS --source WHAT` records "
            "what entered the context."
        )
    return "\n".join(out) + "\n"


def status_section(ws: Workspace, tx: Tx) -> tuple[str, Any, str] | None:
    """The budget in the status file: shown once something is recorded, with its warnings."""
    if tx.ledger.is_empty():
        return None
    try:
        rep = _report(tx, ws)
    except UsageError as exc:
        return "budget", {"error": str(exc)}, f"## Context budget\n\n{exc}\n"
    data = rep.to_json()
    md = ["## Context budget", ""]
    for c in rep.categories:
        if c.category == "buffer" and not c.used:
            continue
        frac = c.fraction if c.allocated else 0.0
        icon = {"over": "🛑", "warn": "⚠️"}.get(c.level, "")
        md.append(f"- {c.label}: {c.used:,} / {c.allocated or 0:,} ({frac:.0%}) {icon}".rstrip())
    md.append(f"- subagent work (outside the context): {rep.outside:,}")
    for w in rep.warnings:
        md.append(f"- ⚠️ {w}")
    subs = tx.runs.subagents(limit=5)
    if subs:
        md += ["", "**Subagents** (newest first):"]
        for s in subs:
            part = " (partial)" if s.partial else ""
            md.append(f"- {s.name}: {s.state}{part} — transcript {s.transcript or '—'}")
        # partial stays 0/1, as the status JSON has always shown it
        data["subagents"] = [
            {
                "name": s.name,
                "state": s.state,
                "partial": int(s.partial),
                "transcript": s.transcript,
            }
            for s in subs
        ]
    md.append("")
    return "budget", json.loads(json.dumps(data)), "\n".join(md)


__all__ = [
    "CATEGORIES",
    "DEFAULT_WINDOW",
    "LABELS",
    "MAX_TOKENS",
    "MODEL_WINDOWS",
    "OUTSIDE",
    "SCHEMA_BUDGET",
    "SEED_ALLOCATION",
    "UNKNOWN_WINDOW",
    "WARN_AT",
    "BudgetSettings",
    "CategoryUse",
    "Entry",
    "Report",
    "bar",
    "canonical_category",
    "new_context",
    "record",
    "record_many",
    "record_text",
    "render_text",
    "report",
    "settings",
    "status_section",
    "window_for",
]
