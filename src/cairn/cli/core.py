"""Core commands: init, task, phase, checkpoint, progress, next, status, recover, log."""

from __future__ import annotations

import sys
from pathlib import Path

from cairn.cli.common import (
    add_json,
    emit_json,
    note,
    open_ws,
    positive_int,
    split_task,
)
from cairn.domain.base import LazyModule

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from typing import Any

    from cairn import views
else:
    views = LazyModule("cairn.views")  # the answers' shapes: not needed to parse or to run

ORDER = 0
# The top-level commands registered below; `cairn <one of these>` loads no other command module.
COMMANDS = ("init", "task", "phase", "checkpoint", "progress", "next", "status", "recover", "log")


_TASK_PHASE = "the task (optional when one task is active) and the phase"
_TASK_KIND = "the task (optional when one task is active) and the checkpoint kind"
_TASK_TEXT = "the task (optional when one task is active) and the text"


def register(sub: Any, only: str | None = None) -> None:
    """The parsers of the core commands; with ``only`` (the command about to run), just its own:
    a hook or an agent runs ``cairn status`` often, and every parser built costs start-up."""
    for name, build in _PARSERS.items():
        if only is None or name == only:
            build(sub)


def _init_parser(sub: Any) -> None:
    p = sub.add_parser("init", help="create .cairn/, artifacts/, logs/ and the status file here")
    p.add_argument("path", nargs="?", default=".", help="project folder (default: current)")
    p.add_argument(
        "--store",
        metavar="URL",
        help="a shared PostgreSQL store (postgresql://USER@HOST:PORT/DB), recorded in "
        ".cairn/config.toml; default: the embedded SQLite file .cairn/cairn.db",
    )
    p.set_defaults(func=cmd_init)


def _task_parser(sub: Any) -> None:
    task = sub.add_parser(
        "task", help="create, list, show, archive, rename and delete tasks"
    ).add_subparsers(dest="task_cmd", metavar="ACTION", required=True)
    p = task.add_parser("new", help="create a task with ordered phases")
    p.add_argument("task", help="a short id such as finding4 (letters, digits, . _ -)")
    p.add_argument("--title", default="", help="a line saying what the task is")
    p.add_argument(
        "--phases", default="", help="comma-separated, e.g. analysis,plan,implement,test"
    )
    p.add_argument(
        "--gate",
        action="append",
        default=[],
        metavar="PHASE",
        help="this phase needs an approved review of the plan before it starts",
    )
    add_json(p)
    p.set_defaults(func=cmd_task_new)
    p = task.add_parser("list", help="all tasks, newest first")
    p.add_argument("--limit", type=positive_int, default=100, help="at most N tasks (100)")
    p.add_argument(
        "--archived", action="store_true", help="the archived tasks instead, newest first"
    )
    add_json(p)
    p.set_defaults(func=cmd_task_list)
    p = task.add_parser("show", help="one task with phases, steps and checkpoints")
    p.add_argument("task", nargs="?", help="the task id (default: the one active task)")
    add_json(p)
    p.set_defaults(func=cmd_task_show)
    p = task.add_parser("add-phase", help="[TASK] PHASE...: append phases to a task")
    p.add_argument("args", nargs="+", metavar="[TASK] PHASE", help="the task (optional), phases")
    p.set_defaults(func=cmd_task_add_phase)
    from cairn.cli.task_life_args import task_life_parsers  # archive, rename, delete

    task_life_parsers(task)


def _phase_parser(sub: Any) -> None:
    phase = sub.add_parser("phase", help="start, finish, fail or remove a phase").add_subparsers(
        dest="phase_cmd", metavar="ACTION", required=True
    )
    p = phase.add_parser("start", help="[TASK] PHASE: mark a phase active")
    p.add_argument("args", nargs="+", metavar="[TASK] PHASE", help=_TASK_PHASE)
    p.add_argument("--reopen", action="store_true", help="start a phase that is already done")
    p.add_argument(
        "--override",
        metavar="REASON",
        help="start a gated phase without an approved review (journaled)",
    )
    p.set_defaults(func=cmd_phase_start)
    p = phase.add_parser("done", help="[TASK] PHASE: mark the active phase done")
    p.add_argument("args", nargs="+", metavar="[TASK] PHASE", help=_TASK_PHASE)
    p.set_defaults(func=cmd_phase_done)
    p = phase.add_parser("fail", help="[TASK] PHASE --error MSG: mark the active phase failed")
    p.add_argument("args", nargs="+", metavar="[TASK] PHASE", help=_TASK_PHASE)
    p.add_argument("--error", required=True, help="what went wrong (shown in status and briefs)")
    p.set_defaults(func=cmd_phase_fail)
    from cairn.cli.task_life_args import phase_life_parsers  # remove

    phase_life_parsers(phase)


