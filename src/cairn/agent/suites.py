"""Built-in scripted suites: a small demo used by the tests and the CLI (``scripted:demo``).

The benchmark's task suites live in :mod:`cairn.agent.bench_suites`.
"""

from __future__ import annotations

from pathlib import Path

from cairn.agent.scripted import ArgsFn, Call, Script, Suite, Unit, register

DEMO_FILES = 3


def _numbers(i: int) -> list[int]:
    return [(i * 7 + k * 13) % 97 for k in range(40)]


def _demo_setup(root: Path) -> None:
    (root / "data").mkdir(exist_ok=True)
    for i in range(DEMO_FILES):
        (root / "data" / f"in_{i}.txt").write_text("\n".join(map(str, _numbers(i))) + "\n")


def _demo_verify(root: Path) -> tuple[bool, str]:
    bad = []
    for i in range(DEMO_FILES):
        p = root / "out" / f"sum_{i}.txt"
        if not p.exists() or p.read_text().strip() != str(sum(_numbers(i))):
            bad.append(p.name)
    return (not bad, "all sums right" if not bad else f"wrong or missing: {', '.join(bad)}")


def _sum_of(text: str) -> int:
    return sum(int(x) for x in text.split() if x.strip().lstrip("-").isdigit())


def _writer(out: str) -> ArgsFn:
    def make(prev: list[str]) -> dict[str, object]:
        return {"path": out, "content": f"{_sum_of(prev[0])}\n"}

    return make


def _demo(delay: float = 0.0, name: str = "demo") -> Suite:
    reads = tuple(Call("read_file", {"path": f"data/in_{i}.txt"}) for i in range(DEMO_FILES))

    def plan(prev: list[str]) -> dict[str, object]:
        sums = [_sum_of(t) for t in prev]
        body = "\n".join(f"- data/in_{i}.txt: sum {s}" for i, s in enumerate(sums))
        return {
            "kind": "analysis",
            "content": f"# Demo analysis\n\n{body}\n\n**Next action**: write out/sum_N.txt\n",
            "files": [f"data/in_{i}.txt" for i in range(DEMO_FILES)],
        }

    analysis = Script(
        (Unit("analyse", (*reads, Call("checkpoint", plan, say="Writing the analysis."))),),
        final="Analysis written.",
        delay=delay,
    )
    units = []
    for i in range(DEMO_FILES):
        out = f"out/sum_{i}.txt"
        units.append(
            Unit(
                f"sum{i}",
                (
                    Call("read_file", {"path": f"data/in_{i}.txt"}),
                    Call("write_file", _writer(out)),
                    Call("progress", {"text": f"wrote {out}"}),
                ),
                (out,),
            )
        )
    implement = Script(tuple(units), final="All sums written.", delay=delay)
    return Suite(
        name,
        {"analysis": analysis, "implement": implement},
        phases=("analysis", "implement"),
        instructions="Sum the numbers of each data/in_N.txt into out/sum_N.txt.",
        setup=_demo_setup,
        verify=_demo_verify,
    )


@register("demo")
def demo() -> Suite:
    return _demo()


@register("demo-slow")
def demo_slow() -> Suite:
    """The demo at 0.25 s a response: long enough to kill the runtime mid-phase."""
    return _demo(0.25, "demo-slow")


@register("demo-subagents")
def demo_subagents() -> Suite:
    """Two slow subagents (0.3 s a response) that each sum half of the demo's files."""
    halves = {"left": [0, 1], "right": [2]}
    subs: dict[str, Script] = {}
    tasks = []
    for name, idx in halves.items():
        units = tuple(
            Unit(
                f"sum{i}",
                (
                    Call("read_file", {"path": f"data/in_{i}.txt"}),
                    Call("write_file", _writer(f"out/sum_{i}.txt")),
                ),
                (f"out/sum_{i}.txt",),
            )
            for i in idx
        )
        subs[f"sub:{name}"] = Script(units, final=f"✅ {name}: sums of {idx} written", delay=0.3)
        tasks.append(
            {
                "name": name,
                "task": f"Sum data/in_N.txt into out/sum_N.txt for N in {idx}",
                "inputs": [f"data/in_{i}.txt" for i in idx],
                "outputs": [f"out/sum_{i}.txt" for i in idx],
            }
        )
    outs = tuple(f"out/sum_{i}.txt" for i in range(DEMO_FILES))
    work = Script(
        (Unit("spawn", (Call("spawn_subagents", {"tasks": tasks}),), outs),),
        final="Both halves done.",
    )
    return Suite(
        "demo-subagents",
        {"work": work, **subs},
        phases=("work",),
        instructions="Sum each data/in_N.txt into out/sum_N.txt, with two subagents.",
        setup=_demo_setup,
        verify=_demo_verify,
    )
