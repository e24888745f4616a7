"""Agent hooks for Claude Code and Codex CLI: compaction records, recovery injection, reminders.

The agent runs ``cairn hook <event>`` (or ``python -m cairn.hooks <event>``) with the hook's JSON
on stdin; the events and what each does are the table in :mod:`cairn.integrations.events`:

- ``session-start`` (source startup / resume / clear / compact): prints the recovery brief as
  additional context, cut by measure to the agent's inline cap, and logs the recovery with the
  source as trigger and, after a compaction, the safe-point verdict recorded by ``pre-compact``.
- ``pre-compact`` (trigger manual / auto): records the compaction and whether it came at a *safe
  point* (:func:`cairn.domain.compactions.assess_safe_point`), with the time and the tool calls
  since the last checkpoint. Tool calls are counted by reading the transcript backwards from its
  end until the last checkpoint's time, so no per-tool-call hook is needed (a PostToolUse hook
  would add a process start to every tool call of the agent).
- ``post-compact``: stores the compaction's summary for the audit (Claude Code hands it over;
  for Codex it is read from the rollout).
- ``stop``: when a phase is active and nothing was checkpointed for ``[hooks]
  checkpoint_reminder_minutes`` (default 30), a reminder; with ``[hooks] stop_block = true`` it
  blocks the stop instead (never when ``stop_hook_active``).

Resume: a resumed session still holds every brief it was given, so ``session-start`` with source
``resume`` hands over only what changed since that session's last brief (or a one-line pointer when
nothing did), never a second full brief (:mod:`cairn.integrations.resume`).

In the processes cairn itself starts (reviewers, workers: :func:`spawned_by_cairn`) every hook
exits at once, silently: no brief, no recovery, no reminder, nothing in the journal.

Hooks fail open: any error prints one line on stderr and exits 0 so that the agent goes on; outside
a cairn workspace they exit 0 silently. What differs between the agents is in their client modules
(:mod:`~cairn.integrations.claude`, :mod:`~cairn.integrations.codex`). A hook is a fresh process,
so the top level imports nothing heavy.
"""

from __future__ import annotations

import json
import os
import sys
from collections import namedtuple
from collections.abc import Callable

from cairn.domain.base import LazyModule
from cairn.integrations import resume
from cairn.integrations.clients import Client, client
from cairn.integrations.events import AGENTS, EVENTS, SOURCES, find

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO, Any, NamedTuple

    class _HookResult(NamedTuple):
        code: int = 0
        stdout: dict[str, Any] | None = None

    from cairn.domain import compactions as comp
    from cairn.domain.workspace import Workspace
    from cairn.integrations import transcripts
    from cairn.recovery.brief import Brief
    from cairn.store.base import Transaction as Tx
else:
    # Loaded by the handlers that use them: a session start (a fresh process at every session)
    # needs neither the compaction records nor the transcript reader.
    comp = LazyModule("cairn.domain.compactions")
    transcripts = LazyModule("cairn.integrations.transcripts")
    _HookResult = namedtuple("HookResult", ("code", "stdout"), defaults=(0, None))

CONTEXT_CAP_CHARS = 10_000  # the default cap: Claude Code keeps this much hook output inline
CAP_MARKER = (
    "\n[… cut by cairn to fit the {cap:,}-character hook limit; run `cairn recover --no-log` "
    "for the whole brief]"
)
MAX_STDIN = 8 * 1024 * 1024


class HookResult(_HookResult):  # not a dataclass: cheaper to create at a hook's start-up
    __slots__ = ()


def _num_setting(cfg: dict[str, Any], key: str, default: float) -> float:
    value = cfg.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        from cairn.core.errors import UsageError

        raise UsageError(f".cairn/config.toml: [hooks] {key} must be a number, not {value!r}")
    return float(value)


def _str(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) and value else None


def _raw(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) else None


