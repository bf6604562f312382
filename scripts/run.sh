#!/usr/bin/env bash
# `make run`: serve the API on 127.0.0.1:8080 with an embedded PostgreSQL
# cluster in .pg/ (or DATABASE_URL when set). A new database gets demo data
# and an admin, whose token is printed with a ready curl line.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

embedded=0
if [ -z "${DATABASE_URL:-}" ]; then
  DATABASE_URL="$(scripts/pg.sh start .pg 5439)"
  export DATABASE_URL
  embedded=1
fi
export PORT="${PORT:-8080}" BIND="${BIND:-127.0.0.1}"
# Any browser origin may call the local API (a front-end's dev server);
# CORS_ORIGINS set by the caller wins, an empty one turns CORS off.
export CORS_ORIGINS="${CORS_ORIGINS-*}"
token_file="$(scripts/pg.sh datadir .pg 2>/dev/null || echo .pg)/admin-token"

bin/crm-api migrate
users="$(psql "$DATABASE_URL" -XtAq -c 'SELECT count(*) FROM users')"
token=""
if [ "$users" = 0 ]; then
  token="$(bin/crm-api create-admin --name "Admin" --email admin@example.com)"
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
status=0
bin/crm-api serve || status=$?
if [ "$embedded" = 1 ]; then
  scripts/pg.sh stop .pg
fi
exit "$status"
