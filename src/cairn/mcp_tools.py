"""The MCP tools of the optional parts of cairn: reviews, the budget ledger, advice and the life of
a task (each registered only when that part is in the build)."""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field

from cairn import views
from cairn.domain.review_ask import Asking
from cairn.domain.workspace import Workspace
from cairn.mcp_app import CairnMCP, TaskArg, dumps

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer


def _has(module: str) -> bool:
    """Whether an optional part of cairn (reviews, budget, advise) is in this build."""
    import importlib.util

    return importlib.util.find_spec(module) is not None


# What each tool does to the world, as MCP tool annotations: (read-only, destructive, idempotent,
# open-world). Clients decide on them whether to ask first: Codex runs a read-only tool without a
# prompt, and a writing one only when it is neither destructive nor open-world (or the server's
# approval mode says so). Checkpoints are versioned and the journal keeps every event, so only
# phase_remove (a phase and its runner records go) is destructive, and there is no delete tool;
# only review_request reaches outside (a model).
ANNOTATIONS: dict[str, tuple[bool, bool, bool, bool]] = {
    "status": (True, False, True, False),
    "recover": (False, False, False, False),  # appends to the recovery log unless log=false
    "task_new": (False, False, False, False),
    "task_show": (True, False, True, False),
    "task_list": (True, False, True, False),
    "phase_start": (False, False, False, False),
    "phase_done": (False, False, False, False),
    "phase_fail": (False, False, False, False),
    "checkpoint_write": (False, False, False, False),
    "checkpoint_read": (True, False, True, False),
    "checkpoint_list": (True, False, True, False),
    "progress": (False, False, False, False),
    "next_action": (False, False, True, False),
    "review_request": (False, False, False, True),
    "review_answer": (False, False, False, False),
    "review_show": (True, False, True, False),
    "budget_record": (False, False, False, False),
    "budget_show": (True, False, True, False),
    "advise": (True, False, True, False),
    "task_archive": (False, False, True, False),  # kept whole; undo brings it back
    "task_rename": (False, False, False, False),  # every record and artifact moves along
    "phase_remove": (False, True, False, False),
}


def annotate(server: MCPServer[Any]) -> None:
    """Give every registered tool its annotations from :data:`ANNOTATIONS`."""
    from mcp.types import ToolAnnotations

    manager = getattr(server, "_tool_manager", None)
    for tool in manager.list_tools() if manager is not None else []:
        hints = ANNOTATIONS.get(tool.name)
        if hints is None:
            continue  # tests/test_mcp_server.py makes sure no tool is left out
        read_only, destructive, idempotent, open_world = hints
        tool.annotations = ToolAnnotations(
            read_only_hint=read_only,
            destructive_hint=destructive,
            idempotent_hint=idempotent,
            open_world_hint=open_world,
        )


def budget_categories() -> str:
    """The categories budget_record takes, as its argument's description says them."""
    from cairn.domain.budget_settings import CATEGORIES, OUTSIDE

    return ", ".join((*CATEGORIES, OUTSIDE))


def optional_tools(server: MCPServer[Any], app: CairnMCP) -> None:
    if _has("cairn.domain.reviews"):
        _review_tools(server, app)
    if _has("cairn.domain.budget"):
        _budget_tools(server, app)
    if _has("cairn.domain.advise"):
        _advise_tool(server, app)
    if _has("cairn.domain.task_life"):
        _task_life_tools(server, app)


def _task_life_tools(server: MCPServer[Any], app: CairnMCP) -> None:
    """Archive, rename and phase removal. Deleting a task is left to a person (`cairn task
    delete`, which asks): an agent's mistake there is the one that cannot be taken back."""
    from cairn.domain import task_life, tasks

    def change(task_id: str, action: str, **more: Any) -> dict[str, Any]:
        return {"schema": "cairn.task_change/1", "task": task_id, "action": action, **more}

    @server.tool()
    def task_archive(task: str, undo: bool = False) -> dict[str, Any]:
        """Take a finished task out of status, briefs and lists (kept whole); undo brings it back."""
        if undo:
            return app.call(lambda ws: change(task_life.unarchive_task(ws, task).id, "unarchived"))
        return app.call(lambda ws: change(task_life.archive_task(ws, task).id, "archived"))

    @server.tool()
    def task_rename(task: str, new: str) -> dict[str, Any]:
        """Give a task a new id; its records and artifacts move with it."""
        return app.call(
            lambda ws: change(task_life.rename_task(ws, task, new).id, "renamed", previous=task)
        )

    @server.tool()
    def phase_remove(phase: str, task: TaskArg = None) -> dict[str, Any]:
        """Take a phase that is not active out of a task (what it wrote stays)."""
        return app.call(lambda ws: views.task(tasks.remove_phase(ws, ws.resolve_task(task), phase)))


