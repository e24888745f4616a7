"""The command the PostToolUse hook runs: ``python …/cairn/integrations/forecast_hook.py``.

Run as a script so that no part of the cairn package is imported below the forecast's threshold;
the work is in :mod:`cairn.integrations.forecast`, loaded here as the top-level module ``forecast``
from this folder (the script's folder comes first on ``sys.path``), so that its bytecode is cached,
which a script's own code never is.
"""

import sys

if __name__ == "__main__":
    sys.exit(__import__("forecast").main())
