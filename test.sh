#!/usr/bin/env bash
# Install what the tests need (Python packages, Debian's Chromium) and run the whole suite:
# lint, format check, unit, query, AppTest and real-browser tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup-python.sh requirements-dev.txt
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's Chromium for the real-browser tests" >&2
  scripts/apt-install.sh chromium
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# The slowest tests are listed at the end, to keep the suite within its time budget.
exec .venv/bin/python -m pytest --durations=20 "$@"
