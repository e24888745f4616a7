"""Artifacts: the newest version of each checkpoint kind as a file, and hand edits of those files.

A file is written from the version the domain handed over when that is still the newest (one
look-up of the projection row says so), else from the store. Before a file is replaced,
what is on it is compared with what this process last wrote or saw there (a ``stat``), and only
a file that changed is read and hashed: a hand edit becomes a version of its own, a stale copy
(its writer was killed before projecting) is simply replaced.
"""

from __future__ import annotations

import os
from pathlib import Path

from cairn.core.fsutil import atomic_write
from cairn.domain.checkpoints import content_hash
from cairn.projection.reading import NotReadable, read_inside

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cairn.core.model import Checkpoint
    from cairn.domain.workspace import Workspace
    from cairn.store.contract.projections import ProjectionRow


def projection_row(ws: Workspace, rel: str) -> ProjectionRow | None:
    """The projection row of an artifact path, matched as the store matches names (by case)."""
    with ws.store.read() as tx:
        return tx.projections.owner(rel)


def is_stored_version(ws: Workspace, row: ProjectionRow, digest: str) -> bool:
    """Whether ``digest`` is content cairn wrote there (left behind by writers killed in a row)."""
    return ws.is_known_content(row.task_id, row.kind, digest)


class Artifacts:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.prefix = str(root) + os.sep
        # Folders already checked, by (device, inode) of what the path led to: one stat instead
        # of a full resolve per write, and a folder swapped for a symlink is checked again.
        self._checked: dict[str, tuple[int, int, Path]] = {}
        # path -> (mtime_ns, size, sha256) of the file as this process last wrote or read it:
        # a file that still stats the same holds that, without reading it again.
        self.seen: dict[str, tuple[int, int, str]] = {}
        # One line per file set aside unread (a link leading outside, a FIFO): a command prints
        # them (``take_warnings``); the journal has each as ``checkpoint.link_refused``.
        self.warnings: list[str] = []

    def take_warnings(self) -> list[str]:
        out, self.warnings = self.warnings, []
        return out

    def target(self, rel: str) -> Path:
        """The file a projection writes, refused if a symlinked folder would put it outside the
        workspace (a final symlink is harmless: the atomic rename replaces the link itself)."""
        parent, _, name = rel.rpartition("/")
        return self._folder(rel, parent) / name

    def check_folder(self, rel: str) -> None:
        """``target`` without making the path: refuses the same folders."""
        self._folder(rel, rel.rpartition("/")[0])

    def _folder(self, rel: str, parent: str) -> Path:
        try:
            st = os.stat(self.prefix + parent)
            seen = self._checked.get(parent)
            if seen is not None and seen[:2] == (st.st_dev, st.st_ino):
                return seen[2]
        except FileNotFoundError:
            st = None
        root = self.root.resolve()
        folder = (root / rel).parent.resolve()
        if folder != root and root not in folder.parents:
            from cairn.core.errors import ValidationError  # here: not on every write's path

            raise ValidationError(
                f"{rel} would be written to {folder}, outside the workspace {root} (a symlinked "
                "folder?); nothing was written there. Make it a plain folder inside the workspace: "
                "what is recorded stays in the store and `cairn refresh` writes the file then"
            )
        if st is not None:
            self._checked[parent] = (st.st_dev, st.st_ino, folder)
        return folder

    def on_disk(
        self, rel: str, row: ProjectionRow | None = None, ws: Workspace | None = None
    ) -> tuple[str, bytes | None] | None:
        """(sha256, bytes or None when not read) of the file, or None when there is none. Read
        only when it differs from what was last written or seen there (or recorded in ``row``).
        A link leading outside the workspace, or anything but a regular file, is not read: it is
        set aside (``set_aside``) and counts as no file, so the store's version is written back."""
        try:
            st = os.stat(self.prefix + rel)
        except FileNotFoundError:
            return None
        known = self.seen.get(rel)
        if known is not None and known[:2] == (st.st_mtime_ns, st.st_size):
            return known[2], None
        if row is not None and (row.mtime_ns, row.size) == (st.st_mtime_ns, st.st_size):
            self.seen[rel] = (st.st_mtime_ns, st.st_size, row.hash)
            return row.hash, None
        try:
            data = read_inside(self.root, self.prefix + rel)
        except FileNotFoundError:
            return None
        except NotReadable as exc:
            self.set_aside(ws, rel, row.task_id if row else None, exc)
            return None
        digest = content_hash(data)
        self.seen[rel] = (st.st_mtime_ns, st.st_size, digest)
        return digest, data

    def write(self, rel: str, data: bytes, digest: str) -> tuple[int, int]:
        path = self.target(rel)
        atomic_write(path, data)
        st = os.stat(path)
        self.seen[rel] = (st.st_mtime_ns, st.st_size, digest)
        return st.st_mtime_ns, st.st_size

    def project(
        self, ws: Workspace, row: ProjectionRow, handed: Checkpoint | None, written: list[Any]
    ) -> bool:
        """Bring one artifact in line with its projection row (read under the projection lock).
        Returns whether a hand edit was ingested instead."""
        rel = row.path
        self.target(rel)  # refuse a folder that leads outside before anything else
        found = self.on_disk(rel, row, ws)
        if found is not None:
            digest, data = found
            if digest == row.hash:
                return False  # already the newest version
            if data is not None and self.is_hand_edit(ws, row, digest):
                # Edited by hand after the last check (e.g. while a write committed): the edit
                # is now the newest version, kept as it is rather than overwritten.
                return self.ingest(ws, row, data)
        if handed is not None and handed.hash == row.hash and handed.content is not None:
            content, digest = handed.content, row.hash
        else:  # not handed over, or another writer committed a newer one since
            newest = ws.artifact_content(row.task_id, row.kind)
            if newest is None:
                return False
            content, digest = newest
        mtime, size = self.write(rel, content.encode("utf-8"), digest)
        written.append((mtime, size, rel, digest))
        return False

    def adopt(self, ws: Workspace, rel: str, task_id: str, kind: str) -> bool:
        """Keep a file found where a first version is about to be projected (left by a store that
        was re-initialised, a restored copy, a planted file) as version 1, source hand-edit, so
        that the write about to follow supersedes it and the history keeps it."""
        from cairn.core.errors import CairnError
        from cairn.domain.workspace import now

        self.target(rel)
        try:
            found = read_inside(self.root, self.prefix + rel)
        except FileNotFoundError:
            return False
        except NotReadable as exc:
            self.set_aside(ws, rel, task_id, exc)
            return False
        try:
            text, data = ws._coerce_content(found)
        except CairnError:
            return False  # not storable: the write replaces it (as before adoption existed)
        with ws.store.write() as tx:
            if tx.projections.owner(rel) is not None:
                return False  # projected meanwhile: no longer a stranger's file
            cp = ws._insert_checkpoint(tx, task_id, kind, text, data, (), None, "hand-edit", now())
        st = os.stat(self.root / rel)
        self.seen[rel] = (st.st_mtime_ns, st.st_size, cp.hash)
        record(ws, [(st.st_mtime_ns, st.st_size, rel, cp.hash)])
        return True

    def set_aside(
        self, ws: Workspace | None, rel: str, task_id: str | None, exc: NotReadable
    ) -> None:
        """Move what is at ``rel`` (the link itself, not what it leads to) next to the artifact,
        where no write replaces it, so the artifact can be written back from the store: nothing is
        read through it, nothing is lost. Said once in the journal and once on the command's
        standard error."""
        from cairn.domain.workspace import now

        stamp = now().replace("-", "").replace(":", "").replace(".", "")
        kept = f"{rel}.refused-{stamp}"
        try:
            os.replace(self.prefix + rel, self.prefix + kept)
        except FileNotFoundError:
            return
        self.seen.pop(rel, None)
        where = f" ({exc.dest})" if exc.dest else ""
        self.warnings.append(
            f"{rel} is {exc.why}{where}: not read; it was moved to {kept} and the artifact is "
            "the store's newest version again"
        )
        if ws is not None:
            ws.record_event(
                task_id, "checkpoint.link_refused", path=rel, reason=exc.why, dest=exc.dest,
                kept_as=kept,
            )  # fmt: skip

    def is_hand_edit(self, ws: Workspace, row: ProjectionRow, digest: str) -> bool:
        return digest != row.prev_hash and not is_stored_version(ws, row, digest)

    def ingest(self, ws: Workspace, row: ProjectionRow, data: bytes) -> bool:
        from cairn.core.errors import CairnError
        from cairn.domain.workspace import now

        try:
            text, data = ws._coerce_content(data)
        except CairnError as exc:
            # Not storable (not UTF-8, over the size limit). The person's bytes are moved next to
            # the artifact, where no write replaces them, and the artifact gets the store's
            # newest version back: nothing is lost, and the refusal is journaled once.
            stamp = now().replace("-", "").replace(":", "").replace(".", "")
            kept = f"{row.path}.refused-{stamp}"
            try:
                os.replace(self.root / row.path, self.root / kept)
            except FileNotFoundError:
                return False
            self.seen.pop(row.path, None)
            ws.record_event(
                row.task_id,
                "checkpoint.hand_edit_refused",
                path=row.path,
                reason=str(exc),
                kept_as=kept,
            )
            self.project(ws, row, None, [])
            return False
        with ws.store.write() as tx:
            current = tx.projections.get(row.path)
            if current is None or current.hash != row.hash:
                return False  # another process wrote meanwhile; the next reconcile looks again
            cp = ws._insert_checkpoint(
                tx, row.task_id, row.kind, text, data, (), None, "hand-edit", now()
            )
        st = os.stat(self.root / row.path)
        self.seen[row.path] = (st.st_mtime_ns, st.st_size, cp.hash)
        record(ws, [(st.st_mtime_ns, st.st_size, row.path, cp.hash)])
        return True


def record(ws: Workspace, written: list[tuple[int, int, str, str]]) -> None:
    """Note size and mtime of files just written, so that another process's check can tell them
    unchanged by a stat. Derived data: not worth an fsync."""
    if not written:
        return
    with ws.store.light_write(rows_only=True) as wtx:
        for mtime, size, rel, digest in written:
            wtx.projections.set_stat(rel, mtime, size, hash=digest)
