#!/usr/bin/env bash
# Installs Debian's chromium for the HTML report's browser tests (tests/test_report_browser.py).
# Idempotent: does nothing when /usr/bin/chromium exists. Needs apt-get (Debian/Ubuntu) and root
# or sudo; the tests skip, saying so, where chromium is missing.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium: no apt-get here; install Chromium with the system package manager" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "install-chromium: needs root or sudo to run apt-get" >&2
        exit 1
    fi
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium
/usr/bin/chromium --version
