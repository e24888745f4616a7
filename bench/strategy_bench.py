"""Does the seed's strategy pay? Five tasks, each run directly in one context and the cairn way.

    .venv/bin/python bench/strategy_bench.py [--window 128000] [--tasks a,b] [--json]

Baseline: ``direct`` — one phase, one context; the orchestrator reads and writes everything itself.
Strategy: ``cairn`` — a plan phase, then phases whose detail work goes to subagents in parallel, with
checkpoints between phases (safe points) and the orchestrator keeping only capped summaries.

Figures per run: tokens that entered the orchestrator's context (summed over its contexts), the
largest the context got, total tokens billed (every request's input and output, subagents included),
compactions (and how many were suboptimal: forced mid-phase by the hard limit), and success, decided
by a verifier that inspects the files produced. Ratios are direct / cairn.

The model is cairn's SCRIPTED model (``scripted:<task>``): a deterministic program that follows each
task's plan through the real tools, standing in for an LLM. Its token counts are real counts of the
real messages (o200k tokenizer), but its behaviour is scripted. With a provider configured in the
environment (``CAIRN_BENCH_MODEL=provider:model``, or else an ``OPENAI_API_KEY`` → openai:gpt-4o-mini
or ``ANTHROPIC_API_KEY`` → anthropic:claude-3-5-haiku-latest) the same tasks also run with that
real model; its table is printed separately.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from agent_suites import SUITES  # bench/agent_suites/, beside this script

from cairn.agent import RunOptions, run_task
from cairn.domain.workspace import Workspace
from cairn.models.scripted_suites import get_suite, register_all

register_all(SUITES)  # the scripted model plays the benchmark's suites by name

DIRECT_NOTE = (
    "\n\nWork in this single phase, directly: read and write everything yourself, without "
    "subagents, and answer with a short summary when all of it is done."
)


@dataclass
class Row:
    task: str
    mode: str
    ok: bool
    why: str
    orchestrator: int
    work: int  # orchestrator tokens without the per-context system prompt and tool definitions
    peak: int
    total: int
    compactions: int
    suboptimal: int
    subagents: int
    seconds: float


def run_one(task: str, mode: str, model: str, window: int, keep: Path | None) -> Row:
    suite = get_suite(task)
    assert suite.setup is not None and suite.verify is not None
    root = Path(tempfile.mkdtemp(prefix=f"cairn-bench-{task}-{mode}-"))
    try:
        ws = Workspace.init(root)
        suite.setup(root)
        phases = ("direct",) if mode == "direct" else suite.phases
        ws.create_task(task, suite.name, phases=phases)
        instructions = suite.instructions + (DIRECT_NOTE if mode == "direct" else "")
        t0 = time.perf_counter()
        try:
            res = run_task(
                ws,
                task,
                RunOptions(
                    model=model,
                    window=window,
                    instructions=instructions,
                    subagents=mode != "direct",
                ),
            )
            state, error = res.state, (res.phases[-1].error if res.phases else None)
            s = res.stats
        except Exception as exc:  # a real provider may fail: report it, go on
            state, error = "failed", f"{type(exc).__name__}: {exc}"
            from cairn.agent.state import Stats

            s = Stats()
        secs = time.perf_counter() - t0
        ok, why = suite.verify(root)
        if state != "done":
            ok, why = False, f"run {state}: {error}; verifier: {why}"
        ws.close()
        return Row(
            task,
            mode,
            ok,
            why,
            s.entered,
            s.entered - s.fixed,
            s.peak,
            s.total_tokens,
            s.compactions,
            s.suboptimal,
            s.subagents,
            secs,
        )
    finally:
        if keep is not None:
            dest = keep / f"{task}-{mode}"
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(root, dest)
        shutil.rmtree(root, ignore_errors=True)


def _ratio(a: int, b: int) -> float:
    return a / max(1, b)


def table(rows: list[Row], title: str) -> str:
    out = [title, ""]
    head = (
        f"{'task':<12} {'mode':<7} {'ok':<3} {'orch ctx':>9} {'of which work':>13} {'peak':>8} "
        f"{'total':>10} {'compact':>7} {'subopt':>6} {'subs':>4} {'sec':>5}"
    )
    out += [head, "-" * len(head)]
    by_task: dict[str, dict[str, Row]] = {}
    for r in rows:
        by_task.setdefault(r.task, {})[r.mode] = r
        out.append(
            f"{r.task:<12} {r.mode:<7} {'yes' if r.ok else 'NO':<3} {r.orchestrator:>9,} "
            f"{r.work:>13,} {r.peak:>8,} {r.total:>10,} {r.compactions:>7} {r.suboptimal:>6} "
            f"{r.subagents:>4} {r.seconds:>5.1f}"
        )
    out += [
        "",
        "orch ctx: every token that entered the orchestrator's contexts, including the system "
        "prompt and tool definitions each new context (phase, compaction) starts with; of which "
        "work: the rest, the seed's way of counting.",
        "",
        f"{'ratio direct/cairn':<19} {'orch ctx':>9} {'work':>7} {'total':>7}  success",
    ]
    for t, m in by_task.items():
        if "direct" in m and "cairn" in m:
            d, c = m["direct"], m["cairn"]
            same = "same" if d.ok == c.ok else "DIFFERENT"
            out.append(
                f"{t:<19} {_ratio(d.orchestrator, c.orchestrator):>8.1f}× "
                f"{_ratio(d.work, c.work):>6.1f}× {_ratio(d.total, c.total):>6.1f}×  {same} "
                f"({'ok' if c.ok else 'failed'})"
            )
    pairs = [m for m in by_task.values() if "direct" in m and "cairn" in m]
    if pairs:

        def tot(mode: str, attr: str) -> int:
            return sum(int(getattr(m[mode], attr)) for m in pairs)

        out.append(
            f"{'all tasks':<19} {_ratio(tot('direct', 'orchestrator'), tot('cairn', 'orchestrator')):>8.1f}× "
            f"{_ratio(tot('direct', 'work'), tot('cairn', 'work')):>6.1f}× "
            f"{_ratio(tot('direct', 'total'), tot('cairn', 'total')):>6.1f}×  "
            f"{sum(m['cairn'].ok for m in pairs)}/{len(pairs)} cairn, "
            f"{sum(m['direct'].ok for m in pairs)}/{len(pairs)} direct verified"
        )
    for r in rows:
        if not r.ok:
            out.append(f"FAILED {r.task}/{r.mode}: {r.why}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--window", type=int, default=128_000, help="context window (default 128 k)")
    ap.add_argument("--tasks", default=",".join(SUITES), help="comma-separated task names")
    ap.add_argument("--keep", type=Path, help="copy each run's workspace here")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    tasks = [t for t in args.tasks.split(",") if t]
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    rows = [
        run_one(t, mode, f"scripted:{t}", args.window, args.keep)
        for t in tasks
        for mode in ("direct", "cairn")
    ]
    results: dict[str, Any] = {"window": args.window, "scripted": [r.__dict__ for r in rows]}
    text = [
        table(
            rows,
            f"SCRIPTED MODEL (deterministic plans, not an LLM; window {args.window:,} tokens; "
            "baseline: direct, one context)",
        )
    ]
    real = os.environ.get("CAIRN_BENCH_MODEL")
    if not real and os.environ.get("OPENAI_API_KEY"):
        real = "openai:gpt-4o-mini"
    elif not real and os.environ.get("ANTHROPIC_API_KEY"):
        real = "anthropic:claude-3-5-haiku-latest"
    if real:
        real_rows = [
            run_one(t, mode, real, args.window, args.keep)
            for t in tasks
            for mode in ("direct", "cairn")
        ]
        results["real"] = {"model": real, "rows": [r.__dict__ for r in real_rows]}
        text.append(table(real_rows, f"REAL MODEL {real} (window {args.window:,} tokens)"))
    else:
        text.append(
            "(no real provider run: no CAIRN_BENCH_MODEL=provider:model, OPENAI_API_KEY or "
            "ANTHROPIC_API_KEY in the environment)"
        )
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print("\n\n".join(text))
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
