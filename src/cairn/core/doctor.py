"""What one `cairn doctor` check found: shared by the workspace checks (domain) and the client
checks (integrations), so the command prints and serialises them one way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["ok", "warn", "fail"]


@dataclass(frozen=True, slots=True)
class Check:
    """One finding. `fix` is the exact command (or step) to run when `outcome` is not ok."""

    area: str
    name: str
    outcome: Outcome
    detail: str
    fix: str | None = None
