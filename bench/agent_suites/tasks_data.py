"""Benchmark tasks 1 and 2: fix data-quality issues across many files, and expand an eval set
without train/test overlap."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cairn.models.scripted import Call, Unit

from .kit import Batch, TaskDef, Wave, chunks

# -- 1. fix data-quality issues across many files ------------------------------------------------------
DQ_SHARDS = 12
DQ_ROWS = 90
_WORDS = [
    "model",
    "data",
    "train",
    "eval",
    "shard",
    "token",
    "context",
    "budget",
    "phase",
    "checkpoint",
    "summary",
    "review",
    "plan",
    "agent",
    "compaction",
    "recovery",
    "window",
    "file",
    "write",
    "read",
    "note",
    "metric",
    "loss",
    "accuracy",
    "sample",
    "batch",
    "label",
    "clean",
    "repair",
    "filter",
    "dedupe",
    "sentinel",
    "gate",
    "approve",
    "verify",
    "test",
    "result",
    "report",
]


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n))


def _dq_setup(root: Path) -> None:
    rng = random.Random(4)
    (root / "data" / "raw").mkdir(parents=True, exist_ok=True)
    (root / "docs").mkdir(exist_ok=True)
    for i in range(DQ_SHARDS):
        rows: list[str] = []
        for k in range(DQ_ROWS):
            rec = {
                "id": f"s{i:02d}_{k:03d}",
                "instruction": sentence(rng, 12),
                "output": sentence(rng, 18),
                "label": rng.choice(["pos", "neg"]),
            }
            r = rng.random()
            if r < 0.06:
                rec["output"] = ""
            elif r < 0.12:
                rec["label"] = rec["label"].upper()
            elif r < 0.18:
                rec["instruction"] = "  " + rec["instruction"] + " "
            rows.append(json.dumps(rec))
            if rng.random() < 0.08:
                dup = dict(rec, id=rec["id"] + "d")
                rows.append(json.dumps(dup))
        (root / "data" / "raw" / f"shard_{i:02d}.jsonl").write_text("\n".join(rows) + "\n")
    spec = [
        "# Data quality findings (review of stage-1 SFT data)",
        "",
        "Fix in every shard of data/raw/, writing data/clean/shard_NN.jsonl:",
        "1. Drop records whose output is empty.",
        "2. Trim whitespace around instruction and output.",
        "3. Labels must be lower case: pos or neg.",
        "4. Drop duplicates: same instruction and output as an earlier record (keep the first).",
        "Then write data/clean/SUMMARY.md: one line `shard_NN: N clean` per shard and `total: N`.",
    ]
    (root / "docs" / "data_quality_findings.md").write_text("\n".join(spec) + "\n")


def dq_clean(text: str) -> str:
    seen: set[tuple[str, str]] = set()
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        rec = json.loads(line)
        rec["instruction"] = rec["instruction"].strip()
        rec["output"] = rec["output"].strip()
        rec["label"] = rec["label"].lower()
        key = (rec["instruction"], rec["output"])
        if not rec["output"] or key in seen:
            continue
        seen.add(key)
        out.append(json.dumps(rec))
    return "\n".join(out) + "\n"


def _dq_summary(prev: list[str]) -> dict[str, Any]:
    lines, total = [], 0
    for row in prev[0].splitlines():
        parts = row.split("\t")
        m = re.search(r"(shard_\d+)\.jsonl$", parts[0])
        if m and len(parts) > 1:
            n = int(parts[1].split()[0])
            total += n
            lines.append(f"{m.group(1)}: {n} clean")
    return {"path": "data/clean/SUMMARY.md", "content": "\n".join([*lines, f"total: {total}"])}


def _dq_verify(root: Path) -> tuple[bool, str]:
    total = 0
    problems: list[str] = []
    for i in range(DQ_SHARDS):
        raw = (root / "data" / "raw" / f"shard_{i:02d}.jsonl").read_text().splitlines()
        expected: dict[tuple[str, str], None] = {}
        for line in raw:
            r = json.loads(line)
            ins, out = r["instruction"].strip(), r["output"].strip()
            if out:
                expected.setdefault((ins, out), None)
        p = root / "data" / "clean" / f"shard_{i:02d}.jsonl"
        if not p.exists():
            problems.append(f"{p.name} missing")
            continue
        got = [json.loads(x) for x in p.read_text().splitlines() if x.strip()]
        keys = [(r["instruction"], r["output"]) for r in got]
        if keys != list(expected):
            problems.append(f"{p.name}: records differ from the expected clean set")
        if any(r["label"] not in ("pos", "neg") for r in got):
            problems.append(f"{p.name}: bad labels remain")
        total += len(expected)
    summary = root / "data" / "clean" / "SUMMARY.md"
    if not summary.exists() or f"total: {total}" not in summary.read_text():
        problems.append("SUMMARY.md missing or its total is wrong")
    return (not problems, "; ".join(problems[:3]) or f"{DQ_SHARDS} shards clean, {total} records")


def _dq_writer(dst: str) -> Callable[[list[str]], dict[str, Any]]:
    def make(prev: list[str]) -> dict[str, Any]:
        return {"path": dst, "content": dq_clean(prev[0])}

    return make


def dataquality_task() -> TaskDef:
    def unit(i: int) -> Unit:
        src, dst = f"data/raw/shard_{i:02d}.jsonl", f"data/clean/shard_{i:02d}.jsonl"
        return Unit(
            f"clean{i:02d}",
            (
                Call("read_file", {"path": src}),
                Call(
                    "write_file",
                    _dq_writer(dst),
                    say=f"Cleaning {src}: empty outputs, whitespace, labels, duplicates.",
                ),
            ),
            (dst,),
        )

    units = [unit(i) for i in range(DQ_SHARDS)]
    batches = tuple(
        Batch(
            f"fix_{g}",
            "Apply the four fixes of docs/data_quality_findings.md to these shards",
            tuple(us),
            tuple(f"data/raw/{u.outputs[0].rsplit('/', 1)[-1]}" for u in us),
        )
        for g, us in enumerate(chunks(units, 3))
    )
    summary = Unit(
        "summary",
        (
            Call("list_files", {"path": "data/clean", "pattern": "shard_*", "details": True}),
            Call("write_file", _dq_summary),
        ),
        ("data/clean/SUMMARY.md",),
    )
    return TaskDef(
        "dataquality",
        "Fix the data-quality findings across the SFT shards",
        "docs/data_quality_findings.md",
        (
            Wave("fix", batches),
            Wave("summarize", (Batch("summarize", "Write data/clean/SUMMARY.md", (summary,), ()),)),
        ),
        _dq_setup,
        _dq_verify,
    )


# -- 2. expand an eval set ---------------------------------------------------------------------------
EVAL_TARGET = 343
_TEMPLATES = [
    "Explain how {t} works to a new engineer.",
    "List three risks of {t} and how to reduce them.",
    "Write a short test plan for {t}.",
    "Compare {t} with a simpler alternative.",
    "Summarise the main failure modes of {t}.",
    "Give a worked example of {t}.",
    "What metrics would show that {t} is healthy?",
    "Describe how to debug a problem in {t}.",
    "Draft a checklist before changing {t}.",
    "Write a one-paragraph design note on {t}.",
    "Which assumptions does {t} rely on?",
    "How would you roll back a bad change to {t}?",
]
_TOPICS = [
    f"{a} {b}"
    for a in ("context", "checkpoint", "shard", "eval", "review", "budget", "subagent", "recovery")
    for b in ("compaction", "storage", "scheduling", "validation", "logging", "caching")
]


def _ev_setup(root: Path) -> None:
    rng = random.Random(7)
    (root / "evals").mkdir(exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "docs").mkdir(exist_ok=True)
    cands = [tpl.format(t=t) for t in _TOPICS for tpl in _TEMPLATES]
    seed = rng.sample(cands, 40)
    (root / "evals" / "seed.jsonl").write_text(
        "\n".join(json.dumps({"id": f"seed_{i:03d}", "instruction": s}) for i, s in enumerate(seed))
        + "\n"
    )
    train = rng.sample([c for c in cands if c not in seed], 150)
    train += [sentence(rng, 14) + "?" for _ in range(750)]
    rng.shuffle(train)
    (root / "data" / "train_instructions.txt").write_text("\n".join(train) + "\n")
    spec = [
        "# Eval set expansion",
        "",
        f"Expand evals/seed.jsonl to {EVAL_TARGET} new test instructions in "
        "evals/expanded.jsonl, one JSON object a line with id eval_NNNN and instruction.",
        "Generate candidates from every template below for every topic (topics in order, "
        "templates in order); skip any that is in the seed set or in "
        "data/train_instructions.txt (no train/test overlap); keep the first "
        f"{EVAL_TARGET}.",
        "Then check the set and write evals/check.md: count, duplicates, overlap with train.",
        "",
        "## Templates",
        *[f"- {t}" for t in _TEMPLATES],
        "",
        "## Topics",
        *[f"- {t}" for t in _TOPICS],
    ]
    (root / "docs" / "eval_spec.md").write_text("\n".join(spec) + "\n")


def _ev_expand(prev: list[str]) -> dict[str, Any]:
    seed = {json.loads(x)["instruction"] for x in prev[0].splitlines() if x.startswith("{")}
    train = set(prev[1].splitlines())
    out: list[str] = []
    for t in _TOPICS:
        for tpl in _TEMPLATES:
            c = tpl.format(t=t)
            if c not in seed and c not in train and len(out) < EVAL_TARGET:
                out.append(json.dumps({"id": f"eval_{len(out):04d}", "instruction": c}))
    return {"path": "evals/expanded.jsonl", "content": "\n".join(out) + "\n"}


def _ev_check(prev: list[str]) -> dict[str, Any]:
    rows = [json.loads(x)["instruction"] for x in prev[0].splitlines() if x.startswith("{")]
    train = set(prev[1].splitlines())
    overlap = sum(r in train for r in rows)
    return {
        "path": "evals/check.md",
        "content": f"# Eval set check\n\ncount: {len(rows)}\nduplicates: "
        f"{len(rows) - len(set(rows))}\noverlap with train: {overlap}\n",
    }


def _ev_verify(root: Path) -> tuple[bool, str]:
    p = root / "evals" / "expanded.jsonl"
    if not p.exists():
        return False, "evals/expanded.jsonl missing"
    rows = [json.loads(x) for x in p.read_text().splitlines() if x.strip()]
    ins = [r["instruction"] for r in rows]
    train = set((root / "data" / "train_instructions.txt").read_text().splitlines())
    seed = {
        json.loads(x)["instruction"]
        for x in (root / "evals" / "seed.jsonl").read_text().splitlines()
        if x.strip()
    }
    problems = []
    if len(rows) != EVAL_TARGET:
        problems.append(f"{len(rows)} rows, want {EVAL_TARGET}")
    if len(set(ins)) != len(ins):
        problems.append("duplicates")
    if set(ins) & (train | seed):
        problems.append("overlap with train or seed")
    check = root / "evals" / "check.md"
    if not check.exists() or "overlap with train: 0" not in check.read_text():
        problems.append("evals/check.md missing or wrong")
    return (not problems, "; ".join(problems) or f"{len(rows)} new eval instructions, no overlap")


def evalset_task() -> TaskDef:
    expand = Unit(
        "expand",
        (
            Call("read_file", {"path": "evals/seed.jsonl"}),
            Call("read_file", {"path": "data/train_instructions.txt"}),
            Call("write_file", _ev_expand, say="Generating candidates, filtering overlap."),
        ),
        ("evals/expanded.jsonl",),
    )
    check = Unit(
        "check",
        (
            Call("read_file", {"path": "evals/expanded.jsonl"}),
            Call("read_file", {"path": "data/train_instructions.txt"}),
            Call("write_file", _ev_check),
        ),
        ("evals/check.md",),
    )
    return TaskDef(
        "evalset",
        "Expand the eval set without train/test overlap",
        "docs/eval_spec.md",
        (
            Wave(
                "expand",
                (
                    Batch(
                        "expand",
                        "Generate evals/expanded.jsonl per docs/eval_spec.md",
                        (expand,),
                        ("docs/eval_spec.md", "evals/seed.jsonl", "data/train_instructions.txt"),
                    ),
                ),
            ),
            Wave(
                "check",
                (
                    Batch(
                        "check",
                        "Check evals/expanded.jsonl and write evals/check.md",
                        (check,),
                        ("evals/expanded.jsonl", "data/train_instructions.txt"),
                    ),
                ),
            ),
        ),
        _ev_setup,
        _ev_verify,
    )
