"""Helpers shared by the command modules."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cairn.core.errors import UsageError
from cairn.core.names import show

if TYPE_CHECKING:
    import argparse

    from cairn.domain.workspace import Workspace


# Workspaces a command opened: ``cli.main`` flushes them before it returns, so that the command
# renders the readable tree once, whatever number of writes it made.
_OPENED: list[Workspace] = []
_NOTES: list[str] = []


def open_ws(args: argparse.Namespace, *, reconcile: bool = True) -> Workspace:
    from cairn.domain.workspace import Workspace

    ws = Workspace.open(args.workspace)
    ws.projector.background = False
    _OPENED.append(ws)
    if ws.read_only is not None:
        # Said once the command has answered; a refused write says it in its error instead.
        _NOTES.append(
            f"the workspace is read-only ({ws.read_only}): this answer comes from the store; "
            "the readable files were not rewritten"
        )
        return ws
    if reconcile:
        ws.projector.reconcile()
        warn(ws)
    return ws


def note(text: str) -> None:
    """A line for standard error once the command has answered (not when it fails)."""
    _NOTES.append(text)


def warn(ws: Workspace) -> None:
    """Say on standard error, one line each, what the projection set aside unread."""
    take = getattr(ws.projector, "take_warnings", None)  # only the file projector has any
    for line in take() if take is not None else ():
        sys.stderr.write(f"cairn: warning: {line}\n")


def flush_opened(*, failed: bool = False) -> None:
    """Bring the readable tree of every workspace the command opened current (and, when the
    command did not fail, print its notes)."""
    notes, _NOTES[:] = list(_NOTES), []
    if not failed:
        for note in dict.fromkeys(notes):
            sys.stderr.write(f"cairn: note: {note}\n")
    while _OPENED:
        ws = _OPENED.pop()
        try:
            ws.flush()
        finally:
            warn(ws)


def split_task(values: Sequence[str], required: int, usage: str) -> tuple[str | None, list[str]]:
    """``[TASK] ARG...``: the task may be left out when one task is active."""
    if len(values) == required + 1:
        return values[0], list(values[1:])
    if len(values) == required:
        return None, list(values)
    raise UsageError(f"expected {usage}")


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (for --limit and the like)."""
    import argparse  # only ever called by argparse, which is loaded then

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{show(text)} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is below 1; give 1 or more")
    if value > 10**9:  # past SQLite's integers, and past any real list
        raise argparse.ArgumentTypeError(f"{value} is too large; give at most 1000000000")
    return value


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON (shapes: docs/json.md)")
