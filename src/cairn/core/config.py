"""Workspace settings from ``.cairn/config.toml``, with the defaults below."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cairn.core.errors import UsageError

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


@dataclass(frozen=True)
class Config:
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
    if not path.exists():
        return Config()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
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
