"""`cairn budget` (allocation against use, recording) and `cairn advise` (delegate or not)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cairn.cli.common import add_json, emit_json, open_ws

ORDER = 40

# --text-file is counted, not stored: a bound on memory, far above any context window's text.
TEXT_FILE_LIMIT = 50_000_000


def register(sub: Any) -> None:
    p = sub.add_parser(
        "budget",
        help="context budget: allocation per category against what entered the context",
    )
    p.add_argument("--context", metavar="ID", help="a context other than the newest")
    p.add_argument("--all", action="store_true", help="sum over every context")
    p.add_argument("--window", type=int, help="context window in tokens (default: [budget])")
    p.add_argument("--model", help="take the window from this provider:model")
    add_json(p)
    p.set_defaults(func=cmd_budget)
    actions = p.add_subparsers(dest="budget_cmd", metavar="ACTION")
    r = actions.add_parser("record", help="CATEGORY TOKENS --source WHAT: record what entered")
    r.add_argument(
        "category",
        help="specs | orchestration | user | subagent_summaries | subagent_work "
        "(or 'user communication', 'subagent summaries')",
    )
    r.add_argument("tokens", nargs="?", type=int, help="tokens (omit with --text-file)")
    r.add_argument("--source", required=True, help="what entered, e.g. 'read docs/spec.md'")
    r.add_argument("--task")
    r.add_argument("--exact", action="store_true", help="the count is the provider's own")
    r.add_argument(
        "--text-file", metavar="PATH", help="count this file's tokens offline instead of TOKENS"
    )
    r.add_argument("--model", help="tokenizer to count --text-file with (provider:model)")
    add_json(r)
    r.set_defaults(func=cmd_budget_record)
    n = actions.add_parser("reset", help="start a new context (after a compaction or /clear)")
    n.add_argument("--task")
    n.add_argument("--note")
    add_json(n)
    n.set_defaults(func=cmd_budget_reset)

    a = sub.add_parser("advise", help="delegate to a subagent, or do it directly?")
    a.add_argument("--read-lines", type=int, default=0, metavar="N")
    a.add_argument("--write-lines", type=int, default=0, metavar="N")
    a.add_argument("--edit-lines", type=int, metavar="N")
    a.add_argument("--rounds", type=int, default=0, metavar="N", help="rounds of inspection")
    a.add_argument("--minutes", type=float, metavar="M", help="expected duration")
    a.add_argument("--sequential", action="store_true", help="needs immediate feedback per step")
    a.add_argument("--need-details", action="store_true", help="you must see the details")
    a.add_argument("--debugging", action="store_true")
    a.add_argument("--multi-step", action="store_true")
    add_json(a)
    a.set_defaults(func=cmd_advise)


def cmd_budget(args: argparse.Namespace) -> int:
    from cairn.domain.budget import render_text, report

    ws = open_ws(args, reconcile=False)
    rep = report(
        ws, context_id=args.context, all_contexts=args.all, window=args.window, model=args.model
    )
    if args.json:
        emit_json(rep.to_json())
    else:
        sys.stdout.write(render_text(rep))
    return 0


def cmd_budget_record(args: argparse.Namespace) -> int:
    from cairn.core.errors import UsageError
    from cairn.domain.budget import record, record_text

    ws = open_ws(args, reconcile=False)
    if args.text_file:
        if args.tokens is not None:
            raise UsageError("give TOKENS or --text-file, not both")
        from cairn.core import names
        from cairn.core.fsutil import read_bounded

        path = names.readable(ws.root, args.text_file, "--text-file")
        shown = f"--text-file {names.show(args.text_file)}"
        data = read_bounded(path, TEXT_FILE_LIMIT, shown, "count an excerpt, or give TOKENS")
        text = data.decode("utf-8", errors="replace")
        entry = record_text(
            ws, args.category, text, source=args.source, model=args.model, task_id=args.task
        )
    else:
        if args.tokens is None:
            raise UsageError("give TOKENS (a number) or --text-file PATH to count")
        entry = record(
            ws, args.category, args.tokens, source=args.source, task_id=args.task, exact=args.exact
        )
    if args.json:
        emit_json({"schema": "cairn.budget_entry/1", **entry.__dict__})
    else:
        sys.stdout.write(
            f"recorded {entry.tokens:,} tokens under {entry.category} from {entry.source}"
            f"{'' if entry.exact else ' (estimate)'}\n"
        )
    return 0


def cmd_budget_reset(args: argparse.Namespace) -> int:
    from cairn.domain.budget import new_context

    ws = open_ws(args, reconcile=False)
    cid = new_context(ws, "session", task_id=args.task, note=args.note)
    ws.projector.render_status()
    if args.json:
        emit_json({"schema": "cairn.budget_context/1", "context": cid})
    else:
        sys.stdout.write(f"new context {cid}; the budget now counts from zero\n")
    return 0


def cmd_advise(args: argparse.Namespace) -> int:
    from cairn.domain.advise import advise

    advice = advise(
        read_lines=args.read_lines,
        write_lines=args.write_lines,
        rounds=args.rounds,
        sequential=args.sequential,
        need_details=args.need_details,
        minutes=args.minutes,
        debugging=args.debugging,
        multi_step=args.multi_step,
        edit_lines=args.edit_lines,
    )
    if args.json:
        emit_json(advice.to_json())
    else:
        sys.stdout.write(advice.text())
    return 0
