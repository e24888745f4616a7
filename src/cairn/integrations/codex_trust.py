"""Codex CLI's hook trust, written for cairn's own hooks the way Codex computes it.

Codex runs a hook from a ``hooks.json`` only when the user's ``config.toml`` holds a state for it
whose ``trusted_hash`` equals the hash Codex computes for the hook as it stands now
(``codex app-server`` → ``hooks/list`` reports each hook's ``currentHash`` and ``trustStatus``).
``codex exec`` has no review prompt: an untrusted hook is skipped without a word. The rule, as
Codex 0.171 applies it (learnt from its source, checked against its ``hooks/list``):

- key: ``"<path of hooks.json>:<event>:<group>:<handler>"``: the path absolute with its folder's
  symbolic links resolved, the event in snake_case (``session_start``, ``pre_compact``, …), group
  and handler counting every matcher group of that event and every handler of that group from 0,
  in file order;
- hash: ``"sha256:"`` + the hex SHA-256 of the compact JSON (keys sorted, no spaces, UTF-8 as is)
  of ``{"event_name": <event>, "matcher": <matcher, left out when none or when the event takes
  none>, "hooks": [{"type": "command", "command": …, "timeout": <seconds, 600 when unset>,
  "async": <false when unset>, "statusMessage": <only when set>}]}``;
- the states live in ``[hooks.state."<key>"]`` tables of the *user* config (``$CODEX_HOME``), for
  project hooks too: a project's own config cannot trust its hooks.

Because keys are positions, removing or adding cairn's groups moves other hooks of the same event;
:func:`sync` moves their states along, so everyone else's trust (and ``enabled = false``) is kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Codex's names for the events in its hooks.json and the snake_case label its keys and hashes use.
EVENT_LABELS = {
    "PreToolUse": "pre_tool_use",
    "PermissionRequest": "permission_request",
    "PostToolUse": "post_tool_use",
    "PreCompact": "pre_compact",
    "PostCompact": "post_compact",
    "SessionStart": "session_start",
    "SessionEnd": "session_end",
    "UserPromptSubmit": "user_prompt_submit",
    "SubagentStart": "subagent_start",
    "SubagentStop": "subagent_stop",
    "Stop": "stop",
}
# Events whose matcher Codex ignores (nothing to match against), so it is not part of the hash.
MATCHERLESS = frozenset({"UserPromptSubmit", "Stop"})
DEFAULT_TIMEOUT = 600
# The feature names that switched hooks on in Codex releases that still had a switch.
HOOK_FEATURES = ("hooks", "codex_hooks")

IsOurs = Callable[[object], bool]


def handler_hash(event: str, matcher: str | None, handler: dict[str, Any]) -> str:
    """The ``currentHash`` Codex computes for one command handler of ``event``'s group."""
    hook: dict[str, Any] = {
        "type": "command",
        "command": handler.get("command"),
        "timeout": max(1, int(handler.get("timeout") or DEFAULT_TIMEOUT)),
        "async": bool(handler.get("async", False)),
    }
    if handler.get("statusMessage") is not None:
        hook["statusMessage"] = handler["statusMessage"]
    identity: dict[str, Any] = {"event_name": EVENT_LABELS[event], "hooks": [hook]}
    if matcher is not None and event not in MATCHERLESS:
        identity["matcher"] = matcher
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def key(hooks_path: Path | str, event: str, group: int, handler: int) -> str:
    return _key(source_path(hooks_path), event, group, handler)


def _key(source: str, event: str, group: int, handler: int) -> str:
    return f"{source}:{EVENT_LABELS[event]}:{group}:{handler}"


def source_path(hooks_path: Path | str) -> str:
    """The path as Codex names it in keys: its folder with symbolic links resolved (Codex
    resolves ``CODEX_HOME``; 0.171 keys a linked home by its target), the file name as is.
    A project's hooks Codex keys by the folder the session started in, as given: a session
    started through a link to the project sees them untrusted (`cairn hooks status` says so)."""
    folder = os.path.realpath(os.path.dirname(os.path.abspath(hooks_path)))
    return os.path.join(folder, os.path.basename(hooks_path))


def _handlers(settings: dict[str, Any]) -> list[tuple[str, int, int, str | None, dict[str, Any]]]:
    """(event, group index, handler index, matcher, handler) for each command handler Codex
    would list, in file order."""
    out: list[tuple[str, int, int, str | None, dict[str, Any]]] = []
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return out
    for event, groups in hooks.items():
        if event not in EVENT_LABELS or not isinstance(groups, list):
            continue
        for gi, group in enumerate(groups):
            if not isinstance(group, dict) or not isinstance(group.get("hooks"), list):
                continue
            matcher = group.get("matcher") if isinstance(group.get("matcher"), str) else None
            for hi, handler in enumerate(group["hooks"]):
                if isinstance(handler, dict):
                    out.append((event, gi, hi, matcher, handler))
    return out


