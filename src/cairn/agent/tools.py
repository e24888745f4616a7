"""The runtime's tools. Every path goes through :func:`cairn.core.names.inside`; errors go back to the model.

A tool never raises into the agent loop for a mistake the model can fix: it returns a line starting
with ``error:`` (counted in the run's figures) or ``refused:`` (a path outside the workspace, a write
into ``.cairn/``, a command that is not allowed; counted separately).
"""

from __future__ import annotations

import asyncio
import fnmatch
import functools
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic_ai import RunContext  # evaluated by pydantic-ai for the tools' schemas

from cairn.agent.state import AgentState, SubagentTask
from cairn.core.errors import CairnError, ValidationError

if TYPE_CHECKING:
    from pydantic_ai.tools import Tool

MAX_READ_LINES = 2_000
MAX_READ_CHARS = 200_000  # ~50 k tokens: one read never floods the context
MAX_LIST = 500
MAX_OUTPUT_CHARS = 20_000

F = TypeVar("F", bound=Callable[..., Awaitable[str]])


def _guard(fn: F) -> F:
    @functools.wraps(fn)
    async def wrapper(ctx: RunContext[AgentState], *args: Any, **kwargs: Any) -> str:
        st = ctx.deps
        try:
            return await fn(ctx, *args, **kwargs)
        except ValidationError as exc:
            msg = str(exc)
            if "outside the workspace" in msg or msg.startswith("refused"):
                st.stats.refused += 1
                return f"refused: {msg}"
            st.stats.tool_errors += 1
            return f"error: {msg}"
        except CairnError as exc:
            st.stats.tool_errors += 1
            return f"error: {exc}"
        except OSError as exc:
            st.stats.tool_errors += 1
            return f"error: {exc.strerror or exc} ({type(exc).__name__})"

    return wrapper  # type: ignore[return-value]


def _resolve(st: AgentState, path: str, *, write: bool = False) -> Path:
    from cairn.core.names import inside

    p = inside(st.ws.root, path, "path")
    rel = p.relative_to(st.ws.root.resolve())
    if write and rel.parts and rel.parts[0] == ".cairn":
        raise ValidationError(
            f"refused: {path} is inside .cairn/, cairn's own store; write elsewhere"
        )
    return p


def _rel(st: AgentState, p: Path) -> str:
    return p.relative_to(st.ws.root.resolve()).as_posix()


# -- files -------------------------------------------------------------------------------------------
@_guard
async def read_file(
    ctx: RunContext[AgentState], path: str, start_line: int = 1, max_lines: int = MAX_READ_LINES
) -> str:
    """Read a text file of the workspace (lines start_line.. start_line+max_lines-1)."""
    p = _resolve(ctx.deps, path)
    if p.is_dir():
        return f"error: {path} is a folder; use list_files"
    lines = p.read_text(encoding="utf-8", errors="replace").splitlines()
    start = max(1, start_line)
    count = max(1, min(max_lines, MAX_READ_LINES))
    chunk = lines[start - 1 : start - 1 + count]
    text = "\n".join(chunk)
    end = start + len(chunk) - 1
    if len(text) > MAX_READ_CHARS:
        # Very long lines: cut at a line boundary where possible, and say where to go on.
        cut = text.rfind("\n", 0, MAX_READ_CHARS)
        if cut <= 0:
            return text[:MAX_READ_CHARS] + (
                f"\n[line {start} is longer than {MAX_READ_CHARS:,} characters; the rest of it "
                f"is not shown; the next line is start_line={start + 1} of {len(lines)}]"
            )
        shown = text[:cut]
        end = start + shown.count("\n")
        return shown + (
            f"\n[cut at {len(shown):,} characters: lines {start}-{end} of {len(lines)}; read on "
            f"with start_line={end + 1}]"
        )
    if start > 1 or end < len(lines):
        text += f"\n[lines {start}-{end} of {len(lines)}; read on with start_line={end + 1}]"
    return text


