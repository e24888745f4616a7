"""What `required = true` on cairn's Codex MCP server costs and buys: the wall time of a one-turn
`codex exec` and whether its first model request already offers cairn's tools, with the server
required (what `cairn hooks install codex` writes) and not (Codex's default), alternating.

Needs the real Codex CLI (`bash .ci/setup`). Runs against the tests' scripted Responses server on
127.0.0.1 in a throw-away CODEX_HOME and workspace:

    .venv/bin/python bench/codex_first_turn_bench.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "real_clients" / "codex"))

from responses_server import Reply, ResponsesServer, message  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    runs = ap.parse_args().runs
    if shutil.which("codex") is None:
        print("codex is not on PATH: bash .ci/setup installs it")
        return 1
    server = ResponsesServer(lambda req: Reply([message("ok")])).start()
    with tempfile.TemporaryDirectory(prefix="cairn-codex-bench-") as tmp:
        home, project = Path(tmp) / "home" / ".codex", Path(tmp) / "project"
        home.mkdir(parents=True)
        project.mkdir()
        subprocess.run(["git", "init", "-q", str(project)], check=True)
        (home / "config.toml").write_text(
            'model = "gpt-5.5"\nmodel_provider = "scripted"\n\n[model_providers.scripted]\n'
            f'name = "scripted"\nbase_url = "{server.base_url}"\nwire_api = "responses"\n'
        )
        env = dict(os.environ, HOME=str(Path(tmp) / "home"), CODEX_HOME=str(home))
        cairn = [sys.executable, "-m", "cairn", "-C", str(project)]
        subprocess.run([*cairn, "init"], env=env, check=True, capture_output=True)
        subprocess.run([*cairn, "hooks", "install", "codex"], env=env, check=True,
                       capture_output=True)  # fmt: skip
        results: dict[bool, list[tuple[float, bool]]] = {True: [], False: []}
        for _ in range(runs):
            for required in (False, True):
                first = len(server.requests)
                started = time.monotonic()
                flag = f"mcp_servers.cairn.required={str(required).lower()}"
                proc = subprocess.run(
                    ["codex", "exec", "--json", "-c", flag, "hi"], cwd=project, env=env,
                    stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300,
                )  # fmt: skip
                if proc.returncode != 0:
                    print(proc.stderr[-2000:])
                    return 1
                seen = "mcp__cairn" in server.requests[first].text()
                results[required].append((time.monotonic() - started, seen))
    server.stop()
    base = statistics.median(t for t, _ in results[False])
    for required in (False, True):
        wall = statistics.median(t for t, _ in results[required])
        offered = sum(seen for _, seen in results[required])
        print(
            f"required={str(required).lower():<5}  median wall {wall:5.2f} s "
            f"({wall / base:4.2f}x)  cairn's tools in the first request: {offered}/{runs}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
