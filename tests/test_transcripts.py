"""The one transcript reader: what the hooks read backwards and the audit reads forwards agree."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cairn.audit import audit_paths
from cairn.integrations import transcripts as tr


def iso(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write(path: Path, records: list[Any], tail: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail)
    return path


def claude_turn(i: int, ts: datetime, calls: int, cache_read: int) -> dict[str, Any]:
    return {
        "type": "assistant",
        "sessionId": "s",
        "uuid": f"a{i}",
        "timestamp": iso(ts),
        "message": {
            "id": f"msg_{i}",
            "model": "claude-sonnet-4-5",
            "content": [
                {"type": "tool_use", "id": f"t{i}_{k}", "name": "Read", "input": {}}
                for k in range(calls)
            ],
            "usage": {"input_tokens": 5, "cache_read_input_tokens": cache_read, "output_tokens": 7},
        },
    }


def test_claude_tail_counts_calls_and_finds_the_newest_usage_and_summary(tmp_path: Path) -> None:
    t0 = datetime(2026, 11, 28, tzinfo=UTC)
    records = [claude_turn(i, t0 + timedelta(minutes=i), 2, 1000 * (i + 1)) for i in range(5)]
    records.append(
        {
            "type": "user",
            "sessionId": "s",
            "uuid": "sum",
            "isCompactSummary": True,
            "timestamp": iso(t0 + timedelta(minutes=6)),
            "message": {"content": [{"type": "text", "text": "What happened so far."}]},
        }
    )
    path = write(tmp_path / "s.jsonl", records)
    tail = tr.read_tail(path, t0 + timedelta(minutes=2, seconds=30), summary=True)
    assert (tail.tool_calls, tail.exact) == (4, True)  # turns 3 and 4
    assert tail.usage == tr.Usage(5, 0, 5000, 7, 5005)
    assert tail.summary == "What happened so far."
    assert tr.count_tool_calls_since(path, t0) == (10, True)  # a record at `since` counts
    # Without a point in time: only as far back as the newest usage.
    assert tr.read_tail(path).usage == tail.usage
    # The audit reads the same file with the same reader: its last context point is that usage.
    (session,) = audit_paths([str(path)])["sessions"]
    assert session["peak_context"] == 5005
    assert session["compactions"][0]["kind"] == "compact_summary"


def test_codex_tail_and_the_token_count_forms(tmp_path: Path) -> None:
    t0 = datetime(2026, 11, 28, tzinfo=UTC)
    records: list[Any] = [
        {"timestamp": iso(t0), "type": "session_meta", "payload": {"id": "r1"}},
        {
            "timestamp": iso(t0 + timedelta(seconds=1)),
            "type": "response_item",
            "payload": {"type": "function_call", "name": "shell", "arguments": "{}"},
        },
        {
            "timestamp": iso(t0 + timedelta(seconds=2)),
            "type": "event_msg",
            "payload": {
                "type": "token_count",
                "info": {
                    "total_token_usage": {"input_tokens": 300, "cached_input_tokens": 100},
                    "last_token_usage": {
                        "input_tokens": 200,
                        "cached_input_tokens": 50,
                        "output_tokens": 20,
                        "total_tokens": 220,
                    },
                    "model_context_window": 272000,
                },
            },
        },
        {
            "timestamp": iso(t0 + timedelta(seconds=3)),
            "type": "compacted",
            "payload": {"message": "the summary"},
        },
        {
            "timestamp": iso(t0 + timedelta(seconds=4)),
            "type": "event_msg",
            "payload": {"type": "token_count", "info": None},
        },
    ]
    path = write(tmp_path / "rollout-1.jsonl", records)
    tail = tr.read_tail(path, t0 + timedelta(milliseconds=500), summary=True)
    assert (tail.tool_calls, tail.summary) == (1, "the summary")
    assert tail.usage == tr.Usage(150, 0, 50, 20, 220)
    tokens = tr.codex_tokens(records[2]["payload"])
    assert tokens is not None and tokens.window == 272000
    assert tokens.total == tr.Usage(200, 0, 100, 0, 300)
    assert tr.codex_tokens(records[4]["payload"]) is None  # a rate-limit-only update
    flat = tr.codex_tokens({"type": "token_count", "input_tokens": 40, "output_tokens": 2})
    assert flat is not None and flat.total is None and flat.last == tr.Usage(40, 0, 0, 2, 42)
    assert [tr.detect(r) for r in records[:2]] == ["codex", "codex"]


def test_codex_tool_search_is_a_tool_call(tmp_path: Path) -> None:
    """Codex 0.171 looks MCP tools up with a `tool_search_call` item before calling them."""
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    search = {
        "type": "tool_search_call",
        "call_id": "c1",
        "execution": "client",
        "status": "completed",
        "arguments": {"query": "cairn status"},
    }
    records: list[Any] = [
        {"timestamp": iso(t0), "type": "response_item", "payload": search},
        {
            "timestamp": iso(t0 + timedelta(seconds=1)),
            "type": "response_item",
            "payload": {"type": "tool_search_output", "call_id": "c1", "tools": []},
        },
    ]
    path = write(tmp_path / "rollout-2.jsonl", records)
    assert tr.read_tail(path, t0 - timedelta(seconds=1)).tool_calls == 1
    huge = {**search, "arguments": {"query": "x" * 1_100_000}}
    path = write(tmp_path / "rollout-3.jsonl", [{**records[0], "payload": huge}])
    assert tr.read_tail(path, t0 - timedelta(seconds=1)).tool_calls == 1


def test_forward_records_report_bad_lines_and_count_every_line(tmp_path: Path) -> None:
    path = write(tmp_path / "s.jsonl", [{"type": "summary"}, [1, 2]], tail='\n{"type": "us')
    records = tr.Records(path)
    got = [(n, rec is not None, err is not None) for n, rec, err in records]
    assert got == [(1, True, False), (2, False, True), (4, False, True)]
    assert records.lines == 4


def test_a_huge_record_is_scanned_not_parsed(tmp_path: Path) -> None:
    t0 = datetime(2026, 11, 28, tzinfo=UTC)
    big = claude_turn(1, t0 + timedelta(minutes=1), 3, 10)
    big["message"]["content"].append({"type": "text", "text": "x" * 1_200_000})
    path = write(tmp_path / "s.jsonl", [claude_turn(0, t0, 1, 10), big])
    assert tr.count_tool_calls_since(path, t0 + timedelta(seconds=1)) == (3, True)
    # A bounded scan that stops before the start says its count is a lower bound.
    turns = []
    for i in range(30):
        turn = claude_turn(i, t0 + timedelta(seconds=i), 1, 10)
        turn["message"]["content"].append({"type": "text", "text": "y" * 100_000})
        turns.append(turn)
    path = write(tmp_path / "long.jsonl", turns)
    count, exact = tr.count_tool_calls_since(path, t0, max_bytes=1)
    assert 0 < count < 30 and not exact
    assert tr.count_tool_calls_since(path, t0) == (30, True)


def test_transcript_paths_are_checked_for_shape(tmp_path: Path) -> None:
    real = write(tmp_path / "s.jsonl", [])
    assert tr.transcript_file(str(real)) == str(real)
    for bad in (None, "", "relative.jsonl", str(tmp_path / "s.txt"), f"{real}\x00", 5):
        assert tr.transcript_file(bad) is None


def test_the_backwards_scan_reads_a_tool_result_s_time_without_parsing_it(tmp_path: Path) -> None:
    """Claude Code's compact JSON: a tool result gives only its time (read from its bytes, the
    last "timestamp" key), which still stops the count at ``since``."""
    from datetime import UTC, datetime

    from cairn.integrations.transcripts import read_tail

    def row(kind: str, ts: str, content: list[dict[str, object]]) -> str:
        rec = {"type": kind, "message": {"role": kind, "content": content}, "timestamp": ts}
        return json.dumps(rec, separators=(",", ":")) + "\n"

    use = [{"type": "tool_use", "id": "t", "name": "Read"}]
    result = [{"type": "tool_result", "content": '{"timestamp":"2030-01-01T00:00:00Z"}'}]
    path = tmp_path / "t.jsonl"
    path.write_text(
        row("assistant", "2026-01-01T10:00:00Z", use)
        + row("user", "2026-01-01T10:00:01Z", result)
        + row("assistant", "2026-01-01T12:00:00Z", use)
        + row("user", "2026-01-01T12:00:01Z", result)
    )
    tail = read_tail(path, datetime(2026, 1, 1, 11, 0, tzinfo=UTC))
    assert (tail.tool_calls, tail.exact) == (1, True)
