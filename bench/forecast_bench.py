"""The compaction forecast hook below its threshold, against a bare interpreter start.

The PostToolUse hook runs after every tool call of the agent, so below the threshold it must cost
no more than 2x `python -c pass`. This builds a workspace with an active phase and a Claude Code
transcript of tens of megabytes whose newest assistant usage is below the threshold, then runs the
installed hook command (the one `cairn hooks install claude` writes) N times as a fresh process
with the hook's JSON on stdin, taking turns with `python -c pass`, and prints the medians and the
ratio. It also times the hook above the threshold (a nudge: the workspace is opened once) for
reference.

    .venv/bin/python bench/forecast_bench.py [--runs 40] [--transcript-mb 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from benchlib import time_processes

from cairn.domain.workspace import Workspace
from cairn.integrations.install import hook_command

TARGET = 2.0


def transcript(path: Path, megabytes: int, context: int) -> None:
    """Old turns of ``megabytes`` MB, then an assistant record reporting ``context`` tokens."""
    ts = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    result = "line of file content\n" * 200
    with path.open("w") as f:
        i = 0
        while f.tell() < megabytes * 1024 * 1024:
            use = {"input_tokens": 1000 + i, "output_tokens": 50}
            f.write(
                json.dumps(
                    {
                        "type": "assistant",
                        "sessionId": "s",
                        "uuid": f"a{i}",
                        "timestamp": ts,
                        "message": {
                            "model": "claude-sonnet-4-5",
                            "content": [{"type": "tool_use", "id": f"t{i}", "name": "Read"}],
                            "usage": use,
                        },
                    }
                )
                + "\n"
            )
            f.write(
                json.dumps(
                    {
                        "type": "user",
                        "sessionId": "s",
                        "uuid": f"u{i}",
                        "timestamp": ts,
                        "message": {"content": [{"type": "tool_result", "content": result}]},
                    }
                )
                + "\n"
            )
            i += 1
        usage = {"input_tokens": 10, "cache_read_input_tokens": context - 60, "output_tokens": 50}
        last = {"model": "claude-sonnet-4-5", "content": [{"type": "text"}], "usage": usage}
        row = {"type": "assistant", "sessionId": "s", "uuid": "z", "timestamp": ts, "message": last}
        f.write(json.dumps(row) + "\n")
        # A large tool result after the usage, as after a Read: the scan must look past it.
        row = {"type": "user", "sessionId": "s", "uuid": "y", "timestamp": ts, "message": {}}
        row["message"] = {"content": [{"type": "tool_result", "content": result * 20}]}
        f.write(json.dumps(row) + "\n")


def codex_rollout(path: Path, megabytes: int, context: int) -> None:
    """A Codex rollout of ``megabytes`` MB (tool calls, outputs and token_count records), the
    newest token_count reporting ``context`` tokens, then a big tool output."""
    ts = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    output = "line of file content\n" * 200

    def row(kind: str, payload: dict[str, object]) -> str:
        return json.dumps({"timestamp": ts, "type": kind, "payload": payload}) + "\n"

    def tokens(total: int) -> str:
        usage = {"input_tokens": total - 50, "output_tokens": 50, "total_tokens": total}
        info = {"last_token_usage": usage, "model_context_window": 258_400}
        return row("event_msg", {"type": "token_count", "info": info})

    with path.open("w") as f:
        i = 0
        while f.tell() < megabytes * 1024 * 1024:
            call = {"type": "function_call", "name": "exec_command", "call_id": f"c{i}"}
            f.write(row("response_item", {**call, "arguments": '{"cmd":"cat x"}'}))
            f.write(row("response_item", {"type": "function_call_output", "output": output}))
            f.write(tokens(1000 + i))
            i += 1
        f.write(tokens(context))
        f.write(row("response_item", {"type": "function_call_output", "output": output * 20}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--transcript-mb", type=int, default=20)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cairn-forecast-bench-"))
    try:
        root = tmp / "project"
        root.mkdir()
        ws = Workspace.init(root)
        ws.create_task("t1", "bench", ["plan", "implement"])
        ws.start_phase("t1", "plan")
        ws.close()
        # Where the clients keep them: the hooks read a transcript only under the client's home.
        sessions = tmp / "home" / ".claude" / "projects" / "p"
        sessions.mkdir(parents=True)
        below, above = sessions / "below.jsonl", sessions / "above.jsonl"
        # The user's Claude Code settings set the window, so that the hook takes its slowest path
        # below the threshold (it parses settings.json); it compacts at 150k - 20k - 13k = 117k.
        home = tmp / "home"
        (home / ".claude").mkdir(parents=True, exist_ok=True)
        settings = {"autoCompactWindow": 150_000, "permissions": {"allow": ["Bash"] * 200}}
        (home / ".claude" / "settings.json").write_text(json.dumps(settings, indent=2))
        os.environ["HOME"] = str(home)
        os.environ["CLAUDE_PROJECT_DIR"] = str(root)
        transcript(below, args.transcript_mb, 60_000)  # 51 % of 117k: below 80 %
        transcript(above, 1, 160_000)  # past the compaction point
        hook = hook_command([sys.executable, "-m", "cairn"], "post-tool-use", "claude").split()
        codex_hook = hook_command([sys.executable, "-m", "cairn"], "post-tool-use", "codex").split()
        (tmp / "codex-home" / "sessions").mkdir(parents=True)
        codex_below = tmp / "codex-home" / "sessions" / "codex-below.jsonl"
        codex_rollout(codex_below, args.transcript_mb, 120_000)  # 49 % of 244.8k: below 80 %
        codex_home = tmp / "codex-home"
        codex_home.mkdir(exist_ok=True)
        os.environ["CODEX_HOME"] = str(codex_home)  # no user config of this machine's

        def payload(path: Path, session: str) -> bytes:
            data = {
                "session_id": session,
                "transcript_path": str(path),
                "cwd": str(root),
                "permission_mode": "default",
                "hook_event_name": "PostToolUse",
                "tool_name": "Read",
                "tool_input": {"file_path": str(root / "x.py")},
                "tool_response": {"content": "x" * 4000},
                "tool_use_id": "toolu_1",
            }
            return json.dumps(data).encode()

        # Above: every run is a fresh session, so every run nudges (opens the workspace).
        commands = {
            "python -c pass": ([sys.executable, "-c", "pass"], None),
            "forecast below threshold": (hook, payload(below, "bench-below")),
            "codex forecast below": (codex_hook, payload(codex_below, "codex-below")),
        }
        times = time_processes(commands, root, args.runs)
        base = times["python -c pass"][0]
        print(f"forecast hook ({args.runs} runs each, transcript {args.transcript_mb} MB)")
        print(f"{'command':28} {'median ms':>10} {'p90 ms':>8} {'cpu ms':>8} {'x base':>7}")
        for name, (med, p90, cpu) in times.items():
            print(f"{name:28} {med:10.1f} {p90:8.1f} {cpu:8.1f} {med / base:7.2f}")
        nudge = time_processes({"above, nudged already": (hook, payload(above, "n"))}, root, 5)
        med, p90, cpu = nudge["above, nudged already"]
        print(f"{'forecast above (nudge)':28} {med:10.1f} {p90:8.1f} {cpu:8.1f} {med / base:7.2f}")
        ratio = times["forecast below threshold"][0] / base
        verdict = "ok" if ratio <= TARGET else "OVER"
        print(f"below the threshold: {ratio:.2f}x python -c pass (target <= {TARGET}x): {verdict}")
        ratio = times["codex forecast below"][0] / base
        verdict = "ok" if ratio <= TARGET else "OVER"
        print(f"codex, below: {ratio:.2f}x python -c pass (target <= {TARGET}x): {verdict}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
