"""The MCP tools of the optional parts of cairn: reviews, the budget ledger and advice (each
registered only when that part is in the build)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from cairn import views
from cairn.domain.workspace import Workspace
from cairn.mcp_app import CairnMCP, TaskArg, dumps

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer


def _has(module: str) -> bool:
    """Whether an optional part of cairn (reviews, budget, advise) is in this build."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


def optional_tools(server: MCPServer[Any], app: CairnMCP) -> None:
    if _has("cairn.domain.reviews"):
        _review_tools(server, app)
    if _has("cairn.domain.budget"):
        _budget_tools(server, app)
    if _has("cairn.domain.advise"):
        _advise_tool(server, app)


def _review_tools(server: MCPServer[Any], app: CairnMCP) -> None:
    from cairn.domain import reviews
    from cairn.domain.gates import gate_state

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
                return views.reviews(reviews.list_reviews(ws, pending=pending, limit=50))
            found = reviews.rounds(ws, review)
            with ws.store.read() as tx:
                gates = {
                    t: gate_state(tx, t).state
                    for t in sorted({r.task_id for r in found if r.task_id})
                }
            return views.review_rounds(found, gates)

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
            # `context` is what this tool called context_id before it answered in the CLI's shape.
            return {**views.budget_entry(e), "context": e.context_id}

        return app.call(run)

    @server.tool()
    def budget_show(all_contexts: bool = False, as_json: bool = False) -> str:
        """Context budget: each category's allocation, use and warnings for the current context."""

        def run(ws: Workspace) -> str:
            rep = budget.report(ws, all_contexts=all_contexts)
            if as_json:
                return dumps(rep.to_json())
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
            return {**a.to_json(), "text": a.text()}  # cairn.advice/1 and its text

        return app.call(run)
