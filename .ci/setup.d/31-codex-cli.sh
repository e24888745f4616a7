#!/usr/bin/env bash
# The real Codex CLI for tests/real_clients/codex: Node from Debian's archive when missing, then a
# pinned @openai/codex from the npm registry (the package carries its native binary; nothing else
# is downloaded), and git. Idempotent: does nothing when that version is installed already.
set -euo pipefail
CODEX_VERSION=${CAIRN_CODEX_VERSION:-0.171.0}

# git too: `codex exec` runs only inside a git repository.
missing=()
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
command -v git >/dev/null 2>&1 || missing+=(git)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if command -v codex >/dev/null 2>&1 && codex --version 2>/dev/null | grep -qx "codex-cli ${CODEX_VERSION}"; then
  exit 0
fi
npm install -g --no-fund --no-audit --loglevel=error "@openai/codex@${CODEX_VERSION}" >/dev/null
codex --version