def _transcript(ws: Workspace, path: object, agent: Client) -> str | None:
    """A transcript path from the hook's input, read only under the workspace or the client's
    home (:func:`cairn.integrations.transcripts.client_file`)."""
    return transcripts.client_file(path, (str(ws.root), agent.client_home()))


def _trigger(payload: dict[str, Any]) -> str | None:
    return payload.get("trigger") if payload.get("trigger") in ("manual", "auto") else None


def fit_context(text: str, cap: int = CONTEXT_CAP_CHARS) -> str:
    """``text`` cut to ``cap`` characters, with a marker that says so and where the rest is."""
    if len(text) <= cap:
        return text
    marker = CAP_MARKER.format(cap=cap)
    return text[: max(0, cap - len(marker))] + marker


# -- handlers ------------------------------------------------------------------------------------
def session_start(ws: Workspace, payload: dict[str, Any], agent: Client) -> HookResult:
    from cairn.recovery.brief import build_brief, recover

    source = payload.get("source")
    if source not in SOURCES:
        source = "startup"
    cfg = ws.config.section("hooks")
    cap = int(_num_setting(cfg, "context_cap_chars", agent.CONTEXT_CAP_CHARS))
    max_tokens = cfg.get("brief_max_tokens")
    if max_tokens is not None:
        max_tokens = int(_num_setting(cfg, "brief_max_tokens", 0))
    session = _raw(payload, "session_id")
    if source == "resume" and session:
        # The resumed session still holds the brief it was given: hand over only what changed.
        note = resume.since_last_brief(ws, session)
        if note is not None:
            return HookResult(0, agent.context_output("SessionStart", fit_context(note, cap)))
    row = comp.pending(ws, session) if source == "compact" else None
    with ws.store.read() as tx:
        has_task = bool(tx.tasks.recent(limit=1))  # not count(): it reads every task
    lead: list[str] = []
    if not has_task:
        brief = build_brief(ws, trigger=source, max_tokens=max_tokens)
    else:
        note = None
        safe = None
        if row is not None:
            safe = row.safe_point
            note = comp.note(row)
            comp.mark_recovered(ws, row.id, comp.iso(comp.now()), source)
        try:
            brief = recover(
                ws,
                trigger=source,
                safe_point=safe,
                note=note,
                max_tokens=max_tokens,
                also=lambda tx, b, ts: _note_start(tx, b, ts, source, session),
            )
        except BaseException:
            if row is not None:  # not recovered after all: leave it for the next session start
                comp.mark_recovered(ws, row.id, None, None)
            raise
        if source == "compact":
            lead.append(
                "cairn: the context was just compacted. Below is the recovery brief from the "
                "workspace store: reload the files it lists and go on from the next action."
            )
            if row is not None and row.safe_point is False:
                lead.append(
                    f"The compaction came mid-phase (suboptimal): {comp.note(row)}. "
                    "Re-check work done after the newest checkpoint before going on, and "
                    "checkpoint more often."
                )
            lead.append("")
    text = fit_context("\n".join([*lead, brief.text.rstrip("\n")]), cap)
    if not has_task and (session or source in NEW_CONTEXT):
        from cairn.domain.base import now

        with ws.store.write() as tx:
            _note_start(tx, brief, now(), source, session)
    return HookResult(0, agent.context_output("SessionStart", text))


# The session starts that begin a new budget context: a new session, a compaction, a /clear.
NEW_CONTEXT = ("startup", "compact", "clear")


def _note_start(tx: Tx, brief: Brief, ts: str, source: str, session: str | None) -> None:
    """What a session start writes beside its recovery, in that commit (one sync per session
    start): the budget's new context, so that what the session's first turn records (a ``cairn
    budget record`` too) is counted in it, then the note of the brief handed over, which knows
    the journal up to that context."""
    if source in NEW_CONTEXT:
        from cairn.domain.budget_context import start_in

        kind = "session" if source == "startup" else source
        start_in(tx, ts, kind, task_id=brief.task_id, note=session)
    if session:
        resume.remember_in(tx, ts, session, source, brief.task_id, brief.phase, brief.checkpoint)