def _checkpoint_parser(sub: Any) -> None:
    from cairn.cli.checkpoint_cmds import (
        cmd_cp_history,
        cmd_cp_list,
        cmd_cp_show,
        cmd_cp_template,
        cmd_cp_write,
    )

    cp = sub.add_parser("checkpoint", help="write, show and list checkpoints").add_subparsers(
        dest="cp_cmd", metavar="ACTION", required=True
    )
    p = cp.add_parser("write", help="[TASK] KIND: store a new version (from --file or stdin)")
    p.add_argument("args", nargs="+", metavar="[TASK] KIND", help=_TASK_KIND)
    p.add_argument(
        "--file", help="read the content from this file, anywhere you can read (default: stdin)"
    )
    p.add_argument(
        "--reload",
        action="append",
        default=[],
        metavar="PATH",
        help="a file the next phase must reload (repeatable)",
    )
    add_json(p)
    p.set_defaults(func=cmd_cp_write)
    p = cp.add_parser("show", help="[TASK] KIND: print the newest (or --version N) content")
    p.add_argument("args", nargs="+", metavar="[TASK] KIND", help=_TASK_KIND)
    p.add_argument("--version", type=int, help="this version instead of the newest")
    add_json(p)
    p.set_defaults(func=cmd_cp_show)
    p = cp.add_parser("list", help="[TASK]: newest version of each kind")
    p.add_argument("task", nargs="?", help="the task id (default: the one active task)")
    add_json(p)
    p.set_defaults(func=cmd_cp_list)
    p = cp.add_parser("history", help="[TASK] KIND: every version of a kind")
    p.add_argument("args", nargs="+", metavar="[TASK] KIND", help=_TASK_KIND)
    add_json(p)
    p.set_defaults(func=cmd_cp_history)
    p = cp.add_parser("template", help="print the seed's template for a kind")
    p.add_argument("kind", help="analysis, plan, plan_approved, progress, complete or tested")
    p.add_argument("--title", default="Finding #{N}", help="the heading (default 'Finding #{N}')")
    add_json(p)
    p.set_defaults(func=cmd_cp_template)


def _progress_parser(sub: Any) -> None:
    p = sub.add_parser("progress", help="[TASK] TEXT: record a progress step")
    p.add_argument("args", nargs="+", metavar="[TASK] TEXT", help=_TASK_TEXT)
    p.add_argument("--state", default="done", help="done ✅ | active ⏳ | todo ⏸️ | failed ❌")
    p.add_argument("--phase", help="the phase the step belongs to (default: the active one)")
    add_json(p)
    p.set_defaults(func=cmd_progress)


def _next_parser(sub: Any) -> None:
    p = sub.add_parser("next", help="[TASK] TEXT: set the next action")
    p.add_argument("args", nargs="+", metavar="[TASK] TEXT", help=_TASK_TEXT)
    add_json(p)
    p.set_defaults(func=cmd_next)


def _status_parser(sub: Any) -> None:
    p = sub.add_parser("status", help="where the work stands; rewrites CURRENT_WORK_STATUS.md")
    add_json(p)
    p.set_defaults(func=cmd_status)


def _recover_parser(sub: Any) -> None:
    p = sub.add_parser("recover", help="print the recovery brief and log the recovery")
    p.add_argument("--task", help="brief this task (default: the one active or last touched)")
    p.add_argument(
        "--trigger", default="manual", help="compact | crash | manual | startup | resume | clear"
    )
    p.add_argument("--max-tokens", type=int, help="bound on the brief (default 2000)")
    p.add_argument(
        "--exact",
        action="store_true",
        help="count tokens exactly (loads a tokenizer, ~0.2-0.4 s) and fill the bound",
    )
    p.add_argument("--no-log", action="store_true", help="print the brief without logging")
    add_json(p)
    p.set_defaults(func=cmd_recover)


