"""Model subagents: fresh contexts in parallel, capped summaries, transcripts, budgets, time limits."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from cairn.agent import RunOptions, run_task
from cairn.domain import budget
from cairn.domain.workspace import Workspace
from cairn.models.scripted import Call, Script, Suite, Unit
from cairn.models.scripted_suites import register
from helpers.stored import records

LONG = "word " * 3000


def _task(name: str, outputs: list[str], budget_tokens: int = 50_000) -> dict[str, Any]:
    return {
        "name": name,
        "task": f"do {name}",
        "inputs": ["in.txt"],
        "outputs": outputs,
        "budget_tokens": budget_tokens,
    }


def _writer(name: str) -> Unit:
    return Unit(
        f"w-{name}",
        (
            Call("read_file", {"path": "in.txt"}),
            Call("write_file", {"path": f"out/{name}.txt", "content": name}),
        ),
    )


@register("t-subs")
def _subs() -> Suite:
    spawn = Call(
        "spawn_subagents",
        {
            "tasks": [
                _task("a", ["out/a.txt"]),
                _task("b", ["out/b.txt"]),
                _task("c", ["out/c.txt"]),
                _task("greedy", ["out/greedy.txt"], budget_tokens=1_000),
            ]
        },
    )

    def save(prev: list[str]) -> dict[str, Any]:
        return {"kind": "complete", "content": "# Subagents\n\n" + prev[0]}

    return Suite(
        "t-subs",
        {
            "work": Script((Unit("spawn", (spawn, Call("checkpoint", save))),)),
            "sub:a": Script((_writer("a"),), final="✅ a done: " + LONG, delay=0.3),
            "sub:b": Script((_writer("b"),), final="✅ b done", delay=0.3),
            "sub:c": Script((_writer("c"),), final="✅ c done", delay=0.3),
            # Reads the big file over and over: overruns its 1,000-token budget.
            "sub:greedy": Script(
                tuple(Unit(f"g{i}", (Call("read_file", {"path": "in.txt"}),)) for i in range(10)),
                final="never reached",
            ),
        },
    )


def test_subagents_run_in_parallel_with_capped_summaries(ws_path: Path) -> None:
    (ws_path / "in.txt").write_text("input line\n" * 200)
    with Workspace.open(ws_path) as ws:
        ws.create_task("s", phases=["work"])
        res = run_task(ws, "s", RunOptions(model="scripted:t-subs", summary_tokens=200))
        assert res.state == "done"
        for n in "abc":
            assert (ws_path / "out" / f"{n}.txt").read_text() == n
        assert res.stats.subagents == 4 and res.stats.subagent_partial == 1
        cp = ws.checkpoint("s", "complete").content or ""
        # a's long summary was cut to the cap; the orchestrator got the cut version only.
        assert "summary cut to 200 tokens" in cp
        assert "✅ b done" in cp and "✅ c done" in cp
        assert "[subagent greedy: partial — PARTIAL RESULT" in cp
        assert "over its budget of 1,000 tokens" in cp and "missing: out/greedy.txt" in cp
        with ws.store.read() as tx:
            rows = {r["name"]: r for r in records(tx, "subagent_runs")}
        assert rows["greedy"]["partial"] == 1 and rows["greedy"]["state"] == "partial"
        # In parallel: each of a, b, c (~0.9 s: 3 responses x 0.3 s) started before any ended.
        starts = [rows[n]["started_at"] for n in "abc"]
        ends = [rows[n]["finished_at"] for n in "abc"]
        assert max(starts) < min(ends)
        assert rows["a"]["summary_tokens"] <= 200
        for r in rows.values():
            assert (ws_path / r["transcript"]).exists()
            assert (ws_path / r["transcript"].replace(".md", ".json")).exists()
        # The full transcript keeps the whole summary; the status file links the transcripts.
        assert LONG.strip()[:500] in (ws_path / rows["a"]["transcript"]).read_text()
        status = (ws_path / "CURRENT_WORK_STATUS.md").read_text()
        assert "**Subagents**" in status and rows["b"]["transcript"] in status
        # Their own spend is outside the orchestrator's context; summaries are inside it.
        rep = budget.report(ws, all_contexts=True)
        by = {c.category: c.used for c in rep.categories}
        assert rep.outside == sum(r["used_tokens"] for r in rows.values()) > 0
        assert 0 < by["subagent_summaries"] < 2_000
        assert res.stats.subagent_tokens == rep.outside
        json.dumps(res.to_json())


@register("t-slow-sub")
def _slow() -> Suite:
    return Suite(
        "t-slow-sub",
        {
            "work": Script(
                (
                    Unit(
                        "spawn",
                        (Call("spawn_subagents", {"tasks": [_task("slow", ["out/s.txt"])]}),),
                    ),
                )
            ),
            "sub:slow": Script(
                tuple(Unit(f"r{i}", (Call("read_file", {"path": "in.txt"}),)) for i in range(20)),
                delay=0.1,
            ),
        },
    )


def test_subagent_past_its_time_limit_is_stopped_and_marked_partial(ws_path: Path) -> None:
    (ws_path / "in.txt").write_text("x\n")
    cfg = ws_path / ".cairn" / "config.toml"
    cfg.write_text(cfg.read_text() + "\n[agent]\nsubagent_timeout = 0.5\n")
    with Workspace.open(ws_path) as ws:
        ws.create_task("s", phases=["work"])
        t0 = time.monotonic()
        res = run_task(ws, "s", RunOptions(model="scripted:t-slow-sub"))
        assert time.monotonic() - t0 < 1.8
        assert res.state == "done" and res.stats.subagent_partial == 1
        with ws.store.read() as tx:
            row = next(iter(records(tx, "subagent_runs")), None)
        assert row is not None and row["partial"] == 1
        assert "time limit of 0.5 s" in row["summary"]
        # The transcript keeps what the subagent did before it was stopped.
        assert "read_file" in (ws_path / row["transcript"]).read_text()


def test_bad_subagent_specs_are_refused(ws_path: Path) -> None:
    @register("t-bad-sub")
    def _bad() -> Suite:
        return Suite(
            "t-bad-sub",
            {
                "work": Script(
                    (
                        Unit(
                            "a", (Call("spawn_subagents", {"tasks": [_task("x", ["../out.txt"])]}),)
                        ),
                        Unit("b", (Call("spawn_subagents", {"tasks": [{"name": "y"}]}),)),
                    )
                )
            },
        )

    with Workspace.open(ws_path) as ws:
        ws.create_task("s", phases=["work"])
        res = run_task(ws, "s", RunOptions(model="scripted:t-bad-sub"))
        assert res.state == "done"
        assert res.stats.refused == 1 and res.stats.tool_errors == 1
        assert res.stats.subagents == 0


@register("t-sub-window")
def _sub_window() -> Suite:
    reads = tuple(Unit(f"r{i}", (Call("read_file", {"path": f"big{i}.txt"}),)) for i in range(6))
    return Suite(
        "t-sub-window",
        {
            "work": Script(
                (Unit("s", (Call("spawn_subagents", {"tasks": [_task("reader", [])]}),)),)
            ),
            "sub:reader": Script(
                (*reads, Unit("w", (Call("write_file", {"path": "read.txt", "content": "ok"}),))),
                final="read all six",
            ),
        },
    )


def test_subagent_masks_old_outputs_to_stay_inside_the_window(ws_path: Path) -> None:
    for i in range(6):
        (ws_path / f"big{i}.txt").write_text(f"line {i} " * 700)
    with Workspace.open(ws_path) as ws:
        ws.create_task("s", phases=["work"])
        res = run_task(ws, "s", RunOptions(model="scripted:t-sub-window", window=10_000))
        assert res.state == "done" and res.stats.subagent_partial == 0
        assert (ws_path / "read.txt").read_text() == "ok"
        with ws.store.read() as tx:
            row = next(iter(records(tx, "subagent_runs")), None)
        assert row is not None and row["summary"] == "read all six"
        assert "[masked after compaction" in (ws_path / row["transcript"]).read_text()
