"""The command lines agents and hooks run most, read without argparse.

``cairn status`` and ``cairn recover`` run after every compaction and in every session's first
seconds; importing argparse (with gettext and locale) and building a parser was about a tenth of
each. The plain forms of these two (long options, each at most once, values that do not start
with '-') are read here into the namespace argparse would give; anything else, ``--help`` and
every error included, goes to argparse. tests/test_core_cli.py checks that both give the same.
"""

from __future__ import annotations

from types import SimpleNamespace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

# command -> (flags: option -> dest, valued options: option -> (dest, type), defaults); the
# defaults and types are those of the command's parser in cli/core.py.
_FORMS: dict[
    str, tuple[dict[str, str], dict[str, tuple[str, Callable[[str], object]]], dict[str, object]]
] = {
    "status": ({"--json": "json"}, {}, {"json": False}),
    "recover": (
        {"--exact": "exact", "--no-log": "no_log", "--json": "json"},
        {
            "--task": ("task", str),
            "--trigger": ("trigger", str),
            "--max-tokens": ("max_tokens", int),
        },
        {
            "task": None,
            "trigger": "manual",
            "max_tokens": None,
            "exact": False,
            "no_log": False,
            "json": False,
        },
    ),
}


def quick_args(argv: Sequence[str]) -> SimpleNamespace | None:
    """The namespace for ``argv`` when it is one of the plain forms above, else None."""
    args = list(argv)
    workspace: str | None = None
    while args and (args[0] in ("-C", "--workspace") or args[0].startswith("--workspace=")):
        if workspace is not None:
            return None
        first = args.pop(0)
        if first.startswith("--workspace="):
            workspace = first.split("=", 1)[1]
        elif args and not args[0].startswith("-"):
            workspace = args.pop(0)
        else:
            return None
    if not args or args[0] not in _FORMS:
        return None
    command, rest = args[0], iter(args[1:])
    flags, valued, defaults = _FORMS[command]
    values = dict(defaults)
    seen: set[str] = set()
    for arg in rest:
        if arg in seen:
            return None
        seen.add(arg)
        if arg in flags:
            values[flags[arg]] = True
        elif arg in valued:
            dest, convert = valued[arg]
            value = next(rest, None)
            if value is None or value.startswith("-"):
                return None
            try:
                values[dest] = convert(value)
            except ValueError:
                return None  # argparse words the error
        else:
            return None
    from cairn.cli import core

    return SimpleNamespace(
        workspace=workspace, command=command, **values, func=getattr(core, f"cmd_{command}")
    )
