"""`cairn store copy` between SQLite and PostgreSQL: a workspace moved onto a shared server, and a
local copy back, checked by hashes (the server: tests/pg.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
from tests.helpers.cli import run
from tests.test_store_dump import _filled, _history

from cairn.domain.workspace import Workspace
from cairn.store import Store, open_store
from cairn.store.dump import copy, digest
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
    local = open_store(team / ".cairn" / "local.db")
    try:
        with Workspace.open(team) as ws:
            assert digest(local).sets == digest(ws.store).sets
    finally:
        local.close()
    again = run(capsys, src, "store", "copy", "--to", pg_url)
    assert again.code == 1 and "already holds records" in again.err


def _versions(store: Store) -> tuple[int, int]:
    """The checkpoint count the store keeps, and the versions it holds."""
    with store.read() as tx:
        return tx.checkpoints.count(), tx.records.count("checkpoints")


def test_a_copy_keeps_the_checkpoint_count_equal_to_the_versions(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    pg_url: str,  # noqa: F811
) -> None:
    """The count is kept by a trigger that PostgreSQL runs at the commit: the count a restore
    derives from what it loaded must not be added to by those versions again, there or back."""
    src = _filled(tmp_path / "a", capsys)
    assert run(capsys, src, "store", "copy", "--to", pg_url).code == 0
    server = open_store(pg_url)
    local = open_store(tmp_path / "back.db", create=True)
    try:
        assert _versions(server) == (2, 2)
        copy(server, local)
        assert _versions(local) == (2, 2)
        copy(local, server, replace=True)  # a restore over what the server holds
        assert _versions(server) == (2, 2)
        assert digest(server).sets == digest(local).sets
    finally:
        local.close()
        server.close()


def test_a_count_restored_twice_before_is_counted_again_when_the_stores_open(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    pg_url: str,  # noqa: F811
) -> None:
    """A server restored before the fix holds twice its versions, and so does a copy of it back
    (the count as the dump gave it): each is counted again from its records, once."""
    src = _filled(tmp_path / "a", capsys)
    assert run(capsys, src, "store", "copy", "--to", pg_url).code == 0
    local = src / ".cairn" / "cairn.db"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE meta SET value = '4' WHERE key = 'checkpoint_versions'")
        conn.execute("DELETE FROM cairn_migrations WHERE name = '0008_recount_checkpoints'")
    db = sqlite3.connect(local)
    with db:
        db.execute("UPDATE meta SET value = '4' WHERE key = 'checkpoint_versions'")
        db.execute("DELETE FROM cairn_migrations WHERE name = '0015_recount_checkpoints'")
    db.close()
    for where in (pg_url, local):
        store = open_store(where)
        try:
            assert _versions(store) == (2, 2), where
        finally:
            store.close()


def test_an_old_dump_with_a_wrong_count_imports_into_postgresql_counted_right(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    pg_url: str,  # noqa: F811
) -> None:
    """A cairn.store_dump/1 dump of a store counted twice: its count record and the tasks' step
    counts are not loaded but derived."""
    from tests.test_store_dump_derived import as_v1

    src = _filled(tmp_path / "a", capsys)
    old = tmp_path / "old.jsonl"
    old.write_text(as_v1(run(capsys, src, "store", "export", "-").out, "4", 5), encoding="utf-8")
    server = open_store(pg_url, create=True)
    try:
        from cairn.store.dump import restore

        with old.open(encoding="utf-8") as lines:
            restore(lines, server)
        assert _versions(server) == (2, 2)
        with old.open(encoding="utf-8") as lines:
            restore(lines, server, replace=True)
        assert _versions(server) == (2, 2)
        with server.read() as tx:
            assert tx.steps.count("t1") == 1  # not the dump's 6
        with Workspace.open(src) as ws:
            assert digest(server).sets == digest(ws.store).sets
    finally:
        server.close()
