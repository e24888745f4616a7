"""The compaction forecast's Codex half: how full a Codex context is, and where Codex compacts it.

Loaded by :mod:`cairn.integrations.forecast` on the PostToolUse fast path (``--agent codex``), so
like it this imports nothing and reads bytes without the json module.

- **Context.** Codex writes an ``event_msg`` ``token_count`` record to the rollout after each model
  response; ``info.last_token_usage.total_tokens`` is the figure Codex itself compares with its
  limit (plus a small estimate for what came after the response: a tool's output), and
  ``info.model_context_window`` the *usable* window, 95 % of the model's (258,400 for a 272,000
  window in 0.171).
- **Compaction point.** Codex 0.171 compacts when that figure reaches
  ``min(model_auto_compact_token_limit, 90 % of the model's window)``; unset, 90 % of the window
  (244,800 for gpt-5.5; measured with the real binary: 244,799 plus a tool output compacted,
  244,700 did not). ``model_context_window`` in the config replaces the window. The two keys are
  read from ``-c key=value`` on the command line of the Codex that runs the hook (Linux: the
  parent processes' ``/proc/<pid>/cmdline``), the project's ``.codex/config.toml`` and
  ``$CODEX_HOME/config.toml`` (top level or the selected ``profile``), in that order.
"""

from __future__ import annotations

import os

if __package__:
    from cairn.integrations.tail_read import int_field, lines_from_end
else:  # run as the hook script: the sibling module, no package import
    from tail_read import int_field, lines_from_end  # type: ignore[import-not-found,no-redef]

USABLE_PERCENT = 95  # Codex reports this share of the model's window as model_context_window
COMPACT_PERCENT = 90  # and compacts at this share of the whole window by default
DEFAULT_WINDOW = 272_000  # gpt-5 family, when the rollout names none
KEYS = (b"model_auto_compact_token_limit", b"model_context_window")
_ANCESTORS = 4  # Codex runs a hook through a shell: the launcher is two or three levels up


def rollout_tokens(path: str) -> tuple[int, int] | None:
    """``(tokens in the context, model_context_window)`` from the newest ``token_count`` record
    with usage in a Codex rollout; None when its end reports none."""
    for line in lines_from_end(path):
        if b'"token_count"' not in line:
            continue
        at = line.find(b'"last_token_usage"')
        if at < 0:
            continue  # a rate-limit update (info null)
        total = int_field(line, b"total_tokens", at)
        if total <= 0:
            continue
        return total, int_field(line, b"model_context_window")
    return None


def _toml_value(config: bytes, key: bytes, table: bytes | None) -> int | None:
    """``key = INTEGER`` at the top level of a TOML text (``table`` None) or in ``[table]``."""
    current: bytes | None = None
    for raw in config.split(b"\n"):
        line = raw.strip()
        if line.startswith(b"["):
            current = line.strip(b"[] \t\r").replace(b'"', b"")
            continue
        if current != table:
            continue
        name, eq, value = line.partition(b"=")
        if eq and name.strip() == key:
            value = value.split(b"#")[0].strip().replace(b"_", b"")
            return int(value) if value.isdigit() else None
    return None


def _profile(config: bytes) -> bytes | None:
    for raw in config.split(b"\n"):
        line = raw.strip()
        if line.startswith(b"["):
            return None
        name, eq, value = line.partition(b"=")
        if eq and name.strip() == b"profile":
            return value.split(b"#")[0].strip().strip(b"\"'")
    return None


def command_line(keys: tuple[bytes, ...]) -> dict[bytes, bytes]:
    """``-c key=value`` settings for ``keys`` of the Codex that started this process (Linux only:
    the parent processes' command lines, up to the first Codex one), values unquoted."""
    found: dict[bytes, bytes] = {}
    pid = os.getppid()
    for _ in range(_ANCESTORS):
        if pid <= 1:
            break
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read(64 * 1024).split(b"\0")
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read(4096)
        except OSError:
            break
        for i, arg in enumerate(argv[:-1]):
            if arg in (b"-c", b"--config"):
                name, eq, value = argv[i + 1].partition(b"=")
                if eq and name.strip() in keys:
                    found.setdefault(name.strip(), value.strip().strip(b"\"'"))
        if b"codex" in os.path.basename(argv[0]):
            break  # the launcher or the native binary: nothing above it is Codex's
        fields = stat[stat.rfind(b")") + 2 :].split()
        pid = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0
    return found


def settings(env: os._Environ[str] | dict[str, str], cwd: str) -> dict[bytes, int]:
    """The Codex settings that move the compaction point, by precedence."""
    found = {
        k: int(v.replace(b"_", b""))
        for k, v in command_line(KEYS).items()
        if v.replace(b"_", b"").isdigit()
    }
    home = env.get("CODEX_HOME") or os.path.join(env.get("HOME", "~"), ".codex")
    for path in (os.path.join(cwd, ".codex", "config.toml"), os.path.join(home, "config.toml")):
        try:
            with open(path, "rb") as f:
                config = f.read(256 * 1024)
        except OSError:
            continue
        profile = _profile(config)
        for key in KEYS:
            if key in found:
                continue
            value = None
            if profile:
                value = _toml_value(config, key, b"profiles." + profile)
            if value is None:
                value = _toml_value(config, key, None)
            if value is not None:
                found[key] = value
    return found


def compaction_point(usable_window: int, found: dict[bytes, int]) -> int:
    """The context size at which Codex compacts automatically."""
    window = found.get(b"model_context_window") or 0
    if window <= 0:
        window = usable_window * 100 // USABLE_PERCENT if usable_window > 0 else DEFAULT_WINDOW
    point = window * COMPACT_PERCENT // 100
    limit = found.get(b"model_auto_compact_token_limit") or 0
    if limit > 0:
        point = min(point, limit)
    return max(1, point)


def context_and_point(
    transcript: str, env: os._Environ[str] | dict[str, str], cwd: str
) -> tuple[int, int] | None:
    """``(context, point)`` for a Codex session, or None when the rollout reports no usage."""
    seen = rollout_tokens(transcript)
    if seen is None:
        return None
    context, usable = seen
    return context, compaction_point(usable, settings(env, cwd))