def _log_parser(sub: Any) -> None:
    p = sub.add_parser("log", help="the event journal, oldest first")
    p.add_argument("--task", help="only this task's events")
    p.add_argument("--limit", type=positive_int, default=50, help="the newest N events (50)")
    p.add_argument(
        "--type",
        action="append",
        default=[],
        dest="types",
        help="only events of this type, e.g. phase.started (repeatable)",
    )
    add_json(p)
    p.set_defaults(func=cmd_log)


_PARSERS = {
    "init": _init_parser,
    "task": _task_parser,
    "phase": _phase_parser,
    "checkpoint": _checkpoint_parser,
    "progress": _progress_parser,
    "next": _next_parser,
    "status": _status_parser,
    "recover": _recover_parser,
    "log": _log_parser,
}


def cmd_init(args: argparse.Namespace) -> int:
    from cairn.domain.workspace import Workspace, store_location

    target = Path(args.workspace or args.path)
    from cairn.core.config import load_config
    from cairn.store.factory import describe

    cfg = target / ".cairn" / "config.toml"
    existed = (target / ".cairn" / "cairn.db").exists() or "://" in load_config(cfg).store
    ws = Workspace.init(target, store=args.store)
    print(
        f"{'Workspace already set up' if existed else 'Initialised cairn workspace'} at {ws.root}"
    )
    print(
        f"  store      {describe(store_location(ws.cairn_dir, ws.config))}\n  status     {ws.config.status_file}\n"
        f"  artifacts  {ws.config.artifacts_dir}/\n  logs       {ws.config.logs_dir}/\n"
        "Next steps:\n"
        "  1. cairn task new TASK --phases analysis,plan,implement,test\n"
        "  2. cairn phase start TASK analysis\n"
        "  3. cairn checkpoint write TASK analysis --file notes.md   (at each phase end)\n"
        "  4. cairn recover   (after a compaction or restart: the brief to carry on from)"
    )
    return 0


def cmd_task_new(args: argparse.Namespace) -> int:
    ws = open_ws(args)
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    gates = [g for gate in args.gate for g in gate.split(",") if g]
    task = ws.create_task(args.task, args.title, phases, gates)
    if args.json:
        emit_json(views.task(task))
    else:
        print(views.task_created(task))
    return 0


def cmd_task_list(args: argparse.Namespace) -> int:
    ws = open_ws(args)
    if args.archived:
        from cairn.domain.task_life import archived_tasks

        tasks = archived_tasks(ws, limit=args.limit)
    else:
        tasks = ws.tasks(limit=args.limit)
    if args.json:
        emit_json(views.tasks(tasks))
        return 0
    if not tasks and args.archived:
        print("No archived tasks.")
    elif not tasks:
        print("No tasks. Create one with `cairn task new TASK --phases analysis,plan,implement`.")
    for t in tasks:
        cur = t.current_phase
        print(f"{t.id:<24} {t.state:<8} {cur.name if cur else '—':<14} {t.title}")
    return 0


def cmd_task_show(args: argparse.Namespace) -> int:
    ws = open_ws(args)
    task = ws.task(ws.resolve_task(args.task))
    steps = ws.steps(task.id)
    cps = ws.checkpoints(task.id)
    if args.json:
        emit_json(views.task_detail(task, steps, cps))
        return 0
    print(f"{task.id}: {task.title or task.id}  [{task.state}]")
    for p in task.phases:
        gate = " (gated)" if p.gated else ""
        print(
            f"  {p.icon} {p.position}. {p.name}{gate}  {p.state}"
            + (f": {p.error.strip().splitlines()[-1]}" if p.error else "")
        )
    print(f"Next action: {task.next_action or '—'}")
    for s in steps[-20:]:
        print(f"  {s.icon} {s.text}")
    for c, n in cps:
        print(f"  {c.path}  {c.kind} v{n}  {c.created_at}")
    return 0


