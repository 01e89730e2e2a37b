#!/usr/bin/env bash
# Install Debian's Chromium (if missing) for Tandem's browser tests (tests/browser), which
# drive it through Python Playwright (playwright's own browser download is not used).
# Idempotent: on a machine that has /usr/bin/chromium it does nothing and needs no network;
# `apt-get update` runs only when the package cannot be found in the current package lists.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
# apt_get: apt-get as root that waits for another apt's lock instead of failing
source "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

if [ ! -x "$CHROMIUM" ]; then
  echo "chromium.sh: installing Chromium from Debian's packages"
  if ! apt-cache show chromium >/dev/null 2>&1; then
    apt_get update -qq
  fi
  if ! apt_get install -y -qq chromium >/dev/null; then
    # stale package lists (a mirror moved on): refresh once and retry
    apt_get update -qq
    apt_get install -y -qq chromium >/dev/null
  fi
fi

[ -x "$CHROMIUM" ] || { echo "chromium.sh: $CHROMIUM is still missing" >&2; exit 1; }
echo "chromium.sh: $("$CHROMIUM" --version 2>/dev/null || echo chromium) ready at $CHROMIUM"
