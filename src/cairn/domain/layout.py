"""Where a workspace is: the folder holding ``.cairn/``, found from a start folder upward. Apart
from ``workspace.py`` so that what only needs to find one does not build a workspace."""

from __future__ import annotations

import os
from pathlib import Path

from cairn.core.errors import NotAWorkspace

CAIRN_DIR = ".cairn"
CONFIG_NAME = "config.toml"
DB_NAME = "cairn.db"  # the default store, inside .cairn/ ([store] path in the config)
ENV_WORKSPACE = "CAIRN_WORKSPACE"


def is_workspace(folder: Path) -> bool:
    """A folder is a workspace when it holds ``.cairn/config.toml``; a store without a config
    (a workspace whose config was deleted for the defaults) still is one."""
    cdir = folder / CAIRN_DIR
    return (cdir / CONFIG_NAME).is_file() or (cdir / DB_NAME).exists()


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: $CAIRN_WORKSPACE or cwd) that is a
    workspace."""
    if start is None:
        env = os.environ.get(ENV_WORKSPACE)
        start = Path(env) if env else Path.cwd()
    start = start.resolve()
    for folder in (start, *start.parents):
        if is_workspace(folder):
            return folder
    raise NotAWorkspace(
        f"no cairn workspace at or above {start}; run `cairn init` in the project folder first"
    )
