"""`cairn agent run TASK --model provider:model`: run a task's phases with a model (pydantic-ai)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cairn.cli.common import add_json, emit_json, open_ws, positive_int

ORDER = 50


def register(sub: Any) -> None:
    agent = sub.add_parser(
        "agent", help="run phases with a model: tools, compaction at safe points, subagents"
    ).add_subparsers(dest="agent_cmd", metavar="ACTION", required=True)
    p = agent.add_parser("run", help="TASK --model provider:model: run the task's open phases")
    p.add_argument("task")
    p.add_argument(
        "--phase", action="append", default=[], metavar="P", help="run only this phase (repeat)"
    )
    p.add_argument(
        "--model",
        required=True,
        help="provider:model, e.g. openai:gpt-4o, anthropic:claude-sonnet-4-5, or "
        "scripted:SUITE (deterministic scripted model; built in: demo, demo-slow, "
        "demo-subagents; more from [providers.scripted] suites, e.g. bench/agent_suites)",
    )
    p.add_argument("--subagent-model", help="model for subagents (default: --model)")
    p.add_argument("--no-subagents", action="store_true", help="do not offer spawn_subagents")
    p.add_argument("--window", type=int, help="context window in tokens (default: the model's)")
    p.add_argument("--instructions", help="the task's instructions (default: its spec checkpoint)")
    p.add_argument("--instructions-file", metavar="PATH")
    p.add_argument("--retries", type=int, help="retries of a failing provider (default 3)")
    p.add_argument("--request-timeout", type=float, help="seconds per model request (300)")
    p.add_argument(
        "--setup",
        action="store_true",
        help="scripted models only: first write the suite's input files and create TASK with "
        "the suite's phases",
    )
    add_json(p)
    p.set_defaults(func=cmd_agent_run)

    p = agent.add_parser("runs", help="recent agent runs, compactions and subagents")
    p.add_argument("task", nargs="?")
    p.add_argument("--limit", type=positive_int, default=10)
    add_json(p)
    p.set_defaults(func=cmd_agent_runs)


def cmd_agent_run(args: argparse.Namespace) -> int:
    from cairn.core.errors import UsageError

    ws = open_ws(args)
    instructions = args.instructions
    if args.instructions_file:
        try:
            instructions = ws.path(args.instructions_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read {args.instructions_file}: {exc.strerror}") from exc
    try:
        from cairn.agent import RunOptions, run_task
    except ImportError as exc:
        raise UsageError(
            f"the agent runtime needs pydantic-ai ({exc}); pip install 'cairn-agent[agent]'"
        ) from exc
    if args.setup:
        if not args.model.startswith("scripted:"):
            raise UsageError("--setup is for scripted models (scripted:SUITE) only")
        from cairn.models.scripted_suites import get_suite, suites_from_config

        suites_from_config(ws.config, ws.root)
        suite = get_suite(args.model.split(":", 1)[1])
        if suite.setup is not None:
            suite.setup(ws.root)
        ws.create_task(args.task, suite.instructions[:200], suite.phases, exist_ok=True)
        instructions = instructions or suite.instructions
    result = run_task(
        ws,
        args.task,
        RunOptions(
            model=args.model,
            phases=args.phase or None,
            window=args.window,
            instructions=instructions,
            subagents=not args.no_subagents,
            subagent_model=args.subagent_model,
            retries=args.retries,
            request_timeout=args.request_timeout,
        ),
    )
    if args.json:
        emit_json(result.to_json())
    else:
        s = result.stats
        if args.model.startswith("scripted:"):
            sys.stdout.write("(scripted model: a deterministic plan, not an LLM)\n")
        for p in result.phases:
            extra = " (resumed)" if p.resumed else ""
            line = p.summary.splitlines()[0] if p.summary else (p.error or "")
            sys.stdout.write(f"{p.phase}: {p.state}{extra} — {line[:200]}\n")
        if result.crash_recovered:
            sys.stdout.write(
                f"recovered from crashed run(s) {', '.join(result.crash_recovered)}; see "
                "logs/compaction_recovery.log\n"
            )
        sys.stdout.write(
            f"run {result.run_id}: {result.state}; {s.requests} requests, "
            f"{s.entered:,} tokens entered the context (peak {s.peak:,}), {s.total_tokens:,} "
            f"billed in all incl. {s.subagent_tokens:,} by {s.subagents} subagent(s); "
            f"{s.compactions} compaction(s), {s.suboptimal} suboptimal; {s.tool_errors} tool "
            f"error(s), {s.refused} refused, {s.provider_retries} provider retries\n"
        )
    return 0 if result.state == "done" else 1


def cmd_agent_runs(args: argparse.Namespace) -> int:
    import json

    ws = open_ws(args, reconcile=False)
    with ws.store.read() as tx:
        params: list[Any] = []
        where = ""
        if args.task:
            where = "WHERE task_id = ?"
            params.append(ws.resolve_task(args.task))
        runs = tx.execute(
            f"SELECT * FROM agent_runs {where} ORDER BY started_at DESC LIMIT ?",
            [*params, args.limit],
        )
        comp = tx.execute(
            f"SELECT * FROM agent_compactions {where} ORDER BY id DESC LIMIT ?",
            [*params, args.limit],
        )
        subs = tx.execute(
            f"SELECT id, run_id, task_id, name, state, partial, used_tokens, budget_tokens, "
            f"summary_tokens, transcript FROM subagent_runs {where} ORDER BY started_at DESC "
            "LIMIT ?",
            [*params, args.limit],
        )
    for r in runs:
        r["usage"] = json.loads(r["usage"] or "{}")
    if args.json:
        emit_json(
            {"schema": "cairn.agent_runs/1", "runs": runs, "compactions": comp, "subagents": subs}
        )
        return 0
    for r in runs:
        u = r["usage"]
        sys.stdout.write(
            f"{r['id']} {r['task_id']} {r['model']} {r['state']} started {r['started_at']}"
            + (f" — {u.get('entered', 0):,} tokens in context" if u else "")
            + (f" — {r['error']}" if r["error"] else "")
            + "\n"
        )
    for c in comp:
        kind = "safe point" if c["safe_point"] else "SUBOPTIMAL"
        sys.stdout.write(
            f"compaction {c['ts']} {c['task_id']}/{c['phase']}: {kind}, {c['tokens_before']:,} "
            f"-> {c['tokens_after']:,} tokens\n"
        )
    for s in subs:
        part = " (partial)" if s["partial"] else ""
        sys.stdout.write(
            f"subagent {s['name']} {s['state']}{part}: {s['used_tokens']:,}/"
            f"{s['budget_tokens']:,} tokens, transcript {s['transcript']}\n"
        )
    if not (runs or comp or subs):
        sys.stdout.write("no agent runs yet; start one with `cairn agent run TASK --model ...`\n")
    return 0
