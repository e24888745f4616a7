"""Generate the demo's small, deliberately dirty data set (deterministic: the same seed, same files).

- ``data/pairs_raw.jsonl``: preference pairs ``{id, prompt, chosen, rejected}`` with the defects a
  methodology audit finds: exact duplicates under new ids, empty responses, mismatched pairs (the
  "chosen" answers another prompt, or chosen == rejected), and a few lines that are not JSON.
- ``data/prompts.jsonl``: the instruction pool that Best-of-N samples from and the eval set is drawn
  from, with some near-duplicate prompts (case and spacing variants).

Usage: ``python gen_data.py DATA_DIR [--prompts N]``.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

TOPICS = [
    "binary search",
    "gradient descent",
    "unit testing",
    "database indexes",
    "rate limiting",
    "garbage collection",
    "TLS handshakes",
    "vector clocks",
    "bloom filters",
    "beam search",
    "tokenization",
    "caching headers",
    "file locking",
    "retry backoff",
    "sharding",
    "checkpointing",
    "regular expressions",
    "memory maps",
    "consensus",
    "load balancing",
]
ASKS = [
    "Explain {t} to a new engineer in three sentences.",
    "List two pitfalls of {t} and how to avoid them.",
    "Write a short checklist for reviewing code that uses {t}.",
    "Compare {t} with a simpler alternative and say when each wins.",
    "Describe a bug caused by misusing {t} and its fix.",
]


def good_answer(rng: random.Random, topic: str, ask: str) -> str:
    lead = rng.choice(["In short,", "Put simply,", "The key idea:", "First,"])
    return (
        f"{lead} {topic} works by splitting the problem into clear steps. "
        f"For this request ({ask.split()[0].lower()}), focus on {topic} correctness, measure it, "
        f"and document the trade-offs of {topic} for the team."
    )


def weak_answer(rng: random.Random, topic: str) -> str:
    return rng.choice(
        [
            f"As an AI, I think {topic} is interesting.",
            "It depends.",
            f"{topic} {topic} {topic} is good good good.",
        ]
    )


def prompts(n: int, rng: random.Random) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    combos = [(t, a) for t in TOPICS for a in ASKS]
    rng.shuffle(combos)
    for i, (topic, ask) in enumerate(combos[:n]):
        out.append({"id": f"q{i:04d}", "topic": topic, "prompt": ask.format(t=topic)})
    # Near duplicates: the same instruction with other spacing and case.
    for j, src in enumerate(out[: max(1, n // 12)]):
        out.append(
            {
                "id": f"q{n + j:04d}",
                "topic": src["topic"],
                "prompt": "  " + src["prompt"].upper().replace(" ", "  ") + " ",
            }
        )
    return out


def pairs(pool: list[dict[str, str]], rng: random.Random) -> list[str]:
    lines: list[str] = []
    records = []
    for i, p in enumerate(pool[:120]):
        records.append(
            {
                "id": f"p{i:04d}",
                "prompt": p["prompt"],
                "topic": p["topic"],
                "chosen": good_answer(rng, p["topic"], p["prompt"]),
                "rejected": weak_answer(rng, p["topic"]),
            }
        )
    n = len(records)
    for k in range(14):  # exact duplicates under new ids
        dup = dict(records[rng.randrange(n)])
        dup["id"] = f"p{n + k:04d}"
        records.append(dup)
    for r in rng.sample(records[:n], 8):  # empty responses
        r[rng.choice(["chosen", "rejected"])] = "" if rng.random() < 0.5 else "   "
    for r in rng.sample(records[:n], 6):  # mismatched: chosen answers another topic, or == rejected
        if rng.random() < 0.5:
            other = rng.choice([t for t in TOPICS if t != r["topic"]])
            r["chosen"] = good_answer(rng, other, "Explain")
        else:
            r["chosen"] = r["rejected"]
    rng.shuffle(records)
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    for pos in sorted(rng.sample(range(len(lines)), 3), reverse=True):  # not JSON at all
        lines.insert(pos, '{"id": "broken", "prompt": "cut off in the midd')
    return lines


def generate(folder: Path, n_prompts: int = 96, seed: int = 4) -> dict[str, int]:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    pool = prompts(n_prompts, rng)
    (folder / "prompts.jsonl").write_text(
        "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pool), encoding="utf-8"
    )
    raw = pairs(pool, rng)
    (folder / "pairs_raw.jsonl").write_text("\n".join(raw) + "\n", encoding="utf-8")
    return {"prompts": len(pool), "raw_pair_lines": len(raw)}


if __name__ == "__main__":
    args = sys.argv[1:]
    n = 96
    if "--prompts" in args:
        i = args.index("--prompts")
        n = int(args[i + 1])
        del args[i : i + 2]
    counts = generate(Path(args[0] if args else "data"), n)
    print(f"wrote {counts['prompts']} prompts and {counts['raw_pair_lines']} raw pair lines")
