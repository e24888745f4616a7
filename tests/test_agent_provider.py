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
from helpers.stored import records


class _Server:
    def __init__(self, prompt_tokens: int, *, fail_first: int = 0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []
        self.prompt_tokens = prompt_tokens
        self.fail_first = fail_first  # answer the first N requests with HTTP 500
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                outer.paths.append(self.path)
                if outer.fail_first > 0:
                    outer.fail_first -= 1
                    err = b'{"error": {"message": "overloaded", "type": "server_error"}}'
                    self.send_response(500)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("retry-after-ms", "10")
                    self.send_header("Content-Length", str(len(err)))
                    self.end_headers()
                    self.wfile.write(err)
                    return
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
            row = next(iter(records(tx, "agent_compactions")), None)
        assert row is not None and row["tokens_before"] >= 9_500
    second = json.dumps(server.calls[1]["messages"])
    assert "Resumed: yes" in second and "trigger: compact" in second


# -- [providers.*] of .cairn/config.toml reach `cairn agent run` ------------------------------------
@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Server]:
    """The loopback server, known only to config.toml: no OPENAI_BASE_URL in the environment."""
    for var in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "LOCAL_LLM_KEY"):
        monkeypatch.delenv(var, raising=False)
    srv = _Server(1_000)
    t = threading.Thread(target=srv.httpd.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def _configure(ws_path: Path, toml: str) -> None:
    cfg = ws_path / ".cairn" / "config.toml"
    cfg.write_text(cfg.read_text() + "\n" + toml)


def test_the_configured_base_url_reaches_cairn_agent_run(
    ws_path: Path, bare: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairn.cli import main

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-from-the-env-0001")
    _configure(ws_path, f'[providers.openai]\nbase_url = "{bare.url}"\n')
    with Workspace.open(ws_path) as ws:
        ws.create_task("t", "Say hi", phases=["work"])
    code = main(["-C", str(ws_path), "agent", "run", "t", "--model", "openai:gpt-4o", "--json"])
    assert code == 0
    assert (ws_path / "hello.txt").read_text() == "hi"
    # A server reached by base_url speaks Chat Completions, with the key from the environment.
    assert bare.paths == ["/v1/chat/completions"] * 2
    assert bare.headers[0]["authorization"] == "Bearer sk-test-from-the-env-0001"
    assert bare.calls[0]["model"] == "gpt-4o"


def test_a_named_openai_compatible_provider_with_its_own_key_variable(
    ws_path: Path, bare: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_LLM_KEY", "local-key-0123456789")
    _configure(
        ws_path,
        f'[providers.local]\ntype = "openai"\nbase_url = "{bare.url}"\napi_key_env = "LOCAL_LLM_KEY"\n',
    )
    with Workspace.open(ws_path) as ws:
        ws.create_task("t", "Say hi", phases=["work"])
        res = run_task(ws, "t", RunOptions(model="local:llama3.1:8b", subagents=False))
        assert res.state == "done" and res.model == "local:llama3.1:8b"
    assert bare.calls[0]["model"] == "llama3.1:8b"
    assert bare.headers[0]["authorization"] == "Bearer local-key-0123456789"


def test_the_providers_retries_are_the_sdks_for_the_agent_too(
    ws_path: Path, bare: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two 500s, then answers: with max_retries = 2 the SDK rides them out (cairn's own retries
    are off), with max_retries = 0 the first 500 fails the phase."""
    _configure(
        ws_path,
        f'[agent]\nretries = 0\n[providers.openai]\nbase_url = "{bare.url}"\nmax_retries = 0\n',
    )
    cfg = ws_path / ".cairn" / "config.toml"
    with Workspace.open(ws_path) as ws:
        ws.create_task("t", phases=["work"])
    bare.fail_first = 1
    with Workspace.open(ws_path) as ws:
        res = run_task(ws, "t", RunOptions(model="openai:gpt-4o"))
        assert res.state == "failed" and "500" in (res.phases[0].error or "")
    assert bare.calls == []
    cfg.write_text(cfg.read_text().replace("max_retries = 0", "max_retries = 2"))
    bare.fail_first = 2
    with Workspace.open(ws_path) as ws:
        res = run_task(ws, "t", RunOptions(model="openai:gpt-4o"))
        assert res.state == "done", res.phases
    assert len(bare.paths) == 1 + 3 + 1  # the failed run, two 500s and the answer, the final reply


def test_an_agent_provider_that_cannot_run_says_what_to_set(ws_path: Path, bare: _Server) -> None:
    from cairn.core.errors import UsageError

    with Workspace.open(ws_path) as ws:
        ws.create_task("t", phases=["work"])
        with pytest.raises(UsageError, match="export OPENAI_API_KEY"):
            run_task(ws, "t", RunOptions(model="openai:gpt-4o"))
        with pytest.raises(UsageError, match="answers reviews, not agent runs"):
            run_task(ws, "t", RunOptions(model="codex:gpt-5"))
    _configure(ws_path, f'[providers.groq]\nbase_url = "{bare.url}"\n')
    with Workspace.open(ws_path) as ws, pytest.raises(UsageError, match='type = "openai"'):
        run_task(ws, "t", RunOptions(model="groq:llama3"))
    assert bare.paths == []


class _AnthropicServer:
    """The Messages API on loopback: a tool call (write_file), then "Done."; as server-sent events
    when the request streams (the SDK streams a request with a model's large default max_tokens)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.seen.append(
                    (self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                first = len(outer.seen) == 1
                block: dict[str, Any] = (
                    {"type": "tool_use", "id": "toolu_1", "name": "write_file", "input": {}}
                    if first
                    else {"type": "text", "text": ""}
                )
                delta = (
                    {
                        "type": "input_json_delta",
                        "partial_json": '{"path": "hello.txt", "content": "hi"}',
                    }
                    if first
                    else {"type": "text_delta", "text": "Done."}
                )
                message = {
                    "id": f"msg_{len(outer.seen)}",
                    "type": "message",
                    "role": "assistant",
                    "model": body["model"],
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 1000, "output_tokens": 1},
                }
                events = [
                    {"type": "message_start", "message": message},
                    {"type": "content_block_start", "index": 0, "content_block": block},
                    {"type": "content_block_delta", "index": 0, "delta": delta},
                    {"type": "content_block_stop", "index": 0},
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": "tool_use" if first else "end_turn"},
                        "usage": {"output_tokens": 20},
                    },
                    {"type": "message_stop"},
                ]
                assert body.get("stream"), "this stand-in speaks the streamed form only"
                data = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
                raw = data.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


def test_the_configured_anthropic_base_url_reaches_the_agent(
    ws_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Messages API at a configured base URL, as a review of anthropic:... reaches it."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-0123456789")
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    srv = _AnthropicServer()
    threading.Thread(target=srv.httpd.serve_forever, daemon=True).start()
    _configure(ws_path, f'[providers.anthropic]\nbase_url = "{srv.url}"\n')
    try:
        with Workspace.open(ws_path) as ws:
            ws.create_task("t", "Say hi", phases=["work"])
            res = run_task(
                ws, "t", RunOptions(model="anthropic:claude-sonnet-4-6", subagents=False)
            )
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()
    assert res.state == "done", res.phases
    assert (ws_path / "hello.txt").read_text() == "hi"
    assert [path for path, _, _ in srv.seen] == ["/v1/messages"] * 2
    # The key from the environment, in the header the SDK release sends it in.
    sent = srv.seen[0][1]
    key = "sk-ant-test-0123456789"
    assert sent.get("x-api-key") == key or sent.get("authorization") == f"Bearer {key}"
    assert srv.seen[0][2]["model"] == "claude-sonnet-4-6"
    assert res.stats.input_tokens == 2 * 1000


def test_the_openai_wire_format_follows_the_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chat Completions for a server at a base URL (what compatible servers speak), the Responses
    API for api.openai.com; `api` in the table or the spec's openai-chat:/openai-responses: choose."""
    from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel

    from cairn.core.errors import UsageError
    from cairn.models.agent_adapter import agent_model

    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-wire-0123456789")
    local = {"providers": {"openai": {"base_url": "http://127.0.0.1:9/v1"}}}
    assert isinstance(agent_model("openai:gpt-4o"), OpenAIResponsesModel)
    assert isinstance(agent_model("openai-chat:gpt-4o"), OpenAIChatModel)
    assert isinstance(agent_model("openai:gpt-4o", local), OpenAIChatModel)
    assert isinstance(agent_model("openai-responses:gpt-4o", local), OpenAIResponsesModel)
    local["providers"]["openai"]["api"] = "responses"
    assert isinstance(agent_model("openai:gpt-4o", local), OpenAIResponsesModel)
    local["providers"]["openai"]["api"] = "completions"
    with pytest.raises(UsageError, match='use "chat" or "responses"'):
        agent_model("openai:gpt-4o", local)
    with pytest.raises(UsageError, match="environment only"):
        agent_model("openai:gpt-4o", {"providers": {"openai": {"api_key": "sk-in-the-file"}}})
