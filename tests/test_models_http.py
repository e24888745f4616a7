"""The OpenAI and Anthropic providers on the wire: the official SDKs talk to a loopback server that
checks each request against fixtures written from the providers' API references, and answers
with the recorded responses (success, 429, 5xx, 401, slow)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cairn.models import ModelError, ModelTimeout, resolve

FIXTURES = Path(__file__).parent / "fixtures" / "models"
OPENAI = json.loads((FIXTURES / "openai_chat_completion.json").read_text())
ANTHROPIC = json.loads((FIXTURES / "anthropic_messages.json").read_text())
KEY = "sk-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0-SECRET"


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_type: str = "application/json"  # any other type sends ``body`` as it is, as text


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class FakeAPI:
    """A loopback HTTP server: answers queued replies in order (the last one repeats)."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.seen: list[Seen] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                raw = self.rfile.read(length)
                api.seen.append(
                    Seen(
                        "POST",
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        json.loads(raw) if raw else None,
                    )
                )
                reply = api.replies.pop(0) if len(api.replies) > 1 else api.replies[0]
                if reply.delay:
                    time.sleep(reply.delay)
                json_body = reply.content_type == "application/json"
                data = (json.dumps(reply.body) if json_body else str(reply.body)).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", reply.content_type)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAPI]:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    for var in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(var, raising=False)
    server = FakeAPI()
    yield server
    server.close()


def _openai(api: FakeAPI, **settings: Any) -> Any:
    cfg = {"providers": {"openai": {"base_url": api.url + "/v1", **settings}}}
    return resolve("openai:gpt-4o", cfg)


def _anthropic(api: FakeAPI, **settings: Any) -> Any:
    cfg = {"providers": {"anthropic": {"base_url": api.url, **settings}}}
    return resolve("anthropic:claude-sonnet-4-6", cfg)


def _check_request(seen: Seen, fixture: dict[str, Any]) -> None:
    want = fixture["request"]
    assert seen.method == want["method"]
    assert seen.path == want["path"]
    for name, value in want["headers"].items():
        assert seen.headers.get(name) == value.replace("${API_KEY}", KEY), name
    assert seen.body == want["json"]
    # One credential header, the documented one.
    other = "x-api-key" if "authorization" in want["headers"] else "authorization"
    assert other not in seen.headers


