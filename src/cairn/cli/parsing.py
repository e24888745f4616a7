"""The argparse side of the ``cairn`` command: its parser and help layout (imported only when a
command line is parsed with argparse; see ``cli.quick`` for the forms that are not)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def columns() -> int:
    """``shutil.get_terminal_size().columns``, without importing shutil (and its compression
    modules) into every command: ``$COLUMNS``, else the terminal's width, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        size = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80
    return size.columns or 80


class Formatter(argparse.HelpFormatter):
    """argparse's own layout. argparse builds a formatter for every argument it adds, and its
    default one imports shutil to ask for the width: this one asks without it."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(
            prog, indent_increment, max_help_position, columns() - 2 if width is None else width
        )


class Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        import re

        # argparse quotes the arguments it refuses as given: keep a newline in one from
        # breaking the message in two, and a 10 KB one from filling the screen.
        message = re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group())[1:-1], message)
        if len(message) > 300:
            message = message[:297] + "..."
        self.print_usage(sys.stderr)
        sys.stderr.write(f"cairn: usage error: {message}\n")
        sys.exit(2)


def describe(parser: argparse.ArgumentParser) -> None:
    """Give each command's own ``--help`` the line the command list shows for it, where the
    command module set no longer description: ``cairn status --help`` then says what it does."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, child in action.choices.items():
                if child.description is None and helps.get(name):
                    child.description = helps[name]
                describe(child)
