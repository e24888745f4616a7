"""One rule for tests that need something outside Python (a PostgreSQL server, a Ray cluster,
headless Chromium, the real Claude Code / Codex binaries).

On a developer's machine without it such a test is skipped, saying what to install
(`bash .ci/setup` installs everything). In CI (`CAIRN_REQUIRE_SERVICES=1`, set by `.ci/run`) a
missing service fails the test instead: a green CI run must mean that the test ran.
"""

from __future__ import annotations

import os

import pytest


def required() -> bool:
    return os.environ.get("CAIRN_REQUIRE_SERVICES") == "1"


def need(service: str, available: bool, hint: str) -> None:
    """Skip (or, in CI, fail) the calling test unless `service` is available."""
    if available:
        return
    message = f"{service} is not available here: {hint} (bash .ci/setup installs it)"
    if required():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
