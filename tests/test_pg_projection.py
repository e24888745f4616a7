"""The readable tree of a workspace on a PostgreSQL store follows a library write by itself, as on
SQLite: the projector's background flush runs on a pooled connection of its own."""

from __future__ import annotations

import time
from pathlib import Path

from cairn.domain.workspace import Workspace


def _wait_for(path: Path, text: str, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(encoding="utf-8"):
            return True
        time.sleep(0.02)
    return False


def test_a_library_write_reaches_the_tree_without_a_flush(tmp_path: Path, pg_url: str) -> None:
    ws = Workspace.init(tmp_path, store=pg_url)
    try:
        ws.create_task("t1", "shared work", ["a"])
        cp = ws.write_checkpoint("t1", "notes", "# Notes\nfirst\n")
        assert _wait_for(tmp_path / cp.path, "first")
        assert _wait_for(tmp_path / ws.config.status_file, "shared work")
        # The next write's hand-edit check is one stat: the file is as the flush left it.
        cp2 = ws.write_checkpoint("t1", "notes", "# Notes\nsecond\n")
        assert cp2.version == 2
        assert _wait_for(tmp_path / cp2.path, "second")
    finally:
        ws.close()
