#!/usr/bin/env bash
# Run the test suite with the project's virtual environment. Starts the services the tests
# need on loopback (PostgreSQL with PostGIS) when they are installed.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
VENV="${VENV:-.venv}"
if [ -x scripts/start-postgis.sh ] || [ -f scripts/start-postgis.sh ]; then
  eval "$(bash scripts/start-postgis.sh)"
fi
workers=$(nproc 2>/dev/null || echo 2)
exec "$VENV/bin/python" -m pytest -n "$workers" -p no:cacheprovider "$@"
