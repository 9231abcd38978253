#!/usr/bin/env bash
# Install what the tests need (Python packages, Debian's Chromium, nginx and Java) and run the whole
# suite: lint, format check, unit, query, AppTest, Spark and real-browser tests. Extra arguments go
# to pytest.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup-python.sh requirements-dev.txt
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)  # the real-browser tests
[ -x /usr/sbin/nginx ] || missing+=(nginx)  # the replicas behind a proxy
# The queries on a local Spark (tests/test_spark_backend.py): Spark 4 runs on Java 17 or 21.
[ -n "${JAVA_HOME:-}" ] || command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian's ${missing[*]} for the tests" >&2
  scripts/apt-install.sh "${missing[@]}"
fi
# pyspark starts the JVM that JAVA_HOME names, else the first java on the PATH.
if [ -z "${JAVA_HOME:-}" ]; then
  JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
  export JAVA_HOME
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# The slowest tests are listed at the end, to keep the suite within its time budget.
exec .venv/bin/python -m pytest --durations=20 "$@"
