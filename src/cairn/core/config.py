"""Workspace settings from ``.cairn/config.toml``, with the defaults below."""

from __future__ import annotations

from pathlib import Path

from cairn.core.errors import UsageError
from cairn.core.record import Record, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


DEFAULT_CONFIG = """\
# cairn workspace settings. Every key is optional; the values shown are the defaults.

[checkpoints]
max_bytes = 5_000_000          # refuse a checkpoint larger than this

[recovery]
max_tokens = 2000              # bound on the recovery brief
excerpt_lines = 60             # a long checkpoint is shown as its first lines, path given for the rest

[paths]
artifacts = "artifacts"
logs = "logs"
status = "CURRENT_WORK_STATUS.md"
reviews = "reviews"

# [store]
# path = "cairn.db"            # the store, relative to .cairn/ (what makes the folder a workspace
#                              # is this file, .cairn/config.toml, not the store)
# url = "postgresql://cairn@db.example:5432/cairn"   # a shared PostgreSQL store instead (see
#                              # `cairn init --store`); CAIRN_STORE overrides either

# [reviews]
# default = "checklist"        # provider:model of the default reviewer, e.g. "openai:gpt-4o"

# [workers]
# executor = "local"           # or "ray": cairn.Worker jobs as tasks on a Ray cluster (docs/ray.md)
# address = "auto"             # the Ray cluster (RAY_ADDRESS overrides); files = "shared" or "ship"
"""

WORKER_EXECUTORS = ("local", "ray")


