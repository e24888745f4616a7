"""Choosing the store: `cairn init --store postgresql://…` records it, CAIRN_STORE overrides it,
SQLite stays the default, and a wrong URL, an unreachable server or a refused login is one line
saying what to do. Runs against the tests' real PostgreSQL server (tests/pg.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from cairn.domain.workspace import Workspace
from cairn.store.factory import describe
from helpers.cli import run
from pg import PASSWORD, Server


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cairn: error: "), err
    assert PASSWORD not in lines[0]  # never the password
    return lines[0]


def test_init_records_the_store_and_every_command_uses_it(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run(capsys, None, "init", str(tmp_path), "--store", pg_url)
    assert r.code == 0, r.err
    assert describe(pg_url) in r.out and PASSWORD not in r.out
    config = tomllib.loads((tmp_path / ".cairn" / "config.toml").read_text(encoding="utf-8"))
    assert config["store"]["url"] == pg_url
    assert not (tmp_path / ".cairn" / "cairn.db").exists()  # no SQLite file beside it
    assert run(capsys, tmp_path, "task", "new", "t1", "--phases", "a,b").code == 0
    assert run(capsys, tmp_path, "phase", "start", "t1", "a").code == 0
    notes = tmp_path / "n.md"
    notes.write_text("# Notes\nshared\n", encoding="utf-8")
    assert (
        run(capsys, tmp_path, "checkpoint", "write", "t1", "notes", "--file", str(notes)).code == 0
    )
    status = run(capsys, tmp_path, "status")
    assert status.code == 0 and "t1" in status.out
    assert "shared" in (tmp_path / "artifacts" / "t1_notes.md").read_text(encoding="utf-8")
    # A second folder on the same store ("another machine") sees the same work.
    other = tmp_path / "other"
    other.mkdir()
    assert run(capsys, None, "init", str(other), "--store", pg_url).code == 0
    shown = run(capsys, other, "task", "show", "t1", "--json").json()
    assert shown["id"] == "t1"
    # Running init again is harmless; repointing a workspace is refused.
    assert run(capsys, None, "init", str(tmp_path), "--store", pg_url).code == 0
    again = run(capsys, None, "init", str(tmp_path), "--store", pg_url + "x")
    assert again.code != 0 and "already names the store" in _one_line_error(again.err)


def test_cairn_store_overrides_the_config(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    Workspace.init(tmp_path).close()  # an SQLite workspace
    assert run(capsys, tmp_path, "task", "new", "local", "--phases", "a").code == 0
    monkeypatch.setenv("CAIRN_STORE", pg_url)
    with Workspace.init(tmp_path) as ws:  # creates the store at the URL
        assert ws.store.dialect == "postgresql"
    assert _ids(run(capsys, tmp_path, "task", "list", "--json").json()) == []
    assert run(capsys, tmp_path, "task", "new", "remote", "--phases", "a").code == 0
    assert _ids(run(capsys, tmp_path, "task", "list", "--json").json()) == ["remote"]
    monkeypatch.delenv("CAIRN_STORE")
    assert _ids(run(capsys, tmp_path, "task", "list", "--json").json()) == ["local"]


def _ids(listed: dict[str, list[dict[str, str]]]) -> list[str]:
    return [t["id"] for t in listed["tasks"]]


def test_the_default_store_is_the_sqlite_file(tmp_path: Path) -> None:
    with Workspace.init(tmp_path) as ws:
        assert ws.store.dialect == "sqlite"
    assert (tmp_path / ".cairn" / "cairn.db").is_file()


def test_bad_urls_and_servers_are_one_line_each(
    tmp_path: Path, pg_server: Server, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    port = pg_server.port
    cases = {
        pg_url.replace(PASSWORD, "wrong"): "refused the login",
        f"postgresql://cairn:{PASSWORD}@127.0.0.1:1/x": "cannot reach the PostgreSQL server",
        f"postgresql://cairn:{PASSWORD}@127.0.0.1:{port}/nosuchdb": "does not exist",
        "postgresql://[bad": "not a valid PostgreSQL URL",
        "mysql://h/db": "unknown store URL scheme",
    }
    for url, says in cases.items():
        r = run(capsys, None, "init", str(tmp_path), "--store", url)
        assert r.code != 0
        assert says in _one_line_error(r.err), (url, r.err)
        cfg = tmp_path / ".cairn" / "config.toml"
        assert "store" not in tomllib.loads(cfg.read_text(encoding="utf-8"))  # nothing recorded
    r = run(capsys, None, "init", str(tmp_path), "--store", pg_url)
    assert r.code == 0, r.err


def test_a_configured_store_that_is_not_there(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    Workspace.init(tmp_path).close()
    monkeypatch.setenv("CAIRN_STORE", pg_url)  # an empty database: no store yet
    r = run(capsys, tmp_path, "status")
    assert r.code != 0 and "cairn init --store" in _one_line_error(r.err)


def test_every_connection_commits_synchronously_whatever_the_server_says(pg_url: str) -> None:
    import psycopg

    from cairn.store import open_store

    with psycopg.connect(pg_url, autocommit=True) as admin:
        name = pg_url.rpartition("/")[2]
        admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off'.encode())
    store = open_store(pg_url, create=True)
    try:
        conns = store._conns  # type: ignore[attr-defined]
        # The connection a command uses, and one from the pool that a second thread gets.
        assert (
            conns.direct.execute("SHOW synchronous_commit").fetchone()["synchronous_commit"] == "on"
        )
        with conns.the_pool().connection() as conn:
            assert conn.execute("SHOW synchronous_commit").fetchone()["synchronous_commit"] == "on"
        with store.write() as tx:  # and a durable write still goes through
            tx.tasks.create("t", "", "2026-01-01T00:00:00.000Z")
    finally:
        store.close()