def _observe(
    ws: Workspace, payload: dict[str, Any], agent: Client, sp: comp.SafePoint
) -> comp.Observed:
    """What the hook input and the end of the transcript say about this compaction."""
    path = _raw(payload, "transcript_path")
    calls: int | None = None
    exact: bool | None = None
    context: int | None = None
    transcript = _transcript(ws, path, agent)
    since = comp.parse_ts(sp.since)
    if transcript:
        try:
            tail = transcripts.read_tail(transcript, since)
        except OSError:
            tail = None
        if tail is not None:
            if since is not None:
                calls, exact = tail.tool_calls, tail.exact
            context = tail.usage.context if tail.usage is not None else None
    return comp.Observed(
        agent=agent.NAME,
        session_id=_raw(payload, "session_id"),
        transcript_path=path,
        trigger=_trigger(payload),
        instructions=_str(payload, "custom_instructions"),
        tool_calls=calls,
        tool_calls_exact=exact,
        context_tokens=context,
    )


def pre_compact(ws: Workspace, payload: dict[str, Any], agent: Client) -> HookResult:
    at = comp.now()
    session = _str(payload, "session_id")
    if session is not None:
        # One compaction can fire PreCompact more than once; keep the first record.
        last_ts = comp.last_open_ts(ws, session)
        if last_ts is not None and 0 <= (at - last_ts).total_seconds() < comp.DEBOUNCE_SECONDS:
            return HookResult(0, None)
    sp = comp.assess_safe_point(ws)
    seen = _observe(ws, payload, agent, sp)
    row_id = comp.record(ws, seen, sp, at=at, seconds=sp.seconds_since_checkpoint(at))
    ws.projector.render_status()
    if sp.safe:
        return HookResult(0, None)
    return HookResult(
        0,
        agent.message_output(
            f"cairn: suboptimal compaction recorded: {comp.note(comp.get(ws, row_id))}. "
            "The recovery brief is injected when the session resumes."
        ),
    )


def post_compact(ws: Workspace, payload: dict[str, Any], agent: Client) -> HookResult:
    session = _raw(payload, "session_id")
    transcript = _transcript(ws, payload.get("transcript_path"), agent)
    waiting = comp.unsummarised(ws, session)
    since = comp.parse_ts(waiting.ts) if waiting is not None else None
    summary = agent.compact_summary(payload, transcript, since)
    if waiting is not None and comp.add_summary(ws, session, summary) is not None:
        return HookResult(0, None)
    # No PreCompact record (the hook was installed mid-session): record it now, after the fact.
    sp = comp.assess_safe_point(ws)
    seen = comp.Observed(
        agent=agent.NAME,
        session_id=session,
        transcript_path=_raw(payload, "transcript_path"),
        trigger=_trigger(payload),
    )
    comp.record(
        ws,
        seen,
        sp.assessed_late(),
        at=comp.now(),
        seconds=sp.seconds_since_checkpoint(),
        summary=summary if summary is not None else "",
    )
    ws.projector.render_status()
    return HookResult(0, None)


def subagent_stop(ws: Workspace, payload: dict[str, Any], agent: Client) -> HookResult:
    """The subagent's own work, from its own transcript, as subagent work outside the context."""
    path = _transcript(ws, payload.get("agent_transcript_path"), agent)
    agent_id = _str(payload, "agent_id")
    if path is not None and agent_id is not None:
        from cairn.integrations import hook_ledger

        hook_ledger.subagent(ws, agent, path, agent_id, payload)
    return HookResult(0, None)