def _client_limit(ctx: Context | None) -> float | None:
    """How long this client waits for a tool call, when cairn can tell (Codex), less a margin."""
    params = getattr(getattr(ctx, "session", None), "client_params", None) if ctx else None
    info = getattr(params, "client_info", None) or getattr(params, "clientInfo", None)
    from cairn.integrations import codex_mcp

    if getattr(info, "name", None) != codex_mcp.CLIENT_NAME:
        return None
    return codex_mcp.answer_within(codex_mcp.tool_timeout())


def _review_tools(server: MCPServer[Any], app: CairnMCP) -> None:
    from cairn.domain import reviews
    from cairn.domain.gates import gate_state

    @server.tool()
    async def review_request(
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
        wait_s: Annotated[
            float | None,
            Field(
                ge=0,
                le=3600,
                description="seconds to wait for a model's verdict before answering with the "
                "review still pending (default: [reviews] mcp_wait, 25)",
            ),
        ] = None,
        ctx: Context | None = None,
    ) -> dict[str, Any]:
        """Ask for a methodology review (e.g. before a gated phase); returns the verdict, or the
        review still pending when a person answers it or the model takes longer than wait_s:
        then poll it with review_show (the verdict is recorded when it comes). Progress is
        reported while it waits."""
        import anyio

        called = time.monotonic()  # the client's clock for this call starts about now

        def open_(ws: Workspace) -> tuple[reviews.Review, Asking | None, float]:
            tid = ws.resolve_task(task) if task is not None else None
            review, asking = reviews.open_review(
                ws, tid, topic, question, context_files or (), concerns or (), reviewer
            )
            return review, asking, reviews.settings(ws).mcp_wait if wait_s is None else wait_s

        review, asking, wait = await anyio.to_thread.run_sync(lambda: app.call(open_))
        if asking is None:
            return review.to_json()
        answer = _Answer(app, asking)
        started = time.monotonic()
        client_limit = _client_limit(ctx)
        if client_limit is not None:  # answer "pending" before the client gives up
            wait = max(0.0, min(wait, client_limit - (started - called)))
        step = max(0.2, min(5.0, wait / 5))  # a few progress reports even in a short wait
        while (elapsed := time.monotonic() - started) < wait and not answer.done.is_set():
            if ctx is not None:
                await ctx.report_progress(
                    round(elapsed, 1),
                    asking.timeout,
                    f"waiting for {asking.model.spec} on review {review.id}: {elapsed:.0f} s "
                    f"(it gives up at {asking.timeout:.0f} s)",
                )
            await anyio.to_thread.run_sync(answer.done.wait, min(step, wait - elapsed))
        if answer.done.is_set():
            return answer.result()
        return {
            **review.to_json(),
            "waiting": {
                "waited_s": round(time.monotonic() - started, 1),
                "reviewer_timeout_s": asking.timeout,
                "poll": "review_show",
                "message": f"{asking.model.spec} has not answered yet; the verdict is recorded "
                f"when it comes (within {asking.timeout:.0f} s). Poll review_show with review "
                f"{review.id}; if this server stops first the review stays pending: ask again",
            },
        }

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


class _Answer:
    """A review's model asked in a thread of its own, outside the workspace lock, so that the tool
    can report progress and answer "pending" while other tools go on; the reply is recorded under
    the lock when it comes, whether the tool still waits or not."""

    def __init__(self, app: CairnMCP, asking: Asking) -> None:
        self.app = app
        self.asking = asking
        self.done = threading.Event()
        self._review: dict[str, Any] | None = None
        self._error: BaseException | None = None
        name = f"cairn review {asking.review.id}"
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def _run(self) -> None:
        from cairn.domain import reviews

        try:
            reply = self.asking.ask()
            recorded = self.app.call(lambda ws: reviews.record_reply(ws, self.asking, reply))
            self._review = recorded.to_json()
        except BaseException as exc:  # kept for the waiting tool; said on stderr, the server's log
            self._error = exc
            sys.stderr.write(f"cairn mcp: review {self.asking.review.id}: {exc}\n")
        finally:
            self.done.set()

    def result(self) -> dict[str, Any]:
        if self._error is not None:
            raise self._error
        assert self._review is not None
        return self._review


def _budget_tools(server: MCPServer[Any], app: CairnMCP) -> None:
    from cairn.domain import budget

    @server.tool()
    def budget_record(
        category: Annotated[
            str,
            Field(
                description=f"one of {budget_categories()} (aliases: 'docs', 'planning', "
                "'user communication', 'subagent summaries', 'subagent work')"
            ),
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
