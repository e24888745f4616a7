"""The Python API for durable, resumable work: ``cairn.open(".").task("id")`` and its phases.

See :mod:`cairn.flow.durable` for the rules (what is skipped, what re-runs, what a phase's return
value becomes) and :mod:`cairn.flow.loader` for how ``cairn run FILE`` loads a workflow file.
"""

from __future__ import annotations

from cairn.flow.context import PhaseContext
from cairn.flow.durable import (
    PhaseFailed,
    PhaseOutcome,
    RunReport,
    TaskHandle,
    WorkflowChanged,
)
from cairn.flow.project import Project, open

__all__ = [
    "PhaseContext",
    "PhaseFailed",
    "PhaseOutcome",
    "Project",
    "RunReport",
    "TaskHandle",
    "WorkflowChanged",
    "open",
]
