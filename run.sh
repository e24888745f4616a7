#!/usr/bin/env bash
# Set up cairn in ./.venv (idempotent) and run the main job: the scripted demo session.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
exec .venv/bin/python examples/scripted_session.py "$@"
