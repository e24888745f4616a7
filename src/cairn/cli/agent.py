"""`cairn agent run TASK --model provider:model`: run a task's phases with a model (pydantic-ai)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from cairn.cli.common import add_json, emit_json, open_ws, positive_int

if TYPE_CHECKING:
    from cairn.domain.leases import Liveness
    from cairn.store.contract.agent_runs import AgentCompactionRow, AgentRunRow, SubagentRunRow

ORDER = 50


def register(sub: Any) -> None:
    agent = sub.add_parser(
        "agent", help="run phases with a model: tools, compaction at safe points, subagents"
    ).add_subparsers(dest="agent_cmd", metavar="ACTION", required=True)
    p = agent.add_parser("run", help="TASK --model provider:model: run the task's open phases")
    p.add_argument("task", help="the task to run")
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
    p.add_argument("--instructions-file", metavar="PATH", help="read the instructions from a file")
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
    p.add_argument("task", nargs="?", help="only this task's runs")
    p.add_argument("--limit", type=positive_int, default=10, help="the newest N runs (10)")
    add_json(p)
    p.set_defaults(func=cmd_agent_runs)


def cmd_agent_run(args: argparse.Namespace) -> int:
    from cairn.core.errors import UsageError

    ws = open_ws(args)
    instructions = args.instructions
    if args.instructions_file:
        from cairn.core import names
        from cairn.core.fsutil import read_bounded

        path = names.readable(ws.root, args.instructions_file, "--instructions-file")
        shown = f"--instructions-file {names.show(args.instructions_file)}"
        hint = "keep instructions short and name the files to read"
        data = read_bounded(path, ws.config.max_checkpoint_bytes, shown, hint)
        instructions = data.decode("utf-8", errors="replace")
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
    from cairn.domain.leases import agent_key, agent_liveness

    ws = open_ws(args, reconcile=False)
    task_id = ws.resolve_task(args.task) if args.task else None
    with ws.store.read() as tx:
        rows = tx.runs.agent_runs(task_id=task_id, limit=args.limit)
        runs = [_run_view(r) for r in rows]
        held = tx.leases.many([agent_key(r.task_id) for r in rows if r.state == "running"])
        # A running run's liveness, for the listing (the JSON keeps the stored rows).
        alive = {
            r.id: agent_liveness(held.get(agent_key(r.task_id)), r.id, r.pid)
            for r in rows
            if r.state == "running"
        }
        comp = [
            _compaction_view(c)
            for c in tx.runs.agent_compactions(task_id=task_id, limit=args.limit)
        ]
        subs = [_sub_view(s) for s in tx.runs.subagents(task_id=task_id, limit=args.limit)]
    if args.json:
        emit_json(
            {"schema": "cairn.agent_runs/1", "runs": runs, "compactions": comp, "subagents": subs}
        )
        return 0
    for r in runs:
        u = r["usage"]
        sys.stdout.write(
            f"{r['id']} {r['task_id']} {r['model']} {r['state']}{_liveness(alive.get(r['id']))} "
            f"started {r['started_at']}"
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


# The rows as `cairn.agent_runs/1` has always shown them: every column of the tables, flags as 0/1.
def _liveness(live: Liveness | None) -> str:
    if live is None:
        return ""
    if live.alive:
        return f" (on {live.host}, pid {live.pid})"
    return f" — interrupted ({live.reason}, on {live.host})"


def _run_view(r: AgentRunRow) -> dict[str, Any]:
    return {
        "id": r.id,
        "task_id": r.task_id,
        "model": r.model,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "state": r.state,
        "pid": r.pid,
        "usage": dict(r.usage),
        "error": r.error,
    }


def _compaction_view(c: AgentCompactionRow) -> dict[str, Any]:
    return {
        "id": c.id,
        "ts": c.ts,
        "run_id": c.run_id,
        "task_id": c.task_id,
        "phase": c.phase,
        "safe_point": int(c.safe_point),
        "tokens_before": c.tokens_before,
        "tokens_after": c.tokens_after,
        "tokens_since_checkpoint": c.tokens_since_checkpoint,
        "window": c.window,
        "reason": c.reason,
    }


def _sub_view(s: SubagentRunRow) -> dict[str, Any]:
    return {
        "id": s.id,
        "run_id": s.run_id,
        "task_id": s.task_id,
        "name": s.name,
        "state": s.state,
        "partial": int(s.partial),
        "used_tokens": s.used_tokens,
        "budget_tokens": s.budget_tokens,
        "summary_tokens": s.summary_tokens,
        "transcript": s.transcript,
    }
