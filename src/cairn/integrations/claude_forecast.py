"""Where Claude Code compacts a session's context on its own, as measured on the real binary.

Measured on Claude Code 2.1.332 in ``-p`` and ``--input-format stream-json`` (usage climbing by
1,000 tokens against a scripted Messages server, tests/real_clients/claude/test_claude_forecast.py):

- The *window* comes from ``CLAUDE_CODE_AUTO_COMPACT_WINDOW`` (``200000``, ``500k``; below 100k it
  counts as 100k), else from the ``autoCompactWindow`` setting (``modelSettings.<model>`` first;
  user, project and local settings files, later ones winning), capped by the model's own window
  (1M for a ``[1m]`` model, else 200k).
- With a window, Claude Code compacts once the context reaches the window less the output reserve
  (``min(max output tokens, 20k)``; ``CLAUDE_CODE_MAX_OUTPUT_TOKENS`` moves it, old models have
  8,192 or 4,096) less a 13k summary buffer, or ``CLAUDE_AUTOCOMPACT_PCT_OVERRIDE`` per cent of the
  window less the reserve, whichever is lower.
- With no window set (neither variable nor setting: what Claude Code calls the ``auto`` source),
  it never compacts at a threshold, in any mode, and the percentage alone does nothing: the
  request goes out and Claude Code compacts when the API answers "prompt is too long", that is at
  the model's window.
- With auto-compaction off (``DISABLE_AUTO_COMPACT``, ``DISABLE_COMPACT``, ``autoCompactEnabled:
  false`` in a settings file, the managed one included (Linux, macOS and Windows paths), or else in
  ``~/.claude.json``, where ``/config`` keeps it) nothing compacts; the session stops 3k short of
  the model's window less the reserve. A settings file that turns it on outweighs
  ``~/.claude.json``.

Part of the PostToolUse fast path (:mod:`cairn.integrations.forecast`): imports nothing; the json
module only for a settings file with per-model windows.
"""

from __future__ import annotations

import os
import sys

if __package__:
    from cairn.integrations.tail_read import field
else:  # run as the hook script: the sibling module, no package import
    from tail_read import field  # type: ignore[import-not-found,no-redef]

MODEL_WINDOW = 200_000
LONG_WINDOW = 1_000_000  # a model named "...[1m]"
MIN_WINDOW = 100_000
OUTPUT_RESERVE = 20_000
SUMMARY_BUFFER = 13_000
BLOCK_MARGIN = 3_000
WINDOW_ENV = "CLAUDE_CODE_AUTO_COMPACT_WINDOW"
PCT_ENV = "CLAUDE_AUTOCOMPACT_PCT_OVERRIDE"
# Where an administrator puts managed settings (code.claude.com/docs/en/settings), per platform;
# elsewhere none is read. Windows: the folder Claude Code 2.1.332 itself names (older docs said
# C:\ProgramData, which it no longer reads); its HKLM policy key is not read here.
MANAGED_SETTINGS = {
    "linux": "/etc/claude-code/managed-settings.json",  # and WSL
    "darwin": "/Library/Application Support/ClaudeCode/managed-settings.json",
    "win32": "C:\\Program Files\\ClaudeCode\\managed-settings.json",
}
GLOBAL_CONFIG_BYTES = 16 * 1024 * 1024  # ~/.claude.json keeps every project's history

Env = os._Environ[str] | dict[str, str]


def model_window(model: str) -> int:
    return LONG_WINDOW if "[1m]" in model.lower() else MODEL_WINDOW


