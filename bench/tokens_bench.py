"""Token counting speed and the cheap upper bound's margin, on this machine.

Prints, in one run:

* exact counting throughput (tokens/s, median of N passes) for o200k_base and cl100k_base with the
  bundled ``quicktok`` vocabularies, against the issue's target of 1,000,000 tokens/s;
* vocabulary load time per encoding, each in a fresh interpreter (median of N), next to the
  interpreter's own start-up (``python -c pass``) as the baseline;
* ``cairn.core.tokens.upper_bound`` against the exact count per kind of text (prose, code, JSON, CJK,
  and, for information, random base64/hex that lie outside its promise), with the ratio
  bound / exact (must be >= 1.00 on prose, code, JSON and CJK) and its own speed; the common
  "characters / 4" rule of thumb is shown beside it as the naive baseline.

Usage: ``python bench/tokens_bench.py [--runs 5] [--mb 4]``
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cairn.core.tokens import count_tokens, upper_bound  # noqa: E402

TARGET_TOKENS_PER_S = 1_000_000
ENCODINGS = {"o200k_base": "gpt-4o", "cl100k_base": "gpt-4"}
CJK = (
    "上下文压缩会在不可预测的时间自动发生。我无法自己触发它。解决方案：构建工作以创建自然检查点。"
    "お誕生日おめでとう。計画は承認されました、次の段階に進みます。各フェーズはチェックポイントを書きます。"
    "컨텍스트 압축은 예측할 수 없는 시간에 자동으로 발생합니다. 체크포인트를 자주 작성하세요. "
)


def samples() -> dict[str, str]:
    rng = random.Random(4)
    seed = ROOT.parent / "shared" / "seed"
    prose = "".join(p.read_text(encoding="utf-8") for p in sorted(seed.glob("*.txt")))
    prose += "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md")))
    code = "".join(
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "src" / "cairn").rglob("*.py"))
    )
    records = [
        {
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "ts": f"2026-11-28T01:{i % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z",
            "type": "checkpoint.written",
            "version": rng.randint(1, 10**6),
            "score": rng.random(),
            "concerns": ["GPU cost", "complexity", "複雑さ"],
            "hash": rng.randbytes(32).hex(),
        }
        for i in range(2000)
    ]
    return {
        "prose": prose,
        "code": code,
        "json": json.dumps(records, indent=2),
        "json-min": json.dumps(records, separators=(",", ":"), ensure_ascii=False),
        "cjk": CJK * 60,
        "base64*": base64.b64encode(rng.randbytes(30_000)).decode(),
        "hex*": rng.randbytes(20_000).hex(),
    }


def throughput(text: str, runs: int) -> dict[str, tuple[float, int]]:
    import quicktok

    out = {}
    for name in ENCODINGS:
        enc = quicktok.get_encoding(name)
        enc.count("warm up")
        times = []
        n = 0
        for _ in range(runs):
            t0 = time.perf_counter()
            n = enc.count(text)
            times.append(time.perf_counter() - t0)
        out[name] = (n / statistics.median(times), n)
    return out


def load_times(runs: int) -> dict[str, float]:
    def child(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - t0

    base = statistics.median(child("pass") for _ in range(runs))
    out = {"python -c pass (baseline)": base}
    imp = statistics.median(child("import quicktok") for _ in range(runs))
    out["python + import quicktok"] = imp
    for name in ENCODINGS:
        code = f"import quicktok; quicktok.get_encoding({name!r}).count('x')"
        out[f"load {name} (after import)"] = (
            statistics.median(child(code) for _ in range(runs)) - imp
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--mb", type=float, default=4.0, help="size of the throughput corpus")
    args = ap.parse_args()
    texts = samples()
    corpus = "".join(texts[k] for k in ("prose", "code", "json", "cjk"))
    reps = max(1, round(args.mb * 1e6 / len(corpus.encode("utf-8"))))
    corpus *= reps

    print(f"Exact counting, quicktok, {len(corpus.encode()) / 1e6:.1f} MB mixed corpus")
    print(f"(prose, code, JSON, CJK), median of {args.runs} passes, one thread:")
    for name, (rate, n) in throughput(corpus, args.runs).items():
        verdict = "meets" if rate >= TARGET_TOKENS_PER_S else "MISSES"
        print(
            f"  {name:<12} {rate / 1e6:6.2f} M tokens/s ({n:,} tokens)  {verdict} the "
            f"{TARGET_TOKENS_PER_S / 1e6:.0f} M tokens/s target ({rate / TARGET_TOKENS_PER_S:.1f}x)"
        )

    print(f"\nStart-up, fresh interpreter, median of {args.runs}:")
    for label, secs in load_times(args.runs).items():
        print(f"  {label:<28} {secs * 1000:7.1f} ms")

    print("\nupper_bound vs exact (ratio = bound / max(o200k, cl100k); must be >= 1.00;")
    print("* = outside its promise, shown for information):")
    print(
        f"  {'text':<9} {'bytes':>9} {'o200k':>8} {'cl100k':>8} {'bound':>8} {'ratio':>6} "
        f"{'chars/4':>8} {'ratio':>6} {'bound speed':>12}"
    )
    for kind, text in texts.items():
        o200k = count_tokens(text, "gpt-4o")
        cl100k = count_tokens(text, "gpt-4")
        exact = max(o200k, cl100k)
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            bound = upper_bound(text)
            times.append(time.perf_counter() - t0)
        dt = statistics.median(times)
        naive = len(text) // 4
        flag = "" if bound >= exact or kind.endswith("*") else "  BELOW EXACT"
        print(
            f"  {kind:<9} {len(text.encode()):>9,} {o200k:>8,} {cl100k:>8,} {bound:>8,} "
            f"{bound / exact:>6.2f} {naive:>8,} {naive / exact:>6.2f} "
            f"{exact / dt / 1e6:>7.1f} Mtok/s{flag}"
        )


if __name__ == "__main__":
    main()
