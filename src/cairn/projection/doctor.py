"""`cairn doctor`'s workspace checks: the store, the readable tree, links, locks, disk space.

Every check only looks: the store is inspected on a read-only connection before it is opened (an
open applies pending migrations), the workspace is opened without its projector, and files are
read with :func:`~cairn.projection.reading.read_inside` (never through a link that leaves the
workspace). Each finding that is not ok names the command that mends it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from cairn.core.doctor import Check
from cairn.core.errors import CairnError, NotAWorkspace
from cairn.projection.reading import NotReadable, leads_outside, read_inside

if TYPE_CHECKING:
    from cairn.domain.workspace import Workspace

# Free space below these is worth a word: a warning, then a failure (SQLite then refuses writes).
LOW_SPACE = 100 << 20
NO_SPACE = 5 << 20
# At most this many paths are named in one finding (the count says how many more).
SHOWN = 5
_MIGRATE = "cairn status (any command applies them)"
_UPGRADE = "pip install -U cairn-agent"


def _names(paths: list[str]) -> str:
    more = f" and {len(paths) - SHOWN} more" if len(paths) > SHOWN else ""
    return ", ".join(paths[:SHOWN]) + more


def workspace_checks(root: Path) -> list[Check]:
    """Every workspace check of the folder ``root`` (or the workspace above it)."""
    from cairn.domain.workspace import Workspace, find_root

    try:
        root = find_root(root)
    except NotAWorkspace as exc:
        return [Check("workspace", "found", "fail", str(exc), "cairn init")]
    checks = _store_file_checks(root)
    if any(c.name == "migrations" and c.fix in (_MIGRATE, _UPGRADE) for c in checks):
        # Opening the store would apply them (a write): the doctor only looks.
        checks.append(Check("workspace", "other checks", "warn", "not run: the store needs its "
                            "migrations first", "cairn status, then `cairn doctor` again"))  # fmt: skip
        return [*checks, _disk(root / ".cairn")]
    try:
        ws = Workspace.open(root, search=False, listeners=())
    except CairnError as exc:
        # Moving the store aside is advised only when its integrity check found damage.
        damaged = any(c.name == "integrity" and c.outcome == "fail" for c in checks)
        fix = _restore_fix(root) if damaged else "do what the message says, then `cairn doctor`"
        checks.append(Check("store", "open", "fail", str(exc), fix))
        return [*checks, _disk(root / ".cairn")]
    try:
        if not any(c.name == "integrity" for c in checks):
            verdict = ws.store.integrity_check()
            checks.append(_integrity(verdict, root))
        checks += [
            _writable(ws),
            _projections(ws),
            _status_file(ws),
            _links(ws),
            *_locks(ws),
            _disk(ws.cairn_dir),
        ]
    finally:
        ws.close()
    return checks


def _restore_fix(root: Path) -> str:
    return (
        "restore .cairn/cairn.db from a backup, or keep it aside and start a new store: "
        "`mv .cairn/cairn.db .cairn/cairn.db.damaged && cairn init` (artifacts/ stays)"
    )


def _integrity(verdict: str | None, root: Path) -> Check:
    if verdict == "ok":
        return Check("store", "integrity", "ok", "integrity_check: ok")
    if verdict is None:
        return Check(
            "store", "integrity", "warn", "the integrity check could not run (the disk refused "
            "the read)", "check the disk (free space, permissions), then `cairn doctor` again",
        )  # fmt: skip
    return Check(
        "store", "integrity", "fail", f"integrity_check: {verdict[:200]}", _restore_fix(root)
    )


def _store_file_checks(root: Path) -> list[Check]:
    """The SQLite file itself, before anything opens it for writing."""
    from cairn.core.config import load_config
    from cairn.domain.workspace import store_location

    try:
        where = store_location(root / ".cairn", load_config(root / ".cairn" / "config.toml"))
    except CairnError as exc:
        return [Check("workspace", "config", "fail", str(exc), "fix .cairn/config.toml")]
    if not isinstance(where, Path) or not where.exists():
        return []  # another backend (asked through the store once open), or no file to look at
    from cairn.store.sqlite.connection import integrity, migrations_state

    checks = [_integrity(integrity(where), root)]
    state = migrations_state(where)
    if state is None:
        checks.append(Check("store", "migrations", "warn", "could not read the migrations",
                            "check the store's file permissions"))  # fmt: skip
    elif state[1]:
        checks.append(
            Check(
                "store",
                "migrations",
                "fail",
                f"written by a newer cairn ({state[1][-1]})",
                _UPGRADE,
            )
        )
    elif state[0]:
        checks.append(
            Check(
                "store",
                "migrations",
                "warn",
                f"{len(state[0])} not applied yet ({_names(state[0])})",
                _MIGRATE,
            )
        )
    else:
        checks.append(Check("store", "migrations", "ok", "all applied"))
    return checks


def _writable(ws: Workspace) -> Check:
    if ws.read_only is None:
        return Check(
            "workspace", "writable", "ok", "the store and the readable tree can be written"
        )
    return Check(
        "workspace", "writable", "warn", f"read-only ({ws.read_only}): reads work, writes are refused",
        "make the folder writable (remount it read-write, or chmod u+w) to change anything",
    )  # fmt: skip


def _projections(ws: Workspace) -> Check:
    """Each artifact against the store: the newest version (by stat as recorded, else by hash),
    a stale or missing file (`cairn refresh` writes it), or a hand edit not yet taken in."""
    with ws.store.read() as tx:
        rows = tx.projections.all()
    stale: list[str] = []
    edited: list[str] = []
    for row in rows:
        full = str(ws.root / row.path)
        try:
            st = os.stat(full)
        except FileNotFoundError:
            stale.append(f"{row.path} (missing)")
            continue
        if (st.st_mtime_ns, st.st_size) == (row.mtime_ns, row.size):
            continue
        try:
            digest = hashlib.sha256(read_inside(ws.root, full)).hexdigest()
        except (OSError, NotReadable):
            continue  # a link out or a FIFO: the links check names it
        if digest == row.hash:
            continue
        known = digest == row.prev_hash or ws.is_known_content(row.task_id, row.kind, digest)
        (stale if known else edited).append(row.path)
    if edited:
        return Check(
            "projections", "in sync", "warn", f"edited by hand, not yet in the store: "
            f"{_names(edited)}", "cairn refresh (keeps each edit as a new version)",
        )  # fmt: skip
    if stale:
        return Check(
            "projections", "in sync", "warn", f"behind the store: {_names(stale)}", "cairn refresh"
        )
    return Check("projections", "in sync", "ok", f"{len(rows)} artifacts match the store")


def _status_file(ws: Workspace) -> Check:
    from cairn.projection.recovery_log import log_is_current, log_rel

    missing = [
        rel
        for rel in (ws.config.status_file, log_rel(ws))
        if not (ws.root / rel).is_file()
        or (rel == log_rel(ws) and not log_is_current(ws, str(ws.root / rel)))
    ]
    if missing:
        return Check("projections", "status and log", "warn", f"missing or behind: "
                     f"{_names(missing)}", "cairn refresh")  # fmt: skip
    return Check("projections", "status and log", "ok", "present")


def _links(ws: Workspace) -> Check:
    """Links that leave the workspace, and things that are not files, in the folders cairn
    writes: never read through, but they should not be there."""
    outside: list[str] = []
    odd: list[str] = []
    folders = [ws.config.artifacts_dir, ws.config.logs_dir, ws.config.reviews_dir]
    for rel in folders:
        top = ws.root / rel
        if top.is_symlink() and leads_outside(ws.root, str(top)):
            outside.append(f"{rel}/ -> {os.path.realpath(top)}")
            continue
        for folder, dirs, files in os.walk(top):
            for name in [*dirs, *files]:
                full = os.path.join(folder, name)
                shown = os.path.relpath(full, ws.root)
                st = os.lstat(full)
                if stat.S_ISLNK(st.st_mode):
                    dest = leads_outside(ws.root, full)
                    if dest is not None:
                        outside.append(f"{shown} -> {dest}")
                elif not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
                    odd.append(shown)
    status = ws.root / ws.config.status_file
    if status.is_symlink() and leads_outside(ws.root, str(status)):
        outside.append(f"{ws.config.status_file} -> {os.path.realpath(status)}")
    if outside:
        return Check(
            "links", "inside the workspace", "fail", f"links leading outside: {_names(outside)}",
            "remove each link (`rm PATH`; a folder: `rm LINK && mkdir LINK`) and run `cairn refresh`",
        )  # fmt: skip
    if odd:
        return Check("links", "inside the workspace", "warn", f"not regular files: {_names(odd)}",
                     "remove them (`rm PATH`) and run `cairn refresh`")  # fmt: skip
    return Check("links", "inside the workspace", "ok", "no link leads outside")


def _locks(ws: Workspace) -> list[Check]:
    from cairn.core.procs import pid_alive

    checks: list[Check] = []
    lock = ws.cairn_dir / "projection.lock"
    held = False
    with contextlib.suppress(FileNotFoundError, PermissionError):
        fd = os.open(lock, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held = True
        finally:
            os.close(fd)
    if held:
        checks.append(Check(
            "locks", "projection lock", "warn", "held by another process right now",
            "wait for the running cairn command; a lock goes with the process that held it",
        ))  # fmt: skip
    temps: list[str] = []
    for folder in (ws.cairn_dir, ws.root / ws.config.artifacts_dir, ws.root / ws.config.logs_dir):
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(folder):
                parts = entry.name.rsplit(".", 2)
                if entry.name.startswith(".") and entry.name.endswith(".tmp") and len(parts) == 3:
                    with contextlib.suppress(ValueError):
                        if not pid_alive(int(parts[1])):
                            temps.append(os.path.relpath(entry.path, ws.root))
    if temps:
        checks.append(Check("locks", "left-over files", "warn", f"temporary files of killed "
                            f"writers: {_names(temps)}", "cairn status (clears them)"))  # fmt: skip
    from cairn.domain.phase_status import status_section

    with ws.store.read() as tx:
        section = status_section(ws, tx)
    stale = section[1]["phases"] if section is not None else []
    if stale:
        shown = [f"{s['task']}/{s['phase']} (pid {s['pid']})" for s in stale]
        checks.append(Check(
            "locks", "interrupted phases", "warn", f"active, their process gone: {_names(shown)}",
            "run the workflow again (`cairn run FILE`), or `cairn phase fail TASK PHASE --error ...`",
        ))  # fmt: skip
    if not checks:
        checks.append(Check("locks", "stale", "ok", "no lock held, no run left behind"))
    return checks


def _disk(where: Path) -> Check:
    try:
        st = os.statvfs(where)
    except OSError as exc:
        return Check("disk", "free space", "warn", f"could not tell: {exc.strerror}")
    free = st.f_bavail * st.f_frsize
    shown = f"{free / (1 << 20):,.1f} MB free on the disk holding {where}"
    if free < NO_SPACE:
        return Check("disk", "free space", "fail", shown, f"free space on the disk holding {where}")
    if free < LOW_SPACE:
        return Check("disk", "free space", "warn", shown, f"free space on the disk holding {where}")
    return Check("disk", "free space", "ok", shown)
