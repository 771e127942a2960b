#!/usr/bin/env bash
# Install the system packages the tests use: PostgreSQL + PostGIS (reference computations),
# Chromium (report rendering), GDAL's command-line tools (ogrinfo) and poppler (PDF checks).
# As root (CI, a container) it installs them with apt-get; otherwise it only says what is
# missing, and the tests that need them skip (they never skip when CI=true).
set -euo pipefail
packages=(postgresql postgresql-15-postgis-3 chromium gdal-bin poppler-utils fonts-noto-cjk)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "not root: tests needing these system packages will skip: ${missing[*]}" >&2
  if [ "${CI:-}" = "true" ]; then
    echo "CI=true but cannot install system packages" >&2
    exit 1
  fi
fi
