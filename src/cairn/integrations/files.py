"""Reading and writing the agents' settings files, carefully: each is read (and so validated)
before anything is written, a file that changes is backed up first, an unchanged one is left alone.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cairn.core.errors import UsageError
from cairn.core.fsutil import atomic_write


@dataclass
class Change:
    path: Path
    what: str
    changed: bool
    backup: Path | None = None


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def home() -> Path:
    return Path(os.path.expanduser("~"))


def read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "fix it by hand and run again. Nothing was changed"
        ) from exc
    if not isinstance(data, dict):
        raise UsageError(f"{path} holds a JSON {type(data).__name__}, not an object; fix it first")
    return data


def write(path: Path, text: str, what: str) -> Change:
    """``text`` into ``path`` unless it holds it already; the old file is copied aside first."""
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if old == text:
        return Change(path, what, False)
    backup = None
    if old is not None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        backup = path.with_name(f"{path.name}.cairn-backup-{stamp}")
        shutil.copy2(path, backup)
    atomic_write(path, text.encode("utf-8"), sync=True)
    return Change(path, what, True, backup)


def dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def copy(data: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of JSON data (the original is compared with the result afterwards)."""
    out: dict[str, Any] = json.loads(json.dumps(data))
    return out