class Config(Record):
    max_checkpoint_bytes: int = 5_000_000
    brief_max_tokens: int = 2000
    excerpt_lines: int = 60
    artifacts_dir: str = "artifacts"
    logs_dir: str = "logs"
    status_file: str = "CURRENT_WORK_STATUS.md"
    reviews_dir: str = "reviews"
    store: str = "cairn.db"
    workers_executor: str = "local"
    raw: dict[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> dict[str, Any]:
        value = self.raw.get(name, {})
        return value if isinstance(value, dict) else {}


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except UnicodeDecodeError as exc:
        raise UsageError(
            f"{path} is not valid TOML ({exc}); fix it or delete it for defaults"
        ) from exc
    raw = read_plain(text)
    if raw is None:
        import tomllib

        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(
                f"{path} is not valid TOML ({exc}); fix it or delete it for defaults"
            ) from exc
    cp = raw.get("checkpoints", {})
    rc = raw.get("recovery", {})
    paths = raw.get("paths", {})
    store = raw.get("store", {})
    workers = raw.get("workers", {})
    executor = str(workers.get("executor", "local")) if isinstance(workers, dict) else "?"
    if executor not in WORKER_EXECUTORS:
        raise UsageError(f"{path}: [workers] executor {executor!r} must be one of: local, ray")
    try:
        return Config(
            max_checkpoint_bytes=int(cp.get("max_bytes", 5_000_000)),
            brief_max_tokens=int(rc.get("max_tokens", 2000)),
            excerpt_lines=int(rc.get("excerpt_lines", 60)),
            artifacts_dir=_rel(paths.get("artifacts", "artifacts"), path),
            logs_dir=_rel(paths.get("logs", "logs"), path),
            status_file=_rel(paths.get("status", "CURRENT_WORK_STATUS.md"), path),
            reviews_dir=_rel(paths.get("reviews", "reviews"), path),
            store=_store(store.get("url") or store.get("path", "cairn.db"), path),
            workers_executor=executor,
            raw=raw,
        )
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{path}: a setting has the wrong type ({exc}); see `cairn init`") from exc


# One line of a plain config: blank or a comment, a [table] header, or `key = value` where the
# value is a whole number, a string with no escapes, true or false (and maybe a comment after).
# Read with string methods: compiling the one regular expression for it cost every fresh command
# more than the reading.
_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_DIGITS = frozenset("0123456789_")
_NOT_IN_STRING = frozenset('"\\\x7f').union(map(chr, range(0x20)))
_NOT_IN_COMMENT = frozenset("\x7f").union(map(chr, range(0x20))) - {"\t"}
_NO_LINE = (None, None, None)


def _bare(text: str) -> bool:
    return bool(text) and _BARE.issuperset(text)


def _plain_value(rest: str) -> tuple[str | int | bool, str] | None:
    """The value at the start of ``rest`` and what follows it, or None."""
    if rest.startswith('"'):
        end = rest.find('"', 1)
        if end < 0 or not _NOT_IN_STRING.isdisjoint(rest[1:end]):
            return None
        return rest[1:end], rest[end + 1 :]
    for word in ("true", "false"):
        if rest.startswith(word):
            return word == "true", rest[len(word) :]
    sign = rest[:1] if rest[:1] in ("+", "-") else ""
    n = len(sign)
    while n < len(rest) and rest[n] in _DIGITS:
        n += 1
    digits = rest[len(sign) : n]
    # 0, or a number that does not start with 0, with single underscores between digits only.
    if digits != "0" and (
        not digits or digits[0] in "0_" or digits.endswith("_") or "__" in digits
    ):
        return None
    return int(sign + digits), rest[n:]


def _plain_line(line: str) -> tuple[str | None, str | None, str | int | bool | None] | None:
    """(table, None, None) for a header, (None, key, value) for a setting, ``_NO_LINE`` for a
    blank or comment line, None for anything else."""
    rest = line.lstrip(" \t")
    found: tuple[str | None, str | None, str | int | bool | None] = _NO_LINE
    if rest.startswith("["):
        inner, closed, rest = rest[1:].partition("]")
        name = inner.strip(" \t")
        if not closed or not _bare(name):
            return None
        found = (name, None, None)
    elif rest[:1] in _BARE:
        key, eq, rest = rest.partition("=")
        key = key.rstrip(" \t")
        got = _plain_value(rest.lstrip(" \t")) if eq and _bare(key) else None
        if got is None:
            return None
        found, rest = (None, key, got[0]), got[1]
    rest = rest.lstrip(" \t")
    if rest and (rest[0] != "#" or not _NOT_IN_COMMENT.isdisjoint(rest)):
        return None
    return found


def read_plain(text: str) -> dict[str, Any] | None:
    """The settings of a config written only in lines of that plain kind (as ``cairn init``
    writes it), read without tomllib; None for anything else, which tomllib then reads (or
    refuses). The TOML meaning of those lines, exactly: tests/test_config_plain.py checks this
    against tomllib. tomllib's import would cost every fresh command more than the rest of
    reading the settings."""
    root: dict[str, Any] = {}
    table = root
    lines = text.split("\n")
    for n, line in enumerate(lines, 1):
        if n < len(lines) and line.endswith("\r"):
            line = line[:-1]  # CRLF; a lone CR anywhere else is refused below
        got = _plain_line(line)
        if got is None:
            return None
        name, key, value = got
        if name is not None:
            if name in root:
                return None  # a table defined twice (or a key of that name): tomllib says so
            table = root[name] = {}
        elif key is not None:
            if key in table:
                return None
            table[key] = value
    return root


def _rel(value: object, where: Path) -> str:
    text = str(value)
    if not text or text.startswith("/") or ".." in Path(text).parts or "\x00" in text:
        raise UsageError(f"{where}: path {text!r} must be relative and inside the workspace")
    return text


def _store(value: object, where: Path) -> str:
    """A store URL as it is; a path must stay inside ``.cairn/``."""
    text = str(value)
    if "://" in text:
        return text
    if not text or text.startswith("/") or ".." in Path(text).parts or "\x00" in text:
        raise UsageError(f"{where}: [store] path {text!r} must be relative, inside .cairn/")
    return text


def record_store(path: Path, url: str, *, check_only: bool = False) -> None:
    """Write ``[store] url`` into the config at ``path`` (kept as it is otherwise, comments too).
    Refuses to repoint a workspace that already names another store."""
    import tomlkit

    text = path.read_text(encoding="utf-8") if path.exists() else ""
    doc = tomlkit.parse(text)
    section = doc.get("store")
    if section is not None and not isinstance(section, dict):
        raise UsageError(f"{path}: [store] must be a table")
    current = (section or {}).get("url") or (section or {}).get("path")
    if current and str(current) != url:
        raise UsageError(
            f"{path} already names the store {str(current).split('@')[-1]!r}; edit [store] there "
            "to move the workspace to another store (`cairn init --store` does not repoint one)"
        )
    if current == url or check_only:
        return
    if section is None:
        section = tomlkit.table()
        doc["store"] = section
    section["url"] = url
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
