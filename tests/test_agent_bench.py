"""The strategy benchmark runs end to end: scripted model, and a real provider class when configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from test_agent_provider import _Server

ROOT = Path(__file__).resolve().parents[1]


def test_bench_scripted_json() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "strategy_bench.py"), "--tasks", "review", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")},
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    rows = {r["mode"]: r for r in data["scripted"]}
    assert rows["direct"]["ok"] and rows["cairn"]["ok"]
    assert rows["cairn"]["subagents"] == 3 and rows["direct"]["subagents"] == 0
    assert rows["direct"]["orchestrator"] > rows["cairn"]["orchestrator"]
    assert "real" not in data


def test_bench_with_a_real_provider_class(tmp_path: Path) -> None:
    srv = _Server(1_000)
    t = threading.Thread(target=srv.httpd.serve_forever, daemon=True)
    t.start()
    try:
        env = {
            **os.environ,
            "CAIRN_BENCH_MODEL": "openai-chat:gpt-4o",
            "OPENAI_API_KEY": "sk-test-not-a-key",
            "OPENAI_BASE_URL": srv.url,
        }
        out = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "strategy_bench.py"), "--tasks", "shards"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()
    assert out.returncode == 0, out.stderr  # the exit code follows the scripted runs
    assert "SCRIPTED MODEL (deterministic plans, not an LLM" in out.stdout
    assert "REAL MODEL openai-chat:gpt-4o" in out.stdout
    # The stand-in server does not do the task, and the verifier says so.
    assert "FAILED shards/direct" in out.stdout.split("REAL MODEL")[1]
    assert srv.calls
