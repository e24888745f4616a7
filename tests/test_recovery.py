"""The recovery brief: always bounded (counted exactly), always naming what an agent needs."""

from __future__ import annotations

import base64
import gc
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cairn.core.errors import UsageError
from cairn.core.tokens import count_tokens, guaranteed_upper_bound
from cairn.domain.workspace import Workspace
from cairn.projection.recovery_log import log_text
from cairn.recovery.brief import build_brief, files_from_content, recover, render_log
from helpers.cli import run

CJK = "敏捷的棕色狐狸跳过了懒狗。我们添加了参数并验证了排序逻辑。日本語の説明も少し。"


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    w = Workspace.init(tmp_path)
    yield w
    w.close()
    gc.collect()


def must_name(brief_text: str, *needles: str) -> None:
    for n in needles:
        assert n in brief_text, f"brief does not name {n!r}:\n{brief_text}"


def _long_history(w: Workspace, *, content: str, steps: int, versions: int, tid: str) -> None:
    """Hundreds of versions and thousands of steps, written through the domain in few commits."""
    from cairn.domain.workspace import now

    w.create_task(tid, f"{CJK[:20]} long title " * 5, ["analysis", "plan", "implement"])
    w.start_phase(tid, "analysis")
    w.finish_phase(tid, "analysis")
    w.start_phase(tid, "plan")
    ts = now()
    rng = random.Random(1)
    with w.store.transaction() as tx:
        for i in range(steps):
            state = rng.choice(("done", "done", "done", "active", "todo", "failed"))
            text = f"step {i}: {CJK[: rng.randint(5, 30)]} {'x' * rng.randint(0, 300)}"
            tx.insert(
                "INSERT INTO steps (task_id, phase, text, state, created_at, updated_at) "
                "VALUES (?, 'plan', ?, ?, ?, ?)",
                (tid, text, state, ts, ts),
            )
            w._event(tx, tid, "step.recorded", ts, text=text, state=state)
        for v in range(versions):
            kind = ("analysis", "plan", "notes")[v % 3]
            text = f"# {kind} v{v}\n{CJK}\n" + "filler line\n" * 20
            w._insert_checkpoint(tx, tid, kind, text, text.encode(), (), "plan", "write", ts)
    w.write_checkpoint(tid, "plan", content, files=["src/rank.py", "tests/test_rank.py"])
    w.progress(tid, f"{CJK} the latest step", "active")
    w.set_next(tid, f"Implement the ranking logic — {CJK}")


HUGE = {
    "prose": ("The plan, in long form. " * 40 + "\n") * 3000,
    "cjk": (CJK * 20 + "\n") * 2000,
    "one_giant_line": "x" * 1_000_000,
    "hashes": "\n".join(
        f"{i:06d} {base64.b64encode(random.Random(i).randbytes(48)).decode()} "
        f"sha256={random.Random(-i).randbytes(32).hex()}"
        for i in range(20_000)
    ),
    "emoji_and_marks": ("✅⏳⏸️❌🧱👨‍👩‍👧‍👦 a\u0301e\u0302o\u0308 " * 50 + "\n") * 800,
}


@pytest.mark.parametrize("shape", sorted(HUGE))
def test_brief_fits_the_bound_exactly_with_a_long_history(shape: str, ws: Workspace) -> None:
    content = "# Plan\n\n**Files to modify**: src/rank.py, src/sample.py\n\n" + HUGE[shape]
    _long_history(ws, content=content, steps=3000, versions=300, tid="f4")
    for bound in (200, 350, 1000, 2000, 8000):
        for exact in (False, True):
            b = build_brief(ws, max_tokens=bound, exact=exact)
            real = count_tokens(b.text)
            assert real <= bound, (shape, bound, exact, real)
            assert b.tokens <= bound and b.tokens >= real  # reported count is never an undercount
            must_name(b.text, "f4", "plan", "artifacts/f4_plan.md")
            assert b.task_id == "f4" and b.phase == "plan"
            assert b.checkpoint == "artifacts/f4_plan.md"
            assert "artifacts/f4_plan.md" in b.reloaded and "src/rank.py" in b.reloaded
            must_name(b.text, "**Next action**: Implement", "## Files to reload")
            must_name(b.text, "- CURRENT_WORK_STATUS.md", "- artifacts/f4_plan.md")
            if bound >= 350:
                must_name(b.text, "Implement the ranking", "src/rank.py")
            if bound >= 1000:
                must_name(b.text, "read artifacts/f4_plan.md for the rest")


