"""``cairn mcp``: the workspace as an MCP server over stdio (never a network port).

Tools mirror the CLI: status, recover, tasks, phase transitions, checkpoints, progress, next action,
and — when those parts of cairn are present — reviews, the budget ledger and advice. Arguments are
typed, so the SDK validates them against the published JSON schema; a :class:`CairnError` comes
back as a tool error whose text says what to do next, and the server keeps serving. Resources: the
status file, the recovery log, the artifact index and each artifact's newest version.

Built on the official ``mcp`` SDK (2.x ``MCPServer``). Tool functions run in worker threads; one
lock serialises them over the workspace's single SQLite connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

from pydantic import Field

from cairn.core.errors import CairnError
from cairn.domain.workspace import Workspace

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

T = TypeVar("T")

INSTRUCTIONS = """\
cairn keeps long work safe from context compaction: cut the work into phases, write a checkpoint
at each phase end and before any big context shift, record progress steps as they finish, keep the
next action current. After a compaction call `recover` and reload the files it lists.
"""

StepState = Literal["done", "active", "todo", "failed"]
Trigger = Literal["compact", "crash", "manual", "startup", "resume", "clear"]
TaskArg = Annotated[
    str | None,
    Field(description="task id; may be left out when exactly one task is active or open"),
]


class CairnMCP:
    """Holds the workspace (opened on first use) and the lock around it."""

    def __init__(self, workspace: str | None = None) -> None:
        self.workspace = workspace
        self._ws: Workspace | None = None
        self._lock = threading.Lock()

    def ws(self) -> Workspace:
        if self._ws is None:
            self._ws = Workspace.open(self.workspace)
        return self._ws

    def call(self, fn: Callable[[Workspace], T]) -> T:
        from mcp.server.mcpserver.exceptions import ToolError

        with self._lock:
            try:
                ws = self.ws()
                ws.projector.reconcile()  # ingest hand edits of artifacts first, as the CLI does
                result = fn(ws)
                ws.flush()  # the readable tree is current when the tool returns, as in the CLI
                return result
            except CairnError as exc:
                raise ToolError(str(exc)) from exc

    def read(self, fn: Callable[[Workspace], str]) -> str:
        from mcp.server.mcpserver.exceptions import ResourceError

        with self._lock:
            try:
                return fn(self.ws())
            except CairnError as exc:
                raise ResourceError(str(exc)) from exc

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None


def build_server(workspace: str | None = None) -> MCPServer[Any]:
    from mcp.server.mcpserver import MCPServer

    from cairn import __version__

    app = CairnMCP(workspace)
    server = MCPServer("cairn", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING")
    _core_tools(server, app)
    _optional_tools(server, app)
    _resources(server, app)
    _refuse_unknown_arguments(server)
    return server


def _refuse_unknown_arguments(server: MCPServer[Any]) -> None:
    """Make every tool refuse arguments it does not take, and say so in its schema: the SDK drops
    unknown keys silently, so a misspelt optional argument would change the answer unnoticed."""
    manager = getattr(server, "_tool_manager", None)
    for tool in manager.list_tools() if manager is not None else []:
        model = tool.fn_metadata.arg_model
        model.model_config["extra"] = "forbid"
        model.model_rebuild(force=True)
        tool.parameters = model.model_json_schema(by_alias=True)


def _core_tools(server: MCPServer[Any], app: CairnMCP) -> None:
    from cairn.projection.status import public_status, render_status_md, status_data

    @server.tool()
    def status(as_json: bool = False) -> str:
        """Where the work stands: active tasks, phases, newest checkpoints, next actions
        (the content of CURRENT_WORK_STATUS.md, freshly rendered)."""

        def run(ws: Workspace) -> str:
            data = status_data(ws)
            if as_json:
                import json

                return json.dumps(public_status(data), ensure_ascii=False, default=str)
            return render_status_md(data)

        return app.call(run)

    @server.tool()
    def recover(
        task: TaskArg = None,
        trigger: Trigger = "manual",
        max_tokens: Annotated[int | None, Field(ge=200, le=100_000)] = None,
        log: bool = True,
    ) -> str:
        """The recovery brief after a compaction or restart: task, phase, newest checkpoint,
        next action and the files to reload. Logged to logs/compaction_recovery.log unless
        log is false."""
        from cairn.recovery.brief import build_brief
        from cairn.recovery.brief import recover as do_recover

        def run(ws: Workspace) -> str:
            if log:
                brief = do_recover(ws, trigger=trigger, task_id=task, max_tokens=max_tokens)
            else:
                brief = build_brief(ws, task_id=task, max_tokens=max_tokens, trigger=trigger)
            return brief.text

        return app.call(run)

    @server.tool()
    def task_new(
        task: Annotated[str, Field(description="short id such as finding4")],
        phases: list[str] | None = None,
        title: str = "",
        gates: Annotated[
            list[str] | None, Field(description="phases that need an approved review")
        ] = None,
    ) -> dict[str, Any]:
        """Create a task with ordered phases, e.g. analysis, plan, implement, test."""
        return app.call(lambda ws: ws.create_task(task, title, phases or (), gates or ()).to_json())

    @server.tool()
    def task_show(task: TaskArg = None) -> dict[str, Any]:
        """One task: phases, progress steps and checkpoints (without content)."""

        def run(ws: Workspace) -> dict[str, Any]:
            t = ws.task(ws.resolve_task(task))
            d = t.to_json()
            d["steps"] = [
                {"text": s.text, "state": s.state, "phase": s.phase} for s in ws.steps(t.id)
            ]
            d["checkpoints"] = [
                dict(c.to_json(with_content=False), versions=n) for c, n in ws.checkpoints(t.id)
            ]
            return d

        return app.call(run)

    @server.tool()
    def task_list(limit: Annotated[int, Field(ge=1, le=1000)] = 50) -> dict[str, Any]:
        """All tasks, most recently changed first."""
        return app.call(lambda ws: {"tasks": [t.to_json() for t in ws.tasks(limit=limit)]})

    @server.tool()
    def phase_start(
        phase: str, task: TaskArg = None, reopen: bool = False, override: str | None = None
    ) -> str:
        """Mark a phase active. reopen starts a phase that is done; override (a reason)
        starts a gated phase without an approved review, and is journaled."""

        def run(ws: Workspace) -> str:
            t = ws.start_phase(ws.resolve_task(task), phase, reopen=reopen, override=override)
            return f"{t.id}: phase {phase} active"

        return app.call(run)

    @server.tool()
    def phase_done(phase: str, task: TaskArg = None) -> str:
        """Mark the active phase done (write its checkpoint first)."""

        def run(ws: Workspace) -> str:
            t = ws.finish_phase(ws.resolve_task(task), phase)
            cur = t.current_phase
            return f"{t.id}: phase {phase} done" + (
                f"; next phase: {cur.name}" if cur else "; all phases done"
            )

        return app.call(run)

    @server.tool()
    def phase_fail(phase: str, error: str, task: TaskArg = None) -> str:
        """Mark the active phase failed, with what went wrong."""
        return app.call(
            lambda ws: (
                f"{ws.fail_phase(ws.resolve_task(task), phase, error).id}: phase {phase} failed"
            )
        )

    @server.tool()
    def checkpoint_write(
        kind: Annotated[str, Field(description="analysis, plan, progress, complete, tested, …")],
        content: Annotated[str, Field(min_length=1)],
        task: TaskArg = None,
        reload: Annotated[
            list[str] | None, Field(description="files the next phase must reload")
        ] = None,
    ) -> dict[str, Any]:
        """Store a new version of a checkpoint (Markdown); projected to
        artifacts/<task>_<kind>.md. Write one at every phase end and before a context shift."""

        def run(ws: Workspace) -> dict[str, Any]:
            cp = ws.write_checkpoint(ws.resolve_task(task), kind, content, files=reload or ())
            return cp.to_json(with_content=False)

        return app.call(run)

    @server.tool()
    def checkpoint_read(
        kind: str, task: TaskArg = None, version: Annotated[int | None, Field(ge=1)] = None
    ) -> dict[str, Any]:
        """A checkpoint's newest (or given) version, with its content."""
        return app.call(lambda ws: ws.checkpoint(ws.resolve_task(task), kind, version).to_json())

    @server.tool()
    def checkpoint_list(task: TaskArg = None) -> dict[str, Any]:
        """The newest version of each checkpoint kind of a task."""

        def run(ws: Workspace) -> dict[str, Any]:
            tid = ws.resolve_task(task)
            return {
                "task": tid,
                "checkpoints": [
                    dict(c.to_json(with_content=False), versions=n) for c, n in ws.checkpoints(tid)
                ],
            }

        return app.call(run)

    @server.tool()
    def progress(
        text: str, state: StepState = "done", task: TaskArg = None, phase: str | None = None
    ) -> str:
        """Record one progress step: done ✅, active ⏳ (a step begins), todo ⏸️, failed ❌."""

        def run(ws: Workspace) -> str:
            step = ws.progress(ws.resolve_task(task), text, state, phase=phase)
            return f"{step.task_id}: {step.icon} {step.text}"

        return app.call(run)

    @server.tool()
    def next_action(text: str, task: TaskArg = None) -> str:
        """Set the next action: what to do first after a compaction or restart."""
        return app.call(
            lambda ws: f"{ws.set_next(ws.resolve_task(task), text).id}: next action: {text}"
        )


