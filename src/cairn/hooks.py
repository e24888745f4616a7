"""``python -m cairn.hooks EVENT``: the entry point that installed hook commands name.

Hook configurations written by earlier versions call this module, so it stays here as a thin
interface while the hook logic lives in :mod:`cairn.integrations.hooks`.
"""

from __future__ import annotations

from cairn.core.procs import exit_now
from cairn.integrations.hooks import main

if __name__ == "__main__":
    exit_now(main())  # a fresh process at every agent event: no interpreter teardown