def test_brief_uses_the_room_it_has(ws: Workspace) -> None:
    """Bounded, but not needlessly short: with room to spare the excerpt grows."""
    content = "# Plan\n" + "".join(f"line {i}: something worth reading\n" for i in range(5000))
    _long_history(ws, content=content, steps=50, versions=10, tid="f4")
    small = build_brief(ws, max_tokens=1000)
    large = build_brief(ws, max_tokens=8000)
    assert count_tokens(large.text) > 0.6 * 8000
    assert (
        large.data["newest_checkpoint"]["lines_shown"]
        > small.data["newest_checkpoint"]["lines_shown"]
    )


def test_long_fields_cannot_push_the_names_out(ws: Workspace) -> None:
    """A 500-character title and a 2,000-character next action, at the smallest bound."""
    ws.create_task("t", "T" * 500, ["plan"])
    ws.start_phase("t", "plan")
    ws.write_checkpoint("t", "plan", "# plan\n" + "z" * 50_000)
    ws.set_next("t", "漢" * 2000)
    b = build_brief(ws, max_tokens=200)
    assert count_tokens(b.text) <= 200
    must_name(
        b.text, "t", "plan", "artifacts/t_plan.md", "**Next action**: 漢", "## Files to reload"
    )


def test_guaranteed_upper_bound_is_never_below_the_exact_count() -> None:
    rng = random.Random(3)
    samples = [
        *HUGE.values(),
        base64.b64encode(rng.randbytes(5000)).decode(),
        rng.randbytes(5000).hex(),
        "".join(chr(rng.randint(0x20, 0x7E)) for _ in range(5000)),
        "".join(chr(rng.randint(0xA0, 0x2FFF)) for _ in range(3000)),
        "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(3000)),
        "".join(chr(rng.randint(0x1F300, 0x1F6FF)) for _ in range(1000)),
        "".join(chr(rng.randint(0x10000, 0x2FFFF)) for _ in range(1000)),
        " " * 5000,
        "\n\n\t " * 1000,
        "",
    ]
    for s in samples:
        assert guaranteed_upper_bound(s) >= count_tokens(s), s[:40]
    prose = HUGE["prose"][:20_000]
    assert guaranteed_upper_bound(prose) <= 1.3 * count_tokens(prose)  # and not wildly above


def test_brief_names_everything_after_a_plain_session(ws: Workspace) -> None:
    ws.create_task("finding4", "Best-of-N sampling", ["analysis", "plan", "implement"])
    ws.start_phase("finding4", "analysis")
    ws.write_checkpoint(
        "finding4",
        "analysis",
        "# Analysis\n\n**Files read**:\n- src/sample.py\n- `src/rank.py`\n",
        files=["notes/design.md"],
    )
    ws.progress("finding4", "Read the sampler", "done")
    ws.progress("finding4", "Sketch ranking", "active")
    ws.set_next("finding4", "Write the plan")
    b = build_brief(ws)
    must_name(
        b.text,
        "finding4",
        "Best-of-N sampling",
        "analysis (active)",
        "**Next action**: Write the plan",
        "**Newest checkpoint**: artifacts/finding4_analysis.md",
        "✅ Read the sampler",
        "⏳ Sketch ranking",
        "## Files to reload",
    )
    assert b.reloaded == (
        "CURRENT_WORK_STATUS.md",
        "artifacts/finding4_analysis.md",
        "artifacts/finding4_progress.md",
        "notes/design.md",
        "src/sample.py",
        "src/rank.py",
    )
    assert b.data["newest_checkpoint"]["excerpt"] is False
    d = b.to_json()
    assert d["schema"] == "cairn.brief/1"
    assert set(d) >= {
        "text",
        "tokens",
        "tokens_exact",
        "max_tokens",
        "trigger",
        "task",
        "phase",
        "checkpoint",
        "reloaded",
        "newest_checkpoint",
        "other_active",
    }
    json.dumps(d)


