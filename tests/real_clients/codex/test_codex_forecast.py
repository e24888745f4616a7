"""The compaction forecast with the real Codex CLI: the scripted usage climbs towards the point at
which Codex compacts (``-c model_auto_compact_token_limit``, read by the hook from Codex's own
command line), the PostToolUse hook's nudge reaches the model before the compaction, the model
checkpoints, and the compaction is recorded at a safe point."""

from __future__ import annotations

import json
import sys
from typing import Any

from .conftest import Codex
from .responses_server import Reply, Request, function_call, message
from .test_codex_cli import journal, start_task

LIMIT = 10_000  # Codex compacts at min(this, 90 % of the window)
NUDGE = "checkpoint now"
CHECKPOINT = f"printf '# saved\\n' | {sys.executable} -m cairn checkpoint write f4 progress-notes"


def compactions(codex: Codex) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(codex.cairn("hooks", "compactions", "--json").stdout)[
        "compactions"
    ]
    return rows


def test_the_forecast_makes_a_codex_compaction_land_at_a_safe_point(codex: Codex) -> None:
    start_task(codex)
    codex.cairn("hooks", "install", "codex")
    seen: dict[str, Any] = {"nudged_at": None, "compact_at": None}

    def script(req: Request) -> Reply:
        if "CONTEXT CHECKPOINT COMPACTION" in json.dumps(req.input[-1:]):
            seen["compact_at"] = req.index
            return Reply([message("SUMMARY: analysis checkpointed")], total_tokens=600)
        text = req.text()
        step = len(seen.get("steps", []))
        seen.setdefault("steps", []).append(req.index)
        if seen["compact_at"] is not None:
            return Reply([message("Going on from the brief.")], total_tokens=1_500)
        if NUDGE in text and seen["nudged_at"] is None:
            seen["nudged_at"] = req.index  # the model does as told: checkpoint first
            return Reply([function_call("exec_command", {"cmd": CHECKPOINT})], total_tokens=8_900)
        # The usage climbs: 2k, then past 80 % of the 10k point, then over it (Codex compacts).
        total = [2_000, 8_300, 8_600, 8_800][step] if step < 4 else LIMIT + 500
        return Reply([function_call("exec_command", {"cmd": "echo step"})], total_tokens=total)

    proc, server = codex.exec(
        script, "work on f4", f"model_auto_compact_token_limit={LIMIT}", timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert seen["nudged_at"] is not None, "no forecast reached the model"
    assert seen["compact_at"] is not None and seen["nudged_at"] < seen["compact_at"]
    nudged = server.requests[seen["nudged_at"]].text()
    assert nudged.count(NUDGE) == 1 and "of the ~10,000 at which" in nudged
    (forecast,) = journal(codex, "hook.forecast")  # once on this climb
    assert forecast["data"]["point"] == LIMIT and forecast["data"]["context"] >= 8_000
    (row,) = compactions(codex)
    assert (row["agent"], row["trigger"], row["safe_point"]) == ("codex", "auto", True), row
    cps = journal(codex, "checkpoint.written")
    assert cps and cps[0]["ts"] < row["ts"]
