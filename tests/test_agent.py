"""The agent runtime with the scripted model: phases, tools, ledger, CLI."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from cairn.agent import RunOptions, run_task
from cairn.cli import main
from cairn.domain import budget
from cairn.domain.workspace import Workspace
from cairn.models.scripted import Call, Script, Suite, Unit
from cairn.models.scripted_suites import get_suite, register
from helpers.stored import records


def _demo_ws(root: Path, phases: tuple[str, ...] = ("analysis", "implement")) -> Workspace:
    ws = Workspace.open(root)
    get_suite("demo").setup(root)  # type: ignore[misc]
    ws.create_task("demo", "Demo sums", phases=phases)
    return ws


def test_runs_all_phases_and_verifies(ws_path: Path) -> None:
    with _demo_ws(ws_path) as ws:
        res = run_task(ws, "demo", RunOptions(model="scripted:demo"))
        assert res.state == "done"
        assert [p.state for p in res.phases] == ["done", "done"]
        ok, why = get_suite("demo").verify(ws_path)  # type: ignore[misc]
        assert ok, why
        task = ws.task("demo")
        assert [p.state for p in task.phases] == ["done", "done"]
        # The analysis phase wrote its own checkpoint; implement got one from the runtime.
        assert "sum" in (ws.checkpoint("demo", "analysis").content or "")
        assert "Phase implement complete" in (ws.checkpoint("demo", "implement").content or "")
        assert [s.text for s in ws.steps("demo")] == [f"wrote out/sum_{i}.txt" for i in range(3)]
        # Each phase is its own context; everything that entered is in the ledger.
        rep = budget.report(ws, all_contexts=True)
        by = {c.category: c.used for c in rep.categories}
        assert by["specs"] > 0 and by["orchestration"] > 0
        assert rep.total_in_context == res.stats.entered
        with ws.store.read() as tx:
            n = sum(r["kind"] == "agent-phase" for r in records(tx, "budget_contexts"))
            run = next(iter(records(tx, "agent_runs")), None)
        assert n == 2
        assert run is not None and run["state"] == "done"
        assert json.loads(run["usage"])["requests"] == res.stats.requests
        assert res.stats.compactions == 0 and res.stats.tool_errors == 0


def test_phase_prompt_starts_from_brief_and_rerun_only_named_phase(ws_path: Path) -> None:
    seen: list[str] = []

    @register("t-echo")
    def _suite() -> Suite:
        def grab(prev: list[str]) -> dict[str, str]:
            return {"path": "artifacts/demo_analysis.md"}

        return Suite("t-echo", {"implement": Script((Unit("r", (Call("read_file", grab),)),))})

    with _demo_ws(ws_path) as ws:
        run_task(ws, "demo", RunOptions(model="scripted:demo", phases=["analysis"]))
        assert ws.task("demo").phases[1].state == "pending"

        from pydantic_ai.messages import ModelRequest, UserPromptPart

        from cairn.models.scripted import scripted_model

        inner = scripted_model(get_suite("t-echo"), "t-echo")
        orig = inner.function  # type: ignore[attr-defined]

        async def spy(messages, info):  # type: ignore[no-untyped-def]
            for m in messages:
                if isinstance(m, ModelRequest):
                    seen.extend(str(p.content) for p in m.parts if isinstance(p, UserPromptPart))
            return await orig(messages, info)

        inner.function = spy  # type: ignore[attr-defined]
        res = run_task(ws, "demo", RunOptions(model=inner, phases=["implement"], subagents=False))
        assert res.state == "done"
    prompt = seen[0]
    assert "## Phase: implement" in prompt and "Resumed: no" in prompt
    assert "Recovery brief: demo" in prompt and "artifacts/demo_analysis.md" in prompt


def _bad_suite(outside: Path) -> Suite:
    return Suite(
        "t-bad",
        {
            "work": Script(
                (
                    Unit("u1", (Call("no_such_tool", {"x": 1}),)),
                    Unit("u2", (Call("read_file", {"path": 5, "bogus": True}),)),
                    Unit("u3", (Call("read_file", {"path": "../../etc/passwd"}),)),
                    Unit("u4", (Call("write_file", {"path": str(outside), "content": "x"}),)),
                    Unit("u5", (Call("write_file", {"path": ".cairn/cairn.db", "content": "x"}),)),
                    Unit("u6", (Call("read_file", {"path": "missing.txt"}),)),
                    Unit("u7", (Call("write_file", {"path": "ok.txt", "content": "fine"}),)),
                )
            )
        },
    )


def test_bad_tool_calls_go_back_to_the_model_and_are_counted(ws_path: Path) -> None:
    # an absolute path outside the workspace, made for this run
    outside = ws_path.parent / f"{ws_path.name}-outside" / "x_cairn_evil"
    register("t-bad")(lambda: _bad_suite(outside))
    with Workspace.open(ws_path) as ws:
        ws.create_task("bad", phases=["work"])
        res = run_task(ws, "bad", RunOptions(model="scripted:t-bad"))
        assert res.state == "done", res.phases
        # unknown tool, bad arguments, missing file: returned to the model and counted
        assert res.stats.tool_errors == 3
        # outside the workspace (read and write) and into .cairn/: refused
        assert res.stats.refused == 3
        assert not outside.exists() and not outside.parent.exists()
        assert (ws_path / "ok.txt").read_text() == "fine"
        assert ws.task("bad").phases[0].state == "done"


def test_command_tool_is_off_unless_allowed(ws_path: Path) -> None:
    @register("t-cmd")
    def _suite() -> Suite:
        return Suite(
            "t-cmd",
            {
                "work": Script(
                    (
                        Unit("a", (Call("run_command", {"argv": ["echo", "hi"]}),)),
                        Unit("b", (Call("run_command", {"argv": ["rm", "-rf", "x"]}),)),
                        Unit("c", (Call("run_command", {"argv": ["sleep", "5"]}),)),
                    )
                )
            },
        )

    with Workspace.open(ws_path) as ws:
        ws.create_task("c", phases=["work"])
        res = run_task(ws, "c", RunOptions(model="scripted:t-cmd"))
        assert res.stats.tool_errors == 3  # the tool does not exist: every call is an unknown tool
    cfg = ws_path / ".cairn" / "config.toml"
    cfg.write_text(
        cfg.read_text() + '\n[agent]\ncommands = ["echo", "sleep"]\ncommand_timeout = 0.3\n'
    )
    (ws_path / "x").mkdir()
    with Workspace.open(ws_path) as ws:
        ws.create_task("c2", phases=["work"])
        t0 = time.monotonic()
        res = run_task(ws, "c2", RunOptions(model="scripted:t-cmd"))
        assert time.monotonic() - t0 < 4  # sleep 5 was killed at its time limit
        assert res.stats.refused == 1  # rm is not on the allowlist
        assert res.stats.tool_errors == 1  # sleep ran past its limit
        assert (ws_path / "x").exists()


@pytest.mark.parametrize("value", ['"pytest"', "[1]", '[""]'])
def test_a_command_allowlist_that_is_not_a_list_of_names_is_refused(
    ws_path: Path, value: str
) -> None:
    from cairn.core.errors import UsageError

    cfg = ws_path / ".cairn" / "config.toml"
    cfg.write_text(cfg.read_text() + f"\n[agent]\ncommands = {value}\n")
    with Workspace.open(ws_path) as ws:
        ws.create_task("c", phases=["work"])
        with pytest.raises(UsageError, match="must be a list of program names"):
            run_task(ws, "c", RunOptions(model="scripted:demo"))


def test_cli_agent_run_and_runs(ws_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["-C", str(ws_path), "agent", "run", "demo", "--model", "scripted:demo", "--setup"])
    out = capsys.readouterr().out
    assert code == 0
    assert get_suite("demo").verify(ws_path)[0]  # type: ignore[misc]
    assert "scripted model" in out and "implement: done" in out and "0 suboptimal" in out
    code = main(["-C", str(ws_path), "agent", "runs", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["runs"][0]["state"] == "done"
    # One task's runs (its id matched case-insensitively), in text too.
    code = main(["-C", str(ws_path), "agent", "runs", "DEMO", "--json"])
    assert code == 0
    one = json.loads(capsys.readouterr().out)
    assert [r["task_id"] for r in one["runs"]] == ["demo"] and one["runs"] == data["runs"]
    assert main(["-C", str(ws_path), "agent", "runs", "demo"]) == 0
    assert "scripted:demo done" in capsys.readouterr().out
    code = main(["-C", str(ws_path), "agent", "run", "demo", "--model", "nonsense"])
    assert code == 2 and "provider:model" in capsys.readouterr().err
    code = main(["-C", str(ws_path), "agent", "run", "demo", "--model", "scripted:nope"])
    assert code == 2 and "no scripted suite" in capsys.readouterr().err


def test_review_request_tool_records_a_review(ws_path: Path) -> None:
    @register("t-review")
    def _suite() -> Suite:
        plan = "# Plan\n\n**Approach**: add k.\n\n**Tests needed**: k=1, k=3\n"
        return Suite(
            "t-review",
            {
                "plan": Script(
                    (
                        Unit("p", (Call("checkpoint", {"kind": "plan", "content": plan}),)),
                        Unit(
                            "r",
                            (
                                Call(
                                    "request_review",
                                    {
                                        "topic": "finding4_approach",
                                        "question": "Is this approach sound?",
                                        "concerns": ["GPU cost"],
                                    },
                                ),
                            ),
                        ),
                    )
                )
            },
        )

    with Workspace.open(ws_path) as ws:
        ws.create_task("f4", phases=["plan"])
        res = run_task(ws, "f4", RunOptions(model="scripted:t-review"))
        assert res.state == "done" and res.stats.tool_errors == 0
        with ws.store.read() as tx:
            row = next(iter(records(tx, "reviews")), None)
        assert row is not None and row["topic"] == "finding4_approach"
        assert list((ws_path / "reviews" / "requests").iterdir())


def test_reads_are_bounded(ws_path: Path) -> None:
    (ws_path / "wide.txt").write_text(("x" * 1000 + "\n") * 500)
    (ws_path / "one.txt").write_text("y" * 300_000)
    got: list[str] = []

    @register("t-read")
    def _suite() -> Suite:
        def keep(prev: list[str]) -> dict[str, str]:
            got.extend(prev)
            return {"path": "done.txt", "content": "ok"}

        return Suite(
            "t-read",
            {
                "work": Script(
                    (
                        Unit(
                            "r",
                            (
                                Call("read_file", {"path": "wide.txt"}),
                                Call("read_file", {"path": "one.txt"}),
                                Call("read_file", {"path": "wide.txt", "start_line": 490}),
                                Call("write_file", keep),
                            ),
                        ),
                    )
                )
            },
        )

    with Workspace.open(ws_path) as ws:
        ws.create_task("r", phases=["work"])
        assert run_task(ws, "r", RunOptions(model="scripted:t-read")).state == "done"
    wide, one, tail = got
    assert len(wide) < 201_000 and wide.endswith("read on with start_line=200]")
    assert len(one) < 201_000 and "line 1 is longer than 200,000 characters" in one
    assert tail.endswith("[lines 490-500 of 500; read on with start_line=501]")