def sync(
    doc: Any, hooks_path: Path, before: dict[str, Any], after: dict[str, Any], ours: IsOurs
) -> None:
    """Bring ``doc``'s (a tomlkit document of the user config) ``hooks.state`` in line with the
    hooks file going from ``before`` to ``after``: cairn's handlers trusted at their new places,
    every other handler's state moved to its new key, cairn's old states dropped."""
    _sync(doc, source_path(hooks_path), before, after, ours)


def sync_source(
    doc: Any, source: str, before: dict[str, Any], after: dict[str, Any], ours: IsOurs
) -> None:
    """:func:`sync` for hooks keyed by a name rather than a path (a plugin's:
    ``"<plugin>@<marketplace>:<file in the plugin>"``)."""
    _sync(doc, source, before, after, ours)


def _sync(
    doc: Any, hooks_path: str, before: dict[str, Any], after: dict[str, Any], ours: IsOurs
) -> None:
    import tomlkit

    hooks_table = doc.get("hooks")
    state = hooks_table.get("state") if isinstance(hooks_table, dict) else None
    old_states: dict[str, Any] = {}
    prefix = hooks_path + ":"
    if isinstance(state, dict):
        old_states = {k: state[k] for k in list(state) if str(k).startswith(prefix)}
    # Other handlers keep their order inside each event when cairn's are taken out or appended,
    # so the n-th foreign handler of an event before is the n-th after.
    moved: dict[str, Any] = {}
    enabled: dict[str, Any] = {}
    foreign_before: dict[str, list[str]] = {}
    for event, gi, hi, _m, h in _handlers(before):
        k = _key(hooks_path, event, gi, hi)
        if ours(h):
            if k in old_states and isinstance(old_states[k], dict) and "enabled" in old_states[k]:
                enabled.setdefault(event, old_states[k]["enabled"])
        else:
            foreign_before.setdefault(event, []).append(k)
    new: dict[str, Any] = {}
    seen: dict[str, int] = {}
    for event, gi, hi, matcher, h in _handlers(after):
        k = _key(hooks_path, event, gi, hi)
        if ours(h):
            entry = tomlkit.table()
            if event in enabled:
                entry["enabled"] = enabled[event]
            entry["trusted_hash"] = handler_hash(event, matcher, h)
            new[k] = entry
            continue
        n = seen.get(event, 0)
        seen[event] = n + 1
        olds = foreign_before.get(event, [])
        old_key = olds[n] if n < len(olds) else None
        if old_key is not None and old_key in old_states:
            moved[k] = old_states[old_key]
    known_before = {_key(hooks_path, e, g, i) for e, g, i, _m, _h in _handlers(before)}
    # States for keys the old file did not have stay, unless a handler now sits at that key.
    kept = {k: v for k, v in old_states.items() if k not in known_before}
    for k, entry in new.items():  # unchanged trust keeps its table (and the file its bytes)
        if k in old_states and _plain(old_states[k]) == _plain(entry):
            new[k] = old_states[k]
    wanted = {**kept, **moved, **new}
    if not wanted and not old_states:
        return
    if not isinstance(hooks_table, dict):
        hooks_table = tomlkit.table(is_super_table=True)
        doc["hooks"] = hooks_table
    if not isinstance(state, dict):
        state = tomlkit.table(is_super_table=True)
        hooks_table["state"] = state
    for k in old_states:
        if k not in wanted or wanted[k] is not old_states[k]:
            del state[k]
    for k, v in wanted.items():
        if k in state:
            continue
        state[k] = v if k in new and k not in old_states else _fresh(v)
    if not state:
        del hooks_table["state"]
    if not hooks_table:
        del doc["hooks"]


def _plain(item: Any) -> Any:
    return item.unwrap() if hasattr(item, "unwrap") else item


def _fresh(item: Any) -> Any:
    """A new table holding ``item``'s values (a tomlkit item cannot sit under two keys)."""
    import tomlkit

    value = _plain(item)
    if not isinstance(value, dict):
        return value
    table = tomlkit.table()
    for k, v in value.items():
        table[k] = v
    return table


def hooks_feature_off(program: str = "codex", timeout: float = 5.0) -> str | None:
    """The name of the feature switch this Codex needs turned on for hooks to run, or None (hooks
    are on, or Codex is not installed or does not say)."""
    exe = shutil.which(program)
    if exe is None:
        return None
    try:
        out = subprocess.run(
            [exe, "features", "list"],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in HOOK_FEATURES and parts[-1] == "false":
            return parts[0]
    return None


def enable_feature(doc: Any, name: str) -> None:
    import tomlkit

    features = doc.get("features")
    if not isinstance(features, dict):
        features = tomlkit.table()
        doc["features"] = features
    features[name] = True
