"""What switching cairn's own MCP server off saves a Codex reviewer: the wall time of the
`codex exec` that `cairn review request --reviewer codex` runs (its exact command line, from
cairn.models.cli_provider), with `-c mcp_servers.cairn.enabled=false` (what cairn passes when the
server is configured) and without it (Codex starts the required server and waits for it), taking
turns, in a throw-away CODEX_HOME where `cairn hooks install codex` ran.

Needs the real Codex CLI (`bash .ci/setup`); the model is the tests' scripted Responses server on
127.0.0.1:

    .venv/bin/python bench/codex_review_bench.py [--runs 5]
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
sys.path.insert(0, str(ROOT / "src"))

from responses_server import Reply, ResponsesServer, message  # noqa: E402

from cairn.models.cli_provider import CodexModel  # noqa: E402

FLAG = "mcp_servers.cairn.enabled=false"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    runs = ap.parse_args().runs
    if shutil.which("codex") is None:
        print("codex is not on PATH: bash .ci/setup installs it")
        return 1
    verdict = '{"approved": true, "recommendation": "ok", "concerns": []}'
    server = ResponsesServer(lambda req: Reply([message(verdict)])).start()
    try:
        with tempfile.TemporaryDirectory(prefix="cairn-codex-review-bench-") as tmp:
            home, project = Path(tmp) / "home" / ".codex", Path(tmp) / "project"
            home.mkdir(parents=True)
            project.mkdir()
            (home / "config.toml").write_text(
                'model = "gpt-5.5"\nmodel_provider = "scripted"\n\n[model_providers.scripted]\n'
                f'name = "scripted"\nbase_url = "{server.base_url}"\nwire_api = "responses"\n'
            )
            env = dict(os.environ, HOME=str(Path(tmp) / "home"), CODEX_HOME=str(home))
            cairn = [sys.executable, "-m", "cairn", "-C", str(project)]
            subprocess.run([*cairn, "init"], env=env, check=True, capture_output=True)
            subprocess.run(
                [*cairn, "hooks", "install", "codex"], env=env, check=True, capture_output=True
            )
            os.environ["CODEX_HOME"] = str(home)
            os.chdir(project)
            with_flag = ["codex", *CodexModel("", {}).argv(Path(tmp) / "out.txt")]
            assert FLAG in with_flag, "cairn did not switch its server off for the reviewer"
            i = with_flag.index(FLAG)
            without = with_flag[: i - 1] + with_flag[i + 1 :]
            env["CAIRN_SPAWNED"] = "review"  # as cairn runs it: cairn's own hooks stay silent
            times: dict[str, list[float]] = {"server on (before)": [], "server off (now)": []}
            offered: dict[str, int] = dict.fromkeys(times, 0)
            for _ in range(runs):
                for name, argv in (
                    ("server on (before)", without),
                    ("server off (now)", with_flag),
                ):
                    first = len(server.requests)
                    started = time.monotonic()
                    proc = subprocess.run(
                        argv, cwd=project, env=env, input="Review: is k=4 enough?",
                        capture_output=True, text=True, timeout=300, start_new_session=True,
                    )  # fmt: skip
                    times[name].append(time.monotonic() - started)
                    sent = server.requests[first:]
                    offered[name] += bool(sent) and "mcp__cairn" in sent[0].text()
                    if proc.returncode != 0:
                        print(f"{name}: codex exec failed: {proc.stderr[-800:]}")
                        return 1
            print(f"codex reviewer `codex exec` ({runs} runs each, load {os.getloadavg()[0]:.1f})")
            for name, ts in times.items():
                runs_s = " ".join(f"{t:.2f}" for t in ts)
                print(
                    f"{name:22} median {statistics.median(ts):6.2f} s   runs {runs_s}   "
                    f"cairn's tools offered {offered[name]}/{runs}"
                )
            saved = statistics.median(times["server on (before)"]) - statistics.median(
                times["server off (now)"]
            )
            print(f"saved per review: {saved:.2f} s")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
