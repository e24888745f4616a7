"""The ``cairn`` command. Thin: parse, call one library function, render.

Command modules register their sub-commands; none imports anything heavy at module level, so that
``cairn status`` and the hook commands start fast.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Sequence

from cairn.core.errors import CairnError
from cairn.core.stdlib_start import import_module, import_pathlib

import_pathlib()  # before any command module imports pathlib: see cairn.core.stdlib_start

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

# Modules of this package that hold shared parts, not commands.
_NOT_COMMANDS = ("checkpoint_cmds", "common", "parsing", "quick", "task_life_args")


def _command_modules() -> list[str]:
    """Every module in this package with ``register(subparsers)`` and an ``ORDER`` number.

    Discovered from the folder so that a feature adds its commands in a file of its own.
    """
    import pkgutil

    names = [m.name for m in pkgutil.iter_modules(__path__) if m.name not in _NOT_COMMANDS]
    return [f"{__name__}.{n}" for n in names]


def _command_word(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv`` (after the global options), or None."""
    args = iter(argv)
    for arg in args:
        if arg in ("-C", "--workspace"):
            next(args, None)
        elif arg.startswith(("--workspace=", "-C")):
            continue
        elif arg.startswith("-"):
            return None  # --help and the like: the full parser
        else:
            return arg
    return None


# Commands whose module of the same name registers them alone: a client starts `cairn mcp` and
# waits for its first answer, so the other command modules are not imported for it.
_ALONE = ("mcp",)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; given the sub-command about to run, only what is needed to parse it.

    The core commands (``core.COMMANDS``) are what hooks and agents call, often: for one of them
    only its own parser is built, and the other command modules are not even imported.
    """
    from cairn.cli.parsing import Parser, describe

    parser = Parser(
        prog="cairn",
        description="Durable checkpoints, status and recovery for long-running agents.",
    )
    from cairn import __version__

    parser.add_argument("--version", action="version", version=f"cairn {__version__}")
    parser.add_argument(
        "-C",
        "--workspace",
        metavar="DIR",
        help="the workspace folder (default: $CAIRN_WORKSPACE, else the nearest "
        "folder at or above the current one holding .cairn/)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    if command is not None and command not in _ALONE:
        from cairn.cli import core

        if command in core.COMMANDS:
            core.register(sub, only=command)  # its parser alone: the others are never looked at
            describe(parser)
            return parser
    names = [f"{__name__}.{command}"] if command in _ALONE else _command_modules()
    modules = [import_module(name) for name in names]
    for module in sorted(modules, key=lambda m: (getattr(m, "ORDER", 50), m.__name__)):
        module.register(sub)
    describe(parser)
    return parser


def _not_utf8(argv: Sequence[str]) -> str | None:
    """The error for the first argument that was not valid UTF-8, or None.

    Such bytes reach Python as lone surrogates (surrogateescape) and could not be stored.
    """
    for n, arg in enumerate(argv, 1):
        bad = next((ch for ch in arg if "\udc80" <= ch <= "\udcff"), None)
        if bad is not None:
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            if len(shown) > 60:
                shown = shown[:57] + "..."
            return (
                f"argument {n} ('{shown}') is not valid UTF-8 (byte 0x{ord(bad) - 0xDC00:02x}); "
                "pass UTF-8 text (convert it, e.g. with `iconv -t UTF-8`; rename such a file)"
            )
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; without ``argv``, the process's own (the ``cairn`` script), which a core
    command then ends without the interpreter's teardown."""
    command = _command_word(sys.argv[1:]) if argv is None else None
    short = False
    if command is not None and command not in _ALONE:
        from cairn.cli.core import COMMANDS  # its parser or quick_args would load it next

        short = command in (*COMMANDS, "hook")
    if short:
        # What agents and hooks run all day, in a process that ends with the command: no cycle
        # collection (refcounting still frees the rest); collecting was ~4% of a fresh recover.
        import gc

        gc.disable()
    code = _main(argv)
    if short:
        # Its output is written and its stores closed first (core/procs.exit_now says what is
        # kept of the teardown).
        from cairn.core.procs import exit_now

        exit_now(code)
    return code


def _main(argv: Sequence[str] | None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    problem = _not_utf8(args_in)
    if problem is not None:
        sys.stderr.write(f"cairn: error: {problem}\n")
        return 2
    command = _command_word(args_in)
    from cairn.cli.quick import quick_args

    args: Any = quick_args(args_in)  # the plain forms of status and recover, without argparse
    if args is None:
        parser = build_parser(command)
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:
            # An agent hook fails open: exit 2 would block the agent (Claude Code reads it so).
            if command == "hook" and exc.code not in (0, None):
                sys.stderr.write("cairn hook: bad arguments, ignored (the agent goes on)\n")
                return 0
            raise
    from cairn.cli.common import flush_opened

    try:
        code = args.func(args)
        flush_opened()  # the tree is current when the command returns
        return int(code or 0)
    except CairnError as exc:
        sys.stderr.write(f"cairn: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("cairn: interrupted; everything acknowledged before is saved\n")
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        # The file system refused a file (full disk, no permission, a folder in the way). Commits
        # come before the readable files are written, so what the store acknowledged is kept.
        where = f": {exc.filename}" if exc.filename else ""
        if getattr(exc, "filename2", None):
            where += f" -> {exc.filename2}"
        if exc.errno == errno.ENOSPC:
            sys.stderr.write(
                f"cairn: error: disk full{where}: nothing was lost (the store commits before the "
                "readable files are written). Free space and run the command again\n"
            )
            return 1
        sys.stderr.write(
            f"cairn: error: {exc.strerror or exc}{where}; fix that (free space, permissions, a "
            "folder in the way) and run the command again: what the store saved is kept, and "
            "`cairn status` rewrites the readable files\n"
        )
        return 1
    except Exception as exc:  # a bug in cairn: one line, and the traceback on request
        if os.environ.get("CAIRN_DEBUG"):
            raise
        sys.stderr.write(
            f"cairn: internal error: {type(exc).__name__}: {exc} (set CAIRN_DEBUG=1 "
            "for the traceback; saved data is intact)\n"
        )
        return 1
    finally:
        # What the command committed before it failed is projected too (its error stands).
        with contextlib.suppress(Exception):
            flush_opened(failed=True)


def run() -> None:
    sys.exit(main())
