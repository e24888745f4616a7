"""The AGENTS.md / CLAUDE.md section that teaches an agent the checkpoint strategy with cairn.

The section sits between two marker lines; writing it again replaces only what is between them, so
it is idempotent and leaves the rest of the file as it was.
"""

from __future__ import annotations

from pathlib import Path

BEGIN = "<!-- cairn:begin (written by `cairn hooks agents-md`; edits inside are replaced) -->"
END = "<!-- cairn:end -->"

SECTION = """\
## Long autonomous work with cairn

Context compaction can happen at any moment and you cannot choose when. Keep the work's state in
cairn, not in your context, so that every phase boundary is a safe point for compaction.

- **Where am I?** `cairn status` (also `CURRENT_WORK_STATUS.md`); `cairn recover --no-log` prints
  the recovery brief: task, phase, newest checkpoint, next action, files to reload.
- **Cut work into phases** that can each run from checkpoint files alone:
  `cairn task new T --phases analysis,plan,implement,test`, then `cairn phase start T analysis`.
  Load only the checkpoint and the files the phase needs.
- **Checkpoint before every major context shift** and at the end of each phase:
  `cairn checkpoint write T plan --file plan.md --reload src/x.py` (projected to
  `artifacts/T_plan.md`; `cairn checkpoint template plan` shows the seed's layout).
- **Record incremental progress**: `cairn progress T "Added k parameter"` (✅) as each step ends;
  `--state active` when a long step begins (⏳). Keep the next action current: `cairn next T "…"`.
- **End the phase**: `cairn phase done T analysis` (or `cairn phase fail T implement --error …`).
- **Prefer files over memory**: stream bulk results to JSONL files as you go.
- **Keep the main context clean**: hand work that reads >500 lines or writes >100 lines to a
  subagent and keep only its summary.
- **After a compaction** the SessionStart hook injects the brief: reload the files it lists, read
  the newest checkpoint, continue from the next action. If it says the compaction came mid-phase,
  re-check what was done after the last checkpoint before going on.
- The same operations are tools of the `cairn` MCP server (`status`, `recover`, `checkpoint_write`,
  `progress`, `phase_done`, `next_action`, …).
"""


def block() -> str:
    return f"{BEGIN}\n{SECTION}{END}\n"


def upsert(path: Path) -> bool:
    """Write or refresh the section in ``path``; returns whether the file changed."""
    from cairn.core.errors import UsageError
    from cairn.core.fsutil import atomic_write

    old = path.read_text(encoding="utf-8") if path.exists() else ""
    start, end = old.find(BEGIN), old.find(END)
    if (start == -1) != (end == -1) or (start != -1 and end < start):
        raise UsageError(
            f"{path} holds only one of cairn's markers; remove the stray marker line and run again"
        )
    if start == -1:
        sep = "" if not old or old.endswith("\n\n") else ("\n" if old.endswith("\n") else "\n\n")
        new = old + sep + block()
    else:
        tail = old[end + len(END) :]
        new = old[:start] + block() + tail.removeprefix("\n")
    if new == old:
        return False
    atomic_write(path, new.encode("utf-8"))
    return True


def remove(path: Path) -> bool:
    """Take the section out of ``path``; returns whether the file changed."""
    from cairn.core.fsutil import atomic_write

    if not path.exists():
        return False
    old = path.read_text(encoding="utf-8")
    start, end = old.find(BEGIN), old.find(END)
    if start == -1 or end < start:
        return False
    head = old[:start].rstrip("\n")
    tail = old[end + len(END) :].lstrip("\n")
    if head:
        head += "\n\n" if tail else "\n"
    atomic_write(path, (head + tail).encode("utf-8"))
    return True
