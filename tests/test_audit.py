"""Transcript audit on fixtures built from the documented Claude Code and Codex record shapes."""

from __future__ import annotations

import importlib.util
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from cairn.audit import audit_paths, render_html, render_text
from cairn.audit.analysis import (
    Timeline,
    cairn_command,
    is_artifact_path,
    is_cairn_checkpoint_tool,
)
from cairn.audit.estimate import Estimator

FIX = Path(__file__).parent / "fixtures" / "transcripts"
CLAUDE_21 = FIX / "claude" / "-home-dev-proj" / "7f3a2c10-0000-4000-8000-000000000001.jsonl"
CLAUDE_20 = FIX / "claude" / "-home-dev-old2" / "5e5e0000-0000-4000-8000-000000000020.jsonl"
CLAUDE_1 = FIX / "claude" / "-home-dev-v1" / "11110000-0000-4000-8000-000000000001.jsonl"
CODEX_DIR = FIX / "codex" / "sessions"
CODEX_NEW = next((CODEX_DIR / "2025" / "10" / "01").glob("rollout-*.jsonl"))
CODEX_OLD = next((CODEX_DIR / "2025" / "05" / "01").glob("rollout-*.jsonl"))


def _one(path: Path, **kw: Any) -> dict[str, Any]:
    doc = audit_paths([str(path)], **kw)
    assert doc["schema"] == "cairn.audit/1"
    [s] = doc["sessions"]
    return s  # type: ignore[no-any-return]


