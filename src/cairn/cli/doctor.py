"""`cairn doctor`: checks a workspace and says what to run for each problem found.

The checks come from *providers*, each a function of the workspace folder returning
:class:`~cairn.core.doctor.Check` rows: the workspace itself (store, readable tree, links, locks,
disk) and the agents' hooks. A provider of checks that ask the agent programs themselves is
added to :data:`PROVIDERS` where it lives (integrations): this module runs whatever is listed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cairn.cli.common import add_json, emit_json
from cairn.core.doctor import Check

ORDER = 70

Provider = Callable[[Path], list[Check]]


def _workspace(root: Path) -> list[Check]:
    from cairn.projection.doctor import workspace_checks

    return workspace_checks(root)


def _hooks(root: Path) -> list[Check]:
    from cairn.integrations.hook_checks import hook_checks

    return hook_checks(root)


# In the order they are shown. Add one here to have `cairn doctor` run it.
PROVIDERS: list[Provider] = [_workspace, _hooks]

ICONS = {"ok": "✅", "warn": "⚠️", "fail": "❌"}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "doctor",
        help="check the workspace (store, readable files, links, locks, disk, hooks) and say "
        "what to run for each problem",
    )
    add_json(p)
    p.set_defaults(func=cmd_doctor)


def run_checks(root: Path, providers: list[Provider] | None = None) -> list[Check]:
    """Every provider's checks; a provider that breaks is a failed check of its own."""
    out: list[Check] = []
    for provider in PROVIDERS if providers is None else providers:
        try:
            out += provider(root)
        except Exception as exc:  # one broken check must not hide the others
            name = getattr(provider, "__name__", "checks").strip("_")
            out.append(Check(name, "ran", "fail", f"{type(exc).__name__}: {exc}"[:300]))
    return out


def as_json(root: Path, checks: list[Check]) -> dict[str, Any]:
    return {
        "schema": "cairn.doctor/1",
        "workspace": str(root),
        "ok": all(c.outcome != "fail" for c in checks),
        "checks": [
            {"area": c.area, "name": c.name, "outcome": c.outcome, "detail": c.detail, "fix": c.fix}
            for c in checks
        ],
    }


def cmd_doctor(args: argparse.Namespace) -> int:
    import os

    root = Path(args.workspace or os.environ.get("CAIRN_WORKSPACE") or ".").resolve()
    checks = run_checks(root)
    if args.json:
        emit_json(as_json(root, checks))
    else:
        for c in checks:
            sys.stdout.write(f"{ICONS[c.outcome]} {c.area} {c.name}: {c.detail}\n")
            if c.fix and c.outcome != "ok":
                sys.stdout.write(f"   run: {c.fix}\n")
        bad = sum(c.outcome == "fail" for c in checks)
        warned = sum(c.outcome == "warn" for c in checks)
        sys.stdout.write(f"{len(checks)} checks: {bad} failed, {warned} to look at\n")
    return 1 if any(c.outcome == "fail" for c in checks) else 0
