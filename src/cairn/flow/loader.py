"""Loading a workflow file for ``cairn run``.

The file is executed with ``__name__ == "__cairn_run__"``, so a ``task.run()`` guarded by
``if __name__ == "__main__":`` does not fire while loading; ``cairn run`` then runs every task the
file created (or the one named with ``--task``). A task the file already ran while loading is not
run a second time. The file's folder is put first on ``sys.path`` so it can import its neighbours.
"""

from __future__ import annotations

import runpy
import sys
import traceback
from pathlib import Path

from cairn.core.errors import CairnError, UsageError
from cairn.flow import project
from cairn.flow.durable import TaskHandle

RUN_NAME = "__cairn_run__"


class WorkflowError(CairnError):
    """The workflow file could not be loaded (syntax error, exception at import time)."""


def load_workflow(path: str | Path) -> list[TaskHandle]:
    """Execute the workflow file and return the task handles it created, in creation order."""
    file = Path(path)
    shown = str(path)
    if not file.is_file():
        raise UsageError(f"no workflow file {shown}; give the path of a Python file")
    source = file.read_bytes()
    try:
        compile(source, shown, "exec")
    except SyntaxError as exc:
        where = f"{shown}:{exc.lineno}" if exc.lineno else shown
        raise WorkflowError(
            f"{where}: syntax error: {exc.msg}; fix the file and run again (nothing was run)"
        ) from None
    before = len(project._CREATED)
    folder = str(file.resolve().parent)
    sys.path.insert(0, folder)
    project.LOADING += 1
    try:
        runpy.run_path(str(file), run_name=RUN_NAME)
    except CairnError:
        raise
    except SystemExit as exc:
        raise WorkflowError(f"{shown} called sys.exit({exc.code}) while loading") from None
    except Exception as exc:
        line = _line_in(exc, file)
        raise WorkflowError(
            f"{shown}{line}: {type(exc).__name__}: {exc} while loading the workflow; fix the "
            "file and run again"
        ) from exc
    finally:
        project.LOADING -= 1
        handles = project._CREATED[before:]
        del project._CREATED[before:]
    for h in handles:
        h.source = shown
    return handles


def _line_in(exc: BaseException, file: Path) -> str:
    target = str(file.resolve())
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        try:
            if str(Path(frame.filename).resolve()) == target:
                return f":{frame.lineno}"
        except OSError:
            continue
    return ""