def test_brief_without_tasks_says_what_to_do(ws: Workspace) -> None:
    b = build_brief(ws)
    assert b.task_id is None and "cairn task new" in b.text
    assert b.reloaded == ("CURRENT_WORK_STATUS.md",)


def test_brief_picks_the_active_task_and_lists_others(ws: Workspace) -> None:
    for t in ("a", "b", "c"):
        ws.create_task(t, "", ["p"])
    ws.start_phase("a", "p")
    ws.start_phase("b", "p")
    ws.progress("b", "b moved last")
    b = build_brief(ws)
    assert b.task_id == "b" and "**Also active**: a" in b.text
    assert build_brief(ws, task_id="c").task_id == "c"
    with pytest.raises(UsageError):
        build_brief(ws, trigger="lunch")
    with pytest.raises(UsageError):
        build_brief(ws, max_tokens=50)


def test_files_from_content() -> None:
    text = (
        "**Files to modify**: `scripts/foo.py`, scripts/bar.py\n"
        "**Files modified**:\n- scripts/baz.py (lines 1-9)\n* docs/x.md\n\nplain.py is not listed\n"
    )
    assert files_from_content(text) == [
        "scripts/foo.py",
        "scripts/bar.py",
        "scripts/baz.py",
        "docs/x.md",
    ]


# -- the recovery log ------------------------------------------------------------------------------
LOG_HEAD = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z): (?P<what>.+) during (?P<task>\S+) / phase "
    r"(?P<phase>\S+) \(trigger: (?P<trigger>\w+)(?P<safe>, .*)?\)$"
)


def test_each_recovery_is_logged_with_its_fields(ws: Workspace) -> None:
    ws.create_task("f4", "", ["analysis", "plan"])
    ws.start_phase("f4", "analysis")
    ws.write_checkpoint("f4", "analysis", "# a\n**Files to modify**: src/x.py\n")
    recover(ws, trigger="compact", safe_point=True)
    recover(ws, trigger="crash", safe_point=False, note="killed mid-phase")
    recover(ws, trigger="manual")
    log = (ws.root / "logs" / "compaction_recovery.log").read_text(encoding="utf-8")
    entries = [e for e in log.split("\n\n") if e.strip()]
    assert len(entries) == 3
    for entry, trigger in zip(entries, ("compact", "crash", "manual"), strict=True):
        head, loaded, reloaded, *_ = entry.strip().split("\n")
        m = LOG_HEAD.match(head)
        assert m, head
        assert (m["task"], m["phase"], m["trigger"]) == ("f4", "analysis", trigger)
        assert loaded == "Recovery: Loaded checkpoint from artifacts/f4_analysis.md"
        assert reloaded.startswith("Context recovered: CURRENT_WORK_STATUS.md, ")
        assert "src/x.py" in reloaded
    assert "Compaction happened during" in entries[0] and ", safe point" in entries[0]
    assert "SUBOPTIMAL" in entries[1] and "Note: killed mid-phase" in entries[1]
    rows = ws.recoveries()
    assert [r.trigger for r in rows] == ["compact", "crash", "manual"]
    assert rows[0].checkpoint == "artifacts/f4_analysis.md" and rows[0].task_id == "f4"
    assert "src/x.py" in rows[0].reloaded and rows[1].safe_point is False
    events = ws.events("f4", types=["recovery"])
    assert [e.data["trigger"] for e in events] == ["compact", "crash", "manual"]
    # The log is a projection: regenerated whole from the store.
    with ws.store.read() as tx:
        assert render_log(tx.recoveries.recent(1000)) == log


