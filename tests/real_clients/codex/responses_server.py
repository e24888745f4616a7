"""A scripted OpenAI Responses API on 127.0.0.1 for the real Codex CLI.

Codex posts ``/v1/responses`` with ``stream: true`` and reads server-sent events; this server
answers each request with the output items a test's ``script`` returns for it and records every
request body, so a test can drive the real ``codex`` binary turn by turn and look at what it sent.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Item = dict[str, Any]
Script = Callable[["Request"], "Reply"]
_ids = itertools.count(1)


@dataclass
class Request:
    path: str
    body: dict[str, Any]
    index: int  # 0 for the first model request of the server's life

    @property
    def input(self) -> list[Item]:
        items = self.body.get("input")
        return items if isinstance(items, list) else []

    def text(self) -> str:
        """Everything the request carries as text (messages, tool outputs), for assertions."""
        return json.dumps(self.input, ensure_ascii=False)

    def outputs(self, kind: str) -> list[Item]:
        return [i for i in self.input if isinstance(i, dict) and i.get("type") == kind]

    def tool_names(self) -> list[str]:
        names = []
        for tool in self.body.get("tools") or []:
            if isinstance(tool, dict):
                names.append(str(tool.get("name") or tool.get("type")))
        return names


@dataclass
class Reply:
    items: list[Item]
    input_tokens: int = 100
    output_tokens: int = 10
    total_tokens: int | None = None  # what Codex compares with its auto-compact limit


def message(text: str) -> Item:
    return {
        "type": "message",
        "role": "assistant",
        "id": f"msg_{next(_ids)}",
        "content": [{"type": "output_text", "text": text}],
    }


def function_call(name: str, arguments: dict[str, Any], namespace: str | None = None) -> Item:
    item: Item = {
        "type": "function_call",
        "id": f"fc_{next(_ids)}",
        "call_id": f"call_{next(_ids)}",
        "name": name,
        "arguments": json.dumps(arguments),
    }
    if namespace is not None:
        item["namespace"] = namespace
    return item


def tool_search(query: str) -> Item:
    return {
        "type": "tool_search_call",
        "id": f"ts_{next(_ids)}",
        "call_id": f"call_{next(_ids)}",
        "execution": "client",
        "status": "completed",
        "arguments": {"query": query},
    }


def shell(cmd: str) -> Item:
    return function_call("exec_command", {"cmd": cmd})


@dataclass
class ResponsesServer:
    script: Script
    requests: list[Request] = field(default_factory=list)
    other: list[tuple[str, str]] = field(default_factory=list)  # (method, path) not answered
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> ResponsesServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner.other.append(("GET", self.path))
                self._plain(404, b"not scripted")

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                if not self.path.rstrip("/").endswith("/responses"):
                    owner.other.append(("POST", self.path))
                    self._plain(404, b"not scripted")
                    return
                body = json.loads(raw or b"{}")
                with owner._lock:
                    req = Request(self.path, body, len(owner.requests))
                    owner.requests.append(req)
                try:
                    reply = owner.script(req)
                except Exception as exc:  # a broken script shows up as Codex's error, and here
                    owner.other.append(("SCRIPT-ERROR", repr(exc)))
                    reply = Reply([message(f"script error: {exc!r}")])
                self._stream(reply)

            def _plain(self, code: int, data: bytes) -> None:
                self.send_response(code)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, reply: Reply) -> None:
                rid = f"resp_{next(_ids)}"
                total = reply.total_tokens or reply.input_tokens + reply.output_tokens
                events: list[dict[str, Any]] = [
                    {"type": "response.created", "response": {"id": rid}}
                ]
                for n, item in enumerate(reply.items):
                    events.append(
                        {"type": "response.output_item.done", "output_index": n, "item": item}
                    )
                events.append(
                    {
                        "type": "response.completed",
                        "response": {
                            "id": rid,
                            "usage": {
                                "input_tokens": reply.input_tokens,
                                "input_tokens_details": {"cached_tokens": 0},
                                "output_tokens": reply.output_tokens,
                                "output_tokens_details": {"reasoning_tokens": 0},
                                "total_tokens": total,
                            },
                        },
                    }
                )
                data = b"".join(
                    f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events
                )
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
