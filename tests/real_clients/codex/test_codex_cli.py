"""cairn with the real Codex CLI: `cairn hooks install codex`, then plain `codex exec` (no bypass
flags) against a scripted model. What each request carried is checked at the scripted server."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from cairn.integrations import codex_trust

from .conftest import Codex
from .responses_server import Reply, Request, function_call, message, tool_search

COMPACTED = "the context was just compacted"


def start_task(codex: Codex) -> None:
    codex.cairn("task", "new", "f4", "--title", "Best-of-N", "--phases", "analysis,plan")
    codex.cairn("phase", "start", "f4", "analysis")
    codex.cairn("next", "f4", "Read the data")


def journal(codex: Codex, kind: str) -> list[dict[str, Any]]:
    out = codex.cairn("log", "--type", kind, "--json").stdout
    events: list[dict[str, Any]] = json.loads(out)["events"]
    return events


def test_install_trusts_the_hooks_and_the_startup_brief_arrives(codex: Codex) -> None:
    start_task(codex)
    codex.cairn("hooks", "install", "codex")
    (answer,) = codex.app_server(("hooks/list", {"cwds": [str(codex.project)]}))
    hooks = answer["data"][0]["hooks"]
    assert {h["eventName"] for h in hooks} == {
        "sessionStart",
        "preCompact",
        "postCompact",
        "stop",
        "subagentStop",
        "postToolUse",
    }
    settings = json.loads((codex.home / "hooks.json").read_text())["hooks"]
    for h in hooks:
        assert h["trustStatus"] == "trusted" and h["enabled"], h
        event = {
            "sessionStart": "SessionStart",
            "preCompact": "PreCompact",
            "postCompact": "PostCompact",
            "stop": "Stop",
            "subagentStop": "SubagentStop",
            "postToolUse": "PostToolUse",
        }[h["eventName"]]
        group = settings[event][0]
        assert h["currentHash"] == codex_trust.handler_hash(
            event, group.get("matcher"), group["hooks"][0]
        )

    proc, server = codex.exec(lambda req: Reply([message("Read it.")]), "go on")
    assert proc.returncode == 0, proc.stderr
    first = server.requests[0].text()
    assert "# Recovery brief: f4" in first and "Read the data" in first
    assert first.count("# Recovery brief") == 1
    assert "- cairn-checkpoints: Long autonomous work" in first  # the skill Codex lists
    (recovery,) = journal(codex, "recovery")
    assert recovery["data"]["trigger"] == "startup"


def test_mcp_tools_round_trip_read_and_write(codex: Codex) -> None:
    start_task(codex)
    codex.cairn("hooks", "install", "codex")
    seen: dict[str, Any] = {}

    def script(req: Request) -> Reply:
        if req.index == 0:
            seen["namespaces"] = "mcp__cairn" in req.text()
            return Reply([tool_search("cairn checkpoint write status")])
        if req.index == 1:
            found = req.outputs("tool_search_output")[-1]["tools"]
            seen["found"] = {
                t["name"] for ns in found if ns.get("name") == "mcp__cairn" for t in ns["tools"]
            }
            content = "# Analysis\n\n**Findings**: k=4 is enough.\n"
            args = {"kind": "analysis", "content": content, "task": "f4"}
            return Reply([function_call("checkpoint_write", args, namespace="mcp__cairn")])
        if req.index == 2:
            seen["write"] = req.outputs("function_call_output")[-1]["output"]
            return Reply([function_call("status", {}, namespace="mcp__cairn")])
        seen["read"] = req.outputs("function_call_output")[-1]["output"]
        return Reply([message("Checkpoint written.")])

    proc, server = codex.exec(script, "checkpoint the analysis")
    assert proc.returncode == 0, proc.stderr
    assert seen["namespaces"], "Codex's first request does not offer cairn's tools"
    assert {"checkpoint_write", "status"} <= seen["found"]
    for key in ("write", "read"):
        text = json.dumps(seen[key])
        assert "requires approval" not in text and "Error executing" not in text, text
    assert "f4" in json.dumps(seen["read"]) and "analysis" in json.dumps(seen["read"])
    shown = codex.cairn("checkpoint", "show", "f4", "analysis").stdout
    assert "k=4 is enough" in shown
    assert len(server.requests) == 4


def rollout_of(codex: Codex) -> Path:
    (rollout,) = codex.home.glob("sessions/*/*/*/rollout-*.jsonl")
    return rollout


def test_auto_compaction_is_recorded_with_its_verdict_and_the_brief_comes_once(
    codex: Codex,
) -> None:
    start_task(codex)
    codex.cairn("hooks", "install", "codex")

    def script(req: Request) -> Reply:
        last = json.dumps(req.input[-1:])
        if req.index == 0:  # a tool call, then usage far over the limit: Codex compacts
            call = function_call("exec_command", {"cmd": "echo step"})
            return Reply([call], input_tokens=9000, total_tokens=9100)
        if "CONTEXT CHECKPOINT COMPACTION" in last:
            return Reply([message("SUMMARY: analysis half done; next: read the data")])
        return Reply([message("Going on from the brief.")])

    proc, server = codex.exec(
        script, "work on f4", "model_auto_compact_token_limit=5000", timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(codex.cairn("hooks", "compactions", "--json").stdout)["compactions"]
    assert len(out) == 1, out
    row = out[0]
    assert (row["agent"], row["trigger"], row["safe_point"]) == ("codex", "auto", False)
    assert (row["task"], row["phase"]) == ("f4", "analysis")
    assert row["tool_calls_since_checkpoint"] == 1 and row["tool_calls_exact"] is True
    assert row["recovered_at"] is not None
    # The summary came from the rollout's compacted record (Codex's PostCompact carries none).
    assert row["summary_chars"] >= len("SUMMARY: analysis half done")
    after = [r for r in server.requests if COMPACTED in r.text()]
    assert after, "no request after the compaction carried cairn's brief"
    assert all(r.text().count(COMPACTED) == 1 for r in after)
    assert "mid-phase" in after[0].text()
    recoveries = journal(codex, "recovery")
    assert [r["data"]["trigger"] for r in recoveries] == ["startup", "compact"]
    # The session start began a budget context and the compaction a new one: the session's
    # ledger counts the new window.
    assert [c["data"]["kind"] for c in journal(codex, "budget.context")] == ["session", "compact"]
    # It holds Codex's base instructions once (they go with every request), and not the work
    # before the compaction (the tool call and its output left the context).
    (meta,) = [json.loads(line) for line in rollout_of(codex).read_text().splitlines()[:1]]
    base = meta["payload"]["base_instructions"]["text"]
    got = json.loads(codex.cairn("budget", "--json").stdout)
    (orch,) = [c for c in got["categories"] if c["category"] == "orchestration"]
    sources = {t["source"]: t["tokens"] for t in orch["top_sources"]}
    assert sources["system prompt"] == len(base) // 4 and "exec_command" not in sources, orch
    # cairn's audit reads the real rollout: every record known, the compaction found.
    report = json.loads(codex.cairn("audit", str(rollout_of(codex)), "--json").stdout)
    assert report["totals"]["unknown"] == 0, report["sessions"][0].get("unknown")
    assert len(report["sessions"][0]["compactions"]) == 1


def test_stop_reminder_blocks_once(codex: Codex) -> None:
    start_task(codex)
    (codex.project / ".cairn" / "config.toml").write_text(
        "[hooks]\ncheckpoint_reminder_minutes = 0.001\nstop_block = true\n"
    )
    codex.cairn("hooks", "install", "codex")
    time.sleep(0.2)

    def script(req: Request) -> Reply:
        if req.index == 0:
            return Reply([message("Done for now.")])
        return Reply([message("Checkpointing next.")])

    proc, server = codex.exec(script, "work on f4")
    assert proc.returncode == 0, proc.stderr
    assert len(server.requests) == 2, [r.text()[-300:] for r in server.requests]
    assert "Write one now" in server.requests[1].text()
    assert len(journal(codex, "hook.reminder")) == 1


def test_hooks_status_asks_codex_and_says_what_to_run(codex: Codex) -> None:
    def status() -> tuple[int, dict[str, Any]]:
        proc = codex.cairn("hooks", "status", "--json", check=False)
        rows = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
        return proc.returncode, rows

    code, rows = status()  # nothing of cairn's in Codex yet: a warning, Codex not even started
    assert code == 0 and rows["codex"]["outcome"] == "warn"
    assert rows["codex"]["fix"] == "cairn hooks install codex"

    codex.cairn("hooks", "install", "codex")
    code, rows = status()
    assert rows["codex hooks"]["outcome"] == "ok", rows["codex hooks"]
    assert rows["codex mcp"]["outcome"] == "ok", rows["codex mcp"]

    # A hand edit of cairn's hook (another timeout) makes Codex distrust it; a reinstall
    # refreshes the trust.
    path = codex.home / "hooks.json"
    path.write_text(path.read_text().replace('"timeout": 10', '"timeout": 11'))
    code, rows = status()
    assert code == 1
    assert (
        rows["codex hooks"]["outcome"] == "fail"
        and "stop: modified" in rows["codex hooks"]["detail"]
    )
    codex.cairn("hooks", "install", "codex")
    assert status()[1]["codex hooks"]["outcome"] == "ok"

    codex.cairn("hooks", "uninstall", "codex")
    (answer,) = codex.app_server(("hooks/list", {"cwds": [str(codex.project)]}))
    assert answer["data"][0]["hooks"] == []


def test_project_scope_install_runs_once_codex_trusts_the_project(codex: Codex) -> None:
    start_task(codex)
    cfg = codex.home / "config.toml"
    trusted = cfg.read_text()
    cfg.write_text(trusted.split("[projects.")[0])  # the project is not trusted (yet)
    codex.cairn("hooks", "install", "codex", "--scope", "project")
    proc = codex.cairn("hooks", "status", "--json", check=False)
    rows = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
    assert (
        rows["codex hooks"]["outcome"] == "fail" and "not trusted" in rows["codex hooks"]["detail"]
    )
    assert "trust_level" in rows["codex hooks"]["fix"]

    user = cfg.read_text()  # the install put the hooks' trust into the user's config
    cfg.write_text(user + trusted[trusted.index("[projects.") :])
    proc = codex.cairn("hooks", "status", "--json", check=False)
    rows = {c["name"]: c for c in json.loads(proc.stdout)["checks"]}
    assert rows["codex hooks"]["outcome"] == "ok", rows
    # Codex's app-server lists user-level MCP servers only: the project's is said, not verified.
    assert rows["codex mcp"]["outcome"] == "warn" and "project" in rows["codex mcp"]["detail"]
    proc, server = codex.exec(lambda req: Reply([message("Read it.")]), "go on")
    assert proc.returncode == 0, proc.stderr
    first = server.requests[0].text()
    assert "# Recovery brief: f4" in first and "mcp__cairn" in first
    assert "- cairn-checkpoints: Long autonomous work" in first


def test_resume_does_not_pile_up_briefs(codex: Codex) -> None:
    start_task(codex)
    codex.cairn("hooks", "install", "codex")
    proc, _ = codex.exec(lambda req: Reply([message("Read it.")]), "go on")
    assert proc.returncode == 0, proc.stderr

    proc, server = codex.exec(lambda req: Reply([message("Still on it.")]), "continue", resume=True)
    assert proc.returncode == 0, proc.stderr
    text = server.requests[0].text()
    assert text.count("# Recovery brief") == 1  # the first session's, which Codex kept
    assert text.count("cairn: resumed.") == 1 and "Nothing changed" in text

    codex.cairn("progress", "f4", "Loaded the data", "--state", "done")
    proc, server = codex.exec(lambda req: Reply([message("Going on.")]), "continue", resume=True)
    assert proc.returncode == 0, proc.stderr
    text = server.requests[0].text()
    assert text.count("# Recovery brief") == 1 and "Loaded the data" in text
    assert journal(codex, "recovery")[0]["data"]["trigger"] == "startup"