def test_openai_request_and_response_match_the_api_reference(
    api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    api.replies = [Reply(200, OPENAI["response"]["json"])]
    c = _openai(api).complete(
        "Is this plan sound?",
        system="You are a reviewer. Answer in JSON.",
        max_tokens=300,
        timeout=10,
    )
    assert len(api.seen) == 1
    _check_request(api.seen[0], OPENAI)
    assert json.loads(c.text)["recommendation"] == "Bound k before sampling."
    assert (c.input_tokens, c.output_tokens) == (19, 31)
    assert c.model == "gpt-4o-2024-08-06" and c.provider == "openai"


def test_anthropic_request_and_response_match_the_api_reference(
    api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    api.replies = [Reply(200, ANTHROPIC["response"]["json"])]
    c = _anthropic(api).complete(
        "Is this plan sound?",
        system="You are a reviewer. Answer in JSON.",
        max_tokens=300,
        timeout=10,
    )
    assert len(api.seen) == 1
    _check_request(api.seen[0], ANTHROPIC)
    assert json.loads(c.text)["approved"] is True
    assert (c.input_tokens, c.output_tokens) == (2095, 503)
    assert c.model == "claude-sonnet-4-6"


def test_openai_retries_rate_limits_and_server_errors(
    api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    fast = {"retry-after-ms": "10"}
    api.replies = [
        Reply(429, OPENAI["errors"]["429"], fast),
        Reply(500, OPENAI["errors"]["500"], fast),
        Reply(200, OPENAI["response"]["json"]),
    ]
    c = _openai(api, max_retries=3).complete("q", max_tokens=10, timeout=10)
    assert len(api.seen) == 3
    assert c.output_tokens == 31


def test_anthropic_retries_rate_limits_and_overload(
    api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    fast = {"retry-after-ms": "10"}
    api.replies = [
        Reply(429, ANTHROPIC["errors"]["429"], fast),
        Reply(529, ANTHROPIC["errors"]["529"], fast),
        Reply(200, ANTHROPIC["response"]["json"]),
    ]
    c = _anthropic(api, max_retries=3).complete("q", max_tokens=10, timeout=10)
    assert len(api.seen) == 3
    assert c.input_tokens == 2095


def test_retries_are_bounded_then_an_error_says_so(
    api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    api.replies = [Reply(500, OPENAI["errors"]["500"], {"retry-after-ms": "5"})]
    with pytest.raises(ModelError, match="HTTP 500"):
        _openai(api, max_retries=2).complete("q", max_tokens=10, timeout=10)
    assert len(api.seen) == 3  # one try and two retries


def test_a_slow_server_is_a_timeout(api: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    api.replies = [Reply(200, ANTHROPIC["response"]["json"], delay=2.0)]
    started = time.monotonic()
    with pytest.raises(ModelTimeout, match="did not answer within"):
        _anthropic(api, max_retries=0).complete("q", max_tokens=10, timeout=0.3)
    assert time.monotonic() - started < 1.8


def test_openai_compatible_server_needs_no_key_and_gets_max_tokens(
    api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    api.replies = [Reply(200, OPENAI["response"]["json"])]
    cfg = {"providers": {"ollama": {"type": "openai", "base_url": api.url + "/v1"}}}
    model = resolve("ollama:llama3.1:8b", cfg)
    assert model.spec == "ollama:llama3.1:8b"
    model.complete("q", max_tokens=77, timeout=10)
    assert api.seen[0].body["model"] == "llama3.1:8b"
    assert api.seen[0].body["max_tokens"] == 77


def test_missing_key_names_the_variable() -> None:
    with pytest.raises(ModelError, match="export OPENAI_API_KEY"):
        resolve("openai:gpt-4o", {}).check()
    with pytest.raises(ModelError, match="export ANTHROPIC_API_KEY"):
        resolve("anthropic:claude-sonnet-4-6", {}).check()


def test_the_key_is_never_written_to_any_file(
    api: FakeAPI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A 401 that echoes the key, a rejection, an approval: grep every file cairn wrote."""
    from cairn.domain.reviews import request_review
    from cairn.domain.workspace import Workspace

    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    (tmp_path / ".cairn").mkdir()
    (tmp_path / ".cairn" / "config.toml").write_text(
        f'[reviews]\ndefault = "openai:gpt-4o"\n[providers.openai]\nbase_url = "{api.url}/v1"\n'
        "max_retries = 0\n"
    )
    ws = Workspace.init(tmp_path)
    ws.create_task("finding4", phases=["plan", "implement"], gates=["implement"])
    ws.write_checkpoint("finding4", "plan", "# plan\n**Task**: x\n")
    echoed = json.loads(json.dumps(OPENAI["errors"]["401"]).replace("${API_KEY_MASKED}", KEY))
    api.replies = [Reply(401, echoed)]
    failed = request_review(ws, "finding4", "finding4_approach", "Sound?")
    assert failed.state == "failed"
    assert "refused the API key" in (failed.verdict.error or "")
    api.replies = [Reply(200, OPENAI["response"]["json"])]
    rejected = request_review(ws, "finding4", "finding4_approach", "Sound?")
    assert rejected.state == "rejected" and rejected.round == 2
    ws.close()
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in written)
    for p in written:
        data = p.read_bytes()
        for part in (KEY, KEY[:12], KEY[-12:]):
            assert part.encode() not in data, f"{p} holds the key"
    assert os.environ["OPENAI_API_KEY"] == KEY


PORTAL = "<html><head><title>Sign in</title></head><body>" + "x" * 5000 + KEY + "</body></html>"


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/html", PORTAL), ("application/json", {"status": "ok", "key": KEY}), ("text/plain", "")],
)
def test_a_reply_that_is_not_the_api_s_json_says_who_sent_what(
    api: FakeAPI, monkeypatch: pytest.MonkeyPatch, provider: str, content_type: str, body: Any
) -> None:
    """A captive portal, a proxy's page or another service on the port: one clear line naming the
    provider, the URL and what came back (clipped, the key masked), never an AttributeError."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    api.replies = [Reply(200, body, content_type=content_type)]
    model = _openai(api) if provider == "openai" else _anthropic(api)
    with pytest.raises(ModelError) as caught:
        model.complete("q", max_tokens=10, timeout=10)
    msg = str(caught.value)
    assert "\n" not in msg and len(msg) < 600, msg
    assert model.spec in msg and api.url in msg
    assert KEY not in msg and KEY[:12] not in msg and KEY[-12:] not in msg
    if content_type == "text/html":
        assert "<html><head><title>Sign in" in msg and "characters" in msg
    elif body:
        assert '"status": "ok"' in msg or "'status': 'ok'" in msg
    else:
        assert "empty" in msg
