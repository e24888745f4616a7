"""The agent clients cairn integrates with, each a module holding its differences.

:mod:`~cairn.integrations.claude` and :mod:`~cairn.integrations.codex` both provide what
:class:`Client` lists; the hook runner and the installer look a client up here by its name and
never branch on the agent themselves.
"""

from __future__ import annotations

from collections.abc import Callable

from cairn.integrations import claude, codex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Protocol
else:
    Protocol = object  # typing costs ~3 ms at start-up; the areas are only typed


if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from cairn.integrations.files import Change


class Client(Protocol):
    NAME: str
    LABEL: str
    CONTEXT_CAP_CHARS: int
    TRANSCRIPT_DIR: str
    TRANSCRIPTS: str

    def compact_summary(
        self, payload: dict[str, Any], transcript: str | None, since: datetime | None
    ) -> str | None: ...

    def session_window(self, transcript: str, cwd: str) -> int | None: ...

    def client_home(self) -> str: ...

    def context_output(self, event: str, text: str) -> dict[str, Any]: ...

    def message_output(self, text: str) -> dict[str, Any]: ...

    def block_output(self, reason: str) -> dict[str, Any]: ...

    def config_files(self, scope: str, project: Path | None) -> tuple[Path, Path]: ...

    def check_mcp(self, path: Path) -> None: ...

    def set_mcp(self, path: Path, base: list[str] | None) -> Change: ...

    def install_notes(self, scope: str, mcp: bool) -> list[str]: ...


class Configure(Protocol):
    """A client whose config files hold more than the MCP server (Codex: hook trust, the hooks
    feature) reads them all first and returns the writer, so each file is written once."""

    def __call__(
        self,
        scope: str,
        project: Path | None,
        hooks_path: Path,
        before: dict[str, Any],
        after: dict[str, Any],
        base: list[str] | None,
        mcp: bool,
        ours: Callable[[object], bool],
    ) -> Callable[[], list[Change]]: ...


CLIENTS: dict[str, Client] = {"claude": claude, "codex": codex}
CONFIGURE: dict[str, Configure] = {"codex": codex.configure}
# A client that can refuse an install before anything is read or written (Claude Code: not
# beside cairn's own plugin, which runs the same hooks).
CHECK_INSTALL: dict[str, Callable[[str, Path | None], None]] = {"claude": claude.check_install}


def client(name: str) -> Client:
    """The client called ``name``; an unknown name is taken as Claude Code (whose hook format
    other agents follow)."""
    return CLIENTS.get(name, CLIENTS["claude"])
