#!/usr/bin/env bash
# Start a throwaway PostgreSQL + PostGIS server on loopback for the tests and benchmarks, and
# print ONE line on stdout:  export FENCELINE_TEST_PG=postgresql://...
# (scripts/run-tests.sh does `eval "$(bash scripts/start-postgis.sh)"`). Messages go to stderr.
#
# - Reuses a server that answers at $FENCELINE_TEST_PG, or the one this script started before
#   (state in $FENCELINE_PG_DIR, default ${TMPDIR:-/tmp}/fenceline-pg-<uid>).
# - As root (CI, containers) the cluster runs as the unprivileged `postgres` user: PostgreSQL
#   refuses to run as root.
# - Without PostgreSQL or PostGIS installed it prints nothing and exits 0: the tests marked
#   `postgis` then skip on a laptop and fail when CI=true (tests/conftest.py::skip_or_fail).
# - `bash scripts/start-postgis.sh stop` stops the server and removes its directory.
set -euo pipefail

say() { echo "start-postgis: $*" >&2; }

bindir=""
for candidate in "${PG_BINDIR:-}" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) \
  "$(command -v pg_config >/dev/null 2>&1 && pg_config --bindir || true)"; do
  if [ -n "$candidate" ] && [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then
    bindir="$candidate"
    break
  fi
done

state="${FENCELINE_PG_DIR:-${TMPDIR:-/tmp}/fenceline-pg-$(id -u)}"
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  if ! id -u postgres >/dev/null 2>&1; then
    say "running as root and there is no 'postgres' user to run the server as; not started"
    exit 0
  fi
  run_as=(runuser -u postgres --)
fi

if [ "${1:-}" = "stop" ]; then
  if [ -n "$bindir" ] && [ -f "$state/data/postmaster.pid" ]; then
    "${run_as[@]}" "$bindir/pg_ctl" -D "$state/data" -m fast -w stop >&2 || true
  fi
  rm -rf "$state"
  exit 0
fi

works() {  # does the URL answer with PostGIS?
  [ -n "$bindir" ] && "$bindir/psql" "$1" -XAtqc "SELECT postgis_lib_version()" >/dev/null 2>&1
}

if [ -n "${FENCELINE_TEST_PG:-}" ] && works "$FENCELINE_TEST_PG"; then
  echo "export FENCELINE_TEST_PG=$FENCELINE_TEST_PG"
  exit 0
fi
if [ -z "$bindir" ]; then
  say "PostgreSQL is not installed (no initdb found); tests marked postgis will skip"
  exit 0
fi
pgversion="$(basename "$(dirname "$bindir")")"
if ! ls /usr/share/postgresql/"$pgversion"/extension/postgis.control >/dev/null 2>&1 \
  && ! ls "$("$bindir/pg_config" --sharedir 2>/dev/null || echo /nonexistent)"/extension/postgis.control >/dev/null 2>&1; then
  say "PostGIS is not installed for PostgreSQL $pgversion; tests marked postgis will skip"
  exit 0
fi

if [ -f "$state/url" ] && works "$(cat "$state/url")"; then
  say "reusing the server at $(cat "$state/url")"
  echo "export FENCELINE_TEST_PG=$(cat "$state/url")"
  exit 0
fi

# a stale directory (server gone, e.g. after a reboot): start afresh
if [ -d "$state" ]; then
  if [ -f "$state/data/postmaster.pid" ]; then
    "${run_as[@]}" "$bindir/pg_ctl" -D "$state/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$state"
fi

port=""
for candidate in $(seq 54329 54429); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
    port="$candidate"
    break
  fi
done
if [ -z "$port" ]; then
  say "no free port between 54329 and 54429; not started"
  exit 0
fi

mkdir -p "$state/sock"
chmod 700 "$state"
if [ "${#run_as[@]}" -gt 0 ]; then
  chown -R postgres "$state"
fi
say "initialising a throwaway cluster in $state (PostgreSQL $pgversion, port $port)"
"${run_as[@]}" "$bindir/initdb" -D "$state/data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
"${run_as[@]}" "$bindir/pg_ctl" -D "$state/data" -l "$state/log" -w -t 60 \
  -o "-p $port -k $state/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null
url="postgresql://postgres@127.0.0.1:$port/fenceline_test"
"$bindir/psql" "postgresql://postgres@127.0.0.1:$port/postgres" -XAtq -c "CREATE DATABASE fenceline_test" >/dev/null
"$bindir/psql" "$url" -XAtq -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
if ! works "$url"; then
  say "the server started but PostGIS does not answer; see $state/log"
  exit 0
fi
echo "$url" >"$state/url"
say "PostGIS $("$bindir/psql" "$url" -XAtqc 'SELECT postgis_lib_version()') ready at $url"
echo "export FENCELINE_TEST_PG=$url"
