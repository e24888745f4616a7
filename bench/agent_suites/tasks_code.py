"""Benchmark tasks 4 and 5: review-then-implement, and a long analysis of training runs."""

from __future__ import annotations

import random
import re
import statistics
from pathlib import Path
from typing import Any

from cairn.models.scripted import Call, Unit

from .kit import Batch, TaskDef, Wave, chunks

# -- 4. review, then implement -----------------------------------------------------------------------
_FILLER_FN = '''
def helper_{i}(values):
    """Helper {i}: scale, clip and round a list of scores (legacy; keep as is)."""
    out = []
    for v in values:
        v = v * {a} / {b}
        if v > {c}:
            v = {c}
        out.append(round(v, 3))
    return out
'''
_OLD_SELECT = '''
def select_best(candidates):
    """Return the candidate with the highest score."""
    return max(candidates, key=lambda c: c["score"])
'''
_NEW_SELECT = '''
def select_best(candidates, k=1):
    """Return the k candidates with the highest scores, best first (ties keep input order).

    k=1 returns a single candidate, as before.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    ranked = sorted(candidates, key=lambda c: -c["score"])
    return ranked[0] if k == 1 else ranked[:k]
'''


def _rv_setup(root: Path) -> None:
    (root / "src").mkdir(exist_ok=True)
    (root / "docs").mkdir(exist_ok=True)
    parts = ['"""Preference-pair pipeline."""\n']
    for i in range(40):
        parts.append(_FILLER_FN.format(i=i, a=i + 2, b=i + 3, c=10 + i))
        if i == 20:
            parts.append(_OLD_SELECT)
    (root / "src" / "pipeline.py").write_text("".join(parts))
    (root / "docs" / "finding4.md").write_text(
        "# Finding 4: Best-of-N\n\nselect_best(candidates) must take k (default 1) and return "
        "the k best candidates by score, best first, ties in input order; k=1 keeps returning "
        "one candidate. Write the analysis to notes/finding4_analysis.md, ask for a review "
        "(reviews/responses/finding4_review.md, verdict approved) before implementing, then "
        "change src/pipeline.py and add tests/test_select_best.py.\n"
    )


def _rv_verify(root: Path) -> tuple[bool, str]:
    problems = []
    review = root / "reviews" / "responses" / "finding4_review.md"
    if not review.exists() or "Verdict: approved" not in review.read_text():
        problems.append("no approved review")
    src = (root / "src" / "pipeline.py").read_text()
    ns: dict[str, Any] = {}
    exec(compile(src, "pipeline.py", "exec"), ns)
    cands = [{"id": i, "score": s} for i, s in enumerate([0.2, 0.9, 0.5, 0.9, 0.1])]
    try:
        ok = (
            ns["select_best"](cands)["id"] == 1
            and [c["id"] for c in ns["select_best"](cands, k=3)] == [1, 3, 2]
            and "helper_39" in ns
        )
    except Exception as exc:
        ok, problems = False, [*problems, f"select_best fails: {exc}"]
    if not ok:
        problems.append("select_best(k) wrong")
    if not (root / "tests" / "test_select_best.py").exists():
        problems.append("no test file")
    return (not problems, "; ".join(problems) or "reviewed, implemented, tested")


def review_task() -> TaskDef:
    analyze = Unit(
        "analyze",
        (
            Call("read_file", {"path": "docs/finding4.md"}),
            Call("read_file", {"path": "src/pipeline.py"}),
            Call(
                "write_file",
                lambda prev: {
                    "path": "notes/finding4_analysis.md",
                    "content": "# Finding 4 analysis\n\n- select_best is at line "
                    f"{prev[1].splitlines().index('def select_best(candidates):') + 1} of "
                    f"src/pipeline.py ({len(prev[1].splitlines())} lines)\n- change: add k, sort "
                    "by score descending (stable), k=1 returns one candidate\n- tests: k=1, k=3, "
                    "ties\n",
                },
            ),
        ),
        ("notes/finding4_analysis.md",),
    )
    review = Unit(
        "review",
        (
            Call("read_file", {"path": "notes/finding4_analysis.md"}),
            Call("read_file", {"path": "docs/finding4.md"}),
            Call(
                "write_file",
                {
                    "path": "reviews/responses/finding4_review.md",
                    "content": "# Review: finding 4 approach\n\nVerdict: approved\n\n"
                    "Recommendation: keep k=1 returning a single candidate; test ties.\n",
                },
            ),
        ),
        ("reviews/responses/finding4_review.md",),
    )
    implement = Unit(
        "implement",
        (
            Call("read_file", {"path": "reviews/responses/finding4_review.md"}),
            Call("read_file", {"path": "src/pipeline.py"}),
            Call(
                "write_file",
                lambda prev: {
                    "path": "src/pipeline.py",
                    "content": re.sub(r"\[lines \d+-\d+ of \d+.*\]\n?$", "", prev[1]).replace(
                        _OLD_SELECT.strip(), _NEW_SELECT.strip()
                    )
                    + "\n",
                },
                say="Implementing select_best(k).",
            ),
            Call(
                "write_file",
                {
                    "path": "tests/test_select_best.py",
                    "content": "from pipeline import select_best\n\n\ndef test_k():\n    c = "
                    "[{'score': 1}, {'score': 3}, {'score': 3}]\n    assert select_best(c) is "
                    "c[1]\n    assert select_best(c, k=2) == [c[1], c[2]]\n",
                },
            ),
        ),
        ("tests/test_select_best.py",),
    )
    return TaskDef(
        "review",
        "Review, then implement finding 4 (Best-of-N select_best)",
        "docs/finding4.md",
        (
            Wave(
                "analysis",
                (
                    Batch(
                        "analyze",
                        "Analyse finding 4 in src/pipeline.py",
                        (analyze,),
                        ("docs/finding4.md", "src/pipeline.py"),
                    ),
                ),
            ),
            Wave(
                "review",
                (
                    Batch(
                        "reviewer",
                        "Review the approach in the analysis",
                        (review,),
                        ("notes/finding4_analysis.md",),
                    ),
                ),
            ),
            Wave(
                "implement",
                (
                    Batch(
                        "implement",
                        "Implement the approved approach",
                        (implement,),
                        ("src/pipeline.py",),
                    ),
                ),
            ),
        ),
        _rv_setup,
        _rv_verify,
    )


