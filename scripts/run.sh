#!/usr/bin/env bash
# `make run`: serve the API on 127.0.0.1:8080 with an embedded PostgreSQL
# cluster in .pg/ (or DATABASE_URL when set). A new database gets demo data
# and an admin, whose token is printed with a ready curl line.
# Ctrl-C (or SIGTERM, or the server dying) stops the server and then the
# embedded cluster: every way out goes through stop_all.
# Env: PORT (8080), BIND (127.0.0.1), CORS_ORIGINS (*), DATABASE_URL,
#      PG_RUN_DIR (.pg), PG_RUN_PORT (5439), CRM_API_BIN (bin/crm-api).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

pg_dir="${PG_RUN_DIR:-.pg}"
pg_port="${PG_RUN_PORT:-5439}"
bin="${CRM_API_BIN:-bin/crm-api}"

embedded=0
server_pid=""
stop_all() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$embedded" = 1 ]; then
    scripts/pg.sh stop "$pg_dir" || true
  fi
}
trap stop_all EXIT
# The signal's conventional status; the EXIT trap then does the stopping.
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "${DATABASE_URL:-}" ]; then
  embedded=1
  DATABASE_URL="$(scripts/pg.sh start "$pg_dir" "$pg_port")"
  export DATABASE_URL
fi
export PORT="${PORT:-8080}" BIND="${BIND:-127.0.0.1}"
# Any browser origin may call the local API (a front-end's dev server);
# CORS_ORIGINS set by the caller wins, an empty one turns CORS off.
export CORS_ORIGINS="${CORS_ORIGINS-*}"
token_file="$(scripts/pg.sh datadir "$pg_dir" 2>/dev/null || echo "$pg_dir")/admin-token"

"$bin" migrate
users="$(psql "$DATABASE_URL" -XtAq -c 'SELECT count(*) FROM users')"
token=""
if [ "$users" = 0 ]; then
  token="$("$bin" create-admin --name "Admin" --email admin@example.com)"
  psql "$DATABASE_URL" -Xq -v ON_ERROR_STOP=1 -f db/seed/demo.sql
  if [ "$embedded" = 1 ]; then
    (umask 077 && echo "$token" > "$token_file")
  fi
  echo "New database: demo data loaded, admin created."
elif [ "$embedded" = 1 ] && [ -r "$token_file" ]; then
  token="$(cat "$token_file")"
fi

if [ -n "$token" ]; then
  cat <<TXT

  Admin token: $token
  Try:  curl -s -H 'Authorization: Bearer $token' http://$BIND:$PORT/accounts
  docs: http://$BIND:$PORT/docs

TXT
else
  echo "Existing database: use a token you created before (crm-api create-admin makes a new admin)."
  echo "docs: http://$BIND:$PORT/docs"
fi
echo "CORS_ORIGINS=${CORS_ORIGINS:-(empty: CORS off)}"
echo "Serving on http://$BIND:$PORT — Ctrl-C stops."
# In the background so that a signal to this script runs its trap at once
# (bash defers traps while a foreground child runs); `wait` returns the
# server's own status when it stops by itself.
"$bin" serve &
server_pid=$!
status=0
wait "$server_pid" || status=$?
server_pid=""
exit "$status"
