#!/usr/bin/env bash
# PostgreSQL server binaries for the PostgreSQL store's tests (tests/pg.py starts a throw-away
# server from them in a temporary folder; nothing is left running). Debian's own package: on
# Debian 12 that is PostgreSQL 15. Idempotent: installs only when no server binaries are there.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# postgresql (not just the -client): initdb and pg_ctl; the packaged cluster is not needed.
$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
# The package starts its own cluster on 5432; the tests use their own, so stop it.
if command -v pg_lsclusters >/dev/null; then
  pg_lsclusters -h 2>/dev/null | while read -r ver name _; do
    $SUDO pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true
  done
fi
