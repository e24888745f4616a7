"""Finding #4 — Best-of-N sampling for preference pairs: the seed's full example as durable phases.

    analysis → plan → review (plan_approved) → implement_data → implement_scoring
             → implement_ranking → testing

Each phase loads only the checkpoints it needs, does its work, and ends with a checkpoint, so every
phase boundary is a safe point. Run it (and resume it after a crash) with::

    cairn run workflow.py

The data set comes from ``gen_data.py`` (``data/``). Set ``CAIRN_DEMO_CRASH=implement_scoring`` to
make the first attempt of that phase SIGKILL its own process halfway through its stream, as
``cairn demo`` does.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bestofn import (
    K_DEFAULT,
    best_of_n,
    issues_of,
    iter_shards,
    repair_worker,
    reward,
    shard_worker,
)

import cairn
from cairn.core.model import Checkpoint
from cairn.flow import PhaseContext

SHARDS = 3
MIN_MARGIN = 0.5
CRASH_AT = os.environ.get("CAIRN_DEMO_CRASH", "")

project = cairn.open(".")
task = project.task("finding4", "Best-of-N sampling for preference pairs (Finding #4)")


def table(rows: dict[str, Any]) -> str:
    return "\n".join(f"| {k} | {v} |" for k, v in rows.items())


# -- PHASE 1: Analysis -----------------------------------------------------------------------------
@task.phase("analysis")
def analysis(ctx: PhaseContext) -> Checkpoint:
    raw = cairn.read_jsonl("data/pairs_raw.jsonl")
    ctx.progress(f"Read data/pairs_raw.jsonl: {len(raw.records)} records")
    seen: dict[str, str] = {}
    counts: Counter[str] = Counter()
    with ctx.stream("findings.jsonl", key=lambda r: r["id"]) as out:
        for rec in raw.records:
            for issue in issues_of(rec, seen):
                counts[issue] += 1
                out.write({"id": f"{rec['id']}:{issue}", "record": rec["id"], "issue": issue})
        for err in raw.errors:
            counts["malformed"] += 1
            out.write({"id": f"line{err.line}:malformed", "issue": "malformed", "error": err.error})
    ctx.progress(f"Streamed {sum(counts.values())} findings to findings.jsonl")
    prompts = cairn.read_jsonl("data/prompts.jsonl").records
    near = len(prompts) - len({" ".join(p["prompt"].lower().split()) for p in prompts})
    text = f"""# Finding #4 Analysis

**Task**: add Best-of-N sampling (k candidates per prompt, ranked by the critic) to preference pair
generation, after cleaning the existing pairs.
**Files read**: data/pairs_raw.jsonl, data/prompts.jsonl

| issue | count |
|---|---|
{table(dict(sorted(counts.items())))}
| near-duplicate prompts | {near} |

Records: {len(raw.records)} parsed, {len(raw.errors)} unreadable lines. Findings per record are in
findings.jsonl.
"""
    return ctx.checkpoint(
        "analysis", text, files=["data/pairs_raw.jsonl", "data/prompts.jsonl", "findings.jsonl"]
    )


# -- PHASE 2: Planning -----------------------------------------------------------------------------
@task.phase("plan", needs=["analysis"])
def plan(ctx: PhaseContext) -> Checkpoint:
    found = dict(re.findall(r"^\| ([a-z -]+) \| (\d+) \|$", ctx.load("analysis"), re.M))
    ctx.progress("Loaded the analysis checkpoint")
    fixes = {
        "duplicate": "drop exact duplicates (same prompt, chosen and rejected under a new id)",
        "empty": "drop pairs with an empty chosen or rejected response",
        "mismatched": "drop pairs whose chosen answers another topic or equals the rejected",
        "malformed": "skip unreadable lines and report them",
    }
    steps = [
        f"{i}. Repair data, {k}: {fixes[k]} ({found.get(k, 0)} found)"
        for i, k in enumerate(fixes, 1)
    ]
    steps += [
        f"5. Expand the eval set with held-out prompts ({found.get('near-duplicate prompts', 0)} "
        "near-duplicates merged first)",
        f"6. Add the k parameter: sample k={K_DEFAULT} candidates per training prompt, "
        f"{SHARDS} shards",
        "7. Score every candidate with the rule-based critic (stream, resumable)",
        f"8. Rank: best vs worst of k per prompt as a pair when the margin is >= {MIN_MARGIN}",
    ]
    text = f"""# Finding #4 Implementation Plan

