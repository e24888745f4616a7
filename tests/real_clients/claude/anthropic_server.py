"""A scripted Anthropic Messages server on 127.0.0.1 for driving the real Claude Code.

Claude Code streams (``"stream": true``): the reply goes out as the server-sent events the Messages
API documents (``message_start``, ``content_block_start`` / ``_delta`` / ``_stop``,
``message_delta`` with the stop reason and usage, ``message_stop``). What to answer is up to the
test: ``script(request) -> Reply`` sees every request body (and may look at the tools offered, the
system prompt, the messages so far) and says which text and tool calls come back and which usage is
reported. Every request is kept in :attr:`ScriptedAnthropic.requests` for the test to inspect.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    input_tokens: int = 1200
    output_tokens: int = 40
    cache_read_tokens: int = 0
    # An API error instead of a message, e.g. (400, "invalid_request_error", "prompt is too long:
    # 205000 tokens > 200000 maximum"), the way the Messages API rejects an over-long prompt.
    error: tuple[int, str, str] | None = None


Script = Callable[[dict[str, Any]], Reply]


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


class ScriptedAnthropic:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[dict[str, Any]] = []
        self.other: list[str] = []  # paths that are not /v1/messages
        self._lock = threading.Lock()
        self._n = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _body(self) -> dict[str, Any]:
                n = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(n) if n else b"{}"
                try:
                    data = json.loads(raw)
                except ValueError:
                    return {}
                return data if isinstance(data, dict) else {}

            def _json(self, code: int, obj: dict[str, Any]) -> None:
                raw = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                with server._lock:
                    server.other.append("GET " + self.path)
                self._json(404, {"type": "error", "error": {"type": "not_found_error"}})

            def do_HEAD(self) -> None:
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                body = self._body()
                path = self.path.split("?")[0]
                if path.endswith("/count_tokens"):
                    with server._lock:
                        server.other.append("POST " + self.path)
                    chars = len(json.dumps(body.get("messages", [])))
                    self._json(200, {"input_tokens": max(1, chars // 4)})
                    return
                if not path.endswith("/v1/messages"):
                    with server._lock:
                        server.other.append("POST " + self.path)
                    self._json(404, {"type": "error", "error": {"type": "not_found_error"}})
                    return
                with server._lock:
                    server.requests.append(body)
                    server._n += 1
                    n = server._n
                try:
                    reply = server.script(body)
                except Exception as exc:  # the test's script broke: say so to the client
                    self._json(
                        500, {"type": "error", "error": {"type": "api_error", "message": repr(exc)}}
                    )
                    return
                if reply.error is not None:
                    code, kind, message = reply.error
                    self._json(code, {"type": "error", "error": {"type": kind, "message": message}})
                elif body.get("stream"):
                    self._stream(reply, body, n)
                else:
                    self._json(200, server.message(reply, body, n))

            def _stream(self, reply: Reply, body: dict[str, Any], n: int) -> None:
                msg = server.message(reply, body, n)
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("cache-control", "no-cache")
                self.send_header("connection", "close")
                self.end_headers()
                head = {**msg, "content": [], "stop_reason": None}
                head["usage"] = {**msg["usage"], "output_tokens": 1}
                out = [_sse("message_start", {"type": "message_start", "message": head})]
                for i, block in enumerate(msg["content"]):
                    if block["type"] == "text":
                        start = {"type": "text", "text": ""}
                        delta = {"type": "text_delta", "text": block["text"]}
                    else:
                        start = {**block, "input": {}}
                        delta = {
                            "type": "input_json_delta",
                            "partial_json": json.dumps(block["input"]),
                        }
                    out.append(
                        _sse(
                            "content_block_start",
                            {"type": "content_block_start", "index": i, "content_block": start},
                        )
                    )
                    out.append(
                        _sse(
                            "content_block_delta",
                            {"type": "content_block_delta", "index": i, "delta": delta},
                        )
                    )
                    out.append(
                        _sse("content_block_stop", {"type": "content_block_stop", "index": i})
                    )
                out.append(
                    _sse(
                        "message_delta",
                        {
                            "type": "message_delta",
                            "delta": {"stop_reason": msg["stop_reason"], "stop_sequence": None},
                            "usage": {"output_tokens": msg["usage"]["output_tokens"]},
                        },
                    )
                )
                out.append(_sse("message_stop", {"type": "message_stop"}))
                self.wfile.write(b"".join(out))
                self.wfile.flush()
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def message(self, reply: Reply, body: dict[str, Any], n: int) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if reply.text:
            content.append({"type": "text", "text": reply.text})
        for k, (name, args) in enumerate(reply.tool_calls):
            content.append(
                {"type": "tool_use", "id": f"toolu_{n:04d}_{k}", "name": name, "input": args}
            )
        if not content:
            content.append({"type": "text", "text": "ok"})
        return {
            "id": f"msg_{n:06d}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude-sonnet-4-5"),
            "content": content,
            "stop_reason": "tool_use" if reply.tool_calls else "end_turn",
            "stop_sequence": None,
            "usage": {
                "input_tokens": reply.input_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": reply.cache_read_tokens,
                "output_tokens": reply.output_tokens,
            },
        }

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)
