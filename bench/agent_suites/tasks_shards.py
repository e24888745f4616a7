"""Benchmark task 3: generate training shards and their manifest."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cairn.models.scripted import Call, Unit

from .kit import Batch, TaskDef, Wave, chunks
from .tasks_data import sentence

# -- 3. generate shards ------------------------------------------------------------------------------
SH_SHARDS = 8
SH_PER = 50


def _sh_setup(root: Path) -> None:
    rng = random.Random(11)
    (root / "prompts").mkdir(exist_ok=True)
    (root / "docs").mkdir(exist_ok=True)
    prompts = [sentence(rng, 16) for _ in range(SH_SHARDS * SH_PER)]
    (root / "prompts" / "prompts.txt").write_text("\n".join(prompts) + "\n")
    (root / "docs" / "shard_spec.md").write_text(
        "# Shard generation\n\nFor k in 0..7, shard k takes prompts lines 50k+1..50k+50 of "
        "prompts/prompts.txt and writes out/shards/shard_k.jsonl: one object a line with "
        "prompt, response (the prompt's words reversed, then ' [k]'), shard.\nThen write "
        "out/shards/manifest.json: {shard file: line count}.\n"
    )


def sh_response(prompt: str, k: int) -> str:
    return " ".join(reversed(prompt.split())) + f" [{k}]"


def _sh_write(k: int) -> Callable[[list[str]], dict[str, Any]]:
    def make(prev: list[str]) -> dict[str, Any]:
        lines = [x for x in prev[0].splitlines() if x and not x.startswith("[lines ")]
        recs = [json.dumps({"prompt": p, "response": sh_response(p, k), "shard": k}) for p in lines]
        return {"path": f"out/shards/shard_{k}.jsonl", "content": "\n".join(recs) + "\n"}

    return make


def _sh_manifest(prev: list[str]) -> dict[str, Any]:
    manifest = {}
    for row in prev[0].splitlines():
        parts = row.split("\t")
        if len(parts) > 1 and parts[0].endswith(".jsonl"):
            manifest[parts[0].rsplit("/", 1)[-1]] = int(parts[1].split()[0])
    return {"path": "out/shards/manifest.json", "content": json.dumps(manifest, sort_keys=True)}


def _sh_verify(root: Path) -> tuple[bool, str]:
    prompts = (root / "prompts" / "prompts.txt").read_text().splitlines()
    problems = []
    for k in range(SH_SHARDS):
        p = root / "out" / "shards" / f"shard_{k}.jsonl"
        if not p.exists():
            problems.append(f"shard_{k} missing")
            continue
        got = [json.loads(x) for x in p.read_text().splitlines() if x.strip()]
        want = prompts[k * SH_PER : (k + 1) * SH_PER]
        if [g["prompt"] for g in got] != want or any(
            g["response"] != sh_response(g["prompt"], k) for g in got
        ):
            problems.append(f"shard_{k} wrong")
    m = root / "out" / "shards" / "manifest.json"
    want_m = {f"shard_{k}.jsonl": SH_PER for k in range(SH_SHARDS)}
    if not m.exists() or json.loads(m.read_text()) != want_m:
        problems.append("manifest wrong")
    return (not problems, "; ".join(problems) or f"{SH_SHARDS} shards and manifest right")


def shards_task() -> TaskDef:
    units = [
        Unit(
            f"shard{k}",
            (
                Call(
                    "read_file",
                    {
                        "path": "prompts/prompts.txt",
                        "start_line": k * SH_PER + 1,
                        "max_lines": SH_PER,
                    },
                ),
                Call("write_file", _sh_write(k), say=f"Generating shard {k}."),
            ),
            (f"out/shards/shard_{k}.jsonl",),
        )
        for k in range(SH_SHARDS)
    ]
    manifest = Unit(
        "manifest",
        (
            Call("list_files", {"path": "out/shards", "pattern": "shard_*", "details": True}),
            Call("write_file", _sh_manifest),
        ),
        ("out/shards/manifest.json",),
    )
    batches = tuple(
        Batch(
            f"gen_{g}",
            "Generate these shards per docs/shard_spec.md",
            tuple(us),
            ("prompts/prompts.txt",),
        )
        for g, us in enumerate(chunks(units, 4))
    )
    return TaskDef(
        "shards",
        "Generate the additional training shards and their manifest",
        "docs/shard_spec.md",
        (
            Wave("generate", batches),
            Wave("manifest", (Batch("manifest", "Write the manifest", (manifest,), ()),)),
        ),
        _sh_setup,
        _sh_verify,
    )
