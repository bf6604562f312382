#!/usr/bin/env bash
# Webhook delivery throughput: a backlog of N deliveries (spread over S
# subscriptions) queued in the database while no server runs, then one
# server delivers them to a fast local receiver; prints deliveries per
# second (from the server's start to an empty queue).
#
#   bench/webhooks.sh [N (100000)] [S (4)]
#
# Env (defaults): BIN (bin/crm-api), PG_DIR (.pg-webhooks-bench), PG_PORT
#   (5461), API_PORT (18104), WEBHOOK_WORKERS (4). The cluster is made
#   fresh and everything started here is stopped on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
n="${1:-100000}"
subs="${2:-4}"
bin="${BIN:-bin/crm-api}"
pg_dir="${PG_DIR:-.pg-webhooks-bench}"
pg_port="${PG_PORT:-5461}"
api_port="${API_PORT:-18104}"
out=bench/out/webhooks
mkdir -p "$out"
psql=(/usr/lib/postgresql/15/bin/psql -X -q -A -t -v ON_ERROR_STOP=1)

scripts/pg.sh destroy "$pg_dir" >/dev/null 2>&1 || true
DATABASE_URL="$(scripts/pg.sh start "$pg_dir" "$pg_port" 2>/dev/null)"
export DATABASE_URL
cleanup() {
  [ -n "${server_pid:-}" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [ -n "${receiver_pid:-}" ] && kill -TERM "$receiver_pid" 2>/dev/null && wait "$receiver_pid" 2>/dev/null
  scripts/pg.sh destroy "$pg_dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT

LOG_LEVEL=error "$bin" migrate
rm -f "$out/port"
/usr/bin/python3 bench/webhook_receiver.py "$out/port" 2>"$out/receiver.log" &
receiver_pid=$!
for _ in $(seq 1 50); do [ -s "$out/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$out/port")/hook"

# The subscriptions and the backlog, in one transaction (one position major).
"${psql[@]}" -d "$DATABASE_URL" <<SQL
INSERT INTO webhook_subscriptions (url, events, secret)
SELECT '$url', '{account}', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw0cIUhb3+FvI=' FROM generate_series(1, $subs);
INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, position_major, position_minor, body)
SELECT s.id, 'evt_bench_' || g, 'account.updated', pg_current_xact_id(), g,
       json_build_object('id', 'evt_bench_' || g, 'type', 'account.updated', 'occurred_at', api_ts(now()),
                         'data', json_build_object('id', g, 'name', 'Account ' || g, 'version', 2))::text
  FROM generate_series(1, $n) g
  JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM webhook_subscriptions) s ON s.k = g % $subs;
ANALYZE webhook_deliveries;
SQL
echo "queued $n deliveries over $subs subscription(s); delivering with WEBHOOK_WORKERS=${WEBHOOK_WORKERS:-4}" >&2

start=$(date +%s.%N)
PORT="$api_port" LOG_LEVEL=warning WEBHOOK_ALLOW_PRIVATE=on WEBHOOK_WORKERS="${WEBHOOK_WORKERS:-4}" \
  "$bin" serve >"$out/server.log" 2>&1 &
server_pid=$!
while :; do
  left=$("${psql[@]}" -d "$DATABASE_URL" -c "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")
  [ "$left" = 0 ] && break
  kill -0 "$server_pid" 2>/dev/null || { echo "server died; log: $out/server.log" >&2; exit 1; }
  sleep 0.2
done
end=$(date +%s.%N)
failed=$("${psql[@]}" -d "$DATABASE_URL" -c "SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'")
awk -v n="$n" -v s="$start" -v e="$end" -v f="$failed" -v subs="$subs" \
  'BEGIN { printf "webhooks: %d deliveries over %d subscription(s) in %.1f s: %.0f deliveries/s (%d not delivered)\n", n, subs, e - s, n / (e - s), f }' \
  | tee "$out/result.txt"