@_guard
async def write_file(ctx: RunContext[AgentState], path: str, content: str) -> str:
    """Create or replace a text file of the workspace."""
    from cairn.core.fsutil import atomic_write

    p = _resolve(ctx.deps, path, write=True)
    p.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8")
    atomic_write(p, data)
    return f"wrote {_rel(ctx.deps, p)} ({len(data):,} bytes, {content.count(chr(10)) + 1} lines)"


@_guard
async def append_file(ctx: RunContext[AgentState], path: str, content: str) -> str:
    """Append text to a file of the workspace (created if missing)."""
    p = _resolve(ctx.deps, path, write=True)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "a", encoding="utf-8") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    return f"appended {len(content.encode('utf-8')):,} bytes to {_rel(ctx.deps, p)}"


@_guard
async def list_files(
    ctx: RunContext[AgentState], path: str = ".", pattern: str = "*", details: bool = False
) -> str:
    """List files under a folder (recursive), one relative path a line; details adds line counts."""
    st = ctx.deps
    base = _resolve(st, path)
    if not base.exists():
        return f"error: {path} does not exist"
    if base.is_file():
        return _rel(st, base)
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d != ".cairn" and not d.startswith(".git"))
        for name in sorted(filenames):
            if fnmatch.fnmatch(name, pattern):
                fp = Path(dirpath) / name
                entry = _rel(st, fp)
                if details:
                    data = fp.read_bytes()
                    n_lines = data.count(b"\n")
                    entry += f"\t{n_lines} lines\t{len(data)} bytes"
                found.append(entry)
                if len(found) > MAX_LIST:
                    return "\n".join(found[:MAX_LIST]) + f"\n[more than {MAX_LIST}; narrow it]"
    return "\n".join(found) if found else "(no files)"


# -- cairn -------------------------------------------------------------------------------------------
@_guard
async def checkpoint(
    ctx: RunContext[AgentState], kind: str, content: str, files: list[str] | None = None
) -> str:
    """Write a versioned checkpoint (Markdown) of the current phase: a safe point for compaction."""
    st = ctx.deps
    cp = st.ws.write_checkpoint(st.task_id, kind, content, files=files or (), phase=st.phase)
    st.checkpoints_written += 1
    return f"checkpoint {cp.path} v{cp.version} written"


@_guard
async def progress(ctx: RunContext[AgentState], text: str, state: str = "done") -> str:
    """Record one progress step (done | active | todo | failed): a safe point for compaction."""
    st = ctx.deps
    step = st.ws.progress(st.task_id, text, state, phase=st.phase)
    return f"step {step.id} recorded ({step.state})"


@_guard
async def set_next(ctx: RunContext[AgentState], text: str) -> str:
    """Set the task's next action (what to do first after a compaction or restart)."""
    st = ctx.deps
    st.ws.set_next(st.task_id, text)
    return "next action set"


@_guard
async def status(ctx: RunContext[AgentState]) -> str:
    """Where the task stands: phases, newest checkpoint, recent steps, budget use."""
    from cairn.domain.budget import report

    st = ctx.deps
    task = st.ws.task(st.task_id)
    lines = [f"task {task.id}: {task.title} ({task.state})"]
    lines.append("phases: " + ", ".join(f"{p.name}={p.state}" for p in task.phases))
    lines.append(f"next action: {task.next_action or '-'}")
    newest = st.ws.newest_checkpoint(task.id, with_content=False)
    lines.append(f"newest checkpoint: {newest.path if newest else '-'}")
    for s in st.ws.steps(task.id, limit=8):
        lines.append(f"- [{s.state}] {s.text}")
    rep = report(st.ws, context_id=st.context_id, window=st.window)
    lines.append(
        f"context: {rep.total_in_context:,} tokens recorded of a {st.window:,}-token window"
    )
    lines.extend(f"warning: {w}" for w in rep.warnings)
    return "\n".join(lines)


