"""``cairn store export FILE`` / ``import FILE`` / ``copy --to URL``: the workspace's store as a
portable, checked dump, and back (``cairn.store.dump`` has the format and the rules).

A file cairn writes stays inside the workspace; ``export -`` writes the dump to standard output for
anywhere else (``cairn store export - | gzip > /backup/cairn.jsonl.gz``). A dump is read from any
regular file (``.gz`` is read through gzip).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

from cairn.cli.common import open_ws
from cairn.core import names
from cairn.core.errors import UsageError

ORDER = 60


def register(sub: Any) -> None:
    p = sub.add_parser(
        "store",
        help="export the store to a checked dump, import one, or copy the store to another "
        "(SQLite ↔ PostgreSQL)",
    )
    s = p.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    e = s.add_parser("export", help="write a portable dump of the store (hashes per record)")
    e.add_argument("file", metavar="FILE", help="inside the workspace (.gz compresses); - : stdout")
    e.set_defaults(func=cmd_export)
    i = s.add_parser(
        "import", help="restore a dump into the store, checking every hash (all or nothing)"
    )
    i.add_argument("file", metavar="FILE", help="a dump from `cairn store export`")
    i.add_argument(
        "--replace",
        action="store_true",
        help="replace what the store holds (it is exported to .cairn/backups/ first)",
    )
    i.set_defaults(func=cmd_import)
    c = s.add_parser(
        "copy", help="copy the store into another store, checked by hashes; this one is unchanged"
    )
    c.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="postgresql://… or an SQLite file inside the workspace (created if missing)",
    )
    c.add_argument(
        "--replace", action="store_true", help="replace what the target store holds already"
    )
    c.set_defaults(func=cmd_copy)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S")


@contextlib.contextmanager
def _writer(path: Path) -> Iterator[IO[str]]:
    """A text file written beside ``path`` and moved into place, synced, once it is whole."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as raw:
            packed = gzip.GzipFile(fileobj=raw, mode="wb") if path.suffix == ".gz" else None
            text = io.TextIOWrapper(cast(IO[bytes], packed or raw), encoding="utf-8", newline="\n")
            yield text
            text.flush()
            text.detach()  # closing the wrapper would close the file before its sync
            if packed is not None:
                packed.close()  # writes the gzip trailer; the file stays open
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _export_to(store: Any, path: Path) -> int:
    from cairn.store.dump import Summary, dump_lines

    summary = Summary()
    path.parent.mkdir(parents=True, exist_ok=True)
    with _writer(path) as out:
        out.writelines(dump_lines(store, summary))
    return summary.records


def cmd_export(args: argparse.Namespace) -> int:
    from cairn.store.dump import Summary, dump_lines

    ws = open_ws(args, reconcile=False)
    if args.file == "-":
        summary = Summary()
        sys.stdout.writelines(dump_lines(ws.store, summary))
        sys.stdout.flush()
        print(f"exported {summary.records} records in {len(summary.sets)} sets", file=sys.stderr)
        return 0
    path = names.inside(ws.root, args.file, "export file")
    n = _export_to(ws.store, path)
    print(
        f"Exported {n} records to {path.relative_to(ws.root.resolve())}; restore with "
        "`cairn store import FILE` (into an empty store)"
    )
    return 0


@contextlib.contextmanager
def _reader(given: str) -> Iterator[IO[str]]:
    path = Path(given).expanduser()
    import stat

    try:  # without blocking: opening a FIFO would wait for a writer
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise UsageError(f"cannot read the dump {given}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UsageError(f"{given} is not a regular file; give the dump file itself")
    with open(fd, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
        fh.seek(0)
        binary = cast(IO[bytes], gzip.GzipFile(fileobj=fh, mode="rb") if gz else fh)
        with io.TextIOWrapper(binary, encoding="utf-8") as text:
            yield text


def cmd_import(args: argparse.Namespace) -> int:
    from cairn.store.contract.records import is_empty
    from cairn.store.dump import restore

    ws = open_ws(args, reconcile=False)
    backup = None
    if args.replace:
        with ws.store.read() as tx:
            holds = not is_empty(tx.records)
        if holds:  # what is replaced is kept
            backup = ws.cairn_dir / "backups" / f"store-before-import-{_stamp()}.jsonl.gz"
            _export_to(ws.store, backup)
    with _reader(args.file) as lines:
        try:
            loaded = restore(lines, ws.store, replace=args.replace)
        except (UnicodeDecodeError, OSError, EOFError) as exc:
            raise UsageError(
                f"the dump {args.file} cannot be read ({exc}); nothing was imported"
            ) from None
    ws.refresh()  # the readable tree, from what the store now holds
    kept = f"; the records it replaced are in {backup.relative_to(ws.root)}" if backup else ""
    print(f"Imported {loaded.records} records in {len(loaded.sets)} sets, every hash checked{kept}")
    return 0


def cmd_copy(args: argparse.Namespace) -> int:
    from cairn.store import open_store
    from cairn.store.dump import copy

    ws = open_ws(args, reconcile=False)
    url = str(args.to)
    if "://" not in url:
        target_path = names.inside(ws.root, url, "copy target")
        if target_path == Path(str(getattr(ws.store, "path", ""))).resolve():
            raise UsageError("the target is this workspace's own store; give another file or URL")
        target = open_store(target_path, create=True)
        shown = str(target_path.relative_to(ws.root.resolve()))
    else:
        target = open_store(url, create=True)
        shown = _redacted(url)
    try:
        loaded = copy(ws.store, target, replace=args.replace)
    finally:
        target.close()
    print(
        f"Copied {loaded.records} records in {len(loaded.sets)} sets to {shown}, every set's "
        "hash equal to the source's; this workspace's store is unchanged. To use the copy: "
        "`[store]` in .cairn/config.toml, or CAIRN_STORE"
    )
    return 0


def _redacted(url: str) -> str:
    """The URL without its password."""
    head, sep, rest = url.partition("://")
    cred, at, host = rest.rpartition("@")
    if not at:
        return url
    user = cred.split(":", 1)[0]
    return f"{head}{sep}{user}:***@{host}"
