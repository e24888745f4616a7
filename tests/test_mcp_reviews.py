"""The MCP ``review_request`` tool with a slow model reviewer (issue 11, defect 8): it reports
progress while it waits, answers "pending" after ``wait_s`` instead of blocking for the reviewer's
whole timeout, serves other tools meanwhile, and records the verdict when it comes. Through a real
stdio client session of the official SDK and an OpenAI-compatible reviewer on 127.0.0.1."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import pytest

pytest.importorskip("mcp")
pytest.importorskip("openai")

from mcp import Client, StdioServerParameters

VERDICT = {"approved": True, "recommendation": "Proceed.", "concerns": ["watch k"]}


class SlowReviewer:
    """A loopback chat-completions server that answers each request once released (or after
    ``give_up`` seconds, so that a blocking tool shows up as a slow test, not a hung one)."""

    def __init__(self, give_up: float = 20.0) -> None:
        self.release = threading.Event()
        self.requests = 0
        reviewer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                reviewer.requests += 1
                reviewer.release.wait(give_up)
                body = json.dumps(
                    {
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "created": 1741569952,
                        "model": "slow-1",
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": json.dumps(VERDICT)},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                    }
                ).encode()
                try:
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def slow() -> Iterator[SlowReviewer]:
    server = SlowReviewer()
    yield server
    server.close()


def _text(result: Any) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)


def test_a_slow_reviewer_reports_progress_and_answers_pending(
    ws_path: Path, slow: SlowReviewer
) -> None:
    cfg = ws_path / ".cairn" / "config.toml"
    cfg.write_text(
        cfg.read_text()
        + f'\n[providers.slow]\ntype = "openai"\nbase_url = "{slow.url}"\nmax_retries = 0\n'
        + "[reviews]\nmcp_wait = 1.5\n"  # how long review_request waits before "pending"
    )
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "cairn", "mcp"], cwd=str(ws_path), env={"HOME": "/"}
    )
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    async def session() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with Client(params, read_timeout_seconds=60) as client:
            await client.call_tool("task_new", {"task": "f4", "phases": ["plan", "implement"]})
            await client.call_tool("checkpoint_write", {"kind": "plan", "content": "# Plan\nk\n"})
            args = {"topic": "f4_approach", "question": "Sound?", "reviewer": "slow:m"}
            started = time.monotonic()
            out["asked"] = await client.call_tool(
                "review_request", args, progress_callback=on_progress
            )
            out["asked_s"] = time.monotonic() - started
            # The reviewer still thinks; the server answers other tools meanwhile.
            started = time.monotonic()
            out["status"] = await client.call_tool("status", {})
            out["status_s"] = time.monotonic() - started
            review_id = out["asked"].structured_content["id"]
            out["still"] = await client.call_tool("review_show", {"review": review_id})
            slow.release.set()
            for _ in range(100):  # the verdict is recorded when it comes: poll for it
                shown = await client.call_tool("review_show", {"review": review_id})
                if shown.structured_content["rounds"][-1]["state"] != "pending":
                    break
                await anyio.sleep(0.1)
            out["polled"] = shown
            # A reviewer that answers within the wait (here given by the call) gives the verdict.
            out["fast"] = await client.call_tool("review_request", {**args, "wait_s": 30})
        return out

    out = anyio.run(session)
    assert not out["asked"].is_error, _text(out["asked"])
    asked = out["asked"].structured_content
    assert out["asked_s"] < 10, "the tool blocked for the reviewer instead of answering pending"
    assert asked["schema"] == "cairn.review/1" and asked["state"] == "pending"
    assert asked["waiting"]["poll"] == "review_show" and asked["id"] in asked["waiting"]["message"]
    assert asked["waiting"]["reviewer_timeout_s"] == 600
    assert len(progress) >= 2, progress
    assert all(total == 600 and "waiting for slow:m" in (msg or "") for _, total, msg in progress)
    assert [p[0] for p in progress] == sorted(p[0] for p in progress)
    assert out["status_s"] < 5 and not out["status"].is_error
    assert out["still"].structured_content["rounds"][-1]["state"] == "pending"
    polled = out["polled"].structured_content["rounds"][-1]
    assert polled["state"] == "approved" and polled["verdict"]["recommendation"] == "Proceed."
    assert polled["verdict"]["model"] == "slow-1"
    fast = out["fast"].structured_content
    assert fast["state"] == "approved" and fast["round"] == 2 and "waiting" not in fast
    assert slow.requests == 2
