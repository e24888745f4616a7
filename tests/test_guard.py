"""The network guard in conftest.py refuses non-loopback connections."""

from __future__ import annotations

import socket

import pytest


def test_network_guard_blocks_non_loopback() -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(RuntimeError, match="real network"):
            s.connect(("192.0.2.1", 80))
    finally:
        s.close()
