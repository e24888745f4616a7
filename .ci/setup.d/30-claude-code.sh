#!/usr/bin/env bash
# The real Claude Code for tests/real_clients/claude: Node from Debian's archive if missing, then a
# pinned @anthropic-ai/claude-code from the npm registry. npm 11 does not run the package's
# postinstall (install.cjs, which puts the native binary in place of bin/claude.exe) unless allowed,
# so it is run by hand when `claude --version` does not answer. Idempotent: a second run only checks.
set -euo pipefail
CLAUDE_CODE_VERSION=${CLAUDE_CODE_VERSION:-2.1.332}

if ! command -v npm >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nodejs npm >/dev/null
fi

have=$(claude --version 2>/dev/null | awk '{print $1}' || true)
if [ "$have" != "$CLAUDE_CODE_VERSION" ]; then
  npm install -g --silent --no-fund --no-audit "@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}"
  have=$(claude --version 2>/dev/null | awk '{print $1}' || true)
  if [ "$have" != "$CLAUDE_CODE_VERSION" ]; then
    (cd "$(npm root -g)/@anthropic-ai/claude-code" && node install.cjs)
    have=$(claude --version 2>/dev/null | awk '{print $1}' || true)
  fi
fi
if [ "$have" != "$CLAUDE_CODE_VERSION" ]; then
  echo "setup: Claude Code ${CLAUDE_CODE_VERSION} did not install (claude --version: ${have:-none})" >&2
  exit 1
fi
echo "setup: Claude Code $have"
