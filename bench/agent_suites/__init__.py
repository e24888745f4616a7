"""The strategy benchmark's five task suites for the scripted model (``bench/strategy_bench.py``),
modelled on the seed's session.

Each task has input files (made deterministically by ``setup``), instructions, and a verifier that
inspects the files produced. It can be run two ways with the scripted model:

* ``direct`` — one phase, one context: the orchestrator reads and writes everything itself.
* cairn — a ``plan`` phase (read the spec, checkpoint a plan), then one phase per *wave* of work,
  each spawning subagents in parallel for the detail work and checkpointing their summaries.

Both ways run the same units of work (the same reads and writes), so what differs is only where the
tokens land: in the orchestrator's context, or in subagents' contexts that end with a summary.

Not part of the package: the benchmark registers them explicitly
(``cairn.models.scripted_suites.register_all(SUITES)``), and a workspace can name this folder in
``[providers.scripted] suites`` to run them with ``cairn agent run --model scripted:TASK``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from cairn.models.scripted import Suite

from .kit import SUBAGENT_BUDGET, TaskDef, build_suite
from .tasks_code import analysis_task, review_task
from .tasks_data import dataquality_task, evalset_task
from .tasks_shards import shards_task

TASKS: dict[str, Callable[[], TaskDef]] = {
    "dataquality": dataquality_task,
    "evalset": evalset_task,
    "shards": shards_task,
    "review": review_task,
    "analysis": analysis_task,
}


def _suite_of(make: Callable[[], TaskDef]) -> Suite:
    return build_suite(make())


# What the scripted model plays, by name: registered by whoever runs the benchmark, never on import.
SUITES: dict[str, Callable[[], Suite]] = {
    name: functools.partial(_suite_of, make) for name, make in TASKS.items()
}

__all__ = ["SUBAGENT_BUDGET", "SUITES", "TASKS", "build_suite"]
