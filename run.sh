#!/usr/bin/env bash
# Set up cairn in ./.venv (idempotent) and run the main job: `cairn demo` (Finding #4 end to end).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
exec .venv/bin/cairn demo "$@"
