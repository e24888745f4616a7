"""Hook latency: every hook cairn installs, for Claude Code and Codex CLI, as a fresh process.

Builds a realistic workspace (tasks with many checkpoint versions, progress steps and a long event
journal), a Claude Code transcript and a Codex rollout of tens of megabytes, then runs the command
`cairn hooks install claude|codex` writes for each event (cairn.integrations.events.EVENTS) with
what that client sends on stdin (the shapes in tests/fixtures/hooks/), N times each, taking turns
with the baseline `python -c pass` in the same run (bench/benchlib.time_processes), and prints the
median and p90 wall time, the median CPU time and the ratio to the baseline. The forecast's own
target (below its threshold, <= 2x the baseline) is `bench/forecast_bench.py`'s.

    .venv/bin/python bench/hooks_bench.py [--runs 15] [--transcript-mb 40]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from benchlib import child_env, time_processes

from cairn.domain.workspace import Workspace
from cairn.integrations.events import EVENTS
from cairn.integrations.install import base_command, hook_command


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


def build_rollout(path: Path, megabytes: int, tail_calls: int) -> None:
    """A Codex rollout: old turns of ``megabytes`` MB, then ``tail_calls`` calls and a compaction."""
    now = datetime.now(UTC)
    old = now - timedelta(hours=3)
    output = "line of file content\n" * 200

    def row(ts: datetime, kind: str, body: dict[str, Any]) -> str:
        return json.dumps({"timestamp": iso(ts), "type": kind, "payload": body}) + "\n"

    def turn(f: Any, i: int, ts: datetime) -> None:
        call = {"type": "function_call", "name": "exec_command", "call_id": f"c{i}"}
        f.write(row(ts, "response_item", {**call, "arguments": '{"cmd": "cat app.py"}'}))
        done = {"type": "function_call_output", "call_id": f"c{i}", "output": output}
        f.write(row(ts, "response_item", done))
        usage = {"input_tokens": 90_000, "output_tokens": 40, "total_tokens": 90_040}
        info = {"last_token_usage": usage, "model_context_window": 258_400}
        f.write(row(ts, "event_msg", {"type": "token_count", "info": info}))

    with path.open("w") as f:
        meta = {"id": "bench-session", "cwd": "/x", "originator": "codex_cli_rs"}
        f.write(row(old, "session_meta", {**meta, "cli_version": "0.171.0"}))
        f.write(row(old, "turn_context", {"cwd": "/x", "model": "gpt-5.5"}))
        i = 0
        while f.tell() < megabytes * 1_000_000:
            turn(f, i, old + timedelta(milliseconds=i))
            i += 1
        for k in range(tail_calls):
            turn(f, 10**7 + k, now + timedelta(milliseconds=k))
        f.write(row(now, "compacted", {"message": "summary of the session " * 100}))


def payload(event: str, cwd: Path, transcript: Path, **extra: Any) -> bytes:
    base = {
        "session_id": "bench-session",
        "transcript_path": str(transcript),
        "cwd": str(cwd),
        "permission_mode": "default",
        "hook_event_name": event,
    }
    return json.dumps({**base, **extra}).encode()


# What each client sends besides the common fields (tests/fixtures/hooks/claude-2.1.332/ and
# codex-0.171.0/): (event argument, label, fields).
CLAUDE: list[tuple[str, str, dict[str, Any]]] = [
    ("session-start", "startup", {"source": "startup", "model": "claude-sonnet-4-5"}),
    ("session-start", "compact", {"source": "compact"}),
    ("session-start", "resume, pointer", {"source": "resume"}),
    ("pre-compact", "auto", {"trigger": "auto", "custom_instructions": ""}),
    ("post-compact", "auto", {"trigger": "auto", "compact_summary": "s" * 4000}),
    ("stop", "", {"stop_hook_active": False, "last_assistant_message": "done"}),
    ("post-tool-use", "forecast below", {"tool_name": "Read", "tool_use_id": "toolu_1"}),
]
CODEX: list[tuple[str, str, dict[str, Any]]] = [
    ("session-start", "startup", {"source": "startup"}),
    ("session-start", "compact", {"source": "compact"}),
    ("pre-compact", "auto", {"trigger": "auto"}),
    ("post-compact", "auto", {"trigger": "auto"}),
    ("stop", "", {"stop_hook_active": False, "last_assistant_message": "done"}),
    ("post-tool-use", "forecast below", {"tool_name": "exec_command", "tool_use_id": "c1"}),
]
NAMES = {row.arg: row for row in EVENTS}


def cases(
    root: Path, outside: Path, claude: Path, codex: Path
) -> dict[str, tuple[list[str], bytes]]:
    """Every installed hook of both clients (an event a client does not get is left out)."""
    out: dict[str, tuple[list[str], bytes]] = {}
    for agent, rows, transcript in (("claude", CLAUDE, claude), ("codex", CODEX, codex)):
        for arg, label, extra in rows:
            hook = NAMES[arg].hook(agent)
            if hook is None:
                continue  # not installed for this client
            cmd = hook_command(base_command(), arg, agent).split()
            if agent == "codex":
                extra = {"turn_id": "turn-1", "model": "gpt-5.5", **extra}
            data = payload(hook.event, root, transcript, **extra)
            out[f"{agent} {arg}" + (f" ({label})" if label else "")] = (cmd, data)
    stop = hook_command(base_command(), "stop", "claude").split()
    out["claude stop, outside a workspace"] = (stop, payload("Stop", outside, claude))
    cli = [sys.executable, "-m", "cairn", "hook", "stop"]
    out["claude stop via `cairn hook` (plugin)"] = (cli, payload("Stop", root, claude))
    return out


def subagent_cases(
    root: Path, tmp: Path, claude: Path, codex: Path
) -> dict[str, tuple[list[str], bytes]]:
    """SubagentStop of each client, its subagent's own 1 MB transcript in the client's home (read
    by the first run; the others find nothing new, as a client's second stop would)."""
    out: dict[str, tuple[list[str], bytes]] = {}
    sub = tmp / "home" / ".claude" / "projects" / "p" / "s" / "subagents" / "agent-b1.jsonl"
    rollout = tmp / "codex-home" / "sessions" / "rollout-sub.jsonl"
    for agent, path, parent in (("claude", sub, claude), ("codex", rollout, codex)):
        path.parent.mkdir(parents=True, exist_ok=True)
        (build_transcript if agent == "claude" else build_rollout)(path, 1, 20)
        extra = {
            "agent_id": "b1",
            "agent_type": "general-purpose",
            "agent_transcript_path": str(path),
            "last_assistant_message": "done",
            "stop_hook_active": False,
        }
        cmd = hook_command(base_command(), "subagent-stop", agent).split()
        out[f"{agent} subagent-stop"] = (cmd, payload("SubagentStop", root, parent, **extra))
    return out


def check(commands: dict[str, tuple[list[str], bytes]], cwd: Path) -> None:
    """Each hook must run clean (a hook fails open: its errors would go to stderr)."""
    for name, (cmd, stdin) in commands.items():
        proc = subprocess.run(cmd, input=stdin, capture_output=True, cwd=cwd, env=child_env())
        if proc.returncode != 0 or proc.stderr:
            raise SystemExit(f"{name} failed: {proc.returncode} {proc.stderr.decode()[:300]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--transcript-mb", type=int, default=40)
    ap.add_argument("--tail-calls", type=int, default=150)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        outside = Path(tmp) / "elsewhere"
        outside.mkdir()
        build_workspace(root)
        # Where the clients keep them: the hooks read a transcript only under the client's home.
        claude = Path(tmp) / "home" / ".claude" / "projects" / "p" / "session.jsonl"
        codex = Path(tmp) / "codex-home" / "sessions" / "rollout.jsonl"
        claude.parent.mkdir(parents=True)
        codex.parent.mkdir(parents=True)
        build_transcript(claude, args.transcript_mb, args.tail_calls)
        build_rollout(codex, args.transcript_mb, args.tail_calls)
        # No Claude Code or Codex settings of this machine's: a throw-away HOME and CODEX_HOME.
        os.environ["HOME"] = str(Path(tmp) / "home")
        os.environ["CODEX_HOME"] = str(Path(tmp) / "codex-home")
        commands = {
            "python -c pass": ([sys.executable, "-c", "pass"], b""),
            **cases(root, outside, claude, codex),
            **subagent_cases(root, Path(tmp), claude, codex),
        }
        check(commands, root)
        times = time_processes(commands, root, args.runs)
        print(
            f"workspace: 6 tasks, 90 checkpoint versions + progress files; Claude transcript "
            f"{claude.stat().st_size / 1e6:.0f} MB, Codex rollout {codex.stat().st_size / 1e6:.0f}"
            f" MB, each with {args.tail_calls} tool calls after the last checkpoint; "
            f"{args.runs} fresh processes per command, taking turns"
        )
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(f"{'command':<42} {'median ms':>10} {'p90 ms':>8} {'CPU ms':>8} {'x base':>7}")
        base = times["python -c pass"][0]
        base_cpu = times["python -c pass"][2]
        for name, (med, p90, cpu) in times.items():
            print(
                f"{name:<42} {med:>10.1f} {p90:>8.1f} {cpu:>8.1f} {med / base:>6.1f}x"
                f" (CPU {cpu / base_cpu:.1f}x)"
            )


if __name__ == "__main__":
    main()