def stop(ws: Workspace, payload: dict[str, Any], agent: Client) -> HookResult:
    transcript = _transcript(ws, payload.get("transcript_path"), agent)
    session = _str(payload, "session_id")
    if transcript is not None and session is not None:
        from cairn.integrations import hook_ledger

        hook_ledger.turn(ws, agent, transcript, session, _str(payload, "cwd"))
    if payload.get("stop_hook_active"):
        return HookResult(0, None)  # the agent is already continuing because of a stop hook
    cfg = ws.config.section("hooks")
    minutes = _num_setting(cfg, "checkpoint_reminder_minutes", 30)
    if minutes <= 0:
        return HookResult(0, None)
    sp = comp.assess_safe_point(ws)
    if sp.task_id is None:
        return HookResult(0, None)
    seconds = sp.seconds_since_checkpoint()
    if seconds is None or seconds < minutes * 60:
        return HookResult(0, None)
    last = ws.events(sp.task_id, limit=1, types=("hook.reminder",))
    last_ts = comp.parse_ts(last[-1].ts) if last else None
    if last_ts is not None and (comp.now() - last_ts).total_seconds() < minutes * 60:
        return HookResult(0, None)  # reminded within the interval already
    ws.record_event(sp.task_id, "hook.reminder", phase=sp.phase, seconds=round(seconds))
    what = "since the last checkpoint" if sp.last_checkpoint_at else "since the phase began"
    message = (
        f"cairn: phase {sp.phase!r} of {sp.task_id} is active and nothing was checkpointed for "
        f"{comp.fmt_age(seconds)} ({what}). Write one now so a compaction loses nothing: "
        f"`cairn checkpoint write {sp.task_id} progress-notes --file NOTES.md` or "
        f'`cairn progress {sp.task_id} "what was done"`.'
    )
    if cfg.get("stop_block") is True:
        return HookResult(0, agent.block_output(message))
    return HookResult(0, agent.message_output(message))


def post_tool_use(ws: Workspace, payload: dict[str, Any], agent: Client) -> HookResult:
    """The forecast, for ``cairn hook post-tool-use`` (the installed hook runs the script)."""
    from cairn.integrations import forecast

    due = forecast.fast(
        json.dumps(payload).encode(), {**os.environ, "CAIRN_WORKSPACE": str(ws.root)}, agent.NAME
    )
    if due is None:
        return HookResult(0, None)
    text = forecast.nudge(*due)
    if text is None:
        return HookResult(0, None)
    return HookResult(0, agent.context_output("PostToolUse", text))


Handler = Callable[["Workspace", "dict[str, Any]", Client], HookResult]
HANDLERS: dict[str, Handler] = {
    "session-start": session_start,
    "pre-compact": pre_compact,
    "post-compact": post_compact,
    "stop": stop,
    "subagent-stop": subagent_stop,
    "post-tool-use": post_tool_use,
}
assert set(HANDLERS) == {e.arg for e in EVENTS}, "every hook event has a handler"


# -- running a hook ------------------------------------------------------------------------------
def read_payload(stream: IO[bytes]) -> dict[str, Any]:
    data = stream.read(MAX_STDIN + 1)
    if len(data) > MAX_STDIN:
        raise ValueError(f"hook input is over {MAX_STDIN:,} bytes")
    if not data.strip():
        return {}
    payload = json.loads(data)
    if not isinstance(payload, dict):
        raise ValueError("hook input is not a JSON object")
    return payload


