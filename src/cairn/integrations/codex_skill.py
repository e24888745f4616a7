"""cairn as a Codex skill: ``SKILL.md`` with the checkpoint workflow, where Codex finds skills.

Codex lists every skill it finds (name and description only, so it costs little context) and reads
the body when the task matches: ``$CODEX_HOME/skills/<name>/SKILL.md`` for the user, and
``<repo>/.agents/skills/<name>/SKILL.md`` for a repository (Codex 0.171 also reads
``<repo>/.codex/skills``). The body is the same strategy text as the AGENTS.md section
(:mod:`~cairn.integrations.agents_md`), so the two never drift apart.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from cairn.integrations.files import Change

NAME = "cairn-checkpoints"
DESCRIPTION = (
    "Long autonomous work that must survive context compaction: cut it into phases, checkpoint "
    "each phase end and before big context shifts with cairn, record progress, recover after a "
    "compaction from the recovery brief."
)


def path(scope: str, project: Path | None, codex_home: Path) -> Path:
    if scope == "project":
        assert project is not None
        return project / ".agents" / "skills" / NAME / "SKILL.md"
    return codex_home / "skills" / NAME / "SKILL.md"


def text() -> str:
    from cairn.integrations.agents_md import SECTION

    return f"---\nname: {NAME}\ndescription: {DESCRIPTION}\n---\n\n{SECTION}"


def install(scope: str, project: Path | None, codex_home: Path) -> Change:
    from cairn.integrations.files import write

    return write(path(scope, project, codex_home), text(), "skill")


def uninstall(scope: str, project: Path | None, codex_home: Path) -> Change | None:
    """Remove the skill (only a file cairn wrote: one that starts with its front matter)."""
    from cairn.integrations.files import Change

    target = path(scope, project, codex_home)
    if not target.is_file():
        return None
    if not target.read_text(encoding="utf-8", errors="replace").startswith(f"---\nname: {NAME}\n"):
        return Change(target, "skill", False)
    target.unlink()
    with contextlib.suppress(OSError):  # something else is in the folder: leave it
        target.parent.rmdir()
    return Change(target, "skill", True)
