"""The real Codex CLI against a scripted Responses server on 127.0.0.1.

Each test gets a throw-away ``CODEX_HOME`` whose ``config.toml`` points Codex at the scripted
server through a model provider with a dummy key, a throw-away ``HOME``, and a cairn workspace
that config trusts as a project (a git repository: `codex exec` insists). Nothing is run with a bypass flag: what Codex runs, it runs
because cairn's install set it up. ``bash .ci/setup`` installs the pinned Codex
(``.ci/setup.d/31-codex-cli.sh``); without it these tests skip (fail in CI).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from services import need

from .responses_server import ResponsesServer, Script

CODEX_VERSION = "0.171.0"  # the version .ci/setup.d/31-codex-cli.sh pins
MODEL = "gpt-5.5"


def codex_version() -> str | None:
    exe = shutil.which("codex")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().rsplit(" ", 1)[-1] or None


def run(
    argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run a codex command; at the time limit its whole process group is killed (``codex`` is a
    Node launcher whose child is the native binary, which a kill of the launcher would leave)."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{argv[:3]} ran past {timeout:g} s: {err[-2000:]}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # nothing it started outlives the test
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


@dataclass
class Codex:
    home: Path  # CODEX_HOME
    project: Path  # the cairn workspace Codex works in
    env: dict[str, str]

    def cairn(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "cairn", "-C", str(self.project), *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check:
            assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    def exec(
        self,
        script: Script,
        prompt: str,
        *config: str,
        timeout: float = 240,
        resume: bool = False,
        flags: tuple[str, ...] = (),
    ) -> tuple[subprocess.CompletedProcess[str], ResponsesServer]:
        """``codex exec --json PROMPT`` (``resume``: ``codex exec resume --last PROMPT``, the
        newest session again) against a server running ``script``; no bypass flags, only ``-c``
        settings and ``flags`` (e.g. ``--profile NAME``) a test adds."""
        with self.server(script) as server:
            argv = ["codex", "exec", "--json", *flags]
            for flag in config:
                argv += ["-c", flag]
            if resume:
                argv += ["resume", "--last"]
            proc = run([*argv, prompt], cwd=self.project, env=self.env, timeout=timeout)
        return proc, server

    @contextlib.contextmanager
    def server(self, script: Script) -> Iterator[ResponsesServer]:
        """A scripted server, wired into the config file so that every Codex started meanwhile
        (also one cairn starts as a reviewer) talks to it; stopped afterwards."""
        server = ResponsesServer(script).start()
        try:
            cfg = self.home / "config.toml"
            text = re.sub(r'base_url = "[^"]*"', f'base_url = "{server.base_url}"', cfg.read_text())
            cfg.write_text(text)
            yield server
        finally:
            server.stop()

    def app_server(self, *calls: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
        """Answers of Codex's own ``codex app-server`` (JSON-RPC over stdio) to ``calls``."""
        from cairn.integrations.doctor import app_server_calls

        return app_server_calls(list(calls), cwd=self.project, env=self.env, timeout=60)


@pytest.fixture
def codex(ws_path: Path, tmp_path: Path) -> Iterator[Codex]:
    version = codex_version()
    need(
        "Codex CLI",
        version is not None,
        f"install it with `npm install -g @openai/codex@{CODEX_VERSION}`",
    )
    need("git", shutil.which("git") is not None, "install git (apt-get install git)")
    # `codex exec` works only in a git repository (or with a flag that skips the check).
    subprocess.run(["git", "init", "-q", str(ws_path)], check=True, timeout=60)
    user_home = tmp_path / "home"
    # CODEX_HOME is also HOME's .codex: the Codex that cairn's MCP server starts as a reviewer
    # gets only a few variables from Codex (HOME among them), and must find the same config.
    home = user_home / ".codex"
    home.mkdir(parents=True)
    (home / "config.toml").write_text(
        f'model = "{MODEL}"\n'
        'model_provider = "scripted"\n\n'
        "[model_providers.scripted]\n"
        'name = "scripted"\n'
        'base_url = "http://127.0.0.1:9/v1"\n'
        'wire_api = "responses"\n\n'
        f"[projects.{json.dumps(str(ws_path))}]\n"
        'trust_level = "trusted"\n'
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OPENAI_", "CODEX_", "CAIRN_", "ANTHROPIC_"))
    }
    env.update(HOME=str(user_home), CODEX_HOME=str(home))
    yield Codex(home, ws_path, env)
