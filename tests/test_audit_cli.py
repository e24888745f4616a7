"""``cairn audit`` through the CLI: output forms, the HTML path, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cairn.cli import main

FIX = Path(__file__).parent / "fixtures" / "transcripts"
CLAUDE_21 = FIX / "claude" / "-home-dev-proj" / "7f3a2c10-0000-4000-8000-000000000001.jsonl"

SESSION_KEYS = {
    "path", "format", "session_id", "is_subagent", "agent_id", "versions", "models",
    "context_window", "lines", "records", "malformed_count", "malformed", "ignored", "unknown",
    "unknown_count", "turns", "peak_context", "peak_turn", "final_context", "timeline",
    "timeline_points_total", "timeline_bucket_turns", "compactions", "compaction_counts",
    "checkpoint_writes", "context_by_category", "largest_items", "spend", "subagents",
}  # fmt: skip
COMPACTION_KEYS = {
    "kind", "sources", "line", "ts", "turn", "trigger", "pre_tokens", "pre_tokens_from",
    "post_tokens", "tokens_saved", "placement", "checkpoint", "turns_since_checkpoint",
}  # fmt: skip


def test_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(FIX), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "cairn.audit/1"
    assert set(doc) >= {"generated_at", "estimate", "safe_window_turns", "paths", "files",
                        "sessions", "totals"}  # fmt: skip
    for s in doc["sessions"]:
        assert set(s) == SESSION_KEYS
        for c in s["compactions"]:
            assert set(c) == COMPACTION_KEYS and c["placement"] in ("safe", "mid_phase")
        for p in s["timeline"]:
            assert set(p) == {"turn", "line", "ts", "context"}
        assert set(s["subagents"]) == {
            "count",
            "calls",
            "spend_tokens",
            "returned_tokens",
            "agents",
        }
    assert set(doc["totals"]["compactions"]) == {"total", "safe", "mid_phase", "by_kind"}


def test_text_and_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    assert main(["audit", str(CLAUDE_21), "--html", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Compactions (2" in text and f"HTML report written to {out}" in text
    page = out.read_text()
    assert "<svg" in page and "</html>" in page


def test_json_names_the_html_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    assert main(["audit", str(CLAUDE_21), "--json", "--html", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["html"] == str(out)
    assert out.exists()


@pytest.mark.parametrize(
    "args, needle",
    [
        (["audit", "/nonexistent/transcripts"], "no such file or folder"),
        (["audit", str(CLAUDE_21), "--html", "{tmp}"], "is a folder"),
        (["audit", str(CLAUDE_21), "--html", "{tmp}/missing/r.html"], "does not exist"),
        (["audit", str(CLAUDE_21), "--html", "r\x00.html"], "NUL byte"),
        (["audit", "{tmp}"], "no transcripts"),
        (["audit", str(CLAUDE_21), "--window", "-1"], "--window"),
        (["audit", str(CLAUDE_21), "--points", "1"], "--points"),
    ],
)
def test_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.startswith("cairn: error:")
    assert not list(tmp_path.glob("*.html"))


def test_no_path_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["audit"])
    assert exc.value.code == 2


def test_malformed_input_still_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_text("not json\n{also not\n")
    assert main(["audit", str(f)]) == 0
    assert "Malformed lines: 2 (line 1, 2)" in capsys.readouterr().out


def test_runs_without_a_workspace_in_a_fresh_process(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "cairn", "audit", str(CLAUDE_21), "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["sessions"][0]["turns"] == 15
