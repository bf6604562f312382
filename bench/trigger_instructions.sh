#!/usr/bin/env bash
# What triggers cost the writes, in PostgreSQL's instructions per
# transaction: repeatable on a shared machine, where the alternating
# pgbench A/B of `make bench` swings by 10-20 % between runs.
#
#   bench/trigger_instructions.sh [TABLE.TRIGGER...]
#
# Default triggers: the change feed's on opportunities. A base database is
# migrated by BIN (create-admin) and filled by bench/data.sql (200
# accounts) and bench/data_opportunities.sql (2000 deals, created long ago,
# so a PATCH writes history). Each measured run copies it, sets the
# triggers' state, and feeds N transactions to one single-user backend
# (postgres --single) under callgrind: the statements the server sends
# for POST /opportunities (two lines) and PATCH /opportunities/{id}
# (next_step, probability): the caller's settings, then the API function.
# Per transaction: (Ir(N2) - Ir(N1)) / (N2 - N1), so start-up, first
# plans and shutdown cancel out. Commits wait for their WAL flush as
# usual, which callgrind does not count: WAL bytes per transaction are
# printed beside.
# Env: BIN (bin/crm-api), N1 (20), N2 (120), PG_DIR (.pg-trigger-instructions),
# PG_PORT (5495), OUT (bench/out/trigger-instructions). Prints a markdown table.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$(realpath "${BIN:-$ROOT/bin/crm-api}")"
N1="${N1:-20}"; N2="${N2:-120}"
PG_DIR="$(realpath -m "${PG_DIR:-$ROOT/.pg-trigger-instructions}")"; PG_PORT="${PG_PORT:-5495}"
OUT="$(realpath -m "${OUT:-$ROOT/bench/out/trigger-instructions}")"
PG_BIN=/usr/lib/postgresql/15/bin
TRIGGERS=("$@"); [ ${#TRIGGERS[@]} -gt 0 ] || TRIGGERS=(opportunities.opportunity_change_event)
say() { echo "trigger-instructions: $*" >&2; }
url() { printf 'postgresql://crm@/%s?host=%s&port=%s' "$1" "$PG_DIR" "$PG_PORT"; }
psql_at() { "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$@"; }
# The single-user backend runs as the cluster's owner (pg.sh: postgres when run as root).
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cleanup() { "$ROOT/scripts/pg.sh" stop "$PG_DIR" >/dev/null 2>&1 || true; }
trap cleanup EXIT

mkdir -p "$OUT"; chmod 777 "$OUT"
"$ROOT/scripts/pg.sh" start "$PG_DIR" "$PG_PORT" >/dev/null
DATA="$("$ROOT/scripts/pg.sh" datadir "$PG_DIR")"
psql_at "$(url postgres)" -c "DROP DATABASE IF EXISTS ti_base" -c "CREATE DATABASE ti_base OWNER crm"
DATABASE_URL="$(url ti_base)" LOG_LEVEL=info "$BIN" create-admin --name "Bench admin" \
  --email admin@bench.example >/dev/null 2>"$OUT/create-admin.log"
psql_at "$(url ti_base)" -v scale=200 -v owners=20 -f "$ROOT/bench/data.sql" >"$OUT/data.log" 2>&1
psql_at "$(url ti_base)" -v opps=2000 -v accounts=200 -f "$ROOT/bench/data_opportunities.sql" >>"$OUT/data.log" 2>&1
ADMIN="$(psql_at "$(url ti_base)" -c "SELECT id FROM users WHERE email = 'admin@bench.example'")"
PRODUCT_MIN="$(psql_at "$(url ti_base)" -c "SELECT min(id) FROM lookup_items WHERE kind = 'product'")"

# transactions KIND N: N write transactions, in the single-user backend's
# input form (-j: a statement ends with a semicolon and an empty line).
transactions() {
  local kind="$1" n="$2" i
  for ((i = 1; i <= n; i++)); do
    printf "BEGIN;\n\nSELECT set_config('app.user_id', '%s', true), set_config('app.role', 'admin', true);\n\n" "$ADMIN"
    if [ "$kind" = create ]; then
      printf "SELECT body::text FROM api_opportunity_create('{\"account_id\":%d,\"name\":\"Bench deal\",\"lines\":[{\"product_id\":%d,\"quantity\":\"2\"},{\"product_id\":%d,\"quantity\":\"1\",\"unit_price\":\"99.50\"}]}'::jsonb);\n\n" \
        $((i * 37 % 200 + 1)) $((PRODUCT_MIN + i % 20)) $((PRODUCT_MIN + i * 7 % 20))
    else
      printf "SELECT body::text FROM api_opportunity_patch(%d, '{\"next_step\":\"Bench step %d\",\"probability\":%d}'::jsonb, NULL);\n\n" \
        $((i * 37 % 2000 + 1)) $((11 + i % 79)) $((11 + i % 79))
    fi
    printf "COMMIT;\n\n"
  done
}

# run_one KIND STATE N: prints "instructions wal_bytes" of N transactions.
run_one() {
  local kind="$1" state="$2" n="$3" tag="$1.$2.$3" alter="" t lsn0 lsn1
  for t in "${TRIGGERS[@]}"; do alter+="ALTER TABLE ${t%%.*} ${state^^} TRIGGER ${t#*.}; "; done
  "$ROOT/scripts/pg.sh" start "$PG_DIR" "$PG_PORT" >/dev/null 2>&1
  psql_at "$(url postgres)" -c "DROP DATABASE IF EXISTS ti_run" -c "CREATE DATABASE ti_run TEMPLATE ti_base OWNER crm"
  psql_at "$(url ti_run)" -c "$alter"
  lsn0="$(psql_at "$(url ti_run)" -c "SELECT pg_current_wal_insert_lsn()")"
  "$ROOT/scripts/pg.sh" stop "$PG_DIR" >/dev/null 2>&1
  transactions "$kind" "$n" >"$OUT/input.$tag.sql"
  as_owner valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.$tag.out" --log-file="$OUT/valgrind.$tag.log" \
    "$PG_BIN/postgres" --single -j -D "$DATA" ti_run <"$OUT/input.$tag.sql" >"$OUT/backend.$tag.log" 2>&1 ||
    { say "the backend failed ($tag): $(tail -n 3 "$OUT/backend.$tag.log")"; exit 1; }
  if grep -q ERROR "$OUT/backend.$tag.log"; then say "$tag: $(grep -m 1 ERROR "$OUT/backend.$tag.log")"; exit 1; fi
  "$ROOT/scripts/pg.sh" start "$PG_DIR" "$PG_PORT" >/dev/null 2>&1
  lsn1="$(psql_at "$(url ti_run)" -c "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$lsn0')::bigint")"
  printf '%s %s\n' "$(awk '/^(summary|totals):/ { print $2; exit }' "$OUT/callgrind.$tag.out")" "$lsn1"
}

say "triggers: ${TRIGGERS[*]}; $N1 and $N2 transactions per run"
echo "| write | instructions/tx, triggers disabled | enabled | cost | WAL bytes/tx disabled | enabled |"
echo "|---|---:|---:|---:|---:|---:|"
for kind in create patch; do
  declare -A per=() wal=()
  for state in disable enable; do
    read -r ir1 w1 <<<"$(run_one "$kind" "$state" "$N1")"
    read -r ir2 w2 <<<"$(run_one "$kind" "$state" "$N2")"
    per[$state]=$(((ir2 - ir1) / (N2 - N1)))
    wal[$state]=$(((w2 - w1) / (N2 - N1)))
  done
  awk -v k="$kind" -v d="${per[disable]}" -v e="${per[enable]}" -v wd="${wal[disable]}" -v we="${wal[enable]}" \
    'BEGIN { printf "| %s | %d | %d | %+.1f %% | %d | %d |\n", (k == "create" ? "POST /opportunities (2 lines)" : "PATCH /opportunities/{id}"), d, e, (e - d) * 100.0 / d, wd, we }'
done
psql_at "$(url postgres)" -c "DROP DATABASE IF EXISTS ti_run" -c "DROP DATABASE IF EXISTS ti_base"
