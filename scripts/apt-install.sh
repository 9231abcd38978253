#!/usr/bin/env bash
# Install Debian packages as root, or through sudo when not root. Usage: scripts/apt-install.sh PKG...
# When another apt-get or dpkg holds the package lock (an unattended upgrade, a second set-up),
# wait for it up to APT_LOCK_WAIT seconds (default 300) instead of failing at once.
set -euo pipefail
run() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
  echo "Need root or sudo to install: $*" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
wait_option=(-o "DPkg::Lock::Timeout=${APT_LOCK_WAIT:-300}")
locks=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock)
if command -v fuser >/dev/null && fuser "${locks[@]}" >/dev/null 2>&1; then
  echo "Another package manager holds the apt lock: waiting up to ${APT_LOCK_WAIT:-300} s" >&2
fi
run apt-get "${wait_option[@]}" update -qq
run apt-get "${wait_option[@]}" install -y -qq --no-install-recommends "$@" >/dev/null
