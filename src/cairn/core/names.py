"""Validation of every name and path that comes from a user or an agent.

Names become parts of file names (``artifacts/<task>_<kind>.md``), so the rules are strict: a short
ASCII alphabet, no separators, no dot-only names. Uniqueness is case-insensitive so that two tasks can
never map onto the same file on a case-insensitive filesystem (macOS, Windows).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from cairn.core.errors import ValidationError

MAX_NAME = 64
# A task id is [A-Za-z0-9][A-Za-z0-9._-]*, a kind [a-z0-9][a-z0-9_-]*: said with str methods, as
# compiling the two patterns was ~0.2 ms of every command's start.
_TASK_PUNCT = str.maketrans("._-", "aaa")
_KIND_PUNCT = str.maketrans("_-", "aa")


def _is_task_id(value: str) -> bool:
    return value.isascii() and value[:1].isalnum() and value.translate(_TASK_PUNCT).isalnum()


def _is_kind(value: str) -> bool:
    plain = value.translate(_KIND_PUNCT)
    return (
        value.isascii()
        and value[:1].isalnum()
        and plain.isalnum()
        and (plain.islower() or plain.isdigit())
    )


SEED_KINDS = ("analysis", "plan", "plan_approved", "progress", "complete", "tested")


def _show(value: str) -> str:
    # Long values show their start and their length, so a 10 KB name is not echoed back whole.
    if len(value) <= 60:
        return repr(value)
    return f"{value[:40]!r}... ({len(value)} characters)"


def show(value: str, limit: int = 40) -> str:
    """A user's value for a message: quoted (a newline shows as ``\\n``); a long one as its first
    ``limit`` characters and its length, so a 10 KB name is not echoed back whole."""
    if len(value) <= limit + 20:
        return repr(value)
    return f"{value[:limit]!r}... ({len(value)} characters)"


def _check_common(value: str, what: str) -> None:
    if not isinstance(value, str) or value == "":
        raise ValidationError(f"{what} is empty; give a short name such as 'finding4'")
    if "\x00" in value:
        raise ValidationError(
            f"{what} {_show(value)} contains a NUL byte; use letters, digits, . _ -"
        )
    if len(value) > MAX_NAME:
        raise ValidationError(
            f"{what} is {len(value)} characters long; the limit is {MAX_NAME}, use a shorter name"
        )
    if "/" in value or "\\" in value or value.startswith(".") or ".." in value:
        raise ValidationError(
            f"{what} {_show(value)} looks like a path; names may hold only letters, digits, . _ - "
            "and may not start with '.' or contain '..'"
        )


def task_id(value: str) -> str:
    """Validate a task id; case is kept for display, uniqueness is checked case-insensitively."""
    _check_common(value, "task id")
    if not _is_task_id(value):
        raise ValidationError(
            f"task id {_show(value)} has characters outside A-Z a-z 0-9 . _ -; e.g. 'finding4'"
        )
    return value


def task_key(value: str) -> str:
    return value.casefold()


def kind(value: str, what: str = "checkpoint kind") -> str:
    """Validate a checkpoint kind or phase name: lower case letters, digits, '_' and '-'."""
    _check_common(value, what)
    if not _is_kind(value):
        raise ValidationError(
            f"{what} {_show(value)} must use lower-case letters, digits, '_' and '-' "
            f"(e.g. {', '.join(SEED_KINDS[:3])})"
        )
    return value


def phase_name(value: str) -> str:
    return kind(value, "phase name")


def artifact_stem(task: str, kind_: str) -> str:
    """The file name (without ``.md``) of a task's artifact: ``finding4_plan``.

    ``_`` separates the task from the kind, and both may hold ``_``; so a ``_`` in the task id is
    written twice (``a_b`` + ``progress`` is ``a__b_progress``, ``a`` + ``b_progress`` stays
    ``a_b_progress``). That is injective: a kind never starts with ``_``, so the separator is
    the end of the first run of ``_`` of odd length. Ids without ``_`` keep their old names.
    """
    return f"{task.replace('_', '__')}_{kind_}"


def inside(root: Path, user_path: str | os.PathLike[str], what: str = "path") -> Path:
    """Resolve ``user_path`` against ``root`` and refuse anything that lands outside it.

    Symlinks are resolved before the check, so a link inside the workspace that points out of it is
    refused too.
    """
    raw = os.fspath(user_path)
    if "\x00" in raw:
        raise ValidationError(f"{what} contains a NUL byte")
    if raw == "":
        raise ValidationError(f"{what} is empty")
    _fits(raw, what)
    root_r = root.resolve()
    p = Path(raw)
    candidate = (p if p.is_absolute() else root_r / p).resolve()
    if candidate != root_r and root_r not in candidate.parents:
        raise ValidationError(
            f"{what} {_show(raw)} is outside the workspace {root_r}; use a path inside it"
        )
    return candidate


# What the file systems cairn runs on take: a name of at most 255 bytes, a path of at most 4,096.
MAX_PATH_PART = 255
MAX_PATH = 4096
_CONTROL = "[\x00-\x1f\x7f]"  # compiled by plain_path, which a start path never calls


def _fits(raw: str, what: str) -> None:
    """Refuse a path no file system here could hold, before the OS says "File name too long"."""
    size = len(raw.encode("utf-8", "surrogateescape"))
    if size > MAX_PATH:
        raise ValidationError(
            f"{what} {_show(raw)} is {size:,} bytes long; a path may have at most {MAX_PATH:,}"
        )
    for part in raw.split("/"):
        if len(part.encode("utf-8", "surrogateescape")) > MAX_PATH_PART:
            raise ValidationError(
                f"{what} {_show(raw)} has a name of {len(part):,} characters; each folder or "
                f"file name may have at most {MAX_PATH_PART} bytes"
            )


def plain_path(root: Path, user_path: str | os.PathLike[str], what: str = "path") -> Path:
    """``inside``, and no control characters (a newline, a tab): for paths that cairn records in
    line-based logs and events, where such a name would read as two."""
    raw = os.fspath(user_path)
    bad = re.search(_CONTROL, raw)
    if bad is not None:
        raise ValidationError(
            f"{what} {_show(raw)} contains a control character ({bad.group()!r}); use a name "
            "without newlines or tabs"
        )
    return inside(root, raw, what)


def readable(root: Path, user_path: str | os.PathLike[str], what: str = "path") -> Path:
    """A path a user gives for cairn only to read: relative to ``root``, else as given.

    Reading may come from anywhere the user can read (``../x`` is read like ``/abs/x``); what
    cairn writes is held inside the workspace by ``inside``. Size and file type are checked when
    the file is read (``fsutil.read_bounded``).
    """
    raw = os.fspath(user_path)
    if "\x00" in raw:
        raise ValidationError(f"{what} contains a NUL byte")
    if raw == "":
        raise ValidationError(f"{what} is empty")
    p = Path(raw).expanduser()
    return p if p.is_absolute() else root / p
