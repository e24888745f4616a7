"""The strategy benchmark's task suites for the scripted model (``bench/strategy_bench.py``).

Not part of the package: the benchmark registers them explicitly
(``cairn.models.scripted_suites.register_all(SUITES)``), and a workspace can name this folder in
``[providers.scripted] suites`` to run them with ``cairn agent run --model scripted:TASK``.
"""

from __future__ import annotations

from .tasks_data import SUITES, TASKS

__all__ = ["SUITES", "TASKS"]