# -- 5. a long analysis ------------------------------------------------------------------------------
AN_RUNS = 30
AN_ROWS = 160


def _an_setup(root: Path) -> None:
    rng = random.Random(19)
    (root / "metrics").mkdir(exist_ok=True)
    (root / "docs").mkdir(exist_ok=True)
    for r in range(AN_RUNS):
        base = 2.5 + rng.random()
        rows = ["step,loss,acc,lr"]
        for s in range(AN_ROWS):
            loss = base * (0.985**s) + rng.random() * 0.05
            acc = min(0.99, 0.3 + s * 0.004 + rng.random() * 0.02)
            rows.append(f"{s},{loss:.4f},{acc:.4f},{0.001 * (0.99**s):.6f}")
        (root / "metrics" / f"run_{r:02d}.csv").write_text("\n".join(rows) + "\n")
    (root / "docs" / "analysis_spec.md").write_text(
        "# Training-run analysis\n\nFor each metrics/run_NN.csv write analysis/run_NN.md with "
        "`mean loss: X` and `final acc: Y` (4 decimals). Then write analysis/REPORT.md: a table "
        "of every run and `best run: run_NN` (lowest mean loss).\n"
    )


def an_stats(csv: str) -> tuple[float, float]:
    rows = [r.split(",") for r in csv.splitlines()[1:] if r and r[0].isdigit()]
    return statistics.fmean(float(r[1]) for r in rows), float(rows[-1][2])


def _an_unit(r: int) -> Unit:
    def write(prev: list[str]) -> dict[str, Any]:
        mean, acc = an_stats(prev[0])
        return {
            "path": f"analysis/run_{r:02d}.md",
            "content": f"# run_{r:02d}\n\nmean loss: {mean:.4f}\nfinal acc: {acc:.4f}\n",
        }

    return Unit(
        f"run{r:02d}",
        (
            Call("read_file", {"path": f"metrics/run_{r:02d}.csv"}),
            Call("write_file", write, say=f"Stats of run {r:02d}."),
        ),
        (f"analysis/run_{r:02d}.md",),
    )


def _an_report(prev: list[str]) -> dict[str, Any]:
    rows = []
    for text in prev:
        name = re.search(r"# (run_\d+)", text)
        mean = re.search(r"mean loss: ([\d.]+)", text)
        acc = re.search(r"final acc: ([\d.]+)", text)
        if name and mean and acc:
            rows.append((name.group(1), float(mean.group(1)), float(acc.group(1))))
    best = min(rows, key=lambda x: x[1])[0] if rows else "none"
    table = "\n".join(f"| {n} | {m:.4f} | {a:.4f} |" for n, m, a in rows)
    return {
        "path": "analysis/REPORT.md",
        "content": f"# Report\n\n| run | mean loss | final acc |\n|---|---|---|\n{table}\n\n"
        f"best run: {best}\n",
    }


def _an_verify(root: Path) -> tuple[bool, str]:
    problems, means = [], {}
    for r in range(AN_RUNS):
        mean, _acc = an_stats((root / "metrics" / f"run_{r:02d}.csv").read_text())
        means[f"run_{r:02d}"] = mean
        p = root / "analysis" / f"run_{r:02d}.md"
        if not p.exists() or f"mean loss: {mean:.4f}" not in p.read_text():
            problems.append(f"run_{r:02d}.md wrong")
    rep = root / "analysis" / "REPORT.md"
    best = min(means, key=lambda k: means[k])
    if not rep.exists() or f"best run: {best}" not in rep.read_text():
        problems.append("REPORT.md wrong")
    return (not problems, "; ".join(problems[:3]) or f"{AN_RUNS} runs analysed, best {best}")


def analysis_task() -> TaskDef:
    units = [_an_unit(r) for r in range(AN_RUNS)]
    report = Unit(
        "report",
        (
            *(Call("read_file", {"path": f"analysis/run_{r:02d}.md"}) for r in range(AN_RUNS)),
            Call("write_file", _an_report),
        ),
        ("analysis/REPORT.md",),
    )
    batches = tuple(
        Batch(
            f"analyze_{g}",
            "Analyse these runs per docs/analysis_spec.md",
            tuple(us),
            tuple(f"metrics/{u.outputs[0].rsplit('/', 1)[-1][:-3]}.csv" for u in us),
        )
        for g, us in enumerate(chunks(units, 5))
    )
    return TaskDef(
        "analysis",
        "Analyse all training runs and report the best",
        "docs/analysis_spec.md",
        (
            Wave("analyze", batches),
            Wave(
                "report",
                (
                    Batch(
                        "report", "Merge the per-run notes into analysis/REPORT.md", (report,), ()
                    ),
                ),
            ),
        ),
        _an_setup,
        _an_verify,
    )
