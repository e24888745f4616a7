"""Checkpoints: versioned documents of a task, written whole, validated once at the boundary."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from cairn.core import names, record
from cairn.core.errors import NotFound, ValidationError
from cairn.core.model import Checkpoint
from cairn.domain.base import canonical, canonical_id, now
from cairn.domain.journal import append
from cairn.domain.notices import Change
from cairn.store.contract.checkpoints import CheckpointRow

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cairn.core.config import Config
    from cairn.domain.base import Site
    from cairn.store import Transaction
    from cairn.store.contract.projections import ProjectionRow


PROGRESS = "progress"  # the kind rendered from the progress steps


def content_hash(data: bytes) -> str:
    import hashlib  # here: loading OpenSSL costs a command that hashes nothing ~2 ms

    return hashlib.sha256(data).hexdigest()


def artifact_path(ws: Site, task_id: str, kind: str) -> str:
    return f"{ws.config.artifacts_dir}/{names.artifact_stem(task_id, kind)}.md"


def coerce_content(config: Config, content: str | bytes) -> tuple[str, bytes]:
    if isinstance(content, bytes):
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValidationError(
                f"checkpoint content is not UTF-8 (byte 0x{content[exc.start]:02x} at offset "
                f"{exc.start}); convert it, e.g. `iconv -t UTF-8`, and write again"
            ) from exc
        data = content
    else:
        text = content
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValidationError(
                f"checkpoint content holds text that cannot be UTF-8 ({exc.reason} at "
                f"{exc.start}); clean it and write again"
            ) from exc
    if "\x00" in text:
        raise ValidationError("checkpoint content holds NUL bytes; checkpoints are text")
    limit = config.max_checkpoint_bytes
    if len(data) > limit:
        raise ValidationError(
            f"checkpoint is {len(data):,} bytes, over the {limit:,}-byte limit; write a "
            "summary and keep the bulk in a file it names (or raise [checkpoints] max_bytes)"
        )
    return text, data


def to_checkpoint(ws: Site, r: CheckpointRow, path: str | None = None) -> Checkpoint:
    return Checkpoint(
        r.task_id,
        r.kind,
        r.version,
        r.hash,
        r.size,
        r.phase,
        r.source,
        r.files,
        r.created_at,
        artifact_path(ws, r.task_id, r.kind) if path is None else path,
        r.content,
    )


def reload_path(ws: Site, rel: str) -> str:
    p = names.inside(ws.root, rel, "file to reload")
    return p.relative_to(ws.root.resolve()).as_posix()


def write_checkpoint(
    ws: Site,
    task_id: str,
    kind: str,
    content: str | bytes,
    *,
    files: Iterable[str] = (),
    phase: str | None = None,
    source: str = "write",
) -> Checkpoint:
    names.kind(kind)
    text, data = coerce_content(ws.config, content)
    file_list = tuple(dict.fromkeys(reload_path(ws, f) for f in files)) if files else ()
    task_id = canonical_id(ws, task_id)
    # A hand edit of this very artifact must be ingested before it is overwritten; the check
    # needs the stored id, not the caller's spelling of it.
    ws.before_write(task_id, kind)
    ts = now()
    # Scoped to the task: on PostgreSQL, writers of other tasks need not wait for this one.
    with ws.store.write(task=task_id) as tx:
        # ``last``: nothing follows in this transaction (on PostgreSQL, one round trip in all).
        cp = insert_checkpoint(
            ws, tx, task_id, kind, text, data, file_list, phase, source, ts, last=True
        )
    ws.announce(Change("checkpoint", cp.task_id, kind, cp))
    return cp


def insert_checkpoint(
    ws: Site,
    tx: Transaction,
    task_id: str,
    kind: str,
    text: str,
    data: bytes,
    files: tuple[str, ...],
    phase: str | None,
    source: str,
    ts: str,
    *,
    last: bool = False,
) -> Checkpoint:
    """Store the next version of (task, kind) inside the caller's transaction; ``task_id`` is the
    canonical id. A ``phase`` of None is the task's active phase. ``last``: the caller's
    transaction does nothing more (the store may commit it with this write)."""
    path = artifact_path(ws, task_id, kind)
    digest = content_hash(data)
    # One step: the version, the path's claim, the task's touch and the journal entry
    # (``checkpoint.written``, store/contract/checkpoints.py).
    done = tx.checkpoints.write(
        task_id,
        kind,
        text,
        hash=digest,
        size=len(data),
        phase=phase,
        source=source,
        files=files,
        ts=ts,
        path=path,
        last=last,
    )
    if done.added is not None:
        return to_checkpoint(ws, done.added, path)
    if done.unchanged is None:
        # The path is taken by another (task, kind): the error rolls the transaction back.
        _refuse_taken(done.owner, path, "", "")
        raise AssertionError("a write found its path taken by nobody")
    # The same document again (a retry, an agent re-saving): one version is enough, and the
    # caller is told so rather than shown a version number that did not move.
    _refuse_taken(done.owner, path, task_id, kind)
    return record.replace(to_checkpoint(ws, done.unchanged, path), content=text, unchanged=True)


def _refuse_taken(owner: ProjectionRow | None, path: str, task_id: str, kind: str) -> None:
    """The error for a path held by another (task, kind); ``""`` for both: held at all."""
    if owner is not None and (owner.task_id, owner.kind) != (task_id, kind):
        raise ValidationError(
            f"{path} already holds task {owner.task_id!r} kind {owner.kind!r}; "
            "choose another kind name"
        )


def migrate_artifact_names(ws: Site) -> list[tuple[str, str]]:
    """Move artifacts written under the old names (before ``names.artifact_stem`` doubled a
    ``_`` in task ids) to their new ones, once, when store migration 0008 left the note.

    The files move inside the write transaction, before it commits: killed midway, the note is
    still there and the next open finishes the job (a file already moved is simply not found at
    its old name). A new name already taken by another artifact is left alone and journaled.
    Returns the (old, new) paths moved."""
    import os

    moved: list[tuple[str, str]] = []
    with ws.store.read() as tx:
        if tx.meta.get("artifact_names") != "rename":
            return moved
    with ws.store.write() as tx:
        if tx.meta.get("artifact_names") != "rename":
            return moved  # another process did it meanwhile
        ts = now()
        for row in tx.projections.all():
            new = artifact_path(ws, row.task_id, row.kind)
            if row.path == new:
                continue
            taken = tx.projections.owner(new)
            if taken is not None and taken.path != row.path:
                append(tx, row.task_id, "artifact.rename_skipped", ts, path=row.path, to=new)
                continue
            tx.projections.move(row.path, new)
            old_file, new_file = ws.root / row.path, ws.root / new
            if os.path.lexists(old_file) and not os.path.lexists(new_file):
                os.replace(old_file, new_file)
            append(tx, row.task_id, "artifact.renamed", ts, path=row.path, to=new)
            moved.append((row.path, new))
        tx.meta.delete("artifact_names")
    return moved


# -- the progress document: rendered from the steps, not stored per step ---------------------------
def live_progress(ws: Site, tx: Transaction, task_id: str) -> CheckpointRow | None:
    """The task's progress document as it stands: its stored newest version when that came last
    (a hand edit of the progress file), else the rendering of the steps, numbered one past the
    stored versions."""
    stored = tx.checkpoints.newest(task_id, PROGRESS)
    doc = tx.steps.doc(task_id)
    if doc is None:
        return stored
    if stored is not None:
        expected = tx.projections.get(artifact_path(ws, task_id, PROGRESS))
        if expected is not None and expected.hash == stored.hash:
            return stored
    return CheckpointRow(
        task_id,
        PROGRESS,
        (stored.version if stored else 0) + 1,
        doc.hash,
        len(doc.content.encode("utf-8")),
        None,
        "progress",
        (),
        doc.updated_at,
        stored.seq if stored else 0,
        doc.content,
    )


def artifact_content(ws: Site, task_id: str, kind: str) -> tuple[str, str] | None:
    """What the artifact of (task, kind) should hold, and its hash; None before any version."""
    with ws.store.read() as tx:
        if kind == PROGRESS:
            row = live_progress(ws, tx, task_id)
        else:
            row = tx.checkpoints.newest(task_id, kind)
    return (row.content or "", row.hash) if row is not None else None


# A progress file left behind by writers killed before projecting is one of the recent renders;
# each step's event carries the hash of the render it made.
_RENDER_EVENTS = ("step.recorded", "next.set")
_RENDERS_LOOKED_AT = 200


def is_known_content(ws: Site, task_id: str, kind: str, digest: str) -> bool:
    """Whether ``digest`` is content cairn itself wrote for (task, kind): a stored version, or
    for progress a recent rendering. Such a file is stale, not a hand edit."""
    with ws.store.read() as tx:
        if tx.checkpoints.by_hash(task_id, kind, digest) is not None:
            return True
        if kind != PROGRESS:
            return False
        doc = tx.steps.doc(task_id)
        if doc is not None and doc.hash == digest:
            return True
        events = tx.events.query(task_id=task_id, types=_RENDER_EVENTS, limit=_RENDERS_LOOKED_AT)
    return any(e.data.get("progress_hash") == digest for e in events)


def get_checkpoint(ws: Site, task_id: str, kind: str, version: int | None = None) -> Checkpoint:
    names.kind(kind)
    with ws.store.read() as tx:
        task_id = canonical(tx, task_id).id
        live = live_progress(ws, tx, task_id) if kind == PROGRESS else None
        if version is None:
            row = live if kind == PROGRESS else tx.checkpoints.newest(task_id, kind)
        elif live is not None and live.version == version:
            row = live
        else:
            row = tx.checkpoints.get(task_id, kind, version)
            if row is None:
                have = tx.checkpoints.version_range(task_id, kind)
                if have is not None and live is not None:
                    have = (have[0], live.version)
                if have is not None:
                    lo, hi = have
                    span = f"version {lo}" if lo == hi else f"versions {lo}-{hi}"
                    raise NotFound(
                        f"no version {version} of checkpoint {kind!r} for task {task_id!r}; it "
                        f"has {span} (`cairn checkpoint history {task_id} {kind}`)"
                    )
        if row is None:
            kinds = tx.checkpoints.kinds(task_id)
            which = f"version {version} of " if version else ""
            raise NotFound(
                f"no {which}checkpoint {kind!r} for task {task_id!r}; it has: "
                f"{', '.join(kinds) or 'no checkpoints yet'}"
            )
    return to_checkpoint(ws, row)


def has_checkpoint(ws: Site, task_id: str, kind: str) -> bool:
    with ws.store.read() as tx:
        task_id = canonical(tx, task_id).id
        if kind == PROGRESS:
            return live_progress(ws, tx, task_id) is not None
        return tx.checkpoints.newest(task_id, kind, content=False) is not None


def newest_each_kind(ws: Site, task_id: str) -> list[tuple[Checkpoint, int]]:
    """The newest version of each kind (without content) and the number of versions."""
    with ws.store.read() as tx:
        task_id = canonical(tx, task_id).id
        rows = tx.checkpoints.newest_each_kind(task_id)
        live = live_progress(ws, tx, task_id)
    if live is not None:
        live = record.replace(live, content=None)
        at = next((i for i, r in enumerate(rows) if r.kind == PROGRESS), None)
        if at is None:
            rows.append(live)
        else:
            rows[at] = live
    return [(to_checkpoint(ws, r), r.version) for r in rows]


def history(ws: Site, task_id: str, kind: str) -> list[Checkpoint]:
    with ws.store.read() as tx:
        task_id = canonical(tx, task_id).id
        rows = tx.checkpoints.history(task_id, kind)
        live = live_progress(ws, tx, task_id) if kind == PROGRESS else None
    if live is not None and (not rows or live.version > rows[-1].version):
        rows.append(record.replace(live, content=None))
    return [to_checkpoint(ws, r) for r in rows]


def newest_checkpoint(
    ws: Site,
    task_id: str,
    *,
    exclude: Sequence[str] = ("progress",),
    with_content: bool = True,
) -> Checkpoint | None:
    with ws.store.read() as tx:
        task_id = canonical(tx, task_id).id
        if PROGRESS in exclude:
            row = tx.checkpoints.newest_of_task(task_id, exclude=exclude, content=with_content)
        else:
            row = tx.checkpoints.newest_of_task(
                task_id, exclude=(*exclude, PROGRESS), content=with_content
            )
            live = live_progress(ws, tx, task_id)
            if live is not None and (row is None or live.created_at >= row.created_at):
                row = live if with_content else record.replace(live, content=None)
    return to_checkpoint(ws, row) if row else None
