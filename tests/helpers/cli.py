"""Run ``cairn`` in-process through its real entry point and capture what it prints."""

from __future__ import annotations

import io
import json
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cairn.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class _Stdin(io.TextIOWrapper):
    def isatty(self) -> bool:
        return False


def run(
    capsys: pytest.CaptureFixture[str],
    ws: Path | None,
    *args: str,
    stdin: bytes | str | None = None,
) -> Result:
    """``cairn [-C ws] ARGS`` with ``stdin`` as standard input; returns exit code and output."""
    argv = (["-C", str(ws)] if ws is not None else []) + list(args)
    old = sys.stdin
    if stdin is not None:
        data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
        sys.stdin = _Stdin(io.BytesIO(data), encoding="utf-8")
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    finally:
        sys.stdin = old
    out, err = capsys.readouterr()
    return Result(code, out, err)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes), to prove nothing changed.

    A SQLite store is compared by its content (a logical dump, WAL included), not its bytes: when
    the last connection closes, SQLite folds the WAL into the main file and removes the -wal and
    -shm files, which changes the bytes on disk without changing a single row.
    """
    out: dict[str, bytes] = {}
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or p.name.endswith(("-wal", "-shm")):
            continue
        rel = p.relative_to(folder).as_posix()
        if p.suffix == ".db":
            conn = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
            try:
                out[rel] = "\n".join(conn.iterdump()).encode()
            finally:
                conn.close()
        else:
            out[rel] = p.read_bytes()
    return out
