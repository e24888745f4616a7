"""Audit speed and memory on a generated 100 MB Claude Code transcript and a 100 MB Codex rollout.

    .venv/bin/python bench/audit_bench.py [--mb 100] [--exact] [--only claude|claude-small|codex]

``claude-small`` is the same session with tool output capped at 200 characters: about four times
the lines, so it measures the per-record cost rather than JSON decoding of long strings.

Each measurement runs in a fresh child process and reports wall seconds and peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``). Baselines, same file, same kind of process:
- ``json-only``: ``json.loads`` of every line and nothing else (the floor for a streaming reader);
- ``import-only``: the interpreter plus ``cairn.audit`` imported (the RSS floor).
Targets (issue 6): under 10 s for 100 MB, memory bounded (RSS barely above the import floor,
far below the file size).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("claude", "claude-small", "codex")

_CHILD = r"""
import json, resource, sys, time
mode, path, estimate = sys.argv[1], sys.argv[2], sys.argv[3]
t = time.perf_counter()
if mode == "audit":
    from cairn.audit import audit_paths
    doc = audit_paths([path], estimate=estimate)
    s = doc["sessions"][0]
    info = {"turns": s["turns"], "compactions": len(s["compactions"]), "points": len(s["timeline"]),
            "subagents": s["subagents"]["count"], "malformed": s["malformed_count"]}
elif mode == "json-only":
    n = 0
    with open(path, "rb") as f:
        for line in f:
            try:
                json.loads(line)
            except ValueError:
                pass
            n += 1
    info = {"lines": n}
else:
    import cairn.audit  # noqa: F401
    info = {}
