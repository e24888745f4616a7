"""A real provider class (pydantic-ai's OpenAI chat model) against a loopback server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cairn.agent import RunOptions, run_task
from cairn.domain import budget
from cairn.domain.workspace import Workspace


class _Server:
    def __init__(self, prompt_tokens: int) -> None:
        self.calls: list[dict[str, Any]] = []
        self.prompt_tokens = prompt_tokens
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.calls.append(body)
                n = len(outer.calls)
                if n == 1:
                    args = json.dumps({"path": "hello.txt", "content": "hi"})
                    msg: dict[str, Any] = {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": "write_file", "arguments": args},
                            }
                        ],
                    }
                    finish = "tool_calls"
                else:
                    msg, finish = {"role": "assistant", "content": "Done."}, "stop"
                data = json.dumps(
                    {
                        "id": f"c{n}",
                        "object": "chat.completion",
                        "created": 0,
                        "model": "gpt-4o",
                        "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
                        "usage": {
                            "prompt_tokens": outer.prompt_tokens,
                            "completion_tokens": 20,
                            "total_tokens": outer.prompt_tokens + 20,
                        },
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[_Server]:
    srv = _Server(getattr(request, "param", 1_000))
    t = threading.Thread(target=srv.httpd.serve_forever, daemon=True)
    t.start()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-key")
    monkeypatch.setenv("OPENAI_BASE_URL", srv.url)
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def test_openai_model_runs_a_phase_with_the_tools(ws_path: Path, server: _Server) -> None:
    with Workspace.open(ws_path) as ws:
        ws.create_task("t", "Say hi", phases=["work"])
        res = run_task(ws, "t", RunOptions(model="openai-chat:gpt-4o"))
        assert res.state == "done"
        assert (ws_path / "hello.txt").read_text() == "hi"
        # The provider's usage is what the run counts, and the ledger marks it exact.
        assert res.stats.input_tokens == 2 * 1_000 and res.stats.output_tokens == 40
        rep = budget.report(ws, all_contexts=True)
        orch = next(c for c in rep.categories if c.category == "orchestration")
        assert ("model response", 40) in orch.top_sources
    tools = [t["function"]["name"] for t in server.calls[0]["tools"]]
    assert {"read_file", "write_file", "checkpoint", "progress", "spawn_subagents"} <= set(tools)
    assert "run_command" not in tools  # off without an allowlist
    first = json.dumps(server.calls[0]["messages"])
    assert "## Phase: work" in first and "Recovery brief" in first


@pytest.mark.parametrize("server", [9_500], indirect=True)
def test_provider_reported_usage_drives_compaction(ws_path: Path, server: _Server) -> None:
    with Workspace.open(ws_path) as ws:
        ws.create_task("t", phases=["work"])
        res = run_task(ws, "t", RunOptions(model="openai-chat:gpt-4o", window=10_000))
        assert res.state == "done"
        assert res.stats.compactions == 1 and res.stats.suboptimal == 1
        with ws.store.read() as tx:
            row = tx.one("SELECT * FROM agent_compactions")
        assert row is not None and row["tokens_before"] >= 9_500
    second = json.dumps(server.calls[1]["messages"])
    assert "Resumed: yes" in second and "trigger: compact" in second
