"""``python -m cairn.hooks EVENT``: the entry point that installed hook commands name.

Hook configurations written by earlier versions call this module, so it stays here as a thin
interface while the hook logic lives in :mod:`cairn.integrations.hooks`.
"""

from __future__ import annotations

import gc

from cairn.core.stdlib_start import import_pathlib

if __name__ == "__main__":
    gc.disable()  # a process that ends with the hook: no cycle collection (see cairn.cli.main)
import_pathlib()  # before anything below imports pathlib: see cairn.core.stdlib_start

from cairn.core.procs import exit_now  # noqa: E402
from cairn.integrations.hooks import main  # noqa: E402

if __name__ == "__main__":
    exit_now(main())  # a fresh process at every agent event: no interpreter teardown
