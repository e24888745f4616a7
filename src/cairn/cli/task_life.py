"""`cairn task archive|unarchive|delete|rename` and `cairn phase remove`: the life of a task after
its work. They are sub-commands of `task` and `phase`, so their parsers are built in ``core``
(the fast path of the core commands loads that module alone); the handlers here are imported
only when one of them runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cairn.cli.common import emit_json, open_ws, split_task
from cairn.core.errors import UsageError

ORDER = 0


def register(sub: Any) -> None:
    """Nothing at the top level: the parsers are ``core._task_life``."""


def _change_json(task_id: str, action: str, **more: Any) -> None:
    emit_json({"schema": "cairn.task_change/1", "task": task_id, "action": action, **more})


def cmd_archive(args: argparse.Namespace) -> int:
    from cairn.domain.task_life import archive_task

    task = archive_task(open_ws(args), args.task)
    if args.json:
        _change_json(task.id, "archived")
    else:
        print(f"{task.id}: archived (`cairn task unarchive {task.id}` brings it back)")
    return 0


def cmd_unarchive(args: argparse.Namespace) -> int:
    from cairn.domain.task_life import unarchive_task

    task = unarchive_task(open_ws(args), args.task)
    if args.json:
        _change_json(task.id, "unarchived")
    else:
        print(f"{task.id}: back in status and lists")
    return 0


def _confirm(task_id: str) -> None:
    if not sys.stdin.isatty():
        raise UsageError(
            f"deleting {task_id!r} needs a confirmation: run it in a terminal, or add --yes"
        )
    sys.stderr.write(
        f"Delete task {task_id!r}? It leaves status, lists and briefs and its artifacts are "
        "removed; its history stays in the store. [y/N] "
    )
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise UsageError("not deleted")


def cmd_delete(args: argparse.Namespace) -> int:
    from cairn.domain.task_life import delete_task

    ws = open_ws(args)
    if not args.yes:
        with ws.store.read() as tx:
            from cairn.domain.base import canonical

            task_id = canonical(tx, args.task).id
        _confirm(task_id)
    removed = delete_task(ws, args.task)
    if args.json:
        _change_json(args.task, "deleted", removed=removed)
        return 0
    files = f"; removed {', '.join(removed)}" if removed else ""
    print(f"{args.task}: deleted (journaled as task.deleted){files}")
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    from cairn.domain.task_life import rename_task

    task = rename_task(open_ws(args), args.task, args.new)
    if args.json:
        _change_json(task.id, "renamed", previous=args.task)
    else:
        print(f"{args.task} is now {task.id}")
    return 0


def cmd_phase_remove(args: argparse.Namespace) -> int:
    from cairn.domain.tasks import remove_phase

    ws = open_ws(args)
    task_id, (phase,) = split_task(args.args, 1, "[TASK] PHASE")
    task = remove_phase(ws, ws.resolve_task(task_id), phase)
    print(f"{task.id}: phases {', '.join(p.name for p in task.phases) or '(none)'}")
    return 0
