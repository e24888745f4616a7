"""The parsers of `task archive|unarchive|delete|rename` and `phase remove`, built with the core
commands' parsers; their handlers live in cli/task_life.py and load only when one of them runs
(the core fast path loads no other command module)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cairn.cli.common import add_json

if TYPE_CHECKING:
    import argparse


def _later(name: str) -> Any:
    """A handler in cli/task_life.py, imported when its command runs (not on every start)."""

    def call(args: argparse.Namespace) -> int:
        from cairn.cli import task_life

        return int(getattr(task_life, name)(args))

    return call


def task_life_parsers(task: Any) -> None:
    """`task archive|unarchive|delete|rename`, built with the core commands' parsers (whose fast
    path loads no other command module); handlers in cli/task_life.py."""
    for name, helps in (
        ("archive", "take a finished task out of status, briefs and lists (kept whole)"),
        ("unarchive", "bring an archived task back as it was"),
        ("delete", "delete a task: out of everything, artifacts removed (history kept, journaled)"),
        ("rename", "TASK NEW: give a task a new id (its artifacts move)"),
    ):
        p = task.add_parser(name, help=helps)
        p.add_argument("task", help="the task id")
        if name == "rename":
            p.add_argument("new", help="the new id (letters, digits, . _ -)")
        if name == "delete":
            p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        add_json(p)
        p.set_defaults(func=_later(f"cmd_{name}"))


def phase_life_parsers(phase: Any) -> None:
    """`phase remove`, built with the other `phase` parsers; its handler is in cli/task_life.py."""
    p = phase.add_parser("remove", help="[TASK] PHASE: take a phase that is not active out")
    p.add_argument(
        "args",
        nargs="+",
        metavar="[TASK] PHASE",
        help="the task (optional when one task is active) and the phase",
    )
    p.set_defaults(func=_later("cmd_phase_remove"))
