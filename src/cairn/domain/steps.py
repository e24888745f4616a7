"""Progress steps and the next action, and the seed's progress file rendered from them."""

from __future__ import annotations

from cairn.core.errors import NotFound, ValidationError
from cairn.core.model import STEP_STATES, Step, Task
from cairn.domain import step_view
from cairn.domain.base import canonical, canonical_id, now
from cairn.domain.checkpoints import PROGRESS, artifact_path, content_hash
from cairn.domain.journal import append
from cairn.domain.notices import Change
from cairn.domain.tasks import get_task, load

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cairn.domain.base import Site
    from cairn.store import Transaction

STEP_ALIASES = {
    "✅": "done",
    "⏳": "active",
    "⏸️": "todo",
    "⏸": "todo",
    "❌": "failed",
    "in-progress": "active",
    "in_progress": "active",
    "pending": "todo",
}

# The progress file shows at most this many steps; the store keeps them all.
PROGRESS_FILE_STEPS = step_view.LIMIT


def one_line(text: str) -> str:
    """A step or next action is one line: line breaks (and the blanks around them) become a space,
    so a pasted multi-line text cannot break the progress file, the status file or the brief."""
    if "\n" not in text and "\r" not in text:
        return text
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def progress(
    ws: Site, task_id: str, text: str, state: str = "done", phase: str | None = None
) -> Step:
    state = STEP_ALIASES.get(state, state)
    text = one_line(text)
    if state not in STEP_STATES:
        raise ValidationError(
            f"state {state!r} is not one of {', '.join(STEP_STATES)} "
            "(done ✅, active ⏳, todo ⏸️, failed ❌)"
        )
    text = text.strip()
    if not text or "\x00" in text or len(text) > 2000:
        raise ValidationError("a progress step is one line of 1-2000 characters, without NUL")
    task_id = canonical_id(ws, task_id)
    ws.before_write(task_id, "progress")
    ts = now()
    with ws.store.write() as tx:
        if phase is None:
            active = tx.tasks.active_phase(task_id)
            phase = active.name if active else None
        elif tx.tasks.phase(task_id, phase) is None:
            known = [p.name for p in tx.tasks.phases(task_id)]
            raise NotFound(
                f"task {task_id!r} has no phase {phase!r}; its phases are "
                f"{', '.join(known) or '(none)'} (leave the phase out to use the active one)"
            )
        existing = tx.steps.by_text(task_id, text)
        if existing is not None:
            row = tx.steps.update(existing.id, state=state, phase=phase, ts=ts)
        else:
            row = tx.steps.add(task_id, phase, text, state, ts)
        view = step_view.take(ws.store, task_id, tx.events.last_id())
        total = tx.steps.count(task_id)
        if view is None or not step_view.advance(view, row, existing is None, total):
            view = step_view.read(tx, task_id, total)
        digest = record_progress(ws, tx, task_id, ts, view)
        event = append(
            tx,
            task_id,
            "step.recorded",
            ts,
            step=row.id,
            text=text,
            state=state,
            phase=phase,
            progress_hash=digest,
        )
    step_view.keep(ws.store, task_id, view, event)
    ws.announce(Change("checkpoint", task_id, "progress"))
    return Step(row.id, task_id, phase, text, state, ts, ts)


def set_next(ws: Site, task_id: str, text: str) -> Task:
    text = one_line(text).strip()
    if not text or "\x00" in text or len(text) > 2000:
        raise ValidationError("the next action is one line of 1-2000 characters, without NUL")
    task_id = canonical_id(ws, task_id)
    # The next action is rendered into the progress file: ingest a hand edit of it first.
    ws.before_write(task_id, "progress")
    ts = now()
    with ws.store.write() as tx:
        tx.tasks.set_next_action(task_id, text, ts)
        # The steps did not change: a view remembered from the last step still holds.
        view = step_view.take(ws.store, task_id, tx.events.last_id())
        if view is None:
            view = step_view.read(tx, task_id, tx.steps.count(task_id))
        digest = record_progress(ws, tx, task_id, ts, view)
        event = append(tx, task_id, "next.set", ts, text=text, progress_hash=digest)
    step_view.keep(ws.store, task_id, view, event)
    ws.announce(Change("checkpoint", task_id, "progress"))
    return get_task(ws, task_id)


def steps(
    ws: Site, task_id: str, *, limit: int | None = None, phase: str | None = None
) -> list[Step]:
    """Progress steps of a task (or of one of its phases), oldest first; ``limit``: the last N."""
    with ws.store.read() as tx:
        task_id = canonical(tx, task_id).id
        return steps_in(tx, task_id, limit, phase)


def steps_in(
    tx: Transaction, task_id: str, limit: int | None = None, phase: str | None = None
) -> list[Step]:
    # The store's rows are the domain's steps (StepRow = Step, frozen): no copy.
    return tx.steps.of_task(task_id, phase=phase, limit=limit)


def render_progress_doc(
    ws: Site, tx: Transaction, task_id: str, view: step_view.View | None = None
) -> str:
    """The seed's progress file, from the steps (bounded view) and the next action; ``view``:
    the steps shown, when the caller has them."""
    from cairn.core.templates import progress_text, render_progress_lines

    task = load(tx, canonical(tx, task_id))
    if view is None:
        view = step_view.read(tx, task_id, tx.steps.count(task_id))
    text = progress_text(task, view.lines(), omitted=view.total - view.shown())
    if len(text) > ws.config.max_checkpoint_bytes // 4 and (
        len(text.encode("utf-8")) > ws.config.max_checkpoint_bytes
    ):
        shown = tx.steps.lines(task_id, limit=20)
        text = render_progress_lines(task, shown, omitted=view.total - len(shown))
    return text


def record_progress(
    ws: Site, tx: Transaction, task_id: str, ts: str, view: step_view.View | None = None
) -> str:
    """Render the progress file and keep it as the task's one progress text (replaced, not a new
    checkpoint version: a step costs the same at step 10 and step 100,000); the projector writes
    it. Returns its hash, which the step's event carries."""
    text = render_progress_doc(ws, tx, task_id, view)
    digest = content_hash(text.encode("utf-8"))
    tx.steps.put_doc(task_id, text, digest, ts)
    tx.projections.record(artifact_path(ws, task_id, PROGRESS), task_id, PROGRESS, digest)
    return digest
