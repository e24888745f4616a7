"""The agent runtime: phases run by a model with cairn's tools, compaction at safe points, subagents.

Built on pydantic-ai (``pip install 'cairn-agent[agent]'``); imported only by ``cairn agent`` and by
code that runs agents, never on the CLI's start-up path.
"""

from __future__ import annotations

from cairn.agent.runtime import PhaseResult, RunOptions, RunResult, arun_task, run_task

__all__ = ["PhaseResult", "RunOptions", "RunResult", "arun_task", "run_task"]