def cmd_task_add_phase(args: argparse.Namespace) -> int:
    ws = open_ws(args)
    first, *rest = args.args
    # The first word names the task when it is one; otherwise every word is a phase of the one
    # active task.
    if rest and ws.has_task(first):
        task_id, phases = first, rest
    else:
        task_id, phases = ws.resolve_task(None), list(args.args)
    task = ws.add_phases(task_id, phases)
    print(f"{task.id}: phases {', '.join(p.name for p in task.phases)}")
    return 0


def cmd_phase_start(args: argparse.Namespace) -> int:
    ws = open_ws(args)
    task_id, (phase,) = split_task(args.args, 1, "[TASK] PHASE")
    task = ws.start_phase(
        ws.resolve_task(task_id), phase, reopen=args.reopen, override=args.override
    )
    print(views.phase_started(task, phase))
    return 0


def cmd_phase_done(args: argparse.Namespace) -> int:
    ws = open_ws(args)
    task_id, (phase,) = split_task(args.args, 1, "[TASK] PHASE")
    task = ws.finish_phase(ws.resolve_task(task_id), phase)
    print(views.phase_finished(task, phase))
    return 0


def cmd_phase_fail(args: argparse.Namespace) -> int:
    ws = open_ws(args)
    task_id, (phase,) = split_task(args.args, 1, "[TASK] PHASE")
    task = ws.fail_phase(ws.resolve_task(task_id), phase, args.error)
    print(views.phase_failed(task, phase))
    return 0


def cmd_progress(args: argparse.Namespace) -> int:
    ws = open_ws(args)
    task_id, (text,) = split_task(args.args, 1, "[TASK] TEXT")
    if args.phase is not None and len(args.phase) > 64:
        from cairn.core import names

        names.phase_name(args.phase)  # no phase is this long: say so, without echoing it whole
    step = ws.progress(ws.resolve_task(task_id), text, args.state, phase=args.phase)
    if args.json:
        emit_json(views.step(step))
    else:
        print(views.step_line(step))
    return 0


def cmd_next(args: argparse.Namespace) -> int:
    ws = open_ws(args)
    task_id, (text,) = split_task(args.args, 1, "[TASK] TEXT")
    task = ws.set_next(ws.resolve_task(task_id), text)
    if args.json:
        emit_json(views.next_action(task))
    else:
        print(views.next_set(task))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from cairn.projection.status import render_status_md, status_data

    ws = open_ws(args)
    data = None
    if ws.read_only is None:
        # Written by the projector, under the projection lock like every other writer of the file
        # (a concurrent command cannot replace a newer status with an older one), in a flush that
        # records the folder as cairn left it; printed as written.
        ws.projector.render_status()
        data = getattr(ws.projector, "last_status", None)
    if data is None:  # a read-only workspace: printed, not written (open_ws said so)
        data = status_data(ws)
    md = render_status_md(data)
    if args.json:
        emit_json(views.status(data))
    else:
        sys.stdout.write(md)
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    from cairn.recovery.brief import build_brief, recover

    ws = open_ws(args)
    if args.no_log or ws.read_only is not None:
        if not args.no_log:
            note("this recovery was not logged (the workspace is read-only)")
        brief = build_brief(
            ws,
            task_id=args.task,
            max_tokens=args.max_tokens,
            trigger=args.trigger,
            exact=args.exact,
        )
    else:
        brief = recover(
            ws,
            trigger=args.trigger,
            task_id=args.task,
            max_tokens=args.max_tokens,
            exact=args.exact,
        )
    if args.json:
        emit_json(views.brief(brief))
    else:
        sys.stdout.write(brief.text.rstrip("\n") + "\n")
    return 0


def cmd_log(args: argparse.Namespace) -> int:
    ws = open_ws(args)
    events = ws.events(args.task, limit=args.limit, types=args.types)
    if args.json:
        emit_json(views.log(events))
        return 0
    for e in events:
        detail = ", ".join(f"{k}={v}" for k, v in e.data.items() if k != "hash")
        print(f"{e.id:>6} {e.ts} {e.task_id or '-':<14} {e.type:<22} {detail[:160]}")
    return 0