def run_hook(
    event: str,
    *,
    agent: str = "claude",
    workspace: str | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
) -> int:
    """Run one hook; always returns 0 (fail open). Output JSON goes to ``stdout``."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    if spawned_by_cairn():
        return 0  # cairn's own reviewer / worker session: its work is cairn's, not the agent's
    try:
        row = find(event)
        if row is None:
            known = ", ".join(e.arg for e in EVENTS)
            err.write(f"cairn hook: unknown event {event!r}; known: {known}\n")
            return 0
        who = client(agent if agent in AGENTS else "claude")
        hook = row.hook(who.NAME)
        if hook is None:
            return 0  # not an event of this agent
        name = hook.event
        if row.arg == "post-tool-use":  # after every tool call: the forecast's own fast path
            return _forecast(stdin or sys.stdin.buffer, out, workspace, who.NAME)
        payload = read_payload(stdin or sys.stdin.buffer)
        declared = payload.get("hook_event_name")
        if isinstance(declared, str) and declared and declared != name:
            err.write(f"cairn hook: input is for {declared}, not {name}; ignored\n")
            return 0
        ws = _open_workspace(workspace, payload)
        if ws is None:
            return 0  # not a cairn project: stay silent
        try:
            from cairn.integrations import hook_once

            if not hook_once.first_run(str(ws.root), row.arg, payload):
                return 0  # the same event's other copy (plugin and installed hooks) runs it
            result = HANDLERS[row.arg](ws, payload, who)
        finally:
            ws.close()
        if result.stdout is not None:
            out.write(json.dumps(result.stdout, ensure_ascii=False) + "\n")
            out.flush()
        return 0
    except Exception as exc:  # fail open: the agent must go on whatever happens here
        if os.environ.get("CAIRN_DEBUG"):
            raise
        text = " ".join(str(exc).split())[:300]
        err.write(f"cairn hook {event}: {type(exc).__name__}: {text} (the agent goes on)\n")
        return 0


def _forecast(stream: IO[bytes], out: IO[str], workspace: str | None, agent: str) -> int:
    """``cairn hook post-tool-use``: the forecast without opening the workspace below the
    threshold (the plugin's command; the installed one runs the script itself)."""
    from cairn.integrations import forecast

    env = dict(os.environ)
    if workspace:
        env["CAIRN_WORKSPACE"] = workspace
    due = forecast.fast(stream.read(MAX_STDIN), env, agent)
    text = forecast.nudge(*due) if due is not None else None
    if text is not None:
        out.write(forecast.output(text) + "\n")
        out.flush()
    return 0


def spawned_by_cairn() -> bool:
    """True in the processes cairn itself starts: reviewers (``CAIRN_SPAWNED``, set by
    :mod:`cairn.models.cli_provider`) and workers (``CAIRN_WORKER``)."""
    return bool(os.environ.get("CAIRN_SPAWNED") or os.environ.get("CAIRN_WORKER"))


def _open_workspace(workspace: str | None, payload: dict[str, Any]) -> Workspace | None:
    start = workspace or os.environ.get("CAIRN_WORKSPACE")
    cwd = payload.get("cwd")
    if not start and isinstance(cwd, str) and cwd and "\x00" not in cwd:
        start = cwd
    # Look for .cairn/cairn.db (as workspace.find_root does) before importing the store, so that a
    # hook installed for every project costs little in the projects that do not use cairn.
    folder = os.path.abspath(start or os.getcwd())
    while not os.path.exists(os.path.join(folder, ".cairn", "cairn.db")):
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    from cairn.domain.workspace import Workspace

    ws = Workspace.open(folder, search=False)
    ws.projector.background = False  # as a command: the tree is brought current at close, once
    return ws


def main(argv: list[str] | None = None) -> int:
    """``python -m cairn.hooks EVENT [--agent claude|codex] [-C DIR]``: the installed hook command.

    The same as ``cairn hook EVENT`` without building the whole CLI parser, which keeps the start-up
    of a hook process small however many command groups cairn grows.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    agent, workspace, rest = "claude", None, []
    while args:
        a = args.pop(0)
        if a == "--agent" and args:
            agent = args.pop(0)
        elif a in ("-C", "--workspace") and args:
            workspace = args.pop(0)
        else:
            rest.append(a)
    if len(rest) != 1:
        sys.stderr.write("usage: python -m cairn.hooks EVENT [--agent claude|codex] [-C DIR]\n")
        return 0
    return run_hook(rest[0], agent=agent, workspace=workspace)


if __name__ == "__main__":
    sys.exit(main())
