"""The Codex rollout's ledger attribution (cairn.integrations.codex_ledger), on records in the shape
Codex 0.171 writes (each line with its ordinal; shell reads of documents; a subagent's report)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cairn.integrations.codex_ledger import _read_doc, attribute

TS = "2026-12-01T10:00:00.000Z"  # one millisecond for all: the ordinal tells them apart


def item(ordinal: int, payload: dict[str, Any], kind: str = "response_item") -> dict[str, Any]:
    return {"timestamp": TS, "ordinal": ordinal, "type": kind, "payload": payload}


def msg(role: str, text: str) -> dict[str, Any]:
    return {"type": "message", "role": role, "content": [{"type": "input_text", "text": text}]}


def call(call_id: str, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "function_call",
        "name": name,
        "call_id": call_id,
        "arguments": json.dumps(args),
    }


def output(call_id: str, text: str) -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": call_id, "output": text}


def write(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("a") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)


def test_a_rollout_is_attributed_by_category_and_read_once(tmp_path: Path) -> None:
    path = tmp_path / "rollout.jsonl"
    write(
        path,
        [
            item(0, {"id": "s", "cwd": "/p"}, "session_meta"),
            item(1, msg("developer", "d" * 400)),
            item(2, msg("user", "<environment_context>" + "e" * 79)),
            item(3, msg("user", "# AGENTS.md instructions for /p\n" + "a" * 168)),
            item(4, msg("user", "u" * 400)),
            item(5, call("c1", "exec_command", {"cmd": "sed -n 1,200p docs/design.md"})),
            item(6, output("c1", "s" * 4000)),
            item(7, call("c2", "exec_command", {"cmd": "ls -la"})),
            item(8, output("c2", "o" * 40)),
            item(9, call("c3", "wait_agent", {"targets": ["a1"]})),
            item(10, output("c3", "r" * 800)),
            item(11, msg("user", "<subagent_notification>" + "n" * 177)),
            item(12, {"type": "token_count", "info": None}, "event_msg"),
        ],
    )
    sizes, upto = attribute(str(path), None)
    assert upto == f"{TS}#12"
    assert sizes[("specs", "Read design.md")] == 4000
    assert sizes[("specs", "AGENTS.md")] == 200
    assert sizes[("user", "prompt")] == 400
    assert sizes[("subagent_summaries", "wait_agent")] == 800
    assert sizes[("subagent_summaries", "subagent notification")] == 200
    assert sizes[("orchestration", "exec_command")] == 40
    assert sizes[("orchestration", "instructions and hook context")] == 400
    assert sizes[("orchestration", "environment")] == 100
    # Records in the same millisecond after the point read are new; the ones before are not.
    write(path, [item(13, {"message": "m" * 50}, "compacted"), item(14, msg("user", "v" * 80))])
    sizes, upto = attribute(str(path), upto)
    assert dict(sizes) == {("user", "prompt"): 80, ("orchestration", "compaction summary"): 50}
    assert upto == f"{TS}#14"
    assert attribute(str(path), upto) == ({}, None)


def test_which_shell_commands_read_a_document() -> None:
    assert _read_doc('{"cmd": "cat README.md"}') == "README.md"
    assert _read_doc('{"cmd": "head -n 50 specs/api.txt | wc -l"}') == "specs/api.txt"
    assert _read_doc('{"cmd": "python run.py notes.md"}') is None  # not a reader
    assert _read_doc('{"cmd": "cat main.py"}') is None  # code, not a document
    assert _read_doc("not json") is None


def test_a_subagents_stop_is_not_taken_for_the_sessions_own(ws_path: Path) -> None:
    """Codex fires SubagentStart / SubagentStop (recorded from 0.171.0) for a subagent, never
    Stop; cairn's stop hook fed a SubagentStop input ignores it, so the subagent's rollout never
    enters this context's ledger."""
    import io

    from cairn.integrations.hooks import run_hook

    fixtures = Path(__file__).parent / "fixtures" / "hooks" / "codex-0.171.0"
    data = json.loads((fixtures / "subagent_stop.json").read_text())
    assert json.loads((fixtures / "subagent_start.json").read_text())["agent_type"] == "default"
    data.update(cwd=str(ws_path), transcript_path="/nonexistent.jsonl")
    err = io.StringIO()
    stdin = io.BytesIO(json.dumps(data).encode())
    assert run_hook("stop", agent="codex", stdin=stdin, stdout=io.StringIO(), stderr=err) == 0
    assert "input is for SubagentStop, not Stop; ignored" in err.getvalue()


def test_the_base_instructions_are_reported_and_a_compaction_leaves_only_what_follows(
    tmp_path: Path,
) -> None:
    """session_meta's base_instructions (Codex's system prompt) come under the system-prompt key
    (counted once per context by the ledger); a ``compacted`` record read in the same turn drops
    what came before it (it left the context) but not the system prompt."""
    path = tmp_path / "rollout.jsonl"
    meta = {"id": "s", "base_instructions": {"text": "b" * 20_000}}
    write(
        path,
        [
            item(0, meta, "session_meta"),
            item(1, msg("user", "u" * 400)),
            item(2, call("c1", "exec_command", {"cmd": "ls"})),
            item(3, output("c1", "o" * 9_000)),
            item(4, {"message": "SUMMARY " * 50}, "compacted"),
            item(5, msg("user", "v" * 80)),
        ],
    )
    sizes, _ = attribute(str(path), None)
    assert sizes[("orchestration", "system prompt")] == 20_000
    assert sizes[("orchestration", "compaction summary")] == 400
    assert sizes[("user", "prompt")] == 80
    assert ("orchestration", "exec_command") not in sizes
