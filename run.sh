#!/usr/bin/env bash
# Install what Carta needs and run it on the default store (built on first start).
# Any extra arguments go to `streamlit run`, e.g. ./run.sh --server.port 8502
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup-python.sh requirements.txt
exec .venv/bin/python -m streamlit run app.py --browser.gatherUsageStats=false "$@"
