#!/usr/bin/env bash
# Install Debian packages as root, or through sudo when not root. Usage: scripts/apt-install.sh PKG...
set -euo pipefail
run() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
  echo "Need root or sudo to install: $*" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
run apt-get update -qq
run apt-get install -y -qq --no-install-recommends "$@" >/dev/null