**Task**: Best-of-N sampling for preference pairs, on repaired data
**Files to modify**: data/pairs_clean.jsonl, data/eval_prompts.jsonl, data/shards/, data/scores.jsonl, data/pairs_bestofn.jsonl
**k**: {K_DEFAULT}
**Approach**:
{chr(10).join(steps)}
**Tests needed**:
- no duplicate or empty pairs remain
- every Best-of-N pair has chosen_score > rejected_score
- eval prompts are disjoint from training prompts
- every training prompt has exactly k scored candidates
**Estimated time**: 3 phases of implementation, about a minute of compute
"""
    ctx.next("Review the plan (structural check), then implement")
    return ctx.checkpoint("plan", text)


# -- Review before implementing (deterministic stand-in for the Codex review) ----------------------
@task.phase("review", needs=["plan"])
def review(ctx: PhaseContext) -> Checkpoint:
    plan_text = ctx.load("plan")
    analysis_text = ctx.load("analysis")
    problems = []
    for heading in ("**Task**", "**Files to modify**", "**Approach**", "**Tests needed**"):
        if heading not in plan_text:
            problems.append(f"missing {heading}")
    k = re.search(r"\*\*k\*\*: (\d+)", plan_text)
    if not k or not 2 <= int(k.group(1)) <= 16:
        problems.append("k must be set between 2 and 16")
    for issue in re.findall(r"^\| ([a-z]+) \| \d+ \|$", analysis_text, re.M):
        if issue not in plan_text:
            problems.append(f"the plan does not address '{issue}'")
    if len(re.findall(r"^- ", plan_text.split("**Tests needed**")[-1], re.M)) < 3:
        problems.append("fewer than 3 tests")
    if problems:
        raise ValueError("plan not approved: " + "; ".join(problems))
    ctx.progress("Plan review: structural check passed (approved)")
    return ctx.checkpoint(
        "plan_approved",
        plan_text + "\n**Review**: approved by the structural check (headings, k, issues, tests)\n",
    )


# -- PHASE 3: Implementation part 1 — three worker subagents in parallel ---------------------------
@task.phase("implement_data", needs=["review"])
def implement_data(ctx: PhaseContext) -> Checkpoint:
    ctx.load("plan_approved")
    results = ctx.spawn_many(
        [
            cairn.Worker(
                "repair",
                fn=repair_worker,
                args=("data/pairs_raw.jsonl", "data/pairs_clean.jsonl"),
                inputs=["data/pairs_raw.jsonl"],
                outputs=["data/pairs_clean.jsonl"],
                timeout=60,
            ),
            cairn.Worker(
                "expand_eval",
                cmd=[
                    sys.executable,
                    "expand_eval.py",
                    "data/prompts.jsonl",
                    "data/eval_prompts.jsonl",
                    "data/eval_summary.md",
                ],
                inputs=["data/prompts.jsonl"],
                outputs=["data/eval_prompts.jsonl", "data/eval_summary.md"],
                timeout=60,
            ),
            cairn.Worker(
                "shards",
                fn=shard_worker,
                args=("data/prompts.jsonl", "data/shards", K_DEFAULT, SHARDS),
                inputs=["data/prompts.jsonl"],
                outputs=[f"data/shards/shard_{i}.jsonl" for i in range(SHARDS)],
                timeout=60,
            ),
        ],
        max_parallel=3,
    )
    failed = [r for r in results if r.state != "done"]
    if failed:
        raise RuntimeError(
            "; ".join(f"worker {r.name} {r.state}: {r.log_tail[-300:]}" for r in failed)
        )
    for r in results:
        ctx.progress(f"Worker {r.name}: {r.summary.splitlines()[0][:200]}")
    text = "# Finding #4 Progress 1\n\n" + "\n".join(f"- {r.name}: {r.summary}" for r in results)
    return ctx.checkpoint(
        "progress_1",
        text + "\n",
        files=["data/pairs_clean.jsonl", "data/eval_prompts.jsonl", "data/shards/shard_0.jsonl"],
    )


# -- PHASE 4: Implementation part 2 — score the candidates (a resumable stream) --------------------
@task.phase("implement_scoring", needs=["implement_data"])
def implement_scoring(ctx: PhaseContext) -> Checkpoint:
    ctx.load("progress_1")
    written = skipped = 0
    shards = list(iter_shards(Path("data/shards")))
    total = sum(len(rows) for _, rows in shards)
    with ctx.stream("data/scores.jsonl", key=lambda r: r["id"], total=total) as out:
        for number, rows in shards:
            step = f"Scored shard {number}"
            if ctx.done(step):  # finished by an earlier attempt: its records are all in the stream
                skipped += len(rows)
                continue
            for i, cand in enumerate(rows):
                if cand["id"] in out:  # written before a crash
                    skipped += 1
                    continue
                score = reward(cand["prompt"], cand["response"])
                out.write({**cand, "score": score})
                written += 1
                if (
                    ctx.phase == CRASH_AT
                    and ctx.attempt == 1
                    and number == 1
                    and i == len(rows) // 2
                ):
                    out.flush()
                    print(f"💥 simulated crash: SIGKILL in {ctx.phase}, shard {number}, record {i}")
                    sys.stdout.flush()
                    os.kill(os.getpid(), signal.SIGKILL)
            ctx.progress(step)
    ctx.progress(
        f"Scores: {written} written now, {skipped} already on disk from an earlier attempt"
    )
    return ctx.checkpoint(
        "progress_2",
        f"# Finding #4 Progress 2\n\n- ✅ Scored {total} candidates into data/scores.jsonl\n"
        f"- this attempt ({ctx.attempt}) wrote {written}; {skipped} were already on disk\n",
        files=["data/scores.jsonl"],
    )


# -- PHASE 5: Implementation part 3 — Best-of-N ranking --------------------------------------------
@task.phase("implement_ranking", needs=["implement_scoring"])
def implement_ranking(ctx: PhaseContext) -> Checkpoint:
    ctx.load("progress_2")
    scores = cairn.read_jsonl("data/scores.jsonl")
    if scores.errors:
        raise ValueError(scores.report())
    pairs = best_of_n(scores.records, MIN_MARGIN)
    Path("data/pairs_bestofn.jsonl").write_text(
        "".join(json.dumps(p) + "\n" for p in pairs), encoding="utf-8"
    )
    ctx.progress(f"Ranked {len(scores.records)} candidates into {len(pairs)} Best-of-N pairs")
    text = f"""# Finding #4 Complete