def _has(module: str) -> bool:
    """Whether an optional part of cairn (reviews, budget, advise) is in this build."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _optional_tools(server: MCPServer[Any], app: CairnMCP) -> None:
    if _has("cairn.domain.reviews"):
        _review_tools(server, app)
    if _has("cairn.domain.budget"):
        _budget_tools(server, app)
    if _has("cairn.domain.advise"):
        _advise_tool(server, app)


def _review_tools(server: MCPServer[Any], app: CairnMCP) -> None:
    from cairn.domain import reviews

    @server.tool()
    def review_request(
        topic: Annotated[str, Field(description="short topic, e.g. finding4_approach")],
        question: str,
        task: TaskArg = None,
        context_files: Annotated[
            list[str] | None, Field(description="workspace files the reviewer should read")
        ] = None,
        concerns: list[str] | None = None,
        reviewer: Annotated[
            str | None, Field(description="provider:model, human, file or checklist")
        ] = None,
    ) -> dict[str, Any]:
        """Ask for a methodology review (e.g. before a gated phase); returns the verdict, or a
        pending review when a person answers it."""

        def run(ws: Workspace) -> dict[str, Any]:
            tid = ws.resolve_task(task) if task is not None else None
            r = reviews.request_review(
                ws, tid, topic, question, context_files or (), concerns or (), reviewer
            )
            return r.to_json()

        return app.call(run)

    @server.tool()
    def review_answer(
        review_id: str,
        approved: bool,
        recommendation: str = "",
        concerns: list[str] | None = None,
        reviewer: str = "human",
    ) -> dict[str, Any]:
        """Record the verdict for a pending review (given by a person or another agent)."""
        return app.call(
            lambda ws: reviews.answer_review(
                ws,
                review_id,
                approved=approved,
                recommendation=recommendation,
                concerns=concerns or (),
                reviewer=reviewer,
            ).to_json()
        )

    @server.tool()
    def review_show(
        review: Annotated[
            str | None, Field(description="review id or topic; omit to list recent reviews")
        ] = None,
        pending: bool = False,
    ) -> dict[str, Any]:
        """A review with every round (by id or topic), or the list of recent reviews."""

        def run(ws: Workspace) -> dict[str, Any]:
            if review is None:
                found = reviews.list_reviews(ws, pending=pending, limit=50)
                return {"reviews": [r.to_json() for r in found]}
            return {"rounds": [r.to_json() for r in reviews.rounds(ws, review)]}

        return app.call(run)


def _budget_tools(server: MCPServer[Any], app: CairnMCP) -> None:
    from cairn.domain import budget

    @server.tool()
    def budget_record(
        category: Annotated[
            str, Field(description="specs, orchestration, user, subagents, buffer or custom")
        ],
        source: Annotated[str, Field(description="what entered the context, e.g. a file path")],
        tokens: Annotated[int | None, Field(ge=0)] = None,
        text: Annotated[str | None, Field(description="count these tokens offline")] = None,
        task: TaskArg = None,
    ) -> dict[str, Any]:
        """Record what entered the context window, by tokens or by the text itself."""
        from cairn.core.errors import UsageError

        def run(ws: Workspace) -> dict[str, Any]:
            tid = ws.resolve_task(task) if task is not None else None
            if text is not None:
                e = budget.record_text(ws, category, text, source=source, task_id=tid)
            elif tokens is not None:
                e = budget.record(ws, category, tokens, source=source, task_id=tid)
            else:
                raise UsageError("give tokens or text to count")
            return {
                "category": e.category,
                "tokens": e.tokens,
                "exact": e.exact,
                "context": e.context_id,
                "source": e.source,
            }

        return app.call(run)

    @server.tool()
    def budget_show(all_contexts: bool = False, as_json: bool = False) -> str:
        """Context budget: each category's allocation, use and warnings for the current context."""
        import json

        def run(ws: Workspace) -> str:
            rep = budget.report(ws, all_contexts=all_contexts)
            if as_json:
                return json.dumps(rep.to_json(), ensure_ascii=False, default=str)
            return budget.render_text(rep)

        return app.call(run)


