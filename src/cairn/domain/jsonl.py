"""JSONL, read tolerantly (each bad line reported, none stopping the read), and the sync policy
of a stream: when it calls ``fdatasync``, the bound on what a power loss can take; and which files
may be opened as a stream at all."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.core.errors import CairnError, ValidationError

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace

CHUNK = 1 << 20  # how much of a file's head is read to tell whether it is a stream


@dataclass(frozen=True)
class SyncPolicy:
    """When a stream calls ``fdatasync``: after ``every`` records and/or ``interval_ms`` ms.

    Both unset means "only on close". A sync also happens on :meth:`Stream.sync` and on close.
    """

    every: int | None = None
    interval_ms: float | None = None

    def __post_init__(self) -> None:
        if self.every is not None and self.every < 1:
            raise ValidationError(f"sync every={self.every} must be at least 1 record")
        if self.interval_ms is not None and self.interval_ms < 0:
            raise ValidationError(f"sync interval_ms={self.interval_ms} must not be negative")

    @classmethod
    def parse(cls, text: str) -> SyncPolicy:
        """``"every"`` | ``"n:100"`` | ``"ms:200"`` | ``"n:100,ms:200"`` | ``"none"``."""
        spec = text.strip().lower()
        if spec in ("every", "always", "record", "1"):
            return cls(every=1)
        if spec in ("none", "close", "never", ""):
            return cls()
        every: int | None = None
        interval: float | None = None
        for part in spec.replace("+", ",").split(","):
            what, _, value = part.strip().partition(":")
            try:
                if what == "n":
                    every = int(value)
                elif what == "ms":
                    interval = float(value)
                else:
                    raise ValueError(part)
            except ValueError:
                raise ValidationError(
                    f"sync policy {text!r} is not understood; use 'every', 'n:100', 'ms:200', "
                    "'n:100,ms:200' or 'none'"
                ) from None
        return cls(every=every, interval_ms=interval)

    def describe(self) -> str:
        if self.every == 1:
            return "every"
        parts = []
        if self.every is not None:
            parts.append(f"n:{self.every}")
        if self.interval_ms is not None:
            parts.append(f"ms:{self.interval_ms:g}")
        return ",".join(parts) or "none"


DEFAULT_SYNC = SyncPolicy(every=100, interval_ms=200)


def as_policy(sync: SyncPolicy | str | None) -> SyncPolicy:
    if sync is None:
        return DEFAULT_SYNC
    if isinstance(sync, SyncPolicy):
        return sync
    if isinstance(sync, str):
        return SyncPolicy.parse(sync)
    raise ValidationError(f"sync must be a SyncPolicy or a string such as 'n:100', not {sync!r}")


def excerpt(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- tolerant reading ----------------------------------------------------------------------------
@dataclass(frozen=True)
class JsonlError:
    """A line that could not be read: its 1-based number, why, and the start of its text."""

    line: int
    error: str
    text: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.error}: {self.text}"


@dataclass
class JsonlRead:
    """What :func:`read_jsonl` found: the records and every line it could not parse."""

    path: str
    records: list[Any] = field(default_factory=list)
    errors: list[JsonlError] = field(default_factory=list)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def ok(self) -> bool:
        return not self.errors

    def report(self, limit: int = 10) -> str:
        if not self.errors:
            return f"{self.path}: {len(self.records)} records, no unreadable lines"
        lines = [
            f"{self.path}: {len(self.records)} records, {len(self.errors)} unreadable line(s):"
        ]
        lines += [f"  {e}" for e in self.errors[:limit]]
        if len(self.errors) > limit:
            lines.append(f"  ... {len(self.errors) - limit} more")
        return "\n".join(lines)


def parse_line(raw: bytes, number: int) -> tuple[Any, JsonlError | None]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        shown = raw[:120].decode("utf-8", "replace")
        return None, JsonlError(number, f"not UTF-8 ({exc.reason} at byte {exc.start})", shown)
    try:
        return json.loads(text), None
    except ValueError as exc:
        return None, JsonlError(number, f"not JSON ({exc})", excerpt(text.rstrip("\r\n")))


def iter_lines(f: Any) -> Iterator[tuple[int, bytes, bool]]:
    """(1-based number, line bytes without "\\n", whether it ended with "\\n")."""
    for number, raw in enumerate(f, 1):
        complete = raw.endswith(b"\n")
        yield number, raw[:-1] if complete else raw, complete


def read_jsonl(path: str | os.PathLike[str]) -> JsonlRead:
    """Read a JSONL file without stopping at bad lines; each one is reported in ``.errors``.

    Blank lines are skipped. A last line without a newline is kept if it is whole JSON, and
    reported as "incomplete" otherwise (a writer was killed, or is writing now).
    """
    p = Path(path)
    result = JsonlRead(str(path))
    try:
        f = p.open("rb")
    except FileNotFoundError:
        raise CairnError(
            f"no file {path}; check the path (streams are relative to the workspace)"
        ) from None
    except IsADirectoryError:
        raise CairnError(f"{path} is a folder, not a JSONL file") from None
    with f:
        for number, raw, complete in iter_lines(f):
            if not raw.strip():
                continue
            value, err = parse_line(raw, number)
            if err is not None:
                if not complete:
                    err = JsonlError(
                        number,
                        "incomplete last line (its writer was killed or is writing)",
                        err.text,
                    )
                result.errors.append(err)
            else:
                result.records.append(value)
    return result


def refuse_foreign(ws: Workspace, full: Path, path: str) -> None:
    """Refuse cairn's own files, and a file whose first line is not a JSON object.

    Opening a stream repairs a torn last line by truncating it: on the store, the status file, an
    artifact or a file that is not JSONL at all, that would destroy data.
    """
    root = ws.root.resolve()
    cairn_dir = ws.cairn_dir.resolve()
    own = {
        (root / ws.config.status_file).resolve(),
        (root / ws.config.logs_dir / "compaction_recovery.log").resolve(),
    }
    artifacts = (root / ws.config.artifacts_dir).resolve()
    if (
        full in own
        or full == cairn_dir
        or cairn_dir in full.parents
        or (full.parent == artifacts and full.suffix == ".md")
    ):
        raise ValidationError(
            f"stream path {path!r} belongs to cairn (the store, the status file, the recovery "
            "log and artifacts/*.md are cairn's own files); name a file of your own, e.g. "
            "data/findings.jsonl"
        )
    try:
        with open(full, "rb") as f:
            head = f.read(CHUNK)
    except FileNotFoundError:
        return
    for raw in head.split(b"\n")[:-1]:  # complete lines only: a torn first record is repaired
        if not raw.strip():
            continue
        value, err = parse_line(raw, 1)
        if err is not None or not isinstance(value, dict):
            raise ValidationError(
                f"{path} is not a JSONL stream (its first line is not a JSON object: "
                f"{excerpt(repr(raw[:60].decode('utf-8', 'replace')), 80)}); it was left as it is. Name a new "
                "file, or one written by a cairn stream"
            )
        return
