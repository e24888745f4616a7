"""Budget settings: the categories, the seed's allocation scaled to a model's window, ``[budget]``.

Pure values from the configuration (standard library only): the status file imports the budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cairn.core.errors import UsageError, ValidationError

if TYPE_CHECKING:
    from cairn.core.config import Config

DEFAULT_WINDOW = 1_000_000
# The seed's "Context Budget Strategy" for a 1 M window.
SEED_ALLOCATION: dict[str, int] = {
    "specs": 50_000,
    "orchestration": 50_000,
    "user": 20_000,
    "subagent_summaries": 30_000,
    "buffer": 850_000,
}
CATEGORIES = tuple(SEED_ALLOCATION)
OUTSIDE = "subagent_work"  # spent by subagents in their own contexts
LABELS = {
    "specs": "specs and documentation",
    "orchestration": "orchestration and planning",
    "user": "user communication",
    "subagent_summaries": "subagent summaries",
    "buffer": "buffer",
    OUTSIDE: "subagent work (outside this context)",
}
_ALIASES = {
    "spec": "specs",
    "docs": "specs",
    "documentation": "specs",
    "specs and documentation": "specs",
    "planning": "orchestration",
    "orchestration and planning": "orchestration",
    "user communication": "user",
    "user_communication": "user",
    "communication": "user",
    "subagent summaries": "subagent_summaries",
    "summaries": "subagent_summaries",
    "subagent work": OUTSIDE,
    "subagent-work": OUTSIDE,
}
WARN_AT = 0.8
# Context windows of common models, by name prefix (longest prefix wins). Unknown models: 128 k.
MODEL_WINDOWS: dict[str, int] = {
    "gpt-4.1": 1_047_576,
    "gpt-4o": 128_000,
    "gpt-4-turbo": 128_000,
    "gpt-4": 8_192,
    "gpt-5": 400_000,
    "o1": 200_000,
    "o3": 200_000,
    "o4": 200_000,
    "claude": 200_000,
    "gemini": 1_048_576,
    "scripted": 1_000_000,
}
UNKNOWN_WINDOW = 128_000

# One entry larger than any context window by far is a typo (and would not fit SQLite's INTEGER).
MAX_TOKENS = 10**12


def canonical_category(name: str) -> str:
    """The canonical category for ``name`` (aliases such as 'user communication' are accepted)."""
    key = name.strip().lower().replace("-", "_") if name else ""
    key = _ALIASES.get(name.strip().lower(), key)
    if key in SEED_ALLOCATION or key == OUTSIDE:
        return key
    raise ValidationError(
        f"budget category {name!r} is not one of {', '.join((*CATEGORIES, OUTSIDE))} "
        "(aliases: 'user communication', 'subagent summaries', 'subagent work')"
    )


def window_for(model: str | None) -> int:
    """The context window of ``model`` ("provider:name" or a bare name), or 128 k if unknown."""
    if not model:
        return DEFAULT_WINDOW
    name = model.split(":", 1)[-1].lower() if not model.startswith("scripted") else "scripted"
    best = ""
    for prefix in MODEL_WINDOWS:
        if name.startswith(prefix) and len(prefix) > len(best):
            best = prefix
    return MODEL_WINDOWS[best] if best else UNKNOWN_WINDOW


@dataclass(frozen=True)
class BudgetSettings:
    """Allocations for one window, and the runtime's compaction thresholds (fractions of it)."""

    window: int
    allocations: dict[str, int]
    compact_at: float = 0.75
    hard_limit: float = 0.90
    summary_tokens: int = 1_500
    subagent_tokens: int = 100_000
    scaled: bool = True
    # Where the window came from: argument | model | config | session | default.
    window_from: str = "default"

    def to_json(self) -> dict[str, Any]:
        return {
            "window": self.window,
            "window_from": self.window_from,
            "allocations": dict(self.allocations),
            "compact_at": self.compact_at,
            "hard_limit": self.hard_limit,
            "summary_tokens": self.summary_tokens,
            "subagent_tokens": self.subagent_tokens,
            "scaled_from_seed": self.scaled,
        }


def settings(
    config: Config,
    *,
    window: int | None = None,
    model: str | None = None,
    session_window: int | None = None,
) -> BudgetSettings:
    """Settings from ``[budget]``: ``window``, per-category amounts, thresholds.

    The window is, in order: the ``window`` argument, ``[budget] window``, the ``model``'s known
    window, ``session_window`` (what the client of the session being measured uses, recorded by
    its hooks), 1 M. Categories not named in the config get the seed's share of that window; the
    buffer is what is left when some categories are named.
    """
    raw = config.section("budget")
    try:
        if window:
            win, source = int(window), "argument"
        elif raw.get("window"):
            win, source = int(raw["window"]), "config"
        elif model:
            win, source = window_for(model), "model"
        elif session_window and session_window > 0:
            win, source = int(session_window), "session"
        else:
            win, source = DEFAULT_WINDOW, "default"
        compact_at = float(raw.get("compact_at", 0.75))
        hard_limit = float(raw.get("hard_limit", 0.90))
        summary = int(raw.get("summary_tokens", 1_500))
        sub_tokens = int(raw.get("subagent_tokens", 100_000))
        named = {canonical_category(k): int(v) for k, v in raw.items() if _is_category(k)}
    except (TypeError, ValueError) as exc:
        raise UsageError(
            f"[budget] in .cairn/config.toml has a value of the wrong type ({exc})"
        ) from exc
    if win < 1_000:
        raise UsageError(f"[budget] window = {win} is too small; give the model's window in tokens")
    if not 0 < compact_at < hard_limit <= 1:
        raise UsageError(
            f"[budget] needs 0 < compact_at ({compact_at}) < hard_limit ({hard_limit}) <= 1"
        )
    if any(v < 0 for v in named.values()):
        raise UsageError("[budget] amounts must be zero or more tokens")
    alloc = {k: v * win // DEFAULT_WINDOW for k, v in SEED_ALLOCATION.items()}
    alloc.update(named)
    if named and "buffer" not in named:
        alloc["buffer"] = max(0, win - sum(v for k, v in alloc.items() if k != "buffer"))
    if sum(alloc.values()) > win:
        raise UsageError(
            f"[budget] allocations add up to {sum(alloc.values()):,} tokens, over the "
            f"{win:,}-token window; lower some"
        )
    return BudgetSettings(
        win, alloc, compact_at, hard_limit, summary, sub_tokens, not named, source
    )


def _is_category(key: str) -> bool:
    try:
        canonical_category(key)
    except ValidationError:
        return False
    return True