def _advise_tool(server: MCPServer[Any], app: CairnMCP) -> None:
    from cairn.domain import advise as advise_mod

    @server.tool()
    def advise(
        read_lines: Annotated[int, Field(ge=0)] = 0,
        write_lines: Annotated[int, Field(ge=0)] = 0,
        rounds: Annotated[int, Field(ge=0)] = 0,
        sequential: bool = False,
        need_details: bool = False,
        minutes: Annotated[float | None, Field(ge=0)] = None,
        debugging: bool = False,
        multi_step: bool = False,
        edit_lines: Annotated[int | None, Field(ge=0)] = None,
    ) -> dict[str, Any]:
        """Should this piece of work go to a subagent or be done here with checkpoints?
        Applies the strategy's rules (reads >500 lines, writes >100 lines, several rounds of
        analysis, debugging, multi-step work → subagent; small edits, quick or sequential work,
        or when you need to see the details → directly)."""

        def run(ws: Workspace) -> dict[str, Any]:
            a = advise_mod.advise(
                read_lines=read_lines,
                write_lines=write_lines,
                rounds=rounds,
                sequential=sequential,
                need_details=need_details,
                minutes=minutes,
                debugging=debugging,
                multi_step=multi_step,
                edit_lines=edit_lines,
            )
            return {**a.to_json(), "text": a.text()}

        return app.call(run)