def _make_module() -> Any:
    spec = importlib.util.spec_from_file_location("make_transcripts", FIX / "make.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_fixtures_are_what_the_builder_makes(tmp_path: Path) -> None:
    _make_module().build(tmp_path)
    built = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.json*"))
    stored = sorted(p.relative_to(FIX) for p in FIX.rglob("*.json*"))
    assert built == stored
    for rel in built:
        assert (tmp_path / rel).read_bytes() == (FIX / rel).read_bytes(), rel


# -- timeline ------------------------------------------------------------------------------------
def test_claude_timeline_is_input_plus_cache_tokens_per_response() -> None:
    s = _one(CLAUDE_21)
    ctx = [p["context"] for p in s["timeline"]]
    # 3+5000+10000, 2+1200+15000, ... — one point per message id, though msg 1 spans two lines
    assert ctx[:6] == [15003, 16202, 17002, 17302, 17502, 17902]
    assert ctx[6:14] == [2 + 1000 + 9000 + 1000 * i for i in range(8)]
    assert ctx[14] == 20102
    assert s["turns"] == 15 and s["timeline_points_total"] == 15
    assert s["peak_context"] == 20102 and s["final_context"] == 20102
    assert [p["turn"] for p in s["timeline"]] == list(range(1, 16))
    assert (
        s["spend"]["cache_read"]
        == 10000
        + 15000
        + 16200
        + 17000
        + 17300
        + 17500
        + sum(9000 + 1000 * i for i in range(8))
        + 20000
    )
    assert s["spend"]["output"] == 50 + 40 + 60 + 30 + 70 + 20 + 8 * 10 + 15


def test_old_claude_usage_without_cache_fields() -> None:
    s = _one(CLAUDE_1)
    assert [p["context"] for p in s["timeline"]] == [1200, 1500, 700]
    assert s["versions"] == ["1.0.30"]


def test_codex_timeline_from_token_count_against_the_window() -> None:
    s = _one(CODEX_NEW)
    assert s["format"] == "codex" and s["context_window"] == 272000
    ctx = [p["context"] for p in s["timeline"]]
    assert ctx[:3] == [12200, 20300, 8200]
    assert ctx[3:] == [10000 + 2000 * i for i in range(7)]
    # the repeated reading and the rate-limit-only update (info null) add no points
    assert s["timeline_points_total"] == 10
    assert s["ignored"]["event_msg:token_count (no info)"] == 1
    assert s["spend"]["cache_read"] == 0 and s["spend"]["output"] == 1400
    assert s["models"] == ["gpt-5-codex"] and s["versions"] == ["0.46.0"]


def test_timeline_is_downsampled_with_peaks_kept() -> None:
    tl = Timeline(cap=8)
    for turn in range(1, 1001):
        tl.add(turn, turn, None, 5000 if turn == 777 else turn % 100)
    assert len(tl.points) <= 8 and tl.total == 1000
    assert max(p[3] for p in tl.points) == 5000
    assert [p[0] for p in tl.points] == sorted(p[0] for p in tl.points)


def test_points_bound_applies_to_big_sessions(tmp_path: Path) -> None:
    lines = []
    for i in range(3000):
        usage = {"input_tokens": i, "cache_read_input_tokens": 1000, "output_tokens": 1}
        lines.append(
            json.dumps(
                {"type": "assistant", "sessionId": "s", "uuid": f"u{i}",
                 "message": {"id": f"m{i}", "role": "assistant", "usage": usage,
                             "content": [{"type": "text", "text": "hi"}]}}
            )
        )  # fmt: skip
    f = tmp_path / "big.jsonl"
    f.write_text("\n".join(lines) + "\n")
    s = _one(f, max_points=100)
    assert s["turns"] == 3000 and s["timeline_points_total"] == 3000
    assert 50 <= len(s["timeline"]) <= 100
    assert s["peak_context"] == 3999 and s["timeline"][-1]["context"] == 3999


# -- compactions ---------------------------------------------------------------------------------
def test_claude_compact_and_microcompact_boundaries() -> None:
    s = _one(CLAUDE_21)
    comp, micro = s["compactions"]  # the isCompactSummary after the boundary is not a second one
    assert comp["kind"] == "compact" and comp["sources"] == ["compact_boundary"]
    assert comp["trigger"] == "auto" and comp["pre_tokens"] == 167503
    assert comp["pre_tokens_from"] == "metadata" and comp["post_tokens"] == 9000
    assert comp["turn"] == 6 and comp["line"] == 17
    assert micro["kind"] == "microcompact" and micro["pre_tokens"] == 120000
    assert micro["tokens_saved"] == 30000 and micro["turn"] == 14


def test_safe_point_needs_a_checkpoint_in_the_turns_before() -> None:
    s = _one(CLAUDE_21)
    comp, micro = s["compactions"]
    assert comp["placement"] == "safe" and comp["turns_since_checkpoint"] == 2
    assert comp["checkpoint"] == {"line": 10, "turn": 4, "what": "cairn checkpoint write"}
    assert micro["placement"] == "mid_phase" and micro["turns_since_checkpoint"] == 10
    assert s["compaction_counts"] == {"total": 2, "safe": 1, "mid_phase": 1}
    narrow = _one(CLAUDE_21, window=1)["compactions"]
    assert [c["placement"] for c in narrow] == ["mid_phase", "mid_phase"]
    wide = _one(CLAUDE_21, window=10)["compactions"]
    assert [c["placement"] for c in wide] == ["safe", "safe"]


def test_mcp_checkpoint_and_artifact_writes_make_safe_points() -> None:
    s = _one(CLAUDE_20)
    first, second = s["compactions"]
    assert s["checkpoint_writes"] == 2  # checkpoint_read is not a write
    assert first["trigger"] == "manual" and first["placement"] == "safe"
    assert first["checkpoint"]["what"] == "tool mcp__cairn__checkpoint_write"
    assert first["pre_tokens"] == 3604 and first["pre_tokens_from"] == "last_usage"
    assert second["placement"] == "safe"
    assert second["checkpoint"]["what"].endswith("artifacts/mig_progress.md")
    assert second["pre_tokens"] == 150000


def test_old_claude_compaction_from_the_summary_message_alone() -> None:
    s = _one(CLAUDE_1)
    [c] = s["compactions"]
    assert c["kind"] == "compact_summary" and c["sources"] == ["isCompactSummary"]
    assert c["placement"] == "mid_phase" and c["checkpoint"] is None
    assert c["pre_tokens"] == 1500 and c["pre_tokens_from"] == "last_usage"


def test_codex_compacted_item_and_event_are_one_compaction() -> None:
    s = _one(CODEX_NEW)
    first, second = s["compactions"]
    assert first["kind"] == "codex_compacted"
    assert first["sources"] == ["compacted", "context_compacted"]
    assert first["placement"] == "safe" and first["turns_since_checkpoint"] == 0
    assert first["checkpoint"]["what"] == "cairn checkpoint write"
    assert first["pre_tokens"] == 20300
    assert second["kind"] == "codex_context_compacted"
    assert second["sources"] == ["context_compacted"]
    assert second["placement"] == "mid_phase" and second["turns_since_checkpoint"] == 8


def test_checkpoint_recognisers() -> None:
    assert is_cairn_checkpoint_tool("mcp__cairn__checkpoint_write")
    assert is_cairn_checkpoint_tool("mcp__cairn__progress")
    assert is_cairn_checkpoint_tool("cairn__phase_done")
    assert not is_cairn_checkpoint_tool("mcp__cairn__phase_start")
    assert not is_cairn_checkpoint_tool("mcp__cairn__status")
    assert not is_cairn_checkpoint_tool("mcp__cairn__checkpoint_read")
    assert not is_cairn_checkpoint_tool("mcp__cairn__checkpoint_list")
    assert not is_cairn_checkpoint_tool("mcp__other__checkpoint_write")
    assert cairn_command("cairn checkpoint write t1 plan --file p.md") == "checkpoint write"
    assert cairn_command("cd x && cairn -C /w progress 'done step'") == "progress"
    assert cairn_command("python -m cairn phase done t1 plan") == "phase done"
    assert cairn_command("cairn checkpoint show t1 plan") is None
    assert cairn_command("echo progress") is None
    assert is_artifact_path("/home/u/p/artifacts/t1_plan.md")
    assert is_artifact_path("artifacts/t1_plan.md")
    assert not is_artifact_path("/home/u/p/src/my_artifacts.py")


def _continuation_pair(tmp_path: Path, checkpoint: bool) -> tuple[Path, Path]:
    make = _make_module()
    parent = make.Claude("aaaa0000-0000-4000-8000-000000000001", "2.1.235")
    parent.user("Refactor the store")
    for i in range(4):
        cmd = "cairn checkpoint write t1 progress" if checkpoint and i == 2 else "pytest -q"
        [t] = parent.assistant([make._tool("Bash", command=cmd)], (2, 100, 50000 + 1000 * i, 10))
        parent.tool_result(t, "ok")
    child = make.Claude("bbbb0000-0000-4000-8000-000000000002", "2.1.235")
    child.system(
        "compact_boundary",
        logicalParentUuid=parent.parent,
        compactMetadata={"trigger": "auto"},
    )
    child.user(make.SUMMARY_TEXT, isCompactSummary=True)
    child.assistant([make._text("Continuing.")], (2, 9000, 0, 10))
    a, b = tmp_path / "aaaa.jsonl", tmp_path / "bbbb.jsonl"
    parent.write(a)
    child.write(b)
    return a, b


def test_a_compaction_opening_a_new_file_is_judged_by_the_file_before(tmp_path: Path) -> None:
    _, child = _continuation_pair(tmp_path, checkpoint=True)
    doc = audit_paths([str(tmp_path)])
    [c] = next(s for s in doc["sessions"] if s["path"] == str(child))["compactions"]
    assert c["turn"] == 0 and c["placement"] == "safe" and c["turns_since_checkpoint"] == 1
    assert c["checkpoint"]["what"] == "cairn checkpoint write (in aaaa.jsonl)"
    assert c["pre_tokens"] == 2 + 100 + 53000 and c["pre_tokens_from"] == "last_usage"
    alone = _one(child)["compactions"][0]  # without the file before it: nothing to judge by
    assert alone["placement"] == "mid_phase" and alone["checkpoint"] is None


def test_a_continuation_after_no_checkpoint_stays_mid_phase(tmp_path: Path) -> None:
    _continuation_pair(tmp_path, checkpoint=False)
    sessions = audit_paths([str(tmp_path)])["sessions"]
    [c] = [c for s in sessions for c in s["compactions"]]
    assert c["placement"] == "mid_phase" and c["checkpoint"] is None
    assert c["pre_tokens"] == 53102


# -- where the context went ---------------------------------------------------------------------
def _cats(s: dict[str, Any]) -> dict[str, int]:
    return {k: v["tokens"] for k, v in s["context_by_category"].items()}


def test_context_by_category_claude() -> None:
    s = _one(CLAUDE_21)
    cats = _cats(s)
    assert cats["file_reads"] == 1112 + 8 * 100  # 4000 chars, then eight 360-char reads
    assert cats["command_output"] == 500 + 7  # 1800 chars, then "Wrote fix1 progress v2"
    assert cats["subagent_results"] == 200
    assert cats["compaction_summaries"] == 167
    assert cats["user_text"] == 10 + 3  # the request and "continue"
    assert s["context_by_category"]["file_reads"]["items"] == 9
    top = s["largest_items"][0]
    assert top["tokens"] == 1112 and top["category"] == "file_reads"
    assert top["label"] == "Read /home/dev/proj/src/parse.py"
    assert abs(sum(v["share"] for v in s["context_by_category"].values()) - 1) < 0.01


def test_context_by_category_codex() -> None:
    cats = _cats(_one(CODEX_NEW))
    assert cats["file_reads"] == 1000  # cat src/app.py
    assert cats["command_output"] == 7 * 50 + 5  # rg outputs and the cairn command's output
    assert cats["compaction_summaries"] == 200
    assert cats["injected"] == 100 + 13  # developer text and environment_context
    assert cats["user_text"] == 10
    assert cats["edits"] > 0
    old = _one(CODEX_OLD)
    assert old["format"] == "codex" and old["session_id"] == "0000-old"
    assert _cats(old)["file_reads"] == 207  # sed -n, output wrapped in the early JSON form
    assert old["ignored"]["record_type:state"] == 2 and old["turns"] == 2


def test_estimate_methods_are_labelled() -> None:
    upper = audit_paths([str(CLAUDE_21)], estimate="upper")
    doc = audit_paths([str(CLAUDE_21)], estimate="exact")
    assert doc["estimate"]["method"] == "exact" and "o200k" in doc["estimate"]["label"]
    assert upper["estimate"]["method"] == "upper" and "upper_bound" in upper["estimate"]["label"]
    exact_cats = _cats(doc["sessions"][0])
    for cat, n in _cats(upper["sessions"][0]).items():
        assert n >= exact_cats[cat], cat
    assert exact_cats["file_reads"] != _cats(_one(CLAUDE_21))["file_reads"]
    assert Estimator("calibrated")("x" * 36) == 10
    assert Estimator("calibrated")("é" * 18) == 10  # bytes, not characters


# -- subagents -----------------------------------------------------------------------------------
def test_subagent_file_in_subagents_folder() -> None:
    subs = _one(CLAUDE_21)["subagents"]
    assert subs["count"] == 1 and subs["calls"] == 1
    [a] = subs["agents"]
    assert a["agent_id"] == "a1b2c3d" and a["source"] == "file" and a["turns"] == 3
    assert a["spend_tokens"] == (3 + 2000 + 100) + (3 + 500 + 2000 + 80) + (3 + 300 + 2500 + 200)
    assert a["peak_context"] == 2803
    assert a["returned_tokens"] == 200 and a["returned_from"] == "tool_result"
    assert a["reported_total_tokens"] == 42000 and a["tool_uses"] == 6
    assert a["path"].endswith("subagents/agent-a1b2c3d.jsonl")
    assert a["agent_type"] == "general-purpose" and a["description"] == "Task survey tests"


def test_subagent_file_beside_the_session_and_inline_sidechains() -> None:
    [a] = _one(CLAUDE_20)["subagents"]["agents"]
    assert a["agent_id"] == "f00d" and a["source"] == "file" and a["spend_tokens"] == 413
    assert a["returned_tokens"] == 3 and a["reported_total_tokens"] == 900
    old = _one(CLAUDE_1)
    [b] = old["subagents"]["agents"]
    assert b["source"] == "sidechain" and b["agent_id"] == "task:toolu_1111_001"
    assert b["turns"] == 2 and b["spend_tokens"] == 840 + 925
    assert b["returned_tokens"] == 7 and b["returned_from"] == "tool_result"
    assert old["turns"] == 3  # sidechain turns are the subagent's, not the session's


def test_a_lone_subagent_file_is_its_own_report() -> None:
    s = _one(CLAUDE_21.with_suffix("") / "subagents" / "agent-a1b2c3d.jsonl")
    assert s["is_subagent"] and s["agent_id"] == "a1b2c3d" and s["turns"] == 3


def test_codex_subagent_rollout_attaches_to_its_parent(tmp_path: Path) -> None:
    def meta(sid: str, source: Any) -> str:
        return json.dumps({"timestamp": "t", "type": "session_meta",
                           "payload": {"id": sid, "cli_version": "0.60.0", "source": source}})  # fmt: skip

    def tc(n: int) -> str:
        return json.dumps({"timestamp": "t", "type": "event_msg", "payload": {
            "type": "token_count", "info": {"last_token_usage": {"total_tokens": n},
                                            "total_token_usage": {"input_tokens": n}}}})  # fmt: skip

    def item(payload: dict[str, Any]) -> str:
        return json.dumps({"timestamp": "t", "type": "response_item", "payload": payload})

    spawn = item({"type": "function_call", "name": "spawn_agent", "call_id": "k1",
                  "arguments": json.dumps({"message": "survey the tests"})})  # fmt: skip
    waited = item({"type": "function_call_output", "call_id": "k1", "output": "w" * 360})
    (tmp_path / "rollout-a-parent.jsonl").write_text(
        "\n".join([meta("P", "cli"), spawn, waited, tc(5000)]) + "\n"
    )
    child_src = {"subagent": {"thread_spawn": {"parent_thread_id": "P", "depth": 1}}}
    (tmp_path / "rollout-b-child.jsonl").write_text(
        "\n".join([meta("C", child_src), tc(700), tc(900)]) + "\n"
    )
    doc = audit_paths([str(tmp_path)])
    [parent] = doc["sessions"]
    assert parent["session_id"] == "P"
    [a] = parent["subagents"]["agents"]
    assert a["agent_id"] == "C" and a["peak_context"] == 900 and a["source"] == "file"
    assert parent["subagents"]["calls"] == 1
    assert parent["context_by_category"]["subagent_results"]["tokens"] == 100


# -- robustness ----------------------------------------------------------------------------------
def test_malformed_lines_are_reported_with_numbers() -> None:
    s = _one(CLAUDE_21)
    assert s["malformed_count"] == 1 and s["malformed"][0]["line"] == 38
    assert s["malformed"][0]["error"]
    c = _one(CODEX_NEW)
    assert c["malformed_count"] == 1 and c["malformed"][0]["line"] == 44


def test_unknown_records_are_counted_and_known_ones_ignored() -> None:
    s = _one(CLAUDE_21)
    assert s["unknown"] == {"brand-new-record": 1} and s["unknown_count"] == 1
    for kind in ("progress", "file-history-snapshot", "summary", "system:turn_duration"):
        assert s["ignored"][kind] == 1, kind
    assert _one(CODEX_NEW)["unknown"] == {"future_record": 1}


def test_garbage_does_not_stop_the_audit(tmp_path: Path) -> None:
    f = tmp_path / "junk.jsonl"
    f.write_bytes(
        b'\xff\xfe not utf8\n[1, 2]\n\n{"type": "user", "message": 5}\n'
        b'{"type":"assistant","sessionId":"s","message":{"id":"m","content":"hi",'
        b'"usage":{"input_tokens":"many"}}}\n' + b"[" * 100_000 + b"\n"
    )
    s = _one(f)
    assert [m["line"] for m in s["malformed"]] == [1, 2, 6]
    assert s["records"] == 2 and s["turns"] == 1 and s["timeline"] == []


def test_an_unreadable_file_is_reported_and_the_rest_audited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.jsonl").write_text(CLAUDE_1.read_text())
    locked = tmp_path / "b.jsonl"
    locked.write_text(CLAUDE_1.read_text())
    real_open = Path.open

    def fake_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == "b.jsonl":
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", fake_open)
    a, b = audit_paths([str(tmp_path)])["sessions"]
    assert a["turns"] == 3 and a["malformed_count"] == 0
    assert b["malformed"] == [{"line": 0, "error": "cannot read the file: Permission denied"}]


def test_a_folder_instead_of_a_file_inside_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "dir.jsonl").mkdir()
    (tmp_path / "s.jsonl").write_text(CLAUDE_1.read_text())
    assert audit_paths([str(tmp_path)])["totals"]["sessions"] == 1


