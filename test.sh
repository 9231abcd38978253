#!/usr/bin/env bash
# Install what the tests need (Python packages, Debian's Chromium and nginx) and run the whole suite:
# lint, format check, unit, query, AppTest and real-browser tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup-python.sh requirements-dev.txt
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)  # the real-browser tests
[ -x /usr/sbin/nginx ] || missing+=(nginx)  # the replicas behind a proxy
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian's ${missing[*]} for the tests" >&2
  scripts/apt-install.sh "${missing[@]}"
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# The slowest tests are listed at the end, to keep the suite within its time budget.
exec .venv/bin/python -m pytest --durations=20 "$@"