def _resources(server: MCPServer[Any], app: CairnMCP) -> None:
    from cairn.projection.status import render_status_md, status_data

    @server.resource(
        "cairn://status", name="status", mime_type="text/markdown", description="The status file"
    )
    def status_file() -> str:
        return app.read(lambda ws: render_status_md(status_data(ws)))

    @server.resource(
        "cairn://recovery-log",
        name="recovery-log",
        mime_type="text/plain",
        description="logs/compaction_recovery.log",
    )
    def recovery_log() -> str:
        def run(ws: Workspace) -> str:
            path = ws.root / ws.config.logs_dir / "compaction_recovery.log"
            return path.read_text(encoding="utf-8") if path.exists() else ""

        return app.read(run)

    @server.resource(
        "cairn://artifacts",
        name="artifacts",
        mime_type="text/markdown",
        description="Index of artifacts: each task's checkpoint kinds with their newest version",
    )
    def artifacts_index() -> str:
        def run(ws: Workspace) -> str:
            lines = ["# Artifacts", ""]
            for t in ws.tasks(limit=200):
                for c, n in ws.checkpoints(t.id):
                    lines.append(
                        f"- cairn://artifacts/{t.id}/{c.kind} — {c.path} (v{n}, {c.created_at})"
                    )
            return "\n".join(lines) + "\n"

        return app.read(run)

    @server.resource(
        "cairn://artifacts/{task}/{kind}",
        name="artifact",
        mime_type="text/markdown",
        description="The newest version of a checkpoint, as in artifacts/<task>_<kind>.md",
    )
    def artifact(task: str, kind: str) -> str:
        return app.read(lambda ws: ws.checkpoint(task, kind).content or "")


def serve(workspace: str | None = None) -> None:
    """Serve over stdio until the client closes the connection."""
    root = Path(workspace).resolve() if workspace else None
    server = build_server(str(root) if root else None)
    server.run("stdio")
