#!/usr/bin/env bash
# Headless Chromium from Debian's archive for the dashboard's browser tests (tests/test_ui_browser.py).
# Playwright's Python package drives it at /usr/bin/chromium; no browser is downloaded
# (`playwright install` is never run).
set -euo pipefail
# The emoji font: step and phase icons (✅ ⏳ ⏸️ ❌) are emoji in checkpoints and the status.
if [ -x /usr/bin/chromium ] && [ -d /usr/share/fonts/truetype/noto ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core \
  fonts-noto-color-emoji >/dev/null
/usr/bin/chromium --version 2>/dev/null | head -1
