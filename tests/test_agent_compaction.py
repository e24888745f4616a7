"""Compaction at safe points, and forced (suboptimal) compaction at the hard limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cairn.agent import RunOptions, run_task
from cairn.domain.workspace import Workspace
from cairn.models.scripted import Call, Script, Suite, Unit, scripted_model
from cairn.models.scripted_suites import get_suite, register
from helpers.stored import records

FILES = 8


def _setup(root: Path) -> None:
    (root / "big").mkdir()
    for i in range(FILES):
        lines = [
            f"row {i}-{k}: " + " ".join(f"w{(i * k + j) % 97}" for j in range(12))
            for k in range(60)
        ]
        (root / "big" / f"f{i}.txt").write_text("\n".join(lines) + "\n")


def _copy_unit(i: int, with_progress: bool) -> Unit:
    out = f"copies/f{i}.txt"

    def write(prev: list[str]) -> dict[str, Any]:
        return {"path": out, "content": prev[0].upper()}

    calls = [Call("read_file", {"path": f"big/f{i}.txt"}), Call("write_file", write)]
    if with_progress:
        calls.append(Call("progress", {"text": f"copied f{i}"}))
    return Unit(f"c{i}", tuple(calls), (out,))


@register("t-copy-safe")
def _safe() -> Suite:
    return Suite("t-copy-safe", {"work": Script(tuple(_copy_unit(i, True) for i in range(FILES)))})


@register("t-copy-hard")
def _hard() -> Suite:
    return Suite("t-copy-hard", {"work": Script(tuple(_copy_unit(i, False) for i in range(FILES)))})


def _verify(root: Path) -> None:
    for i in range(FILES):
        src = (root / "big" / f"f{i}.txt").read_text().rstrip("\n").upper()
        assert (root / "copies" / f"f{i}.txt").read_text() == src, i


def _spy(suite: str) -> tuple[Any, list[list[Any]]]:
    model = scripted_model(get_suite(suite), suite)
    calls: list[list[Any]] = []
    inner = model.function  # type: ignore[attr-defined]

    async def spy(messages: list[Any], info: Any) -> Any:
        calls.append(list(messages))
        return await inner(messages, info)

    model.function = spy  # type: ignore[attr-defined]
    return model, calls


def _compactions(ws: Workspace) -> list[dict[str, Any]]:
    with ws.store.read() as tx:
        return records(tx, "agent_compactions")


def test_compacts_at_a_safe_point_after_a_checkpoint(ws_path: Path) -> None:
    _setup(ws_path)
    model, calls = _spy("t-copy-safe")
    with Workspace.open(ws_path) as ws:
        ws.create_task("t", phases=["work"])
        res = run_task(ws, "t", RunOptions(model=model, window=30_000, subagents=False))
        assert res.state == "done"
        _verify(ws_path)
        rows = _compactions(ws)
        assert rows and all(r["safe_point"] == 1 for r in rows)
        assert res.stats.compactions == len(rows) and res.stats.suboptimal == 0
        for r in rows:
            assert r["tokens_before"] >= 0.75 * 30_000
            assert r["tokens_after"] < r["tokens_before"]
            assert r["tokens_since_checkpoint"] == 0
        assert res.stats.peak < 0.9 * 30_000
        # Each compaction was a recovery, logged as at a safe point.
        log = (ws_path / "logs" / "compaction_recovery.log").read_text()
        assert log.count("Compaction happened during t / phase work") == len(rows)
        assert "safe point" in log and "SUBOPTIMAL" not in log
        # The steps are not repeated: each file was copied once.
        assert [s.text for s in ws.steps("t")] == [f"copied f{i}" for i in range(FILES)]
        # Every context got its own ledger; none passed the window.
        with ws.store.read() as tx:
            kinds = [r["kind"] for r in records(tx, "budget_contexts")]
        assert kinds.count("compaction") == len(rows)
    # After a compaction the model saw: the phase prompt with a fresh brief, then the last exchange.
    first_after = next(c for c in calls[1:] if "Resumed: yes" in str(c[0].parts[0].content))
    assert "Recovery brief: t" in str(first_after[0].parts[0].content)
    assert len(first_after) == 3
    assert first_after[2].parts[0].tool_name == "progress"


def test_hard_limit_forces_a_suboptimal_compaction_and_work_still_completes(ws_path: Path) -> None:
    _setup(ws_path)
    model, calls = _spy("t-copy-hard")
    with Workspace.open(ws_path) as ws:
        ws.create_task("t", phases=["work"])
        ws.start_phase("t", "work")
        ws.write_checkpoint("t", "plan", "# Plan\n\nCopy big/ to copies/ in upper case.\n")
        ws.finish_phase("t", "work")
        res = run_task(ws, "t", RunOptions(model=model, window=12_000, phases=["work"]))
        assert res.state == "done"
        _verify(ws_path)
        rows = _compactions(ws)
        assert rows and any(r["safe_point"] == 0 for r in rows)
        assert res.stats.suboptimal == sum(1 for r in rows if r["safe_point"] == 0)
        sub = next(r for r in rows if r["safe_point"] == 0)
        assert sub["tokens_before"] >= 0.9 * 12_000
        assert sub["tokens_since_checkpoint"] > 0
        assert "SUBOPTIMAL" in sub["reason"]
        log = (ws_path / "logs" / "compaction_recovery.log").read_text()
        assert "SUBOPTIMAL: mid-phase" in log
        assert "Loaded checkpoint from artifacts/t_plan.md" in log
    # Old tool outputs are gone after the compaction; the big read in the tail is masked.
    after = next(c for c in calls[1:] if "Resumed: yes" in str(c[0].parts[0].content))
    texts = [str(getattr(p, "content", "")) for m in after for p in m.parts]
    assert any(t.startswith("[masked after compaction") for t in texts) or len(after) <= 3
    # The resumed model listed what exists before going on (it had lost track).
    assert any(
        getattr(p, "tool_name", "") == "list_files" for c in calls for m in c for p in m.parts
    )
