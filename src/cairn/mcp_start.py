"""``cairn mcp`` start-up: answer ``initialize`` first, load cairn's tools while the client waits.

A client (Codex, Claude Code) starts the server and sends ``initialize`` at once; Codex sends its
first model request without waiting further, so a server that answers late has its tools missing
from the first turn. The SDK alone takes most of a second to import; cairn's own part (its
modules, and a pydantic model and JSON schema per tool) took as long again. So the server is made
here with the SDK's import only and starts serving; the tools, resources and cairn's modules are
loaded in a thread meanwhile, and every request that needs them (tools/list, tools/call,
resources/...) waits until they are in. ``initialize`` names the capabilities, not the tools, so
its answer is the same as before.

Light on purpose: nothing of cairn below the CLI is imported here at module level.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

INSTRUCTIONS = """\
cairn keeps long work safe from context compaction: cut the work into phases, write a checkpoint
at each phase end and before any big context shift, record progress steps as they finish, keep the
next action current. After a compaction call `recover` and reload the files it lists.
"""


def new_server() -> MCPServer[Any]:
    """The SDK's server with cairn's name and instructions, and no tools yet."""
    from mcp.server.mcpserver import MCPServer

    from cairn import __version__

    return MCPServer("cairn", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")


class _Loading:
    """Loads the tools in a thread and holds back every request that needs them until then."""

    def __init__(self, server: MCPServer[Any], workspace: str | None) -> None:
        self._server = server
        self._workspace = workspace
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._gate()
        threading.Thread(target=self._load, name="cairn-mcp-tools", daemon=True).start()

    def _load(self) -> None:
        try:
            from cairn.mcp_server import add_everything

            add_everything(self._server, self._workspace)
        except BaseException as exc:  # surfaced by every request that waits, not lost in a thread
            self._error = exc
        finally:
            self._ready.set()

    def wait(self) -> None:
        """In a thread (the sync schema look-up): block until the tools are in."""
        self._ready.wait()
        if self._error is not None:
            raise RuntimeError(f"cairn's MCP tools failed to load: {self._error}") from self._error

    async def wait_async(self) -> None:
        if not self._ready.is_set():
            import anyio.to_thread

            await anyio.to_thread.run_sync(self._ready.wait)
        if self._error is not None:
            raise RuntimeError(f"cairn's MCP tools failed to load: {self._error}") from self._error

    def _gate(self) -> None:
        """Put a wait in front of what the SDK's handlers call (they look these up on the
        instance, so an attribute set here takes the place of the method)."""
        server = self._server
        for name in (
            "list_tools",
            "call_tool",
            "list_resources",
            "list_resource_templates",
            "read_resource",
            "list_prompts",
            "get_prompt",
        ):
            real = getattr(server, name)
            setattr(server, name, self._held(real))
        manager = server._tool_manager
        get_tool = manager.get_tool

        def held_get_tool(name: str) -> Any:
            self.wait()
            return get_tool(name)

        manager.get_tool = held_get_tool  # type: ignore[method-assign]

    def _held(self, real: Any) -> Any:
        async def held(*args: Any, **kwargs: Any) -> Any:
            await self.wait_async()
            return await real(*args, **kwargs)

        return held


def serve(workspace: str | None = None) -> None:
    """Serve over stdio until the client closes the connection."""
    root = Path(workspace).resolve() if workspace else None
    server = new_server()
    _Loading(server, str(root) if root else None)
    server.run("stdio")
