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
    "open": "cairn.flow",
    "Project": "cairn.flow",
    "TaskHandle": "cairn.flow",
    "PhaseContext": "cairn.flow",
    "PhaseFailed": "cairn.flow",
    "WorkflowChanged": "cairn.flow",
    "RunReport": "cairn.flow",
    "open_stream": "cairn.stream",
    "read_jsonl": "cairn.stream",
    "Worker": "cairn.workers",
    "spawn_many": "cairn.workers",
}

if TYPE_CHECKING:
    from .errors import CairnError, UsageError
    from .flow import (
        PhaseContext,
        PhaseFailed,
        Project,
        RunReport,
        TaskHandle,
        WorkflowChanged,
        open,
    )
    from .recovery import build_brief, recover
    from .stream import open_stream, read_jsonl
    from .tokens import count_tokens
    from .workers import Worker, spawn_many
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
    "PhaseContext",
    "PhaseFailed",
    "Project",
    "RunReport",
    "TaskHandle",
    "UsageError",
    "Worker",
    "WorkflowChanged",
    "Workspace",
    "__version__",
    "build_brief",
    "count_tokens",
    "open",
    "open_stream",
    "open_workspace",
    "read_jsonl",
    "recover",
    "spawn_many",
]
