#!/usr/bin/env bash
# apt-get for Tandem's setup scripts, waiting for apt's locks instead of failing at once when
# another apt-get, dpkg or unattended-upgrades holds them (a fresh machine often runs one).
#
#   source scripts/apt.sh; apt_get update -qq; apt_get install -y -qq PACKAGE...
#   bash scripts/apt.sh install -y -qq PACKAGE...      (the same, from a Makefile)
#
# Runs as root (sudo if not root), noninteractive. DPkg::Lock::Timeout makes apt-get wait for
# the dpkg locks, but apt (2.6 at least) does not wait for the package lists' lock that
# `apt-get update` takes; so a refusal to get any lock is retried until the same deadline.
# TANDEM_APT_LOCK_WAIT: seconds to wait (default 600).

apt_lock_wait=${TANDEM_APT_LOCK_WAIT:-600}

apt_lock_refused="^E: (Could not get lock|Unable to lock|Unable to acquire the dpkg frontend lock)"

apt_get() {
  local deadline=$((SECONDS + apt_lock_wait)) err rc waiting=
  local -a root=()
  [ "$(id -u)" = 0 ] || root=(sudo)
  err=$(mktemp)
  while :; do
    # stderr is shown as it comes and kept to be read, but for the refusals to get a lock
    if { "${root[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get -o DPkg::Lock::Timeout="$apt_lock_wait" "$@" 2>&1 1>&3 3>&- \
      | tee "$err" | { grep -Ev "$apt_lock_refused" || true; } >&2; } 3>&1
    then
      rc=0
    else
      rc=${PIPESTATUS[0]}
    fi
    if [ "$rc" = 0 ] || ! grep -Eq "$apt_lock_refused" "$err"; then break; fi
    if [ $SECONDS -ge $deadline ]; then
      grep -E "$apt_lock_refused" "$err" >&2
      echo "apt.sh: gave up waiting for apt's lock after $apt_lock_wait s" >&2
      break
    fi
    if [ -z "$waiting" ]; then
      echo "apt.sh: $(grep -Em 1 "$apt_lock_refused" "$err" | cut -c4-);" \
        "apt-get $1 waits for it (up to $apt_lock_wait s)" >&2
      waiting=1
    fi
    sleep 2
  done
  rm -f "$err"
  [ -z "$waiting" ] || [ "$rc" != 0 ] || echo "apt.sh: apt-get $1 done after the wait" >&2
  return "$rc"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  apt_get "$@"
fi
