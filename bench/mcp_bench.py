"""MCP start-up: the ``initialize`` round trip of ``cairn mcp`` next to importing the SDK, one run.

An MCP client (Codex, Claude Code) starts the server and sends ``initialize`` at once; a server
that answers late has its tools missing from the client's first turn. Measured in fresh
processes, taking turns (``benchlib``):

* the floor: ``python -c "import <the SDK modules the server uses>"`` (the cost of the SDK alone);
* a bare SDK server (``MCPServer`` with no tools) answering ``initialize`` over stdio;
* ``cairn mcp`` answering ``initialize`` over stdio, in a small workspace.

Target (issue 10, item 7): cairn adds at most 150 ms over the SDK's own import.

    .venv/bin/python bench/mcp_bench.py [--runs 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchlib import child_env, cli_command, load

TARGET_ADDED_MS = 150.0
# What cairn's server imports of the SDK before it can answer: the server class, its stdio
# transport (server.run("stdio")) and pydantic (tool argument types).
SDK_MODULES = "mcp.server.mcpserver, mcp.server.stdio, pydantic"
INITIALIZE = (
    json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "cairn-mcp-bench", "version": "1"},
            },
        }
    )
    + "\n"
).encode()
BARE_SERVER = (
    "from mcp.server.mcpserver import MCPServer\n"
    "MCPServer('bare', log_level='WARNING').run('stdio')\n"
)


def initialize_ms(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 60.0) -> float:
    """Wall time from starting ``cmd`` to its answer to ``initialize`` (the line with id 1)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(INITIALIZE)  # sent at once, as Codex does, not after a wait
        proc.stdin.flush()
        fd = proc.stdout.fileno()
        buf = b""
        while True:
            left = timeout - (time.perf_counter() - t0)
            ready, _, _ = select.select([fd], [], [], max(0.0, left))
            if not ready:
                raise SystemExit(f"{' '.join(cmd)}: no answer to initialize in {timeout:.0f} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise SystemExit(f"{' '.join(cmd)} ended before answering: {err[-500:]}")
            buf += chunk
            for line in buf.split(b"\n")[:-1]:
                msg = json.loads(line)
                if msg.get("id") == 1:
                    if "result" not in msg:
                        raise SystemExit(f"initialize failed: {msg}")
                    return (time.perf_counter() - t0) * 1000
    finally:
        proc.stdin.close()  # end of input: the server exits
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def import_ms(cwd: Path, env: dict[str, str], timeout: float = 60.0) -> float:
    """Wall time from starting the import to its end (a line printed after it): the interpreter's
    teardown is not counted, as it is not for ``initialize``."""
    code = f"import {SDK_MODULES}\nprint('imported', flush=True)\n"
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=cwd, env=env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline()
        if not line.startswith(b"imported"):
            raise SystemExit(f"importing {SDK_MODULES} failed")
        return (time.perf_counter() - t0) * 1000
    finally:
        proc.wait(timeout=timeout)
        proc.stdout.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = ap.parse_args()
    from cairn.domain.workspace import Workspace

    base = Path(tempfile.mkdtemp(prefix="cairn-mcp-bench-"))
    try:
        root = base / "ws"
        root.mkdir()
        with Workspace.init(root) as ws:
            ws.create_task("t", "MCP start-up", ["analysis", "plan"])
            ws.start_phase("t", "analysis")
            ws.write_checkpoint("t", "analysis", "# Analysis\n")
        env = child_env()
        runners = {
            f"python -c 'import {SDK_MODULES}'": lambda: import_ms(root, env),
            "bare SDK server: initialize": lambda: initialize_ms(
                [sys.executable, "-c", BARE_SERVER], root, env
            ),
            "cairn mcp: initialize": lambda: initialize_ms([*cli_command(), "mcp"], root, env),
        }
        for run in runners.values():  # warm the bytecode and page caches
            run()
        times: dict[str, list[float]] = {name: [] for name in runners}
        for _ in range(args.runs):
            for name, run in runners.items():
                times[name].append(run())
        med = {name: statistics.median(v) for name, v in times.items()}
        floor_name, bare_name, cairn_name = runners
        floor = med[floor_name]
        print(f"MCP start-up, {args.runs} runs each, taking turns ({load()})")
        print(f"{'fresh process':<62}{'median ms':>10}{'over import':>13}")
        for name, ms in med.items():
            print(f"{name:<62}{ms:>10.1f}{ms - floor:>+12.1f}")
        added = med[cairn_name] - floor
        print(
            f"\ntarget: cairn adds <= {TARGET_ADDED_MS:.0f} ms over the SDK import: "
            f"{'met' if added <= TARGET_ADDED_MS else 'MISSED'} ({added:+.1f} ms; the bare SDK "
            f"server adds {med[bare_name] - floor:+.1f} ms)"
        )
        if args.json:
            print(
                json.dumps(
                    {"import_ms": floor, "bare_ms": med[bare_name], "cairn_ms": med[cairn_name]}
                )
            )
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
