"""Context budget: allocations, ledger, warnings, CLI and status section."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cairn.cli import main
from cairn.core.errors import UsageError, ValidationError
from cairn.domain import budget
from cairn.domain.workspace import Workspace


def _cli(capsys: pytest.CaptureFixture[str], ws: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["-C", str(ws), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_seed_allocation_scaled_to_window(ws_path: Path) -> None:
    with Workspace.open(ws_path) as ws:
        full = budget.settings(ws.config)
        assert full.window == 1_000_000
        assert full.allocations == budget.SEED_ALLOCATION
        small = budget.settings(ws.config, window=200_000)
        assert small.allocations == {
            "specs": 10_000,
            "orchestration": 10_000,
            "user": 4_000,
            "subagent_summaries": 6_000,
            "buffer": 170_000,
        }
        assert budget.settings(ws.config, model="openai:gpt-4o").window == 128_000
        assert budget.settings(ws.config, model="anthropic:claude-sonnet-4-5").window == 200_000


def test_config_overrides_and_buffer_is_the_rest(ws_path: Path) -> None:
    cfg = ws_path / ".cairn" / "config.toml"
    cfg.write_text(
        cfg.read_text()
        + '\n[budget]\nwindow = 100000\nspecs = 20000\n"user communication" = 5000\n'
    )
    with Workspace.open(ws_path) as ws:
        st = budget.settings(ws.config)
        assert st.window == 100_000
        assert st.allocations["specs"] == 20_000
        assert st.allocations["user"] == 5_000
        assert st.allocations["orchestration"] == 5_000  # seed share of 100 k
        assert st.allocations["buffer"] == 100_000 - 20_000 - 5_000 - 5_000 - 3_000
        assert not st.scaled
    cfg.write_text(cfg.read_text().replace("specs = 20000", "specs = 200000"))
    with Workspace.open(ws_path) as ws, pytest.raises(UsageError, match="over the"):
        budget.settings(ws.config)


def test_ledger_by_category_and_context(ws_path: Path) -> None:
    with Workspace.open(ws_path) as ws:
        budget.record(ws, "specs", 30_000, source="read spec.md", exact=True)
        budget.record(ws, "specs", 12_000, source="read api.md")
        budget.record(ws, "subagent summaries", 500, source="subagent A")
        budget.record(ws, "subagent work", 40_000, source="subagent A")
        rep = budget.report(ws)
        by = {c.category: c for c in rep.categories}
        assert by["specs"].used == 42_000
        assert not by["specs"].exact  # one of the two was an estimate
        assert by["specs"].top_sources[0] == ("read spec.md", 30_000)
        assert by["specs"].exact_tokens == 30_000  # of the 42,000: the rest is the estimate
        (specs,) = [c for c in rep.to_json()["categories"] if c["category"] == "specs"]
        assert (specs["exact_tokens"], specs["estimated_tokens"]) == (30_000, 12_000)
        assert rep.to_json()["subagent_work_estimated_tokens"] == 40_000
        assert by["subagent_summaries"].used == 500
        assert rep.total_in_context == 42_500  # subagent work is outside the context
        assert rep.outside == 40_000
        assert by["specs"].level == "warn" and any("past 80%" in w for w in rep.warnings)
        budget.record(ws, "specs", 9_000, source="read more")
        rep = budget.report(ws)
        assert {c.category: c.level for c in rep.categories}["specs"] == "over"
        assert any("over its allocation" in w for w in rep.warnings)
        # A new context starts from zero; --all sums every context.
        cid = budget.new_context(ws, "session", note="after /clear")
        assert budget.report(ws).context_id == cid
        assert budget.report(ws).total_in_context == 0
        assert budget.report(ws, all_contexts=True).total_in_context == 51_500
        everything = {c.category: c for c in budget.report(ws, all_contexts=True).categories}
        assert everything["specs"].exact_tokens == 30_000
        with pytest.raises(ValidationError):
            budget.record(ws, "gossip", 5, source="x")
        with pytest.raises(ValidationError):
            budget.record(ws, "specs", -5, source="x")
        with pytest.raises(ValidationError):
            budget.record(ws, "specs", 5, source="")
        with pytest.raises(ValidationError, match="from 0 to"):
            budget.record(ws, "specs", 10**20, source="a typo")  # not an internal OverflowError


def test_record_text_counts_offline(ws_path: Path) -> None:
    with Workspace.open(ws_path) as ws:
        e = budget.record_text(ws, "specs", "hello world " * 100, source="t", model="gpt-4o")
        assert e.exact and 150 <= e.tokens <= 250
        e2 = budget.record_text(ws, "specs", "hello world", source="t", model="claude-sonnet-4")
        assert not e2.exact


def test_cli_budget_record_show_json_and_status(
    ws_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _cli(capsys, ws_path, "budget")
    assert code == 0 and "Nothing recorded yet" in out
    code, out, _ = _cli(
        capsys, ws_path, "budget", "record", "specs", "41000", "--source", "read docs"
    )
    assert code == 0 and "41,000" in out
    (ws_path / "notes.md").write_text("word " * 300)
    code, out, _ = _cli(
        capsys, ws_path, "budget", "record", "user", "--text-file", "notes.md", "--source", "n"
    )
    assert code == 0 and "under user" in out
    code, out, _ = _cli(capsys, ws_path, "budget")
    assert "specs and documentation" in out and "WARN" in out and "[" in out
    code, out, _ = _cli(capsys, ws_path, "budget", "--json")
    data = json.loads(out)
    assert data["schema"] == "cairn.budget/1"
    specs = next(c for c in data["categories"] if c["category"] == "specs")
    assert specs["used"] == 41_000 and specs["level"] == "warn"
    assert data["warnings"]
    status = (ws_path / "CURRENT_WORK_STATUS.md").read_text()
    assert "## Context budget" in status and "past 80%" in status
    code, _, err = _cli(capsys, ws_path, "budget", "record", "nonsense", "5", "--source", "x")
    assert code == 2 and "not one of" in err
    code, _, err = _cli(
        capsys, ws_path, "budget", "record", "specs", "--text-file", "../x", "--source", "x"
    )
    assert code == 2 and "does not exist" in err  # read like /abs/x (issue 11's one rule)
    code, out, _ = _cli(capsys, ws_path, "budget", "reset", "--note", "compacted")
    assert code == 0 and "new context" in out
    code, out, _ = _cli(capsys, ws_path, "budget", "--json")
    assert json.loads(out)["total_in_context"] == 0


def test_bar_rendering() -> None:
    assert budget.bar(0.5, 10) == "[#####.....]"
    assert budget.bar(1.4, 4) == "[####]!"


def test_the_status_lists_the_newest_subagents_with_partial_as_0_or_1(ws_path: Path) -> None:
    ws = Workspace.open(ws_path)
    ws.create_task("t1")
    budget.record(ws, "specs", 100, source="README.md")
    with ws.store.write() as tx:
        for n, state in ((1, "done"), (2, "failed")):
            tx.runs.start_subagent(
                f"sub{n}",
                run_id="run1",
                task_id="t1",
                name=f"w{n}",
                spec={"goal": "x"},
                model="scripted:demo",
                budget_tokens=1000,
                transcript=f"logs/sub{n}.jsonl",
                started_at=f"2026-01-01T00:00:0{n}.000Z",
            )
            tx.runs.finish_subagent(
                f"sub{n}",
                state=state,
                used_tokens=10,
                summary="s",
                summary_tokens=1,
                finished_at=f"2026-01-01T00:00:0{n}.500Z",
                error=None,
            )
    with ws.store.read() as tx:
        section = budget.status_section(ws, tx)
    assert section is not None
    _key, data, md = section
    assert data["subagents"] == [
        {"name": "w2", "state": "failed", "partial": 1, "transcript": "logs/sub2.jsonl"},
        {"name": "w1", "state": "done", "partial": 0, "transcript": "logs/sub1.jsonl"},
    ]
    assert "- w2: failed (partial) — transcript logs/sub2.jsonl" in md
    ws.close()