secs = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"secs": secs, "rss_kb": rss, **info}))
"""


def _claude_records(rnd: random.Random, small: bool = False) -> Iterator[dict[str, object]]:
    """An endless, realistic session: split assistant blocks, tool results, compactions.

    ``small`` caps tool output at 200 characters: many more, shorter lines (the per-record cost).
    """
    sid = "bench000-0000-4000-8000-000000000001"
    n = 0
    ctx = 20000
    turn = 0
    code = "\n".join(
        f"    {i}\tdef f{i}(x):\n        return x * {i}  # a line of code" for i in range(400)
    )

    def env(typ: str, **kw: object) -> dict[str, object]:
        nonlocal n
        n += 1
        rec: dict[str, object] = {
            "parentUuid": f"u{n - 1}",
            "isSidechain": False,
            "userType": "external",
            "cwd": "/home/dev/proj",
            "sessionId": sid,
            "version": "2.1.29",
            "gitBranch": "main",
            "type": typ,
            "uuid": f"u{n}",
            "timestamp": "2026-01-03T10:00:00.000Z",
        }
        rec.update(kw)
        return rec

    yield env("user", message={"role": "user", "content": "Work through the backlog."})
    while True:
        turn += 1
        ctx += rnd.randint(300, 4000)
        tool = rnd.choice(
            ["Read", "Read", "Bash", "Edit", "Grep", "Task"] + ["Bash"] * (turn % 40 == 0)
        )
        cmd = "cairn checkpoint write t1 progress --file p.md" if turn % 40 == 0 else "pytest -q"
        inp = {
            "Read": {"file_path": f"/home/dev/proj/src/m{turn % 97}.py"},
            "Bash": {"command": cmd},
            "Edit": {
                "file_path": "/home/dev/proj/src/a.py",
                "old_string": "x" * 200,
                "new_string": "y" * 220,
            },
            "Grep": {"pattern": "def ", "path": "src"},
            "Task": {
                "description": "survey",
                "prompt": f"Survey part {turn}",
                "subagent_type": "general-purpose",
            },
        }[tool]
        usage = {
            "input_tokens": 3,
            "cache_creation_input_tokens": 500,
            "cache_read_input_tokens": ctx,
            "output_tokens": rnd.randint(20, 400),
            "service_tier": "standard",
        }
        mid = f"msg_{turn}"
        for block in (
            {
                "type": "thinking",
                "thinking": "Considering the next step. " * rnd.randint(1, 20),
                "signature": "Ep" + "A" * 200,
            },
            {"type": "text", "text": "Next I will look at the code."},
            {"type": "tool_use", "id": f"toolu_{turn}", "name": tool, "input": inp},
        ):
            rec = env(
                "assistant",
                requestId=f"req_{turn}",
                message={
                    "model": "claude-opus-4-5",
                    "id": mid,
                    "type": "message",
                    "role": "assistant",
                    "content": [block],
                    "stop_reason": None,
                    "usage": usage,
                },
            )
            yield rec
        body = (
            code[: rnd.randint(200, len(code))] if tool == "Read" else "ok\n" * rnd.randint(5, 800)
        )
        if small:
            body = body[:200]
        tur: dict[str, object] = {"stdout": body[: 50 if small else 2000]}
        if tool == "Task":
            tur = {
                "status": "completed",
                "agentId": f"ag{turn}",
                "totalTokens": 30000,
                "totalToolUseCount": 4,
            }
        yield env(
            "user",
            message={
                "role": "user",
                "content": [
                    {"tool_use_id": f"toolu_{turn}", "type": "tool_result", "content": body}
                ],
            },
            toolUseResult=tur,
        )
        if turn % 5 == 0:
            yield {
                "type": "progress",
                "data": {"type": "bash_progress", "output": "..", "fullOutput": body[:3000]},
                "toolUseID": f"toolu_{turn}",
            }
            yield {
                "type": "file-history-snapshot",
                "messageId": f"u{n}",
                "snapshot": {"trackedFileBackups": {}},
            }
        if ctx > 160000:
            yield env(
                "system",
                subtype="compact_boundary",
                content="Conversation compacted",
                compactMetadata={"trigger": "auto", "preTokens": ctx},
            )
            yield env(
                "user",
                message={"role": "user", "content": "Summary. " * 300},
                isCompactSummary=True,
            )
            ctx = 15000
        elif turn % 300 == 0:
            yield env(
                "system",
                subtype="microcompact_boundary",
                microcompactMetadata={"trigger": "auto", "preTokens": ctx, "tokensSaved": 9000},
            )


def _codex_records(rnd: random.Random) -> Iterator[dict[str, object]]:
    """An endless Codex rollout: shell calls, outputs, token_count, compacted + context_compacted."""

    def rec(typ: str, payload: dict[str, object]) -> dict[str, object]:
        return {"timestamp": "2025-10-01T10:00:00.000Z", "type": typ, "payload": payload}

    yield rec(
        "session_meta", {"id": "bench-codex", "cwd": "/w", "cli_version": "0.46.0", "source": "cli"}
    )
    yield rec("turn_context", {"cwd": "/w", "model": "gpt-5-codex", "approval_policy": "never"})
    ctx, total, turn = 12000, 0, 0
    code = "\n".join(f"{i}: fn f{i}(x: u32) -> u32 {{ x * {i} }}" for i in range(600))
    while True:
        turn += 1
        ctx += rnd.randint(300, 4000)
        total += ctx
        script = (
            "cairn checkpoint write t1 progress --file p.md" if turn % 40 == 0 else "cat src/lib.rs"
        )
        yield rec(
            "response_item",
            {
                "type": "reasoning",
                "summary": [{"type": "summary_text", "text": "Next step."}],
                "encrypted_content": "gAAAA" + "B" * rnd.randint(200, 2000),
            },
        )
        yield rec(
            "response_item",
            {
                "type": "function_call",
                "name": "shell",
                "call_id": f"c{turn}",
                "arguments": json.dumps({"command": ["bash", "-lc", script]}),
            },
        )
        yield rec(
            "response_item",
            {
                "type": "function_call_output",
                "call_id": f"c{turn}",
                "output": code[: rnd.randint(100, len(code))],
            },
        )
        last = {
            "input_tokens": ctx,
            "cached_input_tokens": ctx - 500,
            "output_tokens": 200,
            "reasoning_output_tokens": 50,
            "total_tokens": ctx + 200,
        }
        yield rec(
            "event_msg",
            {
                "type": "token_count",
                "info": {
                    "total_token_usage": {
                        "input_tokens": total,
                        "cached_input_tokens": total // 2,
                        "output_tokens": 200 * turn,
                        "total_tokens": total + 200 * turn,
                    },
                    "last_token_usage": last,
                    "model_context_window": 272000,
                },
            },
        )
        if ctx > 240000:
            yield rec("compacted", {"message": "Summary of the work so far. " * 100})
            yield rec("event_msg", {"type": "context_compacted"})
            ctx = 15000


def generate(path: Path, mb: int, fmt: str) -> None:
    target = mb * 1_000_000
    size = 0
    rnd = random.Random(6)
    if fmt == "codex":
        records = _codex_records(rnd)
    else:
        records = _claude_records(rnd, small=fmt == "claude-small")
    with path.open("w", encoding="utf-8") as f:
        for rec in records:
            line = json.dumps(rec, separators=(",", ":")) + "\n"
            f.write(line)
            size += len(line)
            if size >= target:
                break
        f.write('{"type":"event_msg","payload":{"type":"tok\n')  # a half-written last line


def run_child(mode: str, path: Path, estimate: str = "calibrated") -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(path), estimate],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def _row(name: str, r: dict[str, float], note: str) -> None:
    print(f"  {name:<14} {r['secs']:>8.2f} {r['rss_kb'] / 1024:>12.1f}  {note}")


def bench(fmt: str, folder: Path, mb: int, exact: bool) -> bool:
    name = "rollout-bench.jsonl" if fmt == "codex" else "bench000-0000-4000-8000-000000000001.jsonl"
    path = folder / name
    t = time.perf_counter()
    generate(path, mb, fmt)
    size_mb = path.stat().st_size / 1e6
    print(f"{fmt}: generated {size_mb:.1f} MB in {time.perf_counter() - t:.1f} s ({path})")
    floor = run_child("import-only", path)
    base = run_child("json-only", path)
    audit = run_child("audit", path)
    print(f"  {'run':<14} {'seconds':>8} {'peak RSS MB':>12}  notes")
    _row("import-only", floor, "interpreter + cairn.audit: the RSS floor")
    _row("json-only", base, f"json.loads per line, {int(base['lines']):,} lines: the time floor")
    _row(
        "audit",
        audit,
        f"{int(audit['turns']):,} turns, {int(audit['compactions'])} compactions, "
        f"{int(audit['points'])} timeline points, {int(audit['malformed'])} malformed line",
    )
    if exact:
        ex = run_child("audit", path, "exact")
        _row("audit --exact", ex, "o200k count of every content item")
    met = audit["secs"] < 10
    print(
        f"  audit: {size_mb / audit['secs']:.0f} MB/s, {audit['secs'] / base['secs']:.2f}x the "
        f"json-only baseline; peak RSS {(audit['rss_kb'] - floor['rss_kb']) / 1024:.1f} MB above "
        f"the import floor for a {size_mb:.0f} MB file; target < 10 s: {'met' if met else 'MISSED'}"
    )
    path.unlink()
    return met


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--exact", action="store_true", help="also time --exact token counting")
    ap.add_argument("--only", choices=FORMATS)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cairn-audit-bench-") as tmp:
        ok = [
            bench(fmt, Path(tmp), args.mb, args.exact)
            for fmt in FORMATS
            if args.only in (None, fmt)
        ]
    sys.exit(0 if all(ok) else 1)


if __name__ == "__main__":
    main()