**Files modified**:
- data/pairs_clean.jsonl (repaired pairs)
- data/eval_prompts.jsonl (expanded eval set)
- data/pairs_bestofn.jsonl ({len(pairs)} Best-of-N pairs)

**Changes**:
1. Added the k parameter (k={K_DEFAULT}) for Best-of-N sampling
2. Scored candidates with the rule-based critic (data/scores.jsonl)
3. Ranked best vs worst of k per prompt (margin >= {MIN_MARGIN})

**Tests run**: none yet
**Ready for**: testing
"""
    return ctx.checkpoint("complete", text, files=["data/pairs_bestofn.jsonl"])


# -- PHASE 6: Testing ------------------------------------------------------------------------------
@task.phase("testing", needs=["implement_ranking"])
def testing(ctx: PhaseContext) -> Checkpoint:
    ctx.load("complete")
    clean = cairn.read_jsonl("data/pairs_clean.jsonl").records
    bon = cairn.read_jsonl("data/pairs_bestofn.jsonl").records
    evals = {p["prompt"] for p in cairn.read_jsonl("data/eval_prompts.jsonl").records}
    scores = cairn.read_jsonl("data/scores.jsonl").records
    per_prompt = Counter(s["prompt_id"] for s in scores)
    train = {" ".join(s["prompt"].lower().split()) for s in scores}
    seen: dict[str, str] = {}
    checks = {
        "no duplicate or empty pairs remain": all(not issues_of(r, seen) for r in clean),
        "chosen_score > rejected_score in every Best-of-N pair": all(
            p["chosen_score"] > p["rejected_score"] for p in bon
        ),
        "eval prompts disjoint from training prompts": not (evals & train),
        f"every training prompt has exactly k={K_DEFAULT} scored candidates": set(
            per_prompt.values()
        )
        == {K_DEFAULT},
        "no candidate scored twice": len({s["id"] for s in scores}) == len(scores),
    }
    for name, ok in checks.items():
        ctx.progress(f"Test: {name}", state="done" if ok else "failed")
    failed = [n for n, ok in checks.items() if not ok]
    if failed:
        raise AssertionError("tests failed: " + "; ".join(failed))
    rows = "\n".join(f"- ✅ {n}" for n in checks)
    ctx.next("Finding #4 is done: review data/pairs_bestofn.jsonl")
    return ctx.checkpoint(
        "tested",
        f"# Finding #4 Test Results\n\n{rows}\n\n{len(clean)} clean pairs, {len(bon)} Best-of-N "
        f"pairs, {len(evals)} eval prompts, {len(scores)} scored candidates.\n",
    )


if __name__ == "__main__":
    print("\n".join(task.run().lines()))