def test_whole_folders_group_sessions_and_subagents() -> None:
    doc = audit_paths([str(FIX)])
    assert doc["totals"]["sessions"] == 5 and doc["totals"]["subagent_files"] == 2
    assert doc["files"] == 7
    assert doc["totals"]["compactions"]["total"] == 7
    assert doc["totals"]["compactions"]["safe"] == 4
    assert doc["totals"]["malformed"] == 2 and doc["totals"]["unknown"] == 2
    json.dumps(doc)  # JSON-serialisable as it is


# -- renderers -----------------------------------------------------------------------------------
def test_text_report_names_placements() -> None:
    text = render_text(audit_paths([str(CLAUDE_21)]))
    assert "MID-PHASE" in text and "safe" in text
    assert "167,503" in text and "a1b2c3d" in text and "Malformed lines: 1 (line 38)" in text


def test_html_is_self_contained_with_an_svg_chart() -> None:
    doc = audit_paths([str(FIX)])
    page = render_html(doc)
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") >= 10
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert 'class="compaction"' in page
    assert "#2e7d32" in page and "#d84315" in page  # safe and mid-phase markers
    assert "<polyline" in page
    for svg in re.findall(r"<svg.*?</svg>", page, re.S):
        ET.fromstring(svg)  # well-formed SVG


@pytest.mark.parametrize("bad", ["<script>alert(1)</script>"])
def test_html_escapes_transcript_text(tmp_path: Path, bad: str) -> None:
    f = tmp_path / "x.jsonl"
    f.write_text(
        json.dumps(
            {
                "type": "user",
                "sessionId": bad,
                "uuid": "u",
                "version": bad,
                "message": {"role": "user", "content": bad},
            }
        )
        + "\n"
    )
    page = render_html(audit_paths([str(f)]))
    assert "<script>" not in page and "&lt;script&gt;" in page