def output_reserve(model: str, env: Env) -> int:
    raw = env.get("CLAUDE_CODE_MAX_OUTPUT_TOKENS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return min(int(raw), OUTPUT_RESERVE)
    name = model.lower()
    if name.startswith(("claude-3-opus", "claude-3-haiku")):
        return 4096
    if name.startswith(("claude-3-sonnet", "claude-3-5-")):
        return 8192
    return OUTPUT_RESERVE


def size(value: object, *, bare_thousands: bool) -> int | None:
    """A window as Claude Code reads it: ``150000``, ``"150k"``, ``"1m"`` (and ``"200"`` for 200k
    in the settings); None for ``auto`` or anything unusable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        n = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(",", "").replace("_", "")
        scale = 1
        if text.endswith("k"):
            text, scale = text[:-1], 1000
        elif text.endswith("m"):
            text, scale = text[:-1], 1_000_000
        try:
            n = float(text) * scale
        except ValueError:
            return None
        if scale == 1 and bare_thousands and 0 < n < 1000:
            n *= 1000
    else:
        return None
    if n != n or n <= 0:  # NaN or nothing
        return None
    return max(MIN_WINDOW, round(n))


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def managed_settings(platform: str | None = None, root: str = "/") -> str | None:
    """The managed settings file of ``platform`` (default: this one's) under ``root`` (a test's
    stand-in for the file system's root), or None where Claude Code documents none."""
    known = MANAGED_SETTINGS.get(sys.platform if platform is None else platform)
    if known is None or root == "/":
        return known
    rest = known[2:] if known[1:2] == ":" else known  # a drive's path, under the stand-in root
    return os.path.join(root, *rest.replace("\\", "/").strip("/").split("/"))


def settings_files(env: Env, platform: str | None = None, root: str = "/") -> list[str]:
    """Claude Code's settings files that can carry the window, lowest precedence first (the
    managed file, which an administrator puts above everything, last)."""
    home = env.get("CLAUDE_CONFIG_DIR") or os.path.join(env.get("HOME", "~"), ".claude")
    files = [os.path.join(home, "settings.json")]
    project = env.get("CLAUDE_PROJECT_DIR")
    if project:
        files.append(os.path.join(project, ".claude", "settings.json"))
        files.append(os.path.join(project, ".claude", "settings.local.json"))
    managed = managed_settings(platform, root)
    if managed is not None:
        files.append(managed)
    return files


def global_config(env: Env) -> str:
    """Claude Code's own state file, where ``/config`` keeps the auto-compact switch."""
    folder = env.get("CLAUDE_CONFIG_DIR")
    if folder:
        return os.path.join(folder, ".claude.json")
    return os.path.join(env.get("HOME", "~"), ".claude.json")


def global_auto_compact(env: Env) -> bool:
    """False when ``autoCompactEnabled`` is false in the global config (``~/.claude.json``, the
    switch ``/config`` flips); consulted only where no settings file sets it."""
    try:
        with open(global_config(env), "rb") as f:
            raw = f.read(GLOBAL_CONFIG_BYTES)
    except OSError:
        return True
    return field(raw, b"autoCompactEnabled") is not False


def _parsed(raw: bytes) -> dict[str, object] | None:
    """The settings that need more than a scan (per-model windows): the json module."""
    import json

    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def from_settings(
    model: str, env: Env, platform: str | None = None, root: str = "/"
) -> tuple[int | None, bool | None]:
    """``(window, enabled)`` from the settings files (:func:`settings_files`): the
    ``autoCompactWindow`` that applies to ``model`` (None: auto), and ``autoCompactEnabled``
    (None when no file sets it)."""
    default: object = None
    by_model: dict[str, object] = {}
    enabled: bool | None = None
    for path in settings_files(env, platform, root):
        try:
            with open(path, "rb") as f:
                raw = f.read(1024 * 1024)
        except OSError:
            continue
        if b"autoCompact" not in raw:
            continue  # the usual case
        mine: dict[str, object] = {}
        if b'"modelSettings"' in raw:
            data = _parsed(raw)
            if data is None:
                continue
            models = data.get("modelSettings")
            if isinstance(models, dict):
                for key, value in models.items():
                    if isinstance(value, dict) and "autoCompactWindow" in value:
                        mine[str(key).lower()] = value["autoCompactWindow"]
            top, on = data.get("autoCompactWindow"), data.get("autoCompactEnabled")
            has_top = "autoCompactWindow" in data
        else:
            top, on = field(raw, b"autoCompactWindow"), field(raw, b"autoCompactEnabled")
            has_top = top is not None
        if isinstance(on, bool):
            enabled = on
        if has_top:
            default, by_model = top, mine
        else:
            by_model = {**by_model, **mine}
    name = model.lower()
    value = by_model.get(name, by_model.get(name.replace("[1m]", ""), default))
    return size(value, bare_thousands=True), enabled


def stop_point(model: str, env: Env) -> int:
    """Where a session with auto-compaction off stops: nothing more is sent past it."""
    return model_window(model) - output_reserve(model, env) - BLOCK_MARGIN


def limit(model: str, env: Env, fallback_window: int = 0) -> tuple[int, bool | None]:
    """``(point, auto)``: :func:`compaction_point` from the environment and the settings files,
    and whether Claude Code compacts there (False: auto-compaction is off and the session stops
    there; None: they do not say, and the global config, :func:`global_auto_compact`, decides)."""
    wall = model_window(model)
    reserve = output_reserve(model, env)
    window = None
    raw = env.get(WINDOW_ENV)
    if raw is not None and raw.strip():
        window = size(raw, bare_thousands=False)
    found, enabled = from_settings(model, env)
    if window is None:
        window = found
    if (
        enabled is False
        or _truthy(env.get("DISABLE_AUTO_COMPACT"))
        or _truthy(env.get("DISABLE_COMPACT"))
    ):
        return stop_point(model, env), False
    return _point(model, env, window, wall, reserve, fallback_window), enabled


def compaction_point(model: str, env: Env, fallback_window: int = 0) -> int:
    """The context size at which Claude Code compacts ``model``'s session by itself (or, with
    auto-compaction off, stops). ``fallback_window``: cairn's ``[hooks] context_window``, taken as
    the window when Claude Code is given none."""
    point, auto = limit(model, env, fallback_window)
    if auto is None and not global_auto_compact(env):
        return stop_point(model, env)
    return point


def _point(
    model: str, env: Env, window: int | None, wall: int, reserve: int, fallback_window: int
) -> int:
    if window is None and fallback_window > 0:
        window = fallback_window
    if window is None:
        return wall  # the "auto" source: compacted only when the API refuses the prompt
    effective = max(1, min(window, wall) - reserve)
    point = effective - SUMMARY_BUFFER
    try:
        pct = float(env.get(PCT_ENV, "") or 0)
    except ValueError:
        pct = 0.0
    if 0 < pct <= 100:
        point = min(point, int(effective * pct / 100))
    return max(1, point)
