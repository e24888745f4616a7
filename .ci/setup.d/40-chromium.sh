#!/usr/bin/env bash
# Headless Chromium from Debian's archive for the dashboard's browser tests (tests/test_ui_browser.py).
# Playwright's Python package drives it at /usr/bin/chromium; no browser is downloaded
# (`playwright install` is never run).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
