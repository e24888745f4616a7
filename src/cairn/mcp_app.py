"""The state an MCP server of cairn holds (the workspace and the lock around it), and the argument
types its tools share."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field

from cairn.core.errors import CairnError
from cairn.domain.workspace import Workspace

T = TypeVar("T")

StepState = Literal["done", "active", "todo", "failed"]
Trigger = Literal["compact", "crash", "manual", "startup", "resume", "clear"]
TaskArg = Annotated[
    str | None,
    Field(description="task id; may be left out when exactly one task is active or open"),
]


class CairnMCP:
    """Holds the workspace (opened on first use) and the lock around it."""

    def __init__(self, workspace: str | None = None) -> None:
        self.workspace = workspace
        self._ws: Workspace | None = None
        self._lock = threading.Lock()

    def ws(self) -> Workspace:
        if self._ws is None:
            self._ws = Workspace.open(self.workspace)
        return self._ws

    def call(self, fn: Callable[[Workspace], T]) -> T:
        from mcp.server.mcpserver.exceptions import ToolError

        with self._lock:
            try:
                ws = self.ws()
                ws.projector.reconcile()  # ingest hand edits of artifacts first, as the CLI does
                result = fn(ws)
                ws.flush()  # the readable tree is current when the tool returns, as in the CLI
                return result
            except CairnError as exc:
                raise ToolError(str(exc)) from exc

    def read(self, fn: Callable[[Workspace], str]) -> str:
        from mcp.server.mcpserver.exceptions import ResourceError

        with self._lock:
            try:
                return fn(self.ws())
            except CairnError as exc:
                raise ResourceError(str(exc)) from exc

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None


def dumps(data: dict[str, Any]) -> str:
    """A JSON document as the text of a tool that answers in text."""
    import json

    return json.dumps(data, ensure_ascii=False, default=str)
