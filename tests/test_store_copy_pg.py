"""`cairn store copy` between SQLite and PostgreSQL: a workspace moved onto a shared server, and a
local copy back, checked by hashes (the server: tests/pg.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers.cli import run
from tests.test_store_dump import _filled, _history

from cairn.domain.workspace import Workspace
from cairn.store.dump import digest
from pg import pg_url  # noqa: F401 (a fixture)


def test_copy_sqlite_to_postgresql_and_back(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    pg_url: str,  # noqa: F811
) -> None:
    """The move of a workspace onto a shared server, and a local copy back, checked by hashes."""
    src = _filled(tmp_path / "a", capsys)
    r = run(capsys, src, "store", "copy", "--to", pg_url)
    assert r.code == 0, r.err
    assert "cairn-test" not in r.out  # the password is not echoed
    team = tmp_path / "team"
    team.mkdir()
    (team / ".cairn").mkdir()
    (team / ".cairn" / "config.toml").write_text(f'[store]\npath = "{pg_url}"\n', encoding="utf-8")
    Workspace.init(team).close()
    assert _history(team) == _history(src)
    assert (team / "artifacts" / "t1_analysis.md").read_text(encoding="utf-8") == "# v2\n"
    assert run(capsys, team, "progress", "t1", "on the server", "--state", "done").code == 0
    back = run(capsys, team, "store", "copy", "--to", ".cairn/local.db")
    assert back.code == 0, back.err
    from cairn.store import open_store

    local = open_store(team / ".cairn" / "local.db")
    try:
        with Workspace.open(team) as ws:
            assert digest(local).sets == digest(ws.store).sets
    finally:
        local.close()
    again = run(capsys, src, "store", "copy", "--to", pg_url)
    assert again.code == 1 and "already holds records" in again.err
