"""Defects 4 and 7 of issue 11, on real file systems: a full disk is not called a corrupt store,
and a read-only workspace still answers every read.

The full disk is a 2 MB tmpfs filled with ``dd``; the read-only workspace a read-only bind mount.
Both need root (CI runs as root); the chmod variant needs a user that permissions bind.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services import need

CAIRN = [sys.executable, "-m", "cairn"]


def cairn(ws: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """A real process each time: an open connection must not outlive the command, as in use."""
    return subprocess.run(
        [*CAIRN, "-C", str(ws), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CAIRN_WORKSPACE": ""},
    )


def _mount(*args: str) -> bool:
    if os.geteuid() != 0:
        return False
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


def _umount(where: Path) -> None:
    if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _workspace(root: Path) -> None:
    assert cairn(root, "init", str(root)).returncode == 0
    assert cairn(root, "task", "new", "t", "--phases", "a,b").returncode == 0
    assert cairn(root, "phase", "start", "t", "a").returncode == 0
    r = cairn(root, "checkpoint", "write", "t", "analysis", stdin="the analysis\n")
    assert r.returncode == 0, r.stderr


def _one_line(r: subprocess.CompletedProcess[str]) -> str:
    lines = r.stderr.rstrip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("cairn: error: "), r.stderr
    return lines[0]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    need("a tmpfs mount", _mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)),
         "run the tests as root (CI does) so that a 2 MB tmpfs can be mounted")  # fmt: skip
    try:
        yield disk
    finally:
        _umount(disk)


def test_a_full_disk_is_not_reported_as_a_corrupt_store(small_disk: Path) -> None:
    root = small_disk / "proj"
    root.mkdir()
    _workspace(root)
    fill = small_disk / "fill"
    subprocess.run(["dd", "if=/dev/zero", f"of={fill}", "bs=64k"], capture_output=True)
    assert os.statvfs(small_disk).f_bavail == 0
    for args, stdin in (
        (["status"], ""),
        (["checkpoint", "write", "t", "analysis"], "second\n"),
        (["task", "new", "u", "--phases", "x"], ""),
        (["recover"], ""),
    ):
        r = cairn(root, *args, stdin=stdin)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        msg = _one_line(r)
        assert "disk full" in msg and "nothing was lost" in msg and "free space" in msg.lower()
        assert "move it aside" not in msg and "cairn init" not in msg and "corrupt" not in msg
    r = cairn(root, "doctor", "--json")
    checks = {f"{c['area']} {c['name']}": c for c in json.loads(r.stdout)["checks"]}
    assert checks["disk free space"]["outcome"] == "fail", checks
    assert checks["store integrity"]["outcome"] in ("ok", "warn"), checks  # never "corrupt"
    assert not any("mv .cairn/cairn.db" in (c["fix"] or "") for c in checks.values()), checks
    fill.unlink()
    r = cairn(root, "checkpoint", "history", "t", "analysis", "--json")
    assert r.returncode == 0, r.stderr
    assert [v["version"] for v in json.loads(r.stdout)["checkpoints"]] == [1]
    r = cairn(root, "checkpoint", "show", "t", "analysis")
    assert r.returncode == 0 and r.stdout == "the analysis\n", r.stderr
    r = cairn(root, "checkpoint", "write", "t", "analysis", stdin="second\n")
    assert r.returncode == 0, r.stderr
    with sqlite3.connect(root / ".cairn" / "cairn.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    r = cairn(root, "doctor", "--json")
    checks = {f"{c['area']} {c['name']}": c for c in json.loads(r.stdout)["checks"]}
    assert checks["store integrity"]["outcome"] == "ok"


def test_real_corruption_still_says_so(tmp_path: Path) -> None:
    """The other side: only a store that integrity_check finds damaged gets the advice to move it
    aside."""
    root = tmp_path / "proj"
    root.mkdir()
    _workspace(root)
    db = root / ".cairn" / "cairn.db"
    data = bytearray(db.read_bytes())
    for p in range(2, len(data) // 4096):
        data[p * 4096 : p * 4096 + 64] = b"\xa5" * 64
    db.write_bytes(bytes(data))
    msg = _one_line(cairn(root, "checkpoint", "show", "t", "analysis"))
    assert "corrupt" in msg and "integrity check" in msg and "move it aside" in msg


READS: list[tuple[list[str], str]] = [
    (["status"], "Current Work Status"),
    (["recover"], "the analysis"),
    (["task", "list"], "t"),
    (["task", "show", "t"], "analysis"),
    (["checkpoint", "show", "t", "analysis"], "the analysis"),
    (["checkpoint", "list", "t"], "analysis"),
    (["log", "--limit", "3"], "checkpoint.written"),
    (["status", "--json"], '"schema"'),
]
WRITES: list[tuple[list[str], str]] = [
    (["checkpoint", "write", "t", "analysis"], "new\n"),
    (["phase", "done", "t", "a"], ""),
    (["task", "new", "u"], ""),
    (["progress", "t", "a step"], ""),
]


def _check_read_only(view: Path, origin: Path) -> None:
    before = {p.name: p.read_bytes() for p in (origin / ".cairn").iterdir()}
    tree = {str(p): p.read_bytes() for p in origin.rglob("*") if p.is_file()}
    for args, expect in READS:
        r = cairn(view, *args)
        assert r.returncode == 0, (args, r.stderr)
        assert expect in r.stdout, (args, r.stdout)
        notes = r.stderr.rstrip("\n").split("\n")
        assert all(n.startswith("cairn: note: ") for n in notes), r.stderr
        assert "read-only" in notes[0]
    for args, stdin in WRITES:
        r = cairn(view, *args, stdin=stdin)
        assert r.returncode == 1, (args, r.stdout)
        msg = _one_line(r)
        assert "the workspace is read-only (" in msg and "nothing was written" in msg, msg
    r = cairn(view, "doctor", "--json")
    checks = {f"{c['area']} {c['name']}": c for c in json.loads(r.stdout)["checks"]}
    assert checks["workspace writable"]["outcome"] == "warn", r.stdout + r.stderr
    assert checks["store integrity"]["outcome"] == "ok"
    assert {p.name: p.read_bytes() for p in (origin / ".cairn").iterdir()} == before
    assert {str(p): p.read_bytes() for p in origin.rglob("*") if p.is_file()} == tree


@pytest.fixture
def read_only_view(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    origin = tmp_path / "proj"
    origin.mkdir()
    _workspace(origin)
    view = tmp_path / "view"
    view.mkdir()
    need("a bind mount", _mount("--bind", str(origin), str(view)),
         "run the tests as root (CI does) so that a read-only bind mount can be made")  # fmt: skip
    try:
        assert _mount("-o", "remount,ro,bind", str(view))
        yield view, origin
    finally:
        _umount(view)


def test_a_read_only_bind_mount_answers_reads_and_refuses_writes(
    read_only_view: tuple[Path, Path],
) -> None:
    view, origin = read_only_view
    _check_read_only(view, origin)


def test_a_workspace_without_write_permission(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes whatever the permissions; the bind-mount test covers this")
    origin = tmp_path / "proj"
    origin.mkdir()
    _workspace(origin)
    folders = [origin, *(p for p in origin.rglob("*") if p.is_dir())]
    for f in folders:
        f.chmod(0o555)
    try:
        _check_read_only(origin, origin)
    finally:
        for f in folders:
            f.chmod(0o755)
