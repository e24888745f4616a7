"""``cairn audit PATH…``: read Claude Code / Codex transcripts and report context and compactions.

Needs no workspace. Output: a plain-text table, ``--json`` (schema ``cairn.audit/1``), and
``--html FILE`` for a self-contained page with the charts.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from cairn.cli.common import emit_json
from cairn.core.errors import ValidationError

ORDER = 70


def register(sub: Any) -> None:
    p = sub.add_parser(
        "audit",
        help="audit Claude Code / Codex transcripts: context over time, compactions, where it went",
        description=(
            "Read Claude Code transcripts (~/.claude/projects/<project>/<session>.jsonl and their "
            "subagents/) and Codex rollouts (~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl): the "
            "context size over time, every compaction and whether a checkpoint was written just "
            "before it, where the context went, and what subagents cost."
        ),
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="transcript files or folders")
    p.add_argument("--json", action="store_true", help="print JSON (schema cairn.audit/1)")
    p.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report")
    est = p.add_mutually_exclusive_group()
    est.add_argument(
        "--exact",
        action="store_true",
        help="count content tokens with the o200k vocabulary (loads it once, ~0.3 s)",
    )
    est.add_argument(
        "--estimate",
        choices=("calibrated", "upper"),
        default="calibrated",
        help="cheap token estimate: calibrated bytes/3.6 (default) or cairn's upper bound",
    )
    p.add_argument(
        "--window",
        type=int,
        default=5,
        metavar="TURNS",
        help="a compaction is at a safe point when a checkpoint was written this many turns "
        "before it or fewer (default 5)",
    )
    p.add_argument(
        "--points",
        type=int,
        default=2000,
        metavar="N",
        help="keep at most N timeline points per session, peaks kept (default 2000)",
    )
    p.set_defaults(func=cmd_audit)


def html_target(raw: str) -> Path:
    """Where the user asked for the HTML report; refused: NUL bytes, folders, missing parents."""
    if "\x00" in raw:
        raise ValidationError("--html path contains a NUL byte")
    if not raw.strip():
        raise ValidationError("--html path is empty; give a file name such as audit.html")
    p = Path(raw).expanduser()
    if p.is_dir() or raw.endswith((os.sep, "/")):
        raise ValidationError(f"--html {raw!r} is a folder; give a file name such as audit.html")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ValidationError(
            f"--html {raw!r}: folder {str(parent)!r} does not exist; create it first"
        )
    return p


def cmd_audit(args: argparse.Namespace) -> int:
    target = html_target(args.html) if args.html else None
    from cairn.audit import audit_paths, render_html, render_text

    doc = audit_paths(
        list(args.paths),
        estimate="exact" if args.exact else args.estimate,
        window=args.window,
        max_points=args.points,
    )
    if target is not None:
        from cairn.core.fsutil import atomic_write

        atomic_write(target, render_html(doc).encode("utf-8"))
    if args.json:
        if target is not None:
            doc["html"] = str(target)
        emit_json(doc)
    else:
        sys.stdout.write(render_text(doc))
        if target is not None:
            sys.stdout.write(f"HTML report written to {target}\n")
    return 0
