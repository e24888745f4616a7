"""Subagent B (a command worker): expand the eval set with held-out, de-duplicated prompts.

Usage: ``python expand_eval.py PROMPTS OUT SUMMARY``. Writes the eval prompts and a short summary
file, which is what the orchestrator receives.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bestofn import is_eval, norm, unique_prompts

import cairn


def main(prompts: str, out: str, summary: str) -> None:
    raw = cairn.read_jsonl(prompts).records
    pool = unique_prompts(prompts)
    held = [p for p in pool if is_eval(p["prompt"])]
    topics = sorted({p["topic"] for p in held})
    Path(out).write_text(
        "".join(json.dumps({**p, "prompt": norm(p["prompt"])}) + "\n" for p in held),
        encoding="utf-8",
    )
    print(
        f"{len(raw)} prompts, {len(raw) - len(pool)} near-duplicates merged, {len(held)} held out"
    )
    Path(summary).write_text(
        f"✅ Eval set: {len(held)} held-out prompts over {len(topics)} topics "
        f"({len(raw) - len(pool)} near-duplicates merged first).\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
