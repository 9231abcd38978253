#!/usr/bin/env bash
# Create .venv (if needed) and install a requirements file into it; re-installs only when the file
# changed. Usage: scripts/setup-python.sh requirements.txt
set -euo pipefail
cd "$(dirname "$0")/.."
requirements=$1
python=${PYTHON:-python3}

if ! "$python" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  echo "Carta needs Python 3.11 or newer as '$python' (set PYTHON=... to choose another)." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$python" -m venv .venv 2>/dev/null; then
    echo "python3 -m venv failed; installing Debian's python3-venv" >&2
    scripts/apt-install.sh python3-venv
    rm -rf .venv
    "$python" -m venv .venv
  fi
fi
stamp=".venv/.installed-$(basename "$requirements")"
if [ ! -f "$stamp" ] || ! cmp -s "$stamp" <(cat requirements*.txt); then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
  cat requirements*.txt > "$stamp"
fi
