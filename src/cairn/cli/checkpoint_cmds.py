"""The handlers of ``cairn checkpoint write|show|list|history|template`` (parsers in
cli/core.py, which imports this module only to build them)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from cairn import views
from cairn.cli.common import emit_json, open_ws, split_task
from cairn.core.errors import UsageError, ValidationError

if TYPE_CHECKING:
    import argparse


def _read_content(args: argparse.Namespace, ws: Any) -> bytes:
    limit = ws.config.max_checkpoint_bytes
    hint = "write a summary and keep the bulk in a file it names (or raise [checkpoints] max_bytes)"
    if args.file:
        from cairn.core import names
        from cairn.core.fsutil import read_bounded

        path = names.readable(ws.root, args.file, "--file")
        return read_bounded(path, limit, f"--file {names.show(args.file)}", hint)
    if sys.stdin is None or sys.stdin.isatty():
        raise UsageError("give the content with --file PATH or on standard input")
    data: bytes = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(
            f"the content on standard input is over the {limit:,}-byte limit; {hint}"
        )
    return data


def cmd_cp_write(args: argparse.Namespace) -> int:
    ws = open_ws(args)
    task_id, (kind,) = split_task(args.args, 1, "[TASK] KIND")
    task_id = ws.resolve_task(task_id)
    from cairn.core import names

    names.kind(kind)
    data = _read_content(args, ws)
    if not data.strip():
        raise ValidationError("the checkpoint is empty; nothing was written")
    cp = ws.write_checkpoint(task_id, kind, data, files=args.reload)
    if args.json:
        emit_json(views.checkpoint(cp, content=False))
    elif cp.unchanged:
        print(f"{cp.path}: {cp.kind} unchanged (still v{cp.version}); nothing was stored")
    else:
        print(views.checkpoint_written(cp))
    return 0


def cmd_cp_show(args: argparse.Namespace) -> int:
    ws = open_ws(args)
    task_id, (kind,) = split_task(args.args, 1, "[TASK] KIND")
    cp = ws.checkpoint(ws.resolve_task(task_id), kind, args.version)
    if args.json:
        emit_json(views.checkpoint(cp))
    else:
        sys.stdout.write(cp.content or "")
        if cp.content and not cp.content.endswith("\n"):
            sys.stdout.write("\n")
    return 0


def cmd_cp_list(args: argparse.Namespace) -> int:
    ws = open_ws(args)
    task_id = ws.resolve_task(args.task)
    cps = ws.checkpoints(task_id)
    if args.json:
        emit_json(views.checkpoints(task_id, cps))
        return 0
    if not cps:
        print(
            f"{task_id}: no checkpoints yet; write one with `cairn checkpoint write {task_id} "
            "analysis --file notes.md`"
        )
    for c, n in cps:
        print(f"{c.kind:<16} v{n:<4} {c.created_at}  {c.path}  ({c.source})")
    return 0


def cmd_cp_history(args: argparse.Namespace) -> int:
    ws = open_ws(args)
    task_id, (kind,) = split_task(args.args, 1, "[TASK] KIND")
    task_id = ws.resolve_task(task_id)
    hist = ws.history(task_id, kind)
    if not hist:
        ws.checkpoint(task_id, kind)  # raises NotFound, naming the kinds the task has
    if args.json:
        emit_json(views.history(task_id, hist))
        return 0
    for c in hist:
        print(f"v{c.version:<4} {c.created_at}  {c.size:>8} B  {c.hash[:12]}  {c.source}")
    return 0


def cmd_cp_template(args: argparse.Namespace) -> int:
    from cairn.core.templates import template

    text = template(args.kind, args.title)
    if args.json:
        emit_json(views.template(args.kind, text))
    else:
        sys.stdout.write(text)
    return 0
