"""One run per hook event, when a client runs cairn's hook twice.

Claude Code runs the matching hooks of an event side by side and merges only identical command
lines, so with cairn's plugin enabled *and* its hooks installed (``cairn hooks install`` refuses
that, but a plugin enabled afterwards, or at another scope, still gets there) every event reaches
cairn twice, with the same input. The copies differ in where they come from: Claude Code runs a
plugin's hooks with ``CLAUDE_PLUGIN_ROOT`` set. The first run claims the event in
``.cairn/hooks-once/<event>-<session>`` (the input's hash, its origin and the time, under an
exclusive lock); a run from the *other* origin that finds the same input claimed less than
:data:`WINDOW_S` ago is the second copy and does nothing. The same input again from the same
origin is a new event (a quick second resume) and runs. One small file per event and session,
rewritten in place.
"""

from __future__ import annotations

import json
import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


WINDOW_S = 10.0  # the copies start together; the same input again after this is a new event
FOLDER = "hooks-once"


def origin() -> str:
    return "plugin" if os.environ.get("CLAUDE_PLUGIN_ROOT") else "settings"


def first_run(
    root: str,
    event: str,
    payload: dict[str, Any],
    now: float | None = None,
    source: str | None = None,
) -> bool:
    """True unless this run is the other copy of one just started (and whenever it cannot tell).
    ``source``: where this copy comes from (default: :func:`origin`)."""
    try:
        import fcntl
    except ImportError:  # no flock: never drop a run
        return True
    session = "".join(c for c in str(payload.get("session_id") or "") if c.isalnum() or c in "-_")
    folder = os.path.join(root, ".cairn", FOLDER)
    path = os.path.join(folder, f"{event}-{session[:80] or 'none'}")
    raw = json.dumps(payload, sort_keys=True).encode()
    key = f"{_digest(raw)}{len(raw):x}"
    at = time.time() if now is None else now
    mine = source or origin()
    try:
        os.makedirs(folder, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        old = os.read(fd, 256)
        seen = old.decode("ascii", "replace").split()
        if len(seen) == 3 and seen[0] == key and seen[1] != mine:
            try:
                if 0 <= at - float(seen[2]) < WINDOW_S:
                    return False
            except ValueError:
                pass
        line = f"{key} {mine} {at:.3f}\n".encode()
        os.pwrite(fd, line, 0)
        if len(line) < len(old):  # only a longer line left before needs its tail cut
            os.ftruncate(fd, len(line))
        return True
    finally:
        os.close(fd)  # and so the lock


def _digest(data: bytes) -> str:
    """The input's hash: for the usual few hundred bytes a 64-bit FNV-1a in Python, since zlib's
    module (and libz) took a hook ~0.8 ms to load and hashlib loads OpenSSL; zlib's checksums for
    a long input. The copies of one event hash the same bytes, so they agree."""
    if len(data) > 4096:
        import zlib

        return f"{zlib.crc32(data):08x}{zlib.adler32(data):08x}"
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"
