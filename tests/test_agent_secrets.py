"""The agent runtime never writes an API key, even when the provider echoes it in an error."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cairn.agent import RunOptions, run_task
from cairn.domain.workspace import Workspace

KEY = "sk-proj-Zq8LrT2vW9xY4kP7mN3bC6dF1gH5jA0sE8uI2oQ"


class _EchoingServer:
    """Answers every request with ``status`` and an error body that quotes the key back."""

    def __init__(self, status: int) -> None:
        self.calls = 0
        self.status = status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                outer.calls += 1
                sent = self.headers.get("Authorization", "").removeprefix("Bearer ")
                body = json.dumps(
                    {
                        "error": {
                            "message": f"Incorrect API key provided: {sent}. ({sent[:12]}...)",
                            "type": "invalid_request_error",
                            "code": "invalid_api_key",
                        }
                    }
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("x-should-retry", "false")  # the SDK leaves retries to cairn
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


@pytest.fixture
def echo(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[_EchoingServer]:
    srv = _EchoingServer(request.param)
    t = threading.Thread(target=srv.httpd.serve_forever, daemon=True)
    t.start()
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", srv.url)
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.mark.parametrize("echo", [401, 500], indirect=True)
def test_a_key_echoed_by_the_provider_is_never_written(ws_path: Path, echo: _EchoingServer) -> None:
    with Workspace.open(ws_path) as ws:
        ws.create_task("t", "Say hi", phases=["work"])
        res = run_task(ws, "t", RunOptions(model="openai-chat:gpt-4o", retries=1, retry_delay=0.01))
        assert res.state != "done" and echo.calls >= 1
        (phase,) = res.phases
        assert phase.state == "failed" and phase.error and KEY not in phase.error
        assert "***" in phase.error  # the error is kept, with the key masked
        retries = ws.events("t", types=["agent.provider_retry"])
        assert len(retries) == (1 if echo.status == 500 else 0)  # a 500 is retried, a 401 not
    written = [p for p in ws_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in written)
    for p in written:
        data = p.read_bytes()
        for part in (KEY, KEY[:12], KEY[-12:]):
            assert part.encode() not in data, f"{p.relative_to(ws_path)} holds the key"


def test_a_key_from_a_variable_named_in_the_config_is_masked_too(
    ws_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LOCAL_LLM_KEY is no *_API_KEY: the provider that read it is what makes it a secret."""
    srv = _EchoingServer(401)
    t = threading.Thread(target=srv.httpd.serve_forever, daemon=True)
    t.start()
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("LOCAL_LLM_KEY", KEY)
    cfg = ws_path / ".cairn" / "config.toml"
    cfg.write_text(
        cfg.read_text()
        + f'\n[providers.local]\ntype = "openai"\nbase_url = "{srv.url}"\n'
        + 'api_key_env = "LOCAL_LLM_KEY"\nmax_retries = 0\n'
    )
    try:
        with Workspace.open(ws_path) as ws:
            ws.create_task("t", "Say hi", phases=["work"])
            res = run_task(ws, "t", RunOptions(model="local:llama3", retries=0))
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()
    (phase,) = res.phases
    assert srv.calls == 1 and phase.state == "failed"
    assert phase.error and KEY not in phase.error and "***" in phase.error
    for p in (p for p in ws_path.rglob("*") if p.is_file()):
        data = p.read_bytes()
        for part in (KEY, KEY[:12], KEY[-12:]):
            assert part.encode() not in data, f"{p.relative_to(ws_path)} holds the key"
