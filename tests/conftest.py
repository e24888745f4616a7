"""Shared fixtures. A guard makes any real network call (other than loopback) fail the tests."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pg import pg_server, pg_url  # noqa: F401  (the PostgreSQL fixtures, tests/pg.py)

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(address: Any) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX paths
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _is_loopback(address):
        raise RuntimeError(f"test tried a real network connection to {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if not _is_loopback(address):
        raise RuntimeError(f"test tried a real network connection to {address!r}")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "CAIRN_WORKSPACE"):
        monkeypatch.delenv(var, raising=False)
    yield


@pytest.fixture
def ws_path(tmp_path: Path) -> Path:
    """An initialised, empty workspace folder."""
    from cairn.domain.workspace import Workspace

    Workspace.init(tmp_path).close()
    return tmp_path


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the run's PostgreSQL server (tests/pg.py), if a test started one."""
    import sys

    pg = sys.modules.get("pg")
    if pg is not None:
        pg.stop()
