"""Agent integration commands: ``cairn hooks install|uninstall|agents-md|compactions`` and the hook
entry point ``cairn hook <event>`` that Claude Code and Codex CLI run with JSON on stdin."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cairn.cli.common import add_json, emit_json, positive_int

ORDER = 61


def register(sub: Any) -> None:
    hooks = sub.add_parser(
        "hooks", help="install cairn's hooks and MCP server into Claude Code or Codex CLI"
    ).add_subparsers(dest="hooks_cmd", metavar="ACTION", required=True)
    for name, helptext in (
        ("install", "merge cairn's hooks into the agent's settings and register the MCP server"),
        ("uninstall", "remove cairn's hooks and MCP server entry (nothing else)"),
    ):
        p = hooks.add_parser(name, help=helptext)
        p.add_argument("agent", choices=("claude", "codex"), help="claude or codex")
        p.add_argument(
            "--scope",
            choices=("project", "user"),
            help="project: files in this workspace (default for claude); user: files in your "
            "home folder (default for codex)",
        )
        p.add_argument("--no-mcp", action="store_true", help="leave the MCP registration alone")
        p.add_argument(
            "--agents-md",
            action="store_true",
            help="also write (uninstall: remove) the strategy section in CLAUDE.md or AGENTS.md",
        )
        if name == "install":
            p.add_argument(
                "--command",
                metavar="CMD",
                help="how the agent starts cairn (default: this Python with -m cairn)",
            )
        add_json(p)
        p.set_defaults(func=cmd_install if name == "install" else cmd_uninstall)

    p = hooks.add_parser(
        "agents-md", help="write the cairn section (under 40 lines) into AGENTS.md or CLAUDE.md"
    )
    p.add_argument("--file", default="AGENTS.md", help="file in the workspace (default AGENTS.md)")
    p.add_argument("--print", action="store_true", help="print the section instead")
    p.add_argument("--remove", action="store_true", help="take the section out of the file")
    p.set_defaults(func=cmd_agents_md)

    p = hooks.add_parser(
        "plugin",
        help="write cairn as a Codex plugin in a local marketplace (skill, MCP server, hooks and "
        "their trust); install it with `codex plugin marketplace add DIR`",
    )
    p.add_argument("agent", choices=("codex",), help="codex")
    p.add_argument("dir", help="the marketplace folder to write (created if missing)")
    p.add_argument(
        "--command", metavar="CMD", help="how Codex starts cairn (default: this Python -m cairn)"
    )
    add_json(p)
    p.set_defaults(func=cmd_plugin)

    p = hooks.add_parser(
        "status",
        help="ask the installed clients (codex app-server, claude mcp list) whether cairn's hooks "
        "are trusted and its MCP server connects; exit 1 when a check fails",
    )
    add_json(p)
    p.set_defaults(func=cmd_status)

    p = hooks.add_parser("compactions", help="compactions the hooks recorded, newest last")
    p.add_argument("--limit", type=positive_int, default=20, help="the newest N (20)")
    add_json(p)
    p.set_defaults(func=cmd_compactions)

    p = sub.add_parser(
        "hook",
        help="run one agent hook (session-start, pre-compact, post-compact, stop, post-tool-use) with the "
        "hook JSON on stdin; always exits 0",
    )
    p.add_argument("event", help="session-start, pre-compact, post-compact, stop or post-tool-use")
    p.add_argument("--agent", default="claude", help="claude | codex")
    p.set_defaults(func=cmd_hook)


def cmd_hook(args: argparse.Namespace) -> int:
    from cairn.integrations.hooks import run_hook

    return run_hook(args.event, agent=args.agent, workspace=args.workspace)


def _project(args: argparse.Namespace, required: bool) -> Path | None:
    from cairn.core.errors import NotAWorkspace
    from cairn.domain.workspace import find_root

    try:
        return find_root(Path(args.workspace) if args.workspace else None)
    except NotAWorkspace:
        if required:
            raise
        return None


def _agents_file(agent: str) -> str:
    return "CLAUDE.md" if agent == "claude" else "AGENTS.md"


def _report(plan: Any, args: argparse.Namespace, verb: str, extra: list[Any]) -> None:
    changes = [*plan.changes, *extra]
    if args.json:
        emit_json(
            {
                "schema": "cairn.hooks_install/1",
                "action": verb,
                "agent": args.agent,
                "changes": [
                    {
                        "path": str(c.path),
                        "what": c.what,
                        "changed": c.changed,
                        "backup": str(c.backup) if c.backup else None,
                    }
                    for c in changes
                ],
                "notes": plan.notes,
            }
        )
        return
    for c in changes:
        state = verb if c.changed else "unchanged"
        backup = f" (backup: {c.backup.name})" if c.backup else ""
        print(f"{c.what:<12} {state:<11} {c.path}{backup}")
    for note in plan.notes:
        print(f"note: {note}")


def cmd_install(args: argparse.Namespace) -> int:
    import shlex

    from cairn.core import names
    from cairn.core.errors import UsageError
    from cairn.integrations import agents_md
    from cairn.integrations.install import Change, install

    scope = args.scope or ("project" if args.agent == "claude" else "user")
    project = _project(args, required=scope == "project" or args.agents_md)
    base = None
    if args.command:
        base = shlex.split(args.command)
        if not base:
            raise UsageError("--command is empty; give e.g. --command 'cairn'")
    plan = install(args.agent, scope, project, base=base, mcp=not args.no_mcp)
    extra = []
    if args.agents_md:
        assert project is not None
        path = names.inside(project, _agents_file(args.agent), "agents file")
        extra.append(Change(path, "agents-md", agents_md.upsert(path)))
    elif project is not None:
        # Offer the section that teaches the agent the strategy, unless the file has it already.
        name = _agents_file(args.agent)
        have = project / name
        if not (have.is_file() and agents_md.BEGIN in have.read_text(errors="replace")):
            lines = agents_md.block().count("\n")
            plan.notes.append(
                f"to teach the agent the strategy too, add --agents-md: it writes a {lines}-line "
                f"cairn section into {name} (preview it with `cairn hooks agents-md --print`)."
            )
    _report(plan, args, "installed", extra)
    return 0


def cmd_uninstall(args: argparse.Namespace) -> int:
    from cairn.core import names
    from cairn.integrations import agents_md
    from cairn.integrations.install import Change, uninstall

    scope = args.scope or ("project" if args.agent == "claude" else "user")
    project = _project(args, required=scope == "project" or args.agents_md)
    plan = uninstall(args.agent, scope, project, mcp=not args.no_mcp)
    extra = []
    if args.agents_md:
        assert project is not None
        path = names.inside(project, _agents_file(args.agent), "agents file")
        extra.append(Change(path, "agents-md", agents_md.remove(path)))
    _report(plan, args, "removed", extra)
    return 0


def cmd_agents_md(args: argparse.Namespace) -> int:
    from cairn.core import names
    from cairn.integrations import agents_md

    if args.print:
        sys.stdout.write(agents_md.block())
        return 0
    project = _project(args, required=True)
    assert project is not None
    path = names.inside(project, args.file, "--file")
    changed = agents_md.remove(path) if args.remove else agents_md.upsert(path)
    verb = "removed from" if args.remove else "written to"
    print(f"cairn section {verb} {path}" if changed else f"{path}: unchanged")
    return 0


def cmd_plugin(args: argparse.Namespace) -> int:
    import shlex

    from cairn.core.errors import UsageError
    from cairn.integrations import codex_plugin
    from cairn.integrations.files import Plan
    from cairn.integrations.install import base_command

    base = shlex.split(args.command) if args.command else base_command()
    if not base:
        raise UsageError("--command is empty; give e.g. --command 'cairn'")
    target = Path(args.dir).expanduser().resolve()
    plan = Plan(codex_plugin.write_plugin(target, base), codex_plugin.next_steps(target))
    _report(plan, args, "written", [])
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from cairn.integrations.doctor import client_checks

    root = _project(args, required=False) or Path(args.workspace or ".").resolve()
    checks = client_checks(root)
    if args.json:
        emit_json(
            {
                "schema": "cairn.client_checks/1",
                "checks": [
                    {
                        "area": c.area,
                        "name": c.name,
                        "outcome": c.outcome,
                        "detail": c.detail,
                        "fix": c.fix,
                    }
                    for c in checks
                ],
            }
        )
    else:
        if not checks:
            print("Neither Codex CLI nor Claude Code is installed here: nothing to check.")
        for c in checks:
            print(f"{c.outcome:<5} {c.name:<12} {c.detail}")
            if c.fix and c.outcome != "ok":
                print(f"      run: {c.fix}")
    return 1 if any(c.outcome == "fail" for c in checks) else 0


def cmd_compactions(args: argparse.Namespace) -> int:
    from cairn.cli.common import open_ws
    from cairn.domain.compactions import SCHEMA_COMPACTIONS, compactions

    ws = open_ws(args, reconcile=False)
    rows = compactions(ws, limit=args.limit)
    if args.json:
        emit_json({"schema": SCHEMA_COMPACTIONS, "compactions": rows})
        return 0
    if not rows:
        print("No compactions recorded. Install the hooks: `cairn hooks install claude`.")
    for c in rows:
        verdict = "safe" if c["safe_point"] else "SUBOPTIMAL"
        calls = c["tool_calls_since_checkpoint"]
        print(
            f"{c['ts']}  {c['trigger'] or '?':<6} {c['agent']:<6} {verdict:<10} "
            f"{c['task'] or '—'}/{c['phase'] or '—'}  "
            f"{'?' if calls is None else calls} tool calls since checkpoint"
        )
    return 0
