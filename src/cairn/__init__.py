"""cairn: durable checkpoints, status and recovery for long-running LLM agents.

Public names are loaded on first use so that ``import cairn`` (and the CLI) start fast.
"""

from __future__ import annotations

TYPE_CHECKING = False


__version__ = "0.1.0"

_LAZY = {
    "Workspace": "cairn.domain.workspace",
    "open_workspace": "cairn.domain.workspace",
    "CairnError": "cairn.core.errors",
    "UsageError": "cairn.core.errors",
    "count_tokens": "cairn.core.tokens",
    "build_brief": "cairn.recovery.brief",
    "recover": "cairn.recovery.brief",
    "open": "cairn.flow",
    "Project": "cairn.flow",
    "TaskHandle": "cairn.flow",
    "PhaseContext": "cairn.flow",
    "PhaseFailed": "cairn.flow",
    "WorkflowChanged": "cairn.flow",
    "RunReport": "cairn.flow",
    "open_stream": "cairn.domain.streams",
    "read_jsonl": "cairn.domain.streams",
    "Worker": "cairn.domain.workers",
    "spawn_many": "cairn.domain.workers",
}

if TYPE_CHECKING:
    from typing import Any

    from cairn.core.errors import CairnError, UsageError
    from cairn.core.tokens import count_tokens
    from cairn.domain.streams import open_stream, read_jsonl
    from cairn.domain.workers import Worker, spawn_many
    from cairn.domain.workspace import Workspace, open_workspace
    from cairn.flow import (
        PhaseContext,
        PhaseFailed,
        Project,
        RunReport,
        TaskHandle,
        WorkflowChanged,
        open,
    )
    from cairn.recovery.brief import build_brief, recover


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