@_guard
async def request_review(
    ctx: RunContext[AgentState],
    topic: str,
    question: str,
    context_files: list[str] | None = None,
    concerns: list[str] | None = None,
) -> str:
    """Ask a second model to review (e.g. the plan before implementing); returns its verdict."""
    import importlib

    st = ctx.deps
    for f in context_files or []:
        _resolve(st, f)
    try:
        reviews = importlib.import_module("cairn.domain.reviews")
    except ModuleNotFoundError:
        return "error: reviews are not available in this cairn build"

    def ask() -> Any:
        # The reviewer may take minutes: it runs in a thread, on a connection of its own, while
        # the event loop (and any subagents) go on using the run's connection.
        from cairn.domain.workspace import Workspace

        with Workspace.open(st.ws.root, search=False) as ws2:
            return reviews.request_review(
                ws2, st.task_id, topic, question, list(context_files or []), list(concerns or [])
            )

    review = await asyncio.to_thread(ask)
    if not review.responses:
        return (
            f"review {review.id} is {review.state}: waiting for a person's answer "
            f"({review.request_path}); checkpoint your work and end the phase"
        )
    resp = review.responses[-1]
    if resp.approved is None:
        return f"review {review.id}: the reviewer failed ({resp.error}); see {resp.path}"
    verdict = "approved" if resp.approved else "not approved"
    concerns_text = "; ".join(resp.concerns[:10]) or "none"
    return (
        f"review {review.id}: {verdict}. Recommendation: {(resp.recommendation or '-')[:1500]}. "
        f"Concerns: {concerns_text[:1000]}. Full response: {resp.path}"
    )


@_guard
async def spawn_subagents(ctx: RunContext[AgentState], tasks: list[SubagentTask]) -> str:
    """Run subagents in parallel, each in a fresh context with its own token budget.

    Each task: name, task (the spec), inputs (files to read), outputs (files to produce),
    budget_tokens (optional). You get back only a short summary of each; full transcripts are
    kept under .cairn/subagents/.
    """
    st = ctx.deps
    if st.spawn is None:
        return "error: this agent cannot spawn subagents"
    results = await st.spawn(st, tasks)
    return "\n\n".join(r.report_line() for r in results)


@_guard
async def run_command(
    ctx: RunContext[AgentState], argv: list[str], timeout: float | None = None
) -> str:
    """Run an allowed command (argv list, no shell) in the workspace, with a time limit."""
    st = ctx.deps
    if not argv:
        return "error: argv is empty; give the command and its arguments as a list"
    if argv[0] not in st.allow_commands:
        st.stats.refused += 1
        return (
            f"refused: {argv[0]!r} is not allowed; allowed: {', '.join(st.allow_commands)} "
            "([agent] commands in .cairn/config.toml)"
        )
    limit = min(timeout or st.command_timeout, st.command_timeout)
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=st.ws.root,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), limit)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        st.stats.tool_errors += 1
        return f"error: {argv[0]} ran past its {limit:g} s limit and was killed"
    text = out.decode("utf-8", errors="replace")
    if len(text) > MAX_OUTPUT_CHARS:
        text = text[:MAX_OUTPUT_CHARS] + f"\n[output cut at {MAX_OUTPUT_CHARS} characters]"
    return f"exit code {proc.returncode}\n{text}"


def build_tools(st: AgentState, *, orchestrator: bool) -> list[Tool[AgentState]]:
    import importlib.util

    from pydantic_ai.tools import Tool

    fns: list[Callable[..., Awaitable[str]]] = [read_file, write_file, append_file, list_files]
    if orchestrator:
        fns += [checkpoint, progress, set_next, status]
        if importlib.util.find_spec("cairn.domain.reviews") is not None:
            fns.append(request_review)
        if st.spawn is not None:
            fns.append(spawn_subagents)
    if st.allow_commands:
        fns.append(run_command)
    return [Tool(fn, takes_ctx=True) for fn in fns]
