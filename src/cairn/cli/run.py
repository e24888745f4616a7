"""``cairn run FILE`` (resume a workflow of durable phases) and ``cairn demo`` (the Finding #4 demo)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cairn.cli.common import add_json, emit_json
from cairn.core.errors import UsageError

ORDER = 20


def register(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run a workflow file of durable phases, resuming where it stopped",
        description="Load FILE (a Python file that registers phases with @task.phase), then run "
        "each task it defines: finished phases are skipped, a phase that was running when its "
        "process died runs again from its start. `task.run()` under "
        "`if __name__ == '__main__':` is not triggered by loading.",
    )
    p.add_argument("file", help="the workflow file, e.g. workflow.py")
    p.add_argument("--task", metavar="TASK", help="run only this task of the file")
    p.add_argument(
        "--reset",
        metavar="PHASE",
        help="forget PHASE and the phases after it (their checkpoints stay), then run",
    )
    add_json(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "demo",
        help="the Finding #4 example end to end: phases, workers, a stream, a crash and a resume",
    )
    p.add_argument("--dir", metavar="DIR", help="an empty or new folder (default: a temp folder)")
    p.add_argument("--no-crash", action="store_true", help="skip the SIGKILL and resume")
    p.set_defaults(func=cmd_demo)


def cmd_run(args: argparse.Namespace) -> int:
    from cairn.flow.durable import PENDING_RESETS

    file = Path(args.file)
    if not file.is_file():
        raise UsageError(f"no workflow file {args.file}; give the path of a Python file")
    shown = args.file
    if args.workspace:
        file = file.resolve()
        os.chdir(args.workspace)
    if args.reset:
        PENDING_RESETS.clear()
        PENDING_RESETS[args.task.casefold() if args.task else "*"] = args.reset
    with _stdout_to_stderr(args.json):
        reports = _run_handles(args, file, shown)
    if args.json:
        emit_json({"schema": "cairn.runs/1", "runs": [r.to_json() for r in reports]})
    return 0


@contextlib.contextmanager
def _stdout_to_stderr(active: bool) -> Iterator[None]:
    """With --json, what the workflow prints (print() or straight to fd 1) goes to stderr, so
    that standard output is the JSON document alone."""
    if not active:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _run_handles(args: argparse.Namespace, file: Path, shown: str) -> list[Any]:
    from cairn.flow.durable import PENDING_RESETS
    from cairn.flow.loader import load_workflow

    try:
        handles = load_workflow(file)
        for h in handles:
            h.source = shown
        if args.task:
            chosen = [h for h in handles if h.id.casefold() == args.task.casefold()]
            if not chosen:
                have = ", ".join(h.id for h in handles) or "none"
                raise UsageError(f"{shown} defines no task {args.task!r} (it defines: {have})")
            handles = chosen
        if not handles:
            raise UsageError(
                f"{shown} defines no task; create one with `task = cairn.open('.').task('ID')` "
                "and register phases with @task.phase(NAME)"
            )
        if PENDING_RESETS and len(handles) > 1:
            raise UsageError(
                f"{shown} defines several tasks ({', '.join(h.id for h in handles)}); name the "
                "one to reset with --task"
            )
        reports = []
        for h in handles:
            if h.runs and h.last_report and not PENDING_RESETS:  # the file ran it while loading
                reports.append(h.last_report)
                if not args.json:
                    print("\n".join(h.last_report.lines()), flush=True)
                continue
            reports.append(h.run(echo=None if args.json else _echo))
    finally:
        PENDING_RESETS.clear()
    return reports


def _echo(line: str) -> None:
    print(line, flush=True)


def demo_dir() -> Path:
    """Where the Finding #4 example lives: packaged with cairn, or in the source checkout."""
    here = Path(__file__).resolve()
    for candidate in (
        here.parents[1] / "_examples" / "finding4",
        here.parents[3] / "examples" / "finding4",
    ):
        if (candidate / "demo.py").is_file():
            return candidate
    raise UsageError(
        "the Finding #4 example is not installed with this cairn; run `cairn demo` from a "
        "source checkout (examples/finding4/)"
    )


def cmd_demo(args: argparse.Namespace) -> int:
    import runpy

    if args.dir and Path(args.dir).exists() and not Path(args.dir).is_dir():
        raise UsageError(f"--dir {args.dir} is a file; give a new or empty folder")
    script = demo_dir() / "demo.py"
    argv = [str(script)]
    if args.dir:
        argv += ["--dir", args.dir]
    if args.no_crash:
        argv.append("--no-crash")
    saved = sys.argv
    sys.argv = argv
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        if exc.code in (None, 0):
            return 0
        if isinstance(exc.code, int):
            return exc.code
        sys.stderr.write(f"cairn demo: {exc.code}\n")
        return 1
    finally:
        sys.argv = saved
    return 0
