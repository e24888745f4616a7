"""``cairn mcp``: the workspace as an MCP server over stdio (never a network port).

Tools mirror the CLI: status, recover, tasks, phase transitions, checkpoints, progress, next action,
and — when those parts of cairn are present — reviews, the budget ledger and advice; each answers
in the shape the CLI gives for the same thing (:mod:`cairn.views`; ``cairn.*`` schemas in
docs/json.md), and a tool that answers in text takes ``as_json`` for that shape. Arguments are
typed, so the SDK validates them against the published JSON schema; a :class:`CairnError` comes
back as a tool error whose text says what to do next, and the server keeps serving. Resources: the
status file, the recovery log, the artifact index and each artifact's newest version.

Built on the official ``mcp`` SDK (2.x ``MCPServer``). Tool functions run in worker threads; one
lock serialises them over the workspace's single SQLite connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from cairn import views
from cairn.domain.workspace import Workspace
from cairn.mcp_app import CairnMCP, StepState, TaskArg, Trigger, dumps
from cairn.mcp_start import new_server
from cairn.mcp_tools import annotate, optional_tools

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer


def build_server(workspace: str | None = None) -> MCPServer[Any]:
    """The server with every tool and resource in (``serve`` adds them after it answers
    ``initialize``: :mod:`cairn.mcp_start`)."""
    server = new_server()
    add_everything(server, workspace)
    return server


def add_everything(server: MCPServer[Any], workspace: str | None) -> None:
    app = CairnMCP(workspace)
    _core_tools(server, app)
    optional_tools(server, app)
    _resources(server, app)
    _refuse_unknown_arguments(server)
    annotate(server)


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
    from cairn.projection.status import render_status_md, status_data

    @server.tool()
    def status(as_json: bool = False) -> str:
        """Where the work stands: active tasks, phases, newest checkpoints, next actions
        (the content of CURRENT_WORK_STATUS.md, freshly rendered; as_json: cairn.status/1)."""

        def run(ws: Workspace) -> str:
            data = status_data(ws)
            if as_json:
                return dumps(views.status(data))
            return render_status_md(data)

        return app.call(run)

    @server.tool()
    def recover(
        task: TaskArg = None,
        trigger: Trigger = "manual",
        max_tokens: Annotated[int | None, Field(ge=200, le=100_000)] = None,
        log: bool = True,
        as_json: bool = False,
    ) -> str:
        """The recovery brief after a compaction or restart: task, phase, newest checkpoint,
        next action and the files to reload. Logged to logs/compaction_recovery.log unless
        log is false. as_json: the brief with what it names (cairn.brief/1)."""
        from cairn.recovery.brief import build_brief
        from cairn.recovery.brief import recover as do_recover

        def run(ws: Workspace) -> str:
            if log:
                brief = do_recover(ws, trigger=trigger, task_id=task, max_tokens=max_tokens)
            else:
                brief = build_brief(ws, task_id=task, max_tokens=max_tokens, trigger=trigger)
            return dumps(views.brief(brief)) if as_json else brief.text

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
        return app.call(
            lambda ws: views.task(ws.create_task(task, title, phases or (), gates or ()))
        )

    @server.tool()
    def task_show(task: TaskArg = None) -> dict[str, Any]:
        """One task: phases, progress steps and checkpoints (without content)."""

        def run(ws: Workspace) -> dict[str, Any]:
            t = ws.task(ws.resolve_task(task))
            return views.task_detail(t, ws.steps(t.id), ws.checkpoints(t.id))

        return app.call(run)

    @server.tool()
    def task_list(limit: Annotated[int, Field(ge=1, le=1000)] = 50) -> dict[str, Any]:
        """All tasks, most recently changed first."""
        return app.call(lambda ws: views.tasks(ws.tasks(limit=limit)))

    @server.tool()
    def phase_start(
        phase: str, task: TaskArg = None, reopen: bool = False, override: str | None = None
    ) -> str:
        """Mark a phase active. reopen starts a phase that is done; override (a reason)
        starts a gated phase without an approved review, and is journaled."""

        def run(ws: Workspace) -> str:
            t = ws.start_phase(ws.resolve_task(task), phase, reopen=reopen, override=override)
            return views.phase_started(t, phase)

        return app.call(run)

    @server.tool()
    def phase_done(phase: str, task: TaskArg = None) -> str:
        """Mark the active phase done (write its checkpoint first)."""

        def run(ws: Workspace) -> str:
            return views.phase_finished(ws.finish_phase(ws.resolve_task(task), phase), phase)

        return app.call(run)

    @server.tool()
    def phase_fail(phase: str, error: str, task: TaskArg = None) -> str:
        """Mark the active phase failed, with what went wrong."""
        return app.call(
            lambda ws: views.phase_failed(ws.fail_phase(ws.resolve_task(task), phase, error), phase)
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
            return views.checkpoint(cp, content=False)

        return app.call(run)

    @server.tool()
    def checkpoint_read(
        kind: str, task: TaskArg = None, version: Annotated[int | None, Field(ge=1)] = None
    ) -> dict[str, Any]:
        """A checkpoint's newest (or given) version, with its content."""
        return app.call(
            lambda ws: views.checkpoint(ws.checkpoint(ws.resolve_task(task), kind, version))
        )

    @server.tool()
    def checkpoint_list(task: TaskArg = None) -> dict[str, Any]:
        """The newest version of each checkpoint kind of a task."""

        def run(ws: Workspace) -> dict[str, Any]:
            tid = ws.resolve_task(task)
            return views.checkpoints(tid, ws.checkpoints(tid))

        return app.call(run)

    @server.tool()
    def progress(
        text: str,
        state: StepState = "done",
        task: TaskArg = None,
        phase: str | None = None,
        as_json: bool = False,
    ) -> str:
        """Record one progress step: done ✅, active ⏳ (a step begins), todo ⏸️, failed ❌.
        as_json: the step recorded (cairn.step/1)."""

        def run(ws: Workspace) -> str:
            if phase is not None and len(phase) > 64:
                from cairn.core import names

                names.phase_name(phase)  # no phase is this long: say so, without echoing it whole
            step = ws.progress(ws.resolve_task(task), text, state, phase=phase)
            return dumps(views.step(step)) if as_json else views.step_line(step)

        return app.call(run)

    @server.tool()
    def next_action(text: str, task: TaskArg = None) -> str:
        """Set the next action: what to do first after a compaction or restart."""
        return app.call(lambda ws: views.next_set(ws.set_next(ws.resolve_task(task), text)))


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
    """Serve over stdio until the client closes the connection (see :mod:`cairn.mcp_start`)."""
    from cairn.mcp_start import serve as serve_stdio

    serve_stdio(workspace)
