#!/usr/bin/env bash
# Runs the API test suite against a real server and a throwaway PostgreSQL.
#   scripts/test-api.sh BINARY [pytest args (default: tests/api tests/browser)...]
# Env: PG_TEST_DIR (.pg-test), PG_TEST_PORT (5440), API_PORT (18080),
#      CRM_API_WRAPPER (e.g. valgrind ...), prepended to the server command.
# The tests also use the three ports after API_PORT: the browser test's
# pages are served from API_PORT+1 (an allowed origin) and API_PORT+2 (not
# allowed), and API_PORT+3 takes extra servers with other CORS_ORIGINS.
# After the suite, tests/conformance/check.py validates every exchange it
# recorded against openapi.yaml; a mismatch fails the run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="$1"
shift
[ $# -gt 0 ] || set -- tests/api tests/browser
pg_dir="${PG_TEST_DIR:-.pg-test}"
pg_port="${PG_TEST_PORT:-5440}"
api_port="${API_PORT:-18080}"
log="$(dirname "$bin")/test-server-$api_port.log"
# A front-end's dev server and the browser test's page (tests/browser).
cors_origins="http://localhost:5173,http://127.0.0.1:$((api_port + 1))"
# Every exchange the suite makes, checked against openapi.yaml at the end.
exchanges="$(dirname "$bin")/exchanges-$api_port.jsonl"
unexercised="$(dirname "$bin")/unexercised-$api_port.txt"
rm -f "$exchanges" "$unexercised"

scripts/pg.sh destroy "$pg_dir" >/dev/null 2>&1 || true
DATABASE_URL="$(scripts/pg.sh start "$pg_dir" "$pg_port")"
export DATABASE_URL
cleanup() {
  if [ -n "${server_pid:-}" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  scripts/pg.sh stop "$pg_dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# shellcheck disable=SC2086 # the wrapper is a command line
PORT="$api_port" THREADS=2 LOG_LEVEL=info CORS_ORIGINS="$cors_origins" ${CRM_API_WRAPPER:-} "$bin" serve >"$log" 2>&1 &
server_pid=$!
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$api_port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$log"; echo "server died at start" >&2; exit 1; }
  sleep 0.1
done

status=0
API_URL="http://127.0.0.1:$api_port" CRM_API_BIN="$bin" PG_TEST_DIR="$pg_dir" PG_TEST_PORT="$pg_port" \
  CORS_ORIGINS="$cors_origins" \
  CONFORMANCE_LOG="$exchanges" \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@" || status=$?

# The contract checks itself: the checker's own tests, then every recorded
# response against openapi.yaml (status, headers, content type, body).
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/conformance || status=1
/usr/bin/python3 tests/conformance/check.py openapi.yaml "$exchanges" "$unexercised" || status=1
echo "(pairs the suite does not exercise: $unexercised)"

# A graceful stop is part of the contract: SIGTERM, finish, exit 0.
kill -TERM "$server_pid"
server_status=0
wait "$server_pid" || server_status=$?
server_pid=""
if [ "$server_status" -ne 0 ]; then
  echo "server exited with status $server_status after SIGTERM (want 0); log: $log" >&2
  status=1
fi
if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:|definitely lost: [1-9]' "$log" bin/valgrind.log 2>/dev/null; then
  echo "sanitizer or valgrind reports found:" >&2
  grep -E -A20 'ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:|definitely lost' "$log" bin/valgrind.log 2>/dev/null | head -80 >&2
  status=1
fi
exit "$status"
