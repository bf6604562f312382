#!/usr/bin/env bash
# Server-side instructions per request of two builds, counted by callgrind:
# repeatable whatever else the machine does, where wall-clock figures on a
# shared machine are not (the database runs outside valgrind: its work is
# not counted, only the server's).
#
#   BEFORE_BIN=/path/crm-api BEFORE_TREE=/path/checkout bench/instructions.sh [kinds...]
#
# kinds: get_account get_opportunity list_opportunities patch_opportunity
# create_opportunity (default: all), the bench rows' requests sent by
# bench/instructions_client.py over one keep-alive connection, the same
# sequence for both builds. Each build gets its own base database, migrated
# by its own `create-admin` and filled by its tree's bench/data.sql (200
# accounts, 20 owners) and bench/data_opportunities.sql (2000 deals); every
# measured server run starts from a fresh copy of it. Per request:
# (Ir(N2 requests) - Ir(N1 requests)) / (N2 - N1), start and stop cancelled.
# Env: AFTER_BIN (bin/crm-api), AFTER_TREE (this checkout), BEFORE_ENV and
# AFTER_ENV (VAR=value words set for that build's server only, e.g.
# BEFORE_ENV=METRICS=off with both builds the same binary: what a setting
# costs), N1 (500),
# N2 (1500), PG_DIR (.pg-instructions), PG_PORT (5494), API_PORT (18170),
# OUT (bench/out/instructions). Prints a markdown table.
set -euo pipefail
N1="${N1:-500}"; N2="${N2:-1500}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BEFORE_BIN="${BEFORE_BIN:?BEFORE_BIN: the server binary to compare with}"
BEFORE_TREE="${BEFORE_TREE:?BEFORE_TREE: the checkout it was built from (its bench/data*.sql)}"
AFTER_BIN="${AFTER_BIN:-$ROOT/bin/crm-api}"; AFTER_TREE="${AFTER_TREE:-$ROOT}"
PG_DIR="$(realpath -m "${PG_DIR:-$ROOT/.pg-instructions}")"; PG_PORT="${PG_PORT:-5494}"; API_PORT="${API_PORT:-18170}"
OUT="$(realpath -m "${OUT:-$ROOT/bench/out/instructions}")"
PG_BIN=/usr/lib/postgresql/15/bin
KINDS=("$@"); [ ${#KINDS[@]} -gt 0 ] || KINDS=(get_account get_opportunity list_opportunities patch_opportunity create_opportunity)
say() { echo "measure: $*" >&2; }
url() { printf 'postgresql://crm@/%s?host=%s&port=%s' "$1" "$PG_DIR" "$PG_PORT"; }
psql_admin() { "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$(url postgres)" "$@"; }

SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true
  fi
  "$ROOT/scripts/pg.sh" stop "$PG_DIR" >/dev/null 2>&1 || true
}
trap cleanup EXIT

mkdir -p "$OUT"
"$ROOT/scripts/pg.sh" start "$PG_DIR" "$PG_PORT" >/dev/null
[ "$("$ROOT/scripts/pg.sh" datadir "$PG_DIR")" = "$PG_DIR" ] || { say "pg.sh fell back to another dir"; exit 1; }

declare -A TOKEN OWNER_MIN PRODUCT_MIN
setup_base() {  # label bin tree
  local label="$1" bin="$2" tree="$3" db="cg_$1_base" u
  psql_admin -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db OWNER crm"
  u="$(url "$db")"
  TOKEN[$label]="$(DATABASE_URL="$u" LOG_LEVEL=info "$bin" create-admin --name "Bench admin" --email admin@bench.example 2>"$OUT/create-admin-$label.log")"
  "$PG_BIN/psql" -X -q -At -d "$u" -v scale=200 -v owners=20 -f "$tree/bench/data.sql" >"$OUT/data-$label.log" 2>&1
  "$PG_BIN/psql" -X -q -At -d "$u" -v opps=2000 -v accounts=200 -f "$tree/bench/data_opportunities.sql" >>"$OUT/data-$label.log" 2>&1
  OWNER_MIN[$label]="$("$PG_BIN/psql" -X -At -d "$u" -c "SELECT min(id) FROM users WHERE email LIKE 'owner%@bench.example'")"
  PRODUCT_MIN[$label]="$("$PG_BIN/psql" -X -At -d "$u" -c "SELECT min(id) FROM lookup_items WHERE kind='product' AND label LIKE 'Bench product %'")"
  say "$label base: $(tail -n 2 "$OUT/data-$label.log" | tr '\n' ' ') owner_min=${OWNER_MIN[$label]} product_min=${PRODUCT_MIN[$label]}"
}

run_one() {  # label bin kind n -> prints total Ir
  local label="$1" bin="$2" kind="$3" n="$4" tag="$1.$3.$4" i status=0
  psql_admin -c "DROP DATABASE IF EXISTS cg_run" -c "CREATE DATABASE cg_run TEMPLATE cg_${label}_base OWNER crm"
  rm -f "$OUT/callgrind.$tag.out"
  local -a extra_env
  read -ra extra_env <<<"$([ "$label" = before ] && echo "${BEFORE_ENV:-}" || echo "${AFTER_ENV:-}")"
  env DATABASE_URL="$(url cg_run)" PORT="$API_PORT" BIND=127.0.0.1 THREADS=2 LOG_LEVEL=info "${extra_env[@]}" \
    valgrind --tool=callgrind --trace-children=no --callgrind-out-file="$OUT/callgrind.$tag.out" \
    --log-file="$OUT/valgrind.$tag.log" "$bin" serve >"$OUT/server.$tag.log" 2>&1 &
  SERVER_PID=$!
  for ((i = 0; i < 1200; i++)); do
    ss -Hltn "sport = :$API_PORT" | grep -q . && break
    kill -0 "$SERVER_PID" 2>/dev/null || { say "server died: $tag"; tail "$OUT/server.$tag.log" >&2; exit 1; }
    sleep 0.1
  done
  TOKEN="${TOKEN[$label]}" PORT="$API_PORT" OWNER_MIN="${OWNER_MIN[$label]}" PRODUCT_MIN="${PRODUCT_MIN[$label]}" \
    /usr/bin/python3 "$ROOT/bench/instructions_client.py" "$kind" "$n" >&2
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" || status=$?; SERVER_PID=""
  [ "$status" -eq 0 ] || { say "server exit status $status after SIGTERM ($tag)"; exit 1; }
  callgrind_annotate "$OUT/callgrind.$tag.out" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done { gsub(",", "", $1); print $1; done = 1 }'
}

setup_base before "$BEFORE_BIN" "$BEFORE_TREE"
setup_base after "$AFTER_BIN" "$AFTER_TREE"

RES="$OUT/results.tsv"; : >"$RES"
for kind in "${KINDS[@]}"; do
  for label in before after; do
    bin="$BEFORE_BIN"; [ "$label" = after ] && bin="$AFTER_BIN"
    ir1="$(run_one "$label" "$bin" "$kind" "$N1")"
    ir2="$(run_one "$label" "$bin" "$kind" "$N2")"
    per="$(( (ir2 - ir1) / (N2 - N1) ))"
    printf '%s\t%s\t%s\t%s\t%s\n' "$kind" "$label" "$ir1" "$ir2" "$per" | tee -a "$RES" >&2
  done
done
psql_admin -c "DROP DATABASE IF EXISTS cg_run"

echo "| request kind | BEFORE instr/request | AFTER instr/request | change |"
echo "|---|---:|---:|---:|"
awk -F'\t' '{ p[$1 "," $2] = $5; if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 } }
  END { for (i = 1; i <= k; i++) { b = p[order[i] ",before"]; a = p[order[i] ",after"];
        printf "| %s | %d | %d | %+.1f%% |\n", order[i], b, a, (a - b) * 100.0 / b } }' "$RES"
