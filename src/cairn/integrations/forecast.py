"""The compaction forecast: tell the agent to checkpoint *before* its client compacts the context.

A compaction that comes mid-phase loses whatever lives only in the context. The client compacts
at a point cairn can compute (for Claude Code the rule measured on the real binary, in
:mod:`cairn.integrations.claude_forecast`), and the transcript says how full the context is (the
newest assistant ``usage``). When the context passes ``[hooks] forecast_percent`` (default 80) of that point and a
phase is mid-work, the PostToolUse hook adds context telling the agent to finish its step and
write a checkpoint now, so that the compaction lands at a safe point. Once per approach: a marker
``.cairn/forecast/<session>`` keeps it from repeating until the context falls below the threshold
again (a compaction happened) and the next approach climbs.

The hook runs after *every* tool call, so below the threshold it must cost about a bare
interpreter start: run as a script (``python …/cairn/integrations/forecast_hook.py``), it imports
nothing beyond ``os`` and ``sys`` (already loaded at start-up), scans the hook input and the
transcript's last bytes without the json module, and opens no store. Only above the threshold does
it import cairn and look at the workspace (:func:`nudge`). ``bench/forecast_bench.py`` measures it.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any
if __package__:
    from cairn.integrations.tail_read import field, int_field, lines_from_end
else:  # run as the hook script: the sibling module, no package import
    from tail_read import (  # type: ignore[import-not-found,no-redef]
        field,
        int_field,
        lines_from_end,
    )

DEFAULT_PERCENT = 80.0
MARKER_DIR = "forecast"


# -- the fast path: no imports ------------------------------------------------------------------
def _string_field(data: bytes, key: bytes) -> str | None:
    """The JSON string value of ``key`` in ``data`` (None when absent, escaped or not a string)."""
    value = field(data, key)
    return value if isinstance(value, str) else None


def context_tokens(path: str) -> tuple[int, str] | None:
    """Tokens in the context at the newest assistant response of a Claude Code transcript, and
    that response's model; None when the transcript's end reports none."""
    for line in lines_from_end(path):
        # Claude Code writes compact JSON; the spaced form is json.dumps' default.
        if b'"type":"assistant"' not in line and b'"type": "assistant"' not in line:
            continue
        at = line.find(b'"usage":{')
        if at < 0:
            at = line.find(b'"usage": {')
        if at < 0 or b'"<synthetic>"' in line:
            continue  # no usage, or a message Claude Code made up (an error, an interrupt)
        usage = line[at:]
        total = (
            int_field(usage, b"input_tokens")
            + int_field(usage, b"cache_creation_input_tokens")
            + int_field(usage, b"cache_read_input_tokens")
            + int_field(usage, b"output_tokens")
        )
        # The model asked for ("...[1m]" names its window), else the one that answered.
        model = _string_field(line, b"requestedModel") or _string_field(line, b"model")
        return total, model or ""
    return None


def _setting(config: bytes, key: bytes) -> float | None:
    """``key = NUMBER`` from the [hooks] table of .cairn/config.toml, read without a TOML parser;
    the full parser checks the file whenever cairn itself runs."""
    start = config.find(b"[hooks]")
    if start < 0:
        return None
    table = config[start + 7 :]
    nxt = table.find(b"\n[")
    if nxt >= 0:
        table = table[:nxt]
    for line in table.split(b"\n"):
        name, eq, value = line.partition(b"=")
        if eq and name.strip() == key:
            value = value.split(b"#")[0].strip()
            try:
                return float(value)
            except ValueError:
                return None
    return None


def _claude() -> Any:
    if __package__:
        from cairn.integrations import claude_forecast
    else:  # run as the hook script: the sibling module, no package import
        import claude_forecast  # type: ignore[import-not-found,no-redef]
    return claude_forecast


def compaction_point(model: str, config: bytes, env: os._Environ[str] | dict[str, str]) -> int:
    """The context size at which Claude Code compacts automatically (the measured rule)."""
    fallback = int(_setting(config, b"context_window") or 0)
    return int(_claude().compaction_point(model, env, fallback))


def _claude_point(
    model: str, config: bytes, env: os._Environ[str] | dict[str, str], context: int, share: float
) -> tuple[int, bool, bool]:
    """``(point, auto, past)`` for a Claude Code session: where it compacts (``auto`` False:
    where it stops, auto-compaction being off) and whether ``context`` is past ``share`` of it.
    ``~/.claude.json``, which can be megabytes, is read only when the context is past ``share``
    of the lower of the two points it chooses between."""
    cf = _claude()
    fallback = int(_setting(config, b"context_window") or 0)
    point, auto = cf.limit(model, env, fallback)
    if auto is None:
        stop = cf.stop_point(model, env)
        if context < min(point, stop) * share:
            return point, True, False
        auto = cf.global_auto_compact(env)
        point = point if auto else stop
    return point, bool(auto), context >= point * share


def _under(path: str, roots: tuple[str, ...]) -> bool:
    """Whether ``path``, links resolved, lies under one of ``roots`` (the rule of
    :func:`cairn.integrations.transcripts.client_file`, without its imports)."""
    real = os.path.realpath(path)
    for root in roots:
        base = os.path.realpath(root).rstrip(os.sep) + os.sep
        if real.startswith(base):
            return True
    return False


def client_home(env: os._Environ[str] | dict[str, str], agent: str) -> str:
    home = env.get("HOME") or os.path.expanduser("~")
    if agent == "codex":
        return env.get("CODEX_HOME") or os.path.join(home, ".codex")
    return env.get("CLAUDE_CONFIG_DIR") or os.path.join(home, ".claude")


def find_root(start: str) -> str | None:
    folder = os.path.abspath(start)
    while not os.path.exists(os.path.join(folder, ".cairn", "cairn.db")):
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    return folder


def marker_path(root: str, session: str) -> str:
    safe = "".join(c for c in session if c.isalnum() or c in "-_")[:80] or "none"
    return os.path.join(root, ".cairn", MARKER_DIR, safe)


def fast(
    data: bytes, env: os._Environ[str] | dict[str, str], agent: str = "claude"
) -> tuple[str, str, int, int, bool] | None:
    """``(root, session, context, point, auto)`` when a nudge may be due (``auto`` False: the
    client does not compact there but stops, auto-compaction being off); None (and nothing done
    but re-arming) when the context is below the threshold or this is not a cairn project. For
    ``agent`` codex the context and the point come from :mod:`~cairn.integrations.codex_forecast`."""
    if env.get("CAIRN_SPAWNED") or env.get("CAIRN_WORKER"):
        return None
    transcript = _string_field(data, b"transcript_path")
    session = _string_field(data, b"session_id") or ""
    cwd = env.get("CAIRN_WORKSPACE") or _string_field(data, b"cwd") or os.getcwd()
    if transcript is None:
        return None
    root = find_root(cwd)
    if root is None:
        return None
    if not transcript.endswith(".jsonl") or not _under(transcript, (root, client_home(env, agent))):
        return None  # read only where the client keeps its transcripts, or in the workspace
    if agent == "codex":
        if __package__:
            from cairn.integrations import codex_forecast
        else:  # run as the hook script: the sibling module, no package import
            import codex_forecast  # type: ignore[import-not-found,no-redef]
        measured = codex_forecast.context_and_point(transcript, env, cwd)
        if measured is None:
            return None
        context, point = measured
    else:
        seen = context_tokens(transcript)
        if seen is None:
            return None
        context, model = seen
    try:
        with open(os.path.join(root, ".cairn", "config.toml"), "rb") as f:
            config = f.read(256 * 1024)
    except OSError:
        config = b""
    percent = _setting(config, b"forecast_percent") or DEFAULT_PERCENT
    auto = True
    if agent == "codex":
        past = percent > 0 and context >= point * percent / 100
    else:
        point, auto, past = _claude_point(model, config, env, context, percent / 100)
        past = past and percent > 0
    marker = marker_path(root, session)
    if not past:
        if os.path.exists(marker):
            os.unlink(marker)  # below again: a compaction came; the next climb may nudge again
        return None
    if os.path.exists(marker):
        return None  # nudged already on this climb
    return root, session, context, point, auto


# -- above the threshold: the workspace decides -------------------------------------------------
def nudge(root: str, session: str, context: int, point: int, auto: bool = True) -> str | None:
    """The context to add, when a phase is mid-work; records the nudge (journal + marker)."""
    from cairn.domain import compactions as comp
    from cairn.domain.workspace import Workspace

    ws = Workspace.open(root, search=False)
    try:
        sp = comp.assess_safe_point(ws)
        if sp.safe or sp.task_id is None:
            return None  # at a safe point: a compaction now loses nothing
        marker = marker_path(root, session)
        os.makedirs(os.path.dirname(marker), exist_ok=True)
        try:  # claimed first, so that a second copy of this hook (plugin + install) says nothing
            os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            return None
        share = round(100 * context / point)
        ws.record_event(
            sp.task_id,
            "hook.forecast",
            phase=sp.phase,
            session=session,
            context=context,
            point=point,
            percent=share,
            **({} if auto else {"auto_compact": False}),
        )
    finally:
        ws.close()
    with open(marker_path(root, session), "w", encoding="utf-8") as f:
        f.write(f"{sp.task_id} {sp.phase} {context}\n")
    at = (
        "at which the client compacts it automatically"
        if auto
        else "at which the client stops the session: its auto-compaction is off, so no "
        "compaction will come; once you have checkpointed, /compact or a new session goes on"
    )
    return (
        f"cairn: the context holds ~{context:,} tokens, {share} % of the ~{point:,} {at}, and "
        f"phase {sp.phase!r} of {sp.task_id} is mid-work "
        f"({sp.reason}). Finish the step you are on, then checkpoint now "
        f"(`cairn checkpoint write {sp.task_id} progress-notes --file NOTES.md`, the "
        "checkpoint_write MCP tool, or `cairn progress` with the step done), so that the "
        + ("compaction lands at a safe point." if auto else "work is saved before the stop.")
    )


def output(text: str) -> str:  # the same shape for Claude Code and Codex
    import json

    return json.dumps(
        {"hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": text}}
    )


def main() -> int:
    try:
        data = sys.stdin.buffer.read(8 * 1024 * 1024)
        due = fast(data, os.environ, "codex" if "codex" in sys.argv[1:] else "claude")
        if due is None:
            return 0
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
        text = nudge(*due)
        if text is not None:
            sys.stdout.write(output(text) + "\n")
    except Exception as exc:  # fail open, as every cairn hook
        if os.environ.get("CAIRN_DEBUG"):
            raise
        sys.stderr.write(f"cairn forecast: {type(exc).__name__}: {exc} (the agent goes on)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