def test_the_recovery_log_grows_by_the_new_entries(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a recovery the log gets the new entry after the text already there, the same text a
    whole render gives; a log that is not as cairn left it (a hand edit) is rendered whole."""
    from cairn.projection import recovery_log

    ws.create_task("f4", "", ["analysis"])
    ws.start_phase("f4", "analysis")
    path = ws.root / "logs" / "compaction_recovery.log"
    recover(ws, trigger="compact", note="one")
    whole = recovery_log._render

    def refused(_ws: Workspace) -> Any:
        raise AssertionError("rendered whole")

    monkeypatch.setattr(recovery_log, "_render", refused)
    recover(ws, trigger="crash", note="two")
    recover(ws, trigger="manual", note="three")
    assert path.read_text(encoding="utf-8") == whole(ws)[0]
    with path.open("a", encoding="utf-8") as fh:
        fh.write("a line added by hand\n")
    with pytest.raises(AssertionError, match="rendered whole"):
        recover(ws, trigger="manual", note="four")
    monkeypatch.setattr(recovery_log, "_render", whole)
    ws.projector.render_status()  # the failed flush is retried: the log is rendered whole
    text = path.read_text(encoding="utf-8")
    assert text == log_text(ws) and "by hand" not in text and "Note: four" in text


def test_since_the_last_recovery(ws: Workspace) -> None:
    ws.create_task("f4", "", ["analysis"])
    ws.start_phase("f4", "analysis")
    ws.progress("f4", "before the first recovery")
    first = recover(ws, trigger="compact")
    assert "Since the last recovery (none before)" in first.text
    assert "before the first recovery" in first.text  # in the progress list
    ws.progress("f4", "after the first recovery")
    ws.write_checkpoint("f4", "analysis", "# new analysis\n")
    second = build_brief(ws)
    since = second.text.split("## Since the last recovery", 1)[1]
    last_ts = ws.recoveries()[-1].ts
    assert since.startswith(f" ({last_ts})")
    assert "after the first recovery" in since
    assert "analysis v1 (write)" in since
    assert "before the first recovery" not in since
    assert "2 events" in since  # the step, the analysis checkpoint (a step stores no version)


def test_since_the_last_recovery_leaves_out_the_journals_bookkeeping(ws: Workspace) -> None:
    """The briefs, reminders, forecasts and ledger turns the hooks journal are not changes to the
    work: after them alone there is nothing "since the last recovery"."""
    ws.create_task("f4", "", ["analysis"])
    ws.start_phase("f4", "analysis")
    recover(ws, trigger="startup")
    for kind in ("hook.brief", "hook.forecast", "hook.ledger", "hook.reminder"):
        ws.record_event("f4", kind, session="s1")
    assert "## Since the last recovery" not in build_brief(ws).text
    ws.progress("f4", "a real step")
    ws.record_event("f4", "hook.forecast", session="s1")
    since = build_brief(ws).text.split("## Since the last recovery", 1)[1]
    assert "- 1 events: 1 step.recorded" in since
    assert "hook." not in since


def test_recover_cli_no_log_and_json(ws: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    ws.create_task("f4", "", ["analysis"])
    ws.start_phase("f4", "analysis")
    log = ws.root / "logs" / "compaction_recovery.log"
    r = run(capsys, ws.root, "recover", "--no-log")
    assert r.code == 0 and "f4" in r.out
    assert ws.recoveries() == [] and log.read_text(encoding="utf-8") == ""
    r = run(capsys, ws.root, "recover", "--json", "--exact", "--max-tokens", "300")
    d = r.json()
    assert d["tokens_exact"] is True and d["tokens"] == count_tokens(d["text"]) <= 300
    assert len(ws.recoveries()) == 1 and "f4" in log.read_text(encoding="utf-8")


def test_checkpoint_wins_over_the_since_section(ws: Workspace) -> None:
    """A short checkpoint is shown whole; the list of recent events gives way to it."""
    ws.create_task("f4", "", ["analysis"])
    ws.start_phase("f4", "analysis")
    for i in range(40):
        ws.progress("f4", f"step number {i} with a fairly long description of what was done")
    ws.write_checkpoint("f4", "analysis", "# Analysis\n**Files to modify**: src/rank.py\n")
    roomy = build_brief(ws, max_tokens=4000)
    assert "## Since the last recovery" in roomy.text
    tight = build_brief(ws, max_tokens=400)
    assert count_tokens(tight.text) <= 400
    assert "# Analysis\n**Files to modify**: src/rank.py" in tight.text
    assert tight.data["newest_checkpoint"]["excerpt"] is False
    assert "## Since the last recovery" not in tight.text


def test_cut_vocabulary_is_built_into_the_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairn.core import tokens

    monkeypatch.setenv("CAIRN_CACHE_DIR", str(tmp_path / "cache"))
    tokens._bound_encoder.cache_clear()
    try:
        text = HUGE["hashes"][:50_000] + CJK
        assert tokens.guaranteed_upper_bound(text) >= count_tokens(text)
        built = list((tmp_path / "cache").glob("o200k-top*/o200k.vocab"))
        assert len(built) == 1 and built[0].stat().st_size > 100_000
        assert not list((tmp_path / "cache").glob(".build-*"))  # no half-built folder left
    finally:
        tokens._bound_encoder.cache_clear()


def test_unwritable_cache_falls_back_to_exact_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairn.core import tokens

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("CAIRN_CACHE_DIR", str(blocker / "cache"))
    tokens._bound_encoder.cache_clear()
    try:
        assert tokens._bound_encoder() is None
        text = "fallback: " + CJK * 3
        assert tokens.guaranteed_upper_bound(text) == count_tokens(text)
    finally:
        tokens._bound_encoder.cache_clear()


def test_recovery_log_keeps_the_most_recent_entries(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairn.projection import recovery_log as projection

    monkeypatch.setattr(projection, "RECOVERY_LOG_ENTRIES", 3)
    ws.create_task("f4", "", ["analysis"])
    ws.start_phase("f4", "analysis")
    for note in ("one", "two", "three", "four", "five"):
        recover(ws, trigger="compact", note=note)
    log = (ws.root / "logs" / "compaction_recovery.log").read_text(encoding="utf-8")
    assert log.startswith("(2 earlier recoveries are in the store")
    assert [ln for ln in log.splitlines() if ln.startswith("Note: ")] == [
        "Note: three",
        "Note: four",
        "Note: five",
    ]
    assert len(ws.recoveries(limit=100)) == 5


def test_a_recovery_whose_writer_died_before_the_log_is_rendered_by_the_next_command(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ws.create_task("f4", "", ["analysis"])
    ws.start_phase("f4", "analysis")
    recover(ws, trigger="compact", note="first")
    with monkeypatch.context() as m:  # killed between the commit and the log rendering
        # the log follows in the flush: the commit is never announced to the projector
        m.setattr(ws.projector, "committed", lambda change: None)
        m.setattr(ws.projector, "render_status", lambda: None)
        recover(ws, trigger="crash", note="second")
    log = ws.root / "logs" / "compaction_recovery.log"
    assert "Note: second" not in log.read_text(encoding="utf-8")
    assert run(capsys, ws.root, "status").code == 0
    assert "Note: second" in log.read_text(encoding="utf-8")
    log.unlink()
    assert run(capsys, ws.root, "task", "list").code == 0
    assert log.read_text(encoding="utf-8") == ws.projector.recovery_log_text()
    gc.collect()
