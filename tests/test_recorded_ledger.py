"""The ledger over transcripts the real clients wrote (tests/fixtures/recorded/, gzip:
Claude Code 2.1.332 with a background subagent, Codex 0.171.0 with a spawned one; recorded from
tests/real_clients/*/test_*subagent* and test_codex_ledger runs, paths replaced by /home/dev).

What they show: the system prompt and tools are written several times (Claude Code: a
``prompt_snapshot`` with most requests and an ``api-request-shape``; Codex: the base instructions
once in ``session_meta``) and count once; a subagent's work is what its client reported for it."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

from test_client_budget import budget, hook, stop_input

RECORDED = Path(__file__).parent / "fixtures" / "recorded"


def unpack(name: str, to: Path) -> list[dict[str, Any]]:
    text = gzip.decompress((RECORDED / name).read_bytes()).decode()
    to.parent.mkdir(parents=True, exist_ok=True)
    to.write_text(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def system_prompt(root: Path) -> int:
    (orch,) = [c for c in budget(root)["categories"] if c["category"] == "orchestration"]
    return sum(t["tokens"] for t in orch["top_sources"] if t["source"] == "system prompt")


def test_a_recorded_claude_session(ws_path: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    stop = json.loads((RECORDED / "claude-2.1.332-SubagentStop.json").read_text())
    main = home / stop["transcript_path"].removeprefix("/home/dev/")
    sub = home / stop["agent_transcript_path"].removeprefix("/home/dev/")
    rows = unpack("claude-2.1.332-session.jsonl.gz", main)
    unpack("claude-2.1.332-subagent.jsonl.gz", sub)
    stop.update(transcript_path=str(main), agent_transcript_path=str(sub), cwd=str(ws_path))
    hook("subagent-stop", stop, HOME=str(home))
    hook("stop", stop_input(ws_path, main, stop["session_id"]), HOME=str(home))
    got = budget(ws_path)
    # The subagent's work: the figure Claude Code handed the parent, exactly.
    (note,) = [r for r in rows if "<subagent_tokens>" in json.dumps(r) and r["type"] == "user"]
    found = re.search(r"<subagent_tokens>(\d+)<", json.dumps(note))
    assert found is not None and got["subagent_work"] == int(found.group(1)) == 7_040
    # Two copies of the prompt and one shape (what the API was sent): counted once, the shape.
    assert sum(1 for r in rows if (r.get("attachment") or {}).get("type") == "prompt_snapshot") == 2
    (shape,) = [r["shape"] for r in rows if r["type"] == "api-request-shape"]
    sent = sum(len(b["text"]) for b in shape["system"]) + sum(
        len(json.dumps(t, ensure_ascii=False)) for t in shape["tools"]
    )
    assert system_prompt(ws_path) == sent // 4
    assert got["total_in_context"] < sent // 4 + 5_000  # the rest of a short turn


def test_a_recorded_codex_session(ws_path: Path, tmp_path: Path) -> None:
    home = tmp_path / "codex-home"
    main = home / "sessions" / "2026" / "12" / "01" / "rollout-main.jsonl"
    sub = main.with_name("rollout-sub.jsonl")
    rows = unpack("codex-0.171.0-session.jsonl.gz", main)
    own = unpack("codex-0.171.0-subagent.jsonl.gz", sub)
    data = json.loads(
        (Path(__file__).parent / "fixtures/hooks/codex-0.171.0/subagent_stop.json").read_text()
    )
    data.update(transcript_path=str(main), agent_transcript_path=str(sub), cwd=str(ws_path))
    hook("subagent-stop", data, agent="codex", CODEX_HOME=str(home))
    session = rows[0]["payload"]["id"]
    hook("stop", stop_input(ws_path, main, session), agent="codex", CODEX_HOME=str(home))
    got = budget(ws_path)
    counts = [r["payload"] for r in own if r["payload"].get("type") == "token_count"]
    assert got["subagent_work"] == counts[-1]["info"]["last_token_usage"]["total_tokens"]
    assert system_prompt(ws_path) == len(rows[0]["payload"]["base_instructions"]["text"]) // 4
    # Stopped again after a resumed turn that wrote nothing new: nothing counted twice.
    hook("stop", stop_input(ws_path, main, session), agent="codex", CODEX_HOME=str(home))
    assert budget(ws_path)["categories"] == got["categories"]
