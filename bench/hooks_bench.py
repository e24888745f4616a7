"""Hook latency: each hook command as a fresh process, as Claude Code / Codex run it.

Builds a realistic workspace (tasks with many checkpoint versions, progress steps and a long event
journal) and a Claude Code transcript of tens of megabytes, then runs every hook command N times
(default 25) with its documented JSON on stdin and prints the median, p90 and the ratio to the
baseline `python -c pass` (the interpreter's own start-up). Target: median under 150 ms.

    .venv/bin/python bench/hooks_bench.py [--runs 25] [--transcript-mb 40]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from cairn.domain.workspace import Workspace
from cairn.integrations.install import hook_command


def iso(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_workspace(root: Path) -> None:
    ws = Workspace.init(root)
    try:
        for t in range(6):
            tid = f"finding{t}"
            ws.create_task(tid, f"Finding #{t}", ["analysis", "plan", "implement", "test"])
            ws.start_phase(tid, "analysis")
            for v in range(15):
                body = "".join(f"- item {v}.{i}: " + "detail " * 10 + "\n" for i in range(40))
                ws.write_checkpoint(tid, "analysis", f"# Analysis v{v}\n\n{body}")
                ws.progress(tid, f"step {v} of the analysis", "done")
            if t < 5:
                ws.finish_phase(tid, "analysis")
        ws.progress("finding5", "implement ranking", "active")
        ws.set_next("finding5", "finish the ranking logic and write the progress checkpoint")
    finally:
        ws.close()


def build_transcript(path: Path, megabytes: int, tail_calls: int) -> None:
    """Old history (before the last checkpoint) of ``megabytes`` MB, then ``tail_calls`` calls."""
    now = datetime.now(UTC)
    old = now - timedelta(hours=3)
    result = "line of file content\n" * 200
    with path.open("w") as f:
        i = 0
        while f.tell() < megabytes * 1_000_000:
            ts = old + timedelta(milliseconds=i)
            f.write(json.dumps(_assistant(i, ts)) + "\n")
            f.write(json.dumps(_result(i, ts, result)) + "\n")
            i += 1
        for k in range(tail_calls):
            ts = now + timedelta(milliseconds=k)
            f.write(json.dumps(_assistant(10**7 + k, ts)) + "\n")
            f.write(json.dumps(_result(10**7 + k, ts, result)) + "\n")


def _assistant(i: int, ts: datetime) -> dict[str, Any]:
    return {
        "type": "assistant",
        "sessionId": "bench",
        "uuid": f"a{i}",
        "timestamp": iso(ts),
        "message": {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Reading the next file."},
                {"type": "tool_use", "id": f"t{i}", "name": "Read", "input": {"file_path": "x"}},
            ],
            "usage": {"input_tokens": 5, "cache_read_input_tokens": 90000, "output_tokens": 40},
        },
    }


def _result(i: int, ts: datetime, text: str) -> dict[str, Any]:
    return {
        "type": "user",
        "sessionId": "bench",
        "uuid": f"u{i}",
        "timestamp": iso(ts),
        "message": {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": f"t{i}", "content": text}],
        },
    }


def payload(event: str, cwd: Path, transcript: Path, **extra: Any) -> bytes:
    base = {
        "session_id": "bench-session",
        "transcript_path": str(transcript),
        "cwd": str(cwd),
        "permission_mode": "default",
        "hook_event_name": event,
    }
    return json.dumps({**base, **extra}).encode()


# As installed, cairn's modules have cached bytecode; allow it here even when the environment
# sets PYTHONDONTWRITEBYTECODE, so that the figures do not include compiling the sources.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _child_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def measure(cmd: list[str], stdin: bytes, runs: int, cwd: Path) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user + system) milliseconds of each fresh process."""
    times, cpu = [], []
    for _ in range(runs):
        c0 = _child_cpu()
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, input=stdin, capture_output=True, cwd=cwd, env=ENV)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((_child_cpu() - c0) * 1000)
        if proc.returncode != 0 or proc.stderr:
            raise SystemExit(f"{cmd} failed: {proc.returncode} {proc.stderr.decode()[:300]}")
    return times, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=25)
    ap.add_argument("--transcript-mb", type=int, default=40)
    ap.add_argument("--tail-calls", type=int, default=150)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        outside = Path(tmp) / "elsewhere"
        outside.mkdir()
        build_workspace(root)
        transcript = Path(tmp) / "session.jsonl"
        build_transcript(transcript, args.transcript_mb, args.tail_calls)
        size_mb = transcript.stat().st_size / 1e6
        hook = [sys.executable, "-m", "cairn.hooks"]  # the command `cairn hooks install` writes
        cases: list[tuple[str, list[str], bytes, Path]] = [
            ("python -c pass (baseline)", [sys.executable, "-c", "pass"], b"", root),
            (
                "session-start (compact)",
                [*hook, "session-start"],
                payload("SessionStart", root, transcript, source="compact"),
                root,
            ),
            (
                "pre-compact (auto)",
                [*hook, "pre-compact"],
                payload("PreCompact", root, transcript, trigger="auto", custom_instructions=""),
                root,
            ),
            (
                "post-compact",
                [*hook, "post-compact"],
                payload(
                    "PostCompact", root, transcript, trigger="auto", compact_summary="s" * 4000
                ),
                root,
            ),
            (
                "stop",
                [*hook, "stop"],
                payload("Stop", root, transcript, stop_hook_active=False),
                root,
            ),
            (
                "post-tool-use (forecast, below)",
                hook_command([sys.executable, "-m", "cairn"], "post-tool-use", "claude").split(),
                payload("PostToolUse", root, transcript, tool_name="Read"),
                root,
            ),
            (
                "session-start (resume, pointer)",
                [*hook, "session-start"],
                payload("SessionStart", root, transcript, source="resume"),
                root,
            ),
            (
                "stop via `cairn hook` (CLI)",
                [sys.executable, "-m", "cairn", "hook", "stop"],
                payload("Stop", root, transcript, stop_hook_active=False),
                root,
            ),
            (
                "stop, outside a workspace",
                [*hook, "stop"],
                payload("Stop", outside, transcript, stop_hook_active=False),
                outside,
            ),
        ]
        print(
            f"workspace: 6 tasks, 90 checkpoint versions + progress files; transcript "
            f"{size_mb:.0f} MB with {args.tail_calls} tool calls after the last checkpoint; "
            f"{args.runs} fresh processes per command"
        )
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(
            f"{'command':<30} {'median ms':>10} {'p90 ms':>8} {'x baseline':>11} "
            f"{'CPU ms (median)':>16}"
        )
        base = None
        for name, cmd, stdin, cwd in cases:
            measure(cmd, stdin, 2, cwd)  # warm the page cache and .pyc files
            wall, cpu = measure(cmd, stdin, args.runs, cwd)
            wall.sort()
            med = statistics.median(wall)
            p90 = wall[int(0.9 * (len(wall) - 1))]
            base = base or med
            print(
                f"{name:<30} {med:>10.1f} {p90:>8.1f} {med / base:>10.1f}x "
                f"{statistics.median(cpu):>16.1f}"
            )


if __name__ == "__main__":
    main()
