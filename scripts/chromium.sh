#!/usr/bin/env bash
# Install Debian's Chromium (if missing) for Tandem's browser tests (tests/browser), which
# drive it through Python Playwright (playwright's own browser download is not used).
# Idempotent: on a machine that has /usr/bin/chromium it does nothing and needs no network;
# `apt-get update` runs only when the package cannot be found in the current package lists.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ! -x "$CHROMIUM" ]; then
  echo "chromium.sh: installing Chromium from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache show chromium >/dev/null 2>&1; then
    as_root apt-get update -qq
  fi
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; then
    # stale package lists (a mirror moved on): refresh once and retry
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

[ -x "$CHROMIUM" ] || { echo "chromium.sh: $CHROMIUM is still missing" >&2; exit 1; }
echo "chromium.sh: $("$CHROMIUM" --version 2>/dev/null || echo chromium) ready at $CHROMIUM"
