"""cairn: durable checkpoints, status and recovery for long-running LLM agents.

Public names are loaded on first use so that ``import cairn`` (and the CLI) start fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "Workspace": "cairn.workspace",
    "open_workspace": "cairn.workspace",
    "CairnError": "cairn.errors",
    "UsageError": "cairn.errors",
    "count_tokens": "cairn.tokens",
    "build_brief": "cairn.recovery",
    "recover": "cairn.recovery",
}

if TYPE_CHECKING:
    from .errors import CairnError, UsageError
    from .recovery import build_brief, recover
    from .tokens import count_tokens
    from .workspace import Workspace, open_workspace


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cairn' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CairnError",
    "UsageError",
    "Workspace",
    "__version__",
    "build_brief",
    "count_tokens",
    "open_workspace",
    "recover",
]
