#!/usr/bin/env bash
# Install what Carta needs and run it on the default store (built on first start).
# Without login ([auth] in .streamlit/secrets.toml) Carta is a local single-user app: it listens
# on 127.0.0.1 only. Any extra arguments go to `streamlit run`, e.g. ./run.sh --server.port 8502;
# docs/security.md says how to serve a team with login.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup-python.sh requirements.txt
exec .venv/bin/python -m streamlit run app.py --browser.gatherUsageStats=false \
  --server.address=127.0.0.1 "$@"
