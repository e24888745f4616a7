"""The demo's real work: clean preference pairs, sample k candidates, score them, rank Best-of-N.

No model is involved: candidates come from a deterministic generator and the "critic" is a rule-based
reward (keyword coverage, length fit, filler and repetition penalties), so the demo runs offline and
gives the same numbers every time. The three ``*_worker`` functions run as worker subagents.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import cairn

WORD = re.compile(r"[a-z0-9]+")
STOP = {
    "a",
    "an",
    "the",
    "to",
    "of",
    "and",
    "in",
    "for",
    "with",
    "how",
    "say",
    "when",
    "each",
    "it",
}
STOP |= {"that", "uses", "two", "three", "new", "short", "write", "list", "explain", "describe"}
FILLER = ("as an ai", "it depends", "i cannot")
K_DEFAULT = 4


def norm(text: str) -> str:
    return " ".join(text.lower().split())


def content_words(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if w not in STOP and len(w) > 2}


def reward(prompt: str, response: str) -> float:
    """The rule-based critic: higher is better; deterministic."""
    words = WORD.findall(response.lower())
    if not words:
        return -5.0
    want = content_words(prompt)
    coverage = len(want & set(words)) / max(1, len(want))
    n = len(words)
    length_fit = 1.0 if 12 <= n <= 70 else (n / 12 if n < 12 else 70 / n)
    filler = sum(1 for f in FILLER if f in response.lower())
    repetition = 1 - len(set(words)) / n
    return round(2.0 * coverage + length_fit - 1.5 * filler - 2.0 * repetition, 4)


def issues_of(record: dict[str, Any], seen: dict[str, str]) -> list[str]:
    """The defects of one raw pair (``seen`` maps a content fingerprint to the first id)."""
    found = []
    chosen, rejected = str(record.get("chosen", "")), str(record.get("rejected", ""))
    if not chosen.strip() or not rejected.strip():
        found.append("empty")
    elif norm(chosen) == norm(rejected) or (
        record.get("topic") and record["topic"].lower() not in chosen.lower()
    ):
        found.append("mismatched")  # the chosen answers another prompt, or equals the rejected
    fp = hashlib.sha256(
        json.dumps([norm(record.get("prompt", "")), norm(chosen), norm(rejected)]).encode()
    ).hexdigest()
    if fp in seen:
        found.append("duplicate")
    else:
        seen[fp] = str(record.get("id"))
    return found


# -- worker subagents (each runs in its own process, cwd = the workspace) -------------------------
def repair_worker(raw: str, out: str) -> str:
    """Subagent A: drop duplicates, empty and mismatched pairs and unparsable lines."""
    read = cairn.read_jsonl(raw)
    seen: dict[str, str] = {}
    kept, dropped = [], Counter[str]()
    for rec in read.records:
        problems = issues_of(rec, seen)
        if problems:
            dropped.update(problems[:1])
            continue
        kept.append(rec)
    Path(out).write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")
    print(f"kept {len(kept)} pairs; dropped {dict(dropped)}; unparsable lines {len(read.errors)}")
    return (
        f"✅ Repaired: {len(kept)} clean pairs kept; dropped {sum(dropped.values())} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(dropped.items()))}) and "
        f"{len(read.errors)} unparsable lines."
    )


def is_eval(prompt: str, share: int = 5) -> bool:
    """The held-out split, by a hash of the normalised prompt: near-duplicates land together."""
    return int(hashlib.sha256(norm(prompt).encode()).hexdigest(), 16) % share == 0


def unique_prompts(path: str) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for p in cairn.read_jsonl(path).records:
        if norm(p["prompt"]) not in seen:
            seen.add(norm(p["prompt"]))
            out.append(p)
    return out


def shard_worker(prompts: str, out_dir: str, k: int, shards: int) -> str:
    """Subagent C: sample k candidate responses per training prompt, written in shards."""
    pool = [p for p in unique_prompts(prompts) if not is_eval(p["prompt"])]
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for s in range(shards):
        rows = []
        for p in pool[s::shards]:
            rng = random.Random(p["id"])
            for j in range(k):
                rows.append(
                    {
                        "id": f"{p['id']}-c{j}",
                        "prompt_id": p["id"],
                        "prompt": p["prompt"],
                        "response": candidate(rng, p["topic"], p["prompt"]),
                    }
                )
        (folder / f"shard_{s}.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
        )
        print(f"shard {s}: {len(rows)} candidates")
        total += len(rows)
    return f"✅ Generated {shards} shards: {total} candidates for {len(pool)} prompts (k={k})."


def candidate(rng: random.Random, topic: str, prompt: str) -> str:
    style = rng.randrange(5)
    verb = prompt.split()[0].lower()
    if style == 0:
        return f"As an AI, I would say {topic} is useful."
    if style == 1:
        return f"{topic} " * rng.randint(3, 6)
    if style == 2:
        return (
            f"To {verb} {topic}: start from the definition, show one worked example of {topic}, "
            "then name the most common mistake and how a test catches it."
        )
    if style == 3:
        return f"{topic.capitalize()} matters. " + "It is often discussed in many contexts. " * 2
    words = " ".join(sorted(content_words(prompt)))
    return (
        f"Here is a focused answer about {topic} ({words}): explain the mechanism, give a "
        f"concrete case where {topic} helps, and list the trade-off to watch."
    )


def iter_shards(folder: Path) -> Iterable[tuple[int, list[dict[str, Any]]]]:
    for path in sorted(folder.glob("shard_*.jsonl")):
        yield int(path.stem.split("_")[1]), cairn.read_jsonl(path).records


def best_of_n(scores: Iterable[dict[str, Any]], min_margin: float) -> list[dict[str, Any]]:
    """For each prompt, the best and the worst of its k candidates as a preference pair."""
    by_prompt: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in scores:
        by_prompt[s["prompt_id"]].append(s)
    pairs = []
    for pid in sorted(by_prompt):
        cands = sorted(by_prompt[pid], key=lambda s: (-s["score"], s["id"]))
        best, worst = cands[0], cands[-1]
        if best["score"] - worst["score"] < min_margin:
            continue
        pairs.append(
            {
                "id": f"bon-{pid}",
                "prompt_id": pid,
                "prompt": best["prompt"],
                "chosen": best["response"],
                "rejected": worst["response"],
                "chosen_score": best["score"],
                "rejected_score": worst["score"],
                "k": len(cands),
            }
        )
    return pairs
