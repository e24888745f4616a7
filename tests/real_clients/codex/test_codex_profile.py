"""A Codex ``--profile`` on the command line, with the real Codex CLI: 0.171 layers
``$CODEX_HOME/NAME.config.toml`` over the user config, and cairn's forecast reads the profile
from the command line of the Codex that runs its hook, so the compaction point is the profile's."""

from __future__ import annotations

from typing import Any

from .conftest import Codex
from .responses_server import Reply, Request, function_call, message
from .test_codex_cli import journal, start_task

LIMIT = 10_000


def test_the_forecast_takes_the_limit_from_the_profile_given_on_the_command_line(
    codex: Codex,
) -> None:
    start_task(codex)
    codex.cairn("hooks", "install", "codex")
    (codex.home / "small.config.toml").write_text(f"model_auto_compact_token_limit = {LIMIT}\n")
    seen: dict[str, Any] = {"n": 0, "nudged": False}

    def script(req: Request) -> Reply:
        seen["n"] += 1
        if "checkpoint now" in req.text():
            seen["nudged"] = True
            return Reply([message("Noted.")], total_tokens=1_000)
        if seen["n"] <= 3:  # 85 % of the profile's limit; Codex's own point is 244,800
            return Reply([function_call("exec_command", {"cmd": "echo step"})], total_tokens=8_500)
        return Reply([message("Done.")], total_tokens=1_000)

    proc, _server = codex.exec(script, "work on f4", flags=("--profile", "small"), timeout=300)
    assert proc.returncode == 0, proc.stderr
    (forecast,) = journal(codex, "hook.forecast")
    assert forecast["data"]["point"] == LIMIT and forecast["data"]["context"] == 8_500
    assert seen["nudged"]
