"""cairn's hooks on what the real Codex CLI 0.171.0 sent them (tests/fixtures/hooks/codex-0.171.0,
recorded from `codex exec`), replayed on a rollout in the shape that Codex writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cairn.cli import main
from cairn.domain.workspace import Workspace
from cairn.integrations.hooks import run_hook
from helpers import stored

RECORDED = Path(__file__).parent / "fixtures" / "hooks" / "codex-0.171.0"


def iso(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def hook(event: str, name: str, cwd: Path, transcript: Path) -> dict[str, Any] | None:
    import io

    data = json.loads((RECORDED / f"{name}.json").read_text())
    data.update(cwd=str(cwd), transcript_path=str(transcript))
    out, err = io.StringIO(), io.StringIO()
    stdin = io.BytesIO(json.dumps(data).encode())
    assert run_hook(event, agent="codex", stdin=stdin, stdout=out, stderr=err) == 0
    assert err.getvalue() == ""
    text = out.getvalue().strip()
    return json.loads(text) if text else None


def test_recorded_codex_inputs_drive_the_whole_cycle(ws_path: Path, tmp_path: Path) -> None:
    with Workspace.open(ws_path) as ws:
        ws.create_task("f4", "Best-of-N", ["analysis", "plan"])
        ws.start_phase("f4", "analysis")
    t0 = datetime.now(UTC)
    search = {"type": "tool_search_call", "call_id": "c1", "execution": "client",
              "status": "completed", "arguments": {"query": "cairn"}}  # fmt: skip
    shell = {"type": "function_call", "name": "exec_command", "call_id": "c2", "arguments": "{}"}
    summary = "SUMMARY: analysis half done"
    records = [
        {"timestamp": iso(t0), "ordinal": 1, "type": "session_meta", "payload": {"id": "s"}},
        {"timestamp": iso(t0 + timedelta(seconds=1)), "type": "response_item", "payload": search},
        {"timestamp": iso(t0 + timedelta(seconds=2)), "type": "response_item", "payload": shell},
        {"timestamp": iso(t0 + timedelta(seconds=9)), "type": "compacted",
         "payload": {"message": "Another language model …\n" + summary}},
    ]  # fmt: skip
    rollout = tmp_path / "rollout-2026-12-01T11-20-09-s.jsonl"
    rollout.write_text("".join(json.dumps(r) + "\n" for r in records))

    out = hook("session-start", "session_start_startup", ws_path, rollout)
    assert (
        out is not None and "Recovery brief: f4" in out["hookSpecificOutput"]["additionalContext"]
    )
    assert hook("pre-compact", "pre_compact_auto", ws_path, rollout) is not None  # mid-phase
    assert hook("post-compact", "post_compact_auto", ws_path, rollout) is None
    out = hook("session-start", "session_start_compact", ws_path, rollout)
    assert out is not None
    assert "context was just compacted" in out["hookSpecificOutput"]["additionalContext"]
    assert hook("stop", "stop", ws_path, rollout) is None  # checkpointed recently enough

    assert main(["-C", str(ws_path), "hooks", "compactions", "--json"]) == 0
    with Workspace.open(ws_path) as ws, ws.store.read() as tx:
        (row,) = stored.records(tx, "compactions")
    assert (row["agent"], row["trigger"], row["safe_point"]) == ("codex", "auto", 0)
    assert row["tool_calls_since_checkpoint"] == 2  # the tool search counts
    assert row["summary"].endswith(summary)
