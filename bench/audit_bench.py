"""Audit speed and memory on a generated 100 MB Claude Code transcript (and a Codex rollout).

    .venv/bin/python bench/audit_bench.py [--mb 100] [--keep DIR]

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

_CHILD = r"""
import json, resource, sys, time
mode, path = sys.argv[1], sys.argv[2]
t = time.perf_counter()
if mode == "audit":
    from cairn.audit import audit_paths
    doc = audit_paths([path])
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


def _claude_records(rnd: random.Random) -> Iterator[dict[str, object]]:
    """An endless, realistic session: split assistant blocks, tool results, compactions."""
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
        tur: dict[str, object] = {"stdout": body[:2000]}
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


def generate(path: Path, mb: int) -> None:
    target = mb * 1_000_000
    size = 0
    with path.open("w", encoding="utf-8") as f:
        for rec in _claude_records(random.Random(6)):
            line = json.dumps(rec, separators=(",", ":")) + "\n"
            f.write(line)
            size += len(line)
            if size >= target:
                break
        f.write('{"type":"assistant","message":{"id":"torn\n')  # a half-written last line


def run_child(mode: str, path: Path) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(path)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--keep", help="write the transcript here instead of a temporary folder")
    args = ap.parse_args()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cairn-audit-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "bench000-0000-4000-8000-000000000001.jsonl"
    t = time.perf_counter()
    generate(path, args.mb)
    size_mb = path.stat().st_size / 1e6
    print(
        f"generated {size_mb:.1f} MB Claude Code transcript in {time.perf_counter() - t:.1f} s: {path}"
    )
    floor = run_child("import-only", path)
    base = run_child("json-only", path)
    audit = run_child("audit", path)
    print(f"{'run':<12} {'seconds':>8} {'peak RSS MB':>12}  notes")
    print(
        f"{'import-only':<12} {floor['secs']:>8.2f} {floor['rss_kb'] / 1024:>12.1f}  interpreter + cairn.audit"
    )
    print(
        f"{'json-only':<12} {base['secs']:>8.2f} {base['rss_kb'] / 1024:>12.1f}  json.loads per line, {int(base['lines']):,} lines"
    )
    print(
        f"{'audit':<12} {audit['secs']:>8.2f} {audit['rss_kb'] / 1024:>12.1f}  "
        f"{int(audit['turns']):,} turns, {int(audit['compactions'])} compactions, "
        f"{int(audit['points'])} timeline points, {int(audit['malformed'])} malformed"
    )
    print(
        f"audit: {size_mb / audit['secs']:.1f} MB/s, {audit['secs'] / base['secs']:.2f}x the json-only "
        f"baseline; RSS {(audit['rss_kb'] - floor['rss_kb']) / 1024:.1f} MB above the import floor "
        f"for a {size_mb:.0f} MB file; target < 10 s: {'met' if audit['secs'] < 10 else 'MISSED'}"
    )
    if not args.keep:
        path.unlink()
        tmp.rmdir()


if __name__ == "__main__":
    main()
