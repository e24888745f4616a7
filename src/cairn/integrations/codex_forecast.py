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
  parent processes' ``/proc/<pid>/cmdline``), the project's ``.codex/config.toml``, the
  ``$CODEX_HOME/<name>.config.toml`` that ``--profile`` / ``-p`` on that command line selects,
  and ``$CODEX_HOME/config.toml``, in that order. (0.171 refuses to start with the old ``profile =``
  selector or a selected ``[profiles.<name>]`` table, so those are not read.)
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
PROFILE = b"--profile"  # the key command_line gives the profile under
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


def parse_argv(argv: list[bytes], keys: tuple[bytes, ...], found: dict[bytes, bytes]) -> None:
    """``-c key=value`` settings for ``keys`` (values unquoted) and, under :data:`PROFILE`,
    ``--profile NAME`` / ``-p NAME`` from one process's arguments; what ``found`` has stays."""
    for i, arg in enumerate(argv[:-1]):
        if arg in (b"-c", b"--config"):
            name, eq, value = argv[i + 1].partition(b"=")
            if eq and name.strip() in keys:
                found.setdefault(name.strip(), value.strip().strip(b"\"'"))
        elif arg in (b"-p", b"--profile") and PROFILE in keys:
            found.setdefault(PROFILE, argv[i + 1])
    for arg in argv:
        if arg.startswith(b"--profile=") and PROFILE in keys:
            found.setdefault(PROFILE, arg[len(b"--profile=") :])


def command_line(keys: tuple[bytes, ...]) -> dict[bytes, bytes]:
    """:func:`parse_argv` over the Codex that started this process (the parent processes'
    command lines, up to the first Codex one). Linux only: where there is no ``/proc`` (macOS,
    Windows) nothing is found and the config files alone count."""
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
        is_codex = b"codex" in os.path.basename(argv[0])
        # -p means something else to a shell: a profile only from Codex's own arguments.
        parse_argv(argv, keys if is_codex else tuple(k for k in keys if k != PROFILE), found)
        if is_codex:
            break  # the launcher or the native binary: nothing above it is Codex's
        fields = stat[stat.rfind(b")") + 2 :].split()
        pid = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 0
    return found


def profile_file(home: str, name: bytes) -> str | None:
    """``$CODEX_HOME/<name>.config.toml``, the layer ``--profile NAME`` adds (0.171), or None for
    a name that is not a plain file name."""
    text = name.decode("utf-8", "replace")
    if not text or text.startswith(".") or "/" in text or "\\" in text or "\0" in text:
        return None
    return os.path.join(home, text + ".config.toml")


def settings(env: os._Environ[str] | dict[str, str], cwd: str) -> dict[bytes, int]:
    """The Codex settings that move the compaction point, by precedence: ``-c``, the project's
    config, the ``--profile`` file, the user's config."""
    line = command_line((*KEYS, PROFILE))
    profile = line.pop(PROFILE, None)
    found = {
        k: int(v.replace(b"_", b"")) for k, v in line.items() if v.replace(b"_", b"").isdigit()
    }
    home = env.get("CODEX_HOME") or os.path.join(env.get("HOME", "~"), ".codex")
    layers = [os.path.join(cwd, ".codex", "config.toml")]
    if profile and profile_file(home, profile):
        layers.append(str(profile_file(home, profile)))
    layers.append(os.path.join(home, "config.toml"))
    for path in layers:
        try:
            with open(path, "rb") as f:
                config = f.read(256 * 1024)
        except OSError:
            continue
        for key in KEYS:
            if key not in found:
                value = _toml_value(config, key, None)
                if value is not None:
                    found[key] = value
    return found


def model_window(usable_window: int, found: dict[bytes, int]) -> int:
    """The model's whole context window as Codex works with it: ``model_context_window`` from the
    config, else the rollout's usable window scaled back (it reports 95 %), else the default."""
    window = found.get(b"model_context_window") or 0
    if window <= 0:
        window = usable_window * 100 // USABLE_PERCENT if usable_window > 0 else DEFAULT_WINDOW
    return window


def compaction_point(usable_window: int, found: dict[bytes, int]) -> int:
    """The context size at which Codex compacts automatically."""
    point = model_window(usable_window, found) * COMPACT_PERCENT // 100
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
