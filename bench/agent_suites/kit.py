"""The frame of the benchmark suites: waves of subagent batches, and the scripts built from them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cairn.models.scripted import Call, Script, Suite, Unit

SUBAGENT_BUDGET = 600_000


@dataclass(frozen=True)
class Batch:
    name: str
    task: str
    units: tuple[Unit, ...]
    inputs: tuple[str, ...]


@dataclass(frozen=True)
class Wave:
    phase: str
    batches: tuple[Batch, ...]


@dataclass(frozen=True)
class TaskDef:
    name: str
    title: str
    spec_path: str
    waves: tuple[Wave, ...]
    setup: Callable[[Path], None]
    verify: Callable[[Path], tuple[bool, str]]


def _outputs(units: tuple[Unit, ...] | list[Unit]) -> tuple[str, ...]:
    return tuple(o for u in units for o in u.outputs)


def _spawn_args(wave: Wave) -> dict[str, Any]:
    return {
        "tasks": [
            {
                "name": b.name,
                "task": b.task,
                "inputs": list(b.inputs),
                "outputs": list(_outputs(b.units)),
                "budget_tokens": SUBAGENT_BUDGET,
            }
            for b in wave.batches
        ]
    }


def _checkpoint_after(wave: Wave) -> Callable[[list[str]], dict[str, Any]]:
    def make(prev: list[str]) -> dict[str, Any]:
        return {
            "kind": wave.phase,
            "content": f"# {wave.phase} complete\n\n**Subagent reports**:\n\n{prev[0]}\n\n"
            f"**Files modified**:\n"
            + "\n".join(f"- {o}" for b in wave.batches for o in _outputs(b.units)[:20]),
        }

    return make


def _report(b: Batch, outs: tuple[str, ...]) -> Callable[[dict[str, str]], str]:
    """A subagent's summary: one line per unit, from what its last tool call reported."""

    def make(results: dict[str, str]) -> str:
        lines = [f"✅ {b.name}: {len(b.units)} units done, {len(outs)} files written."]
        for u in b.units:
            last = results.get(f"{u.id}#{len(u.calls) - 1}", "(done before a restart)")
            lines.append(f"- {u.id}: {last.splitlines()[0][:160] if last else ''}")
        return "\n".join(lines)

    return make


def build_suite(t: TaskDef) -> Suite:
    """Scripts for both strategies and for every subagent of the cairn one."""
    scripts: dict[str, Script] = {}
    all_units = tuple(u for w in t.waves for b in w.batches for u in b.units)
    read_spec = Unit("spec", (Call("read_file", {"path": t.spec_path}),))
    scripts["direct"] = Script(
        (read_spec, *all_units), final=f"{t.title}: done directly ({len(all_units)} units)."
    )
    plan_body = "\n".join(
        f"- Phase {w.phase}: "
        + ", ".join(f"subagent {b.name} ({len(b.units)} units)" for b in w.batches)
        for w in t.waves
    )
    scripts["plan"] = Script(
        (
            Unit(
                "plan",
                (
                    Call("read_file", {"path": t.spec_path}),
                    Call(
                        "checkpoint",
                        {
                            "kind": "plan",
                            "content": f"# {t.title}: plan\n\n**Approach**:\n{plan_body}\n\n"
                            f"**Next action**: start phase {t.waves[0].phase}\n",
                            "files": [t.spec_path],
                        },
                        say="Planning the waves of subagents.",
                    ),
                ),
            ),
        ),
        final="Plan written.",
    )
    for w in t.waves:
        outs = tuple(o for b in w.batches for o in _outputs(b.units))
        scripts[w.phase] = Script(
            (
                Unit(
                    f"wave-{w.phase}",
                    (
                        Call("spawn_subagents", _spawn_args(w), say=f"Delegating {w.phase}."),
                        Call("checkpoint", _checkpoint_after(w)),
                    ),
                    outs,
                ),
            ),
            final=f"Phase {w.phase} done by {len(w.batches)} subagent(s).",
        )
        for b in w.batches:
            outs_b = _outputs(b.units)
            scripts[f"sub:{b.name}"] = Script(b.units, final=_report(b, outs_b))
    instructions = (
        f"{t.title}. The spec is {t.spec_path}; read it first.\n\n"
        "Phases: plan (read the spec, checkpoint a plan), then "
        + ", ".join(f"{w.phase} ({'; '.join(b.task for b in w.batches)[:300]})" for w in t.waves)
        + ". Delegate the detail work of each phase to subagents when you can."
    )
    return Suite(
        t.name,
        scripts,
        phases=("plan", *(w.phase for w in t.waves)),
        instructions=instructions,
        setup=t.setup,
        verify=t.verify,
    )


def chunks(items: list[Any], n: int) -> list[list[Any]]:
    size = -(-len(items) // n)
    return [items[i : i + size] for i in range(0, len(items), size)]
