#!/usr/bin/env bash
# `make bench`: wrk against the API and pgbench -M prepared on the identical
# SQL in the same run, printed as one markdown table (see PERFORMANCE.md).
#
#   bench/run.sh [rows]   one row per operation: accounts, opportunities
#                         (bench/data_opportunities.sql: SCALE_OPPS deals,
#                         2 to 4 lines each), reports, a mixed load, writes
#   bench/run.sh threads  GET /opportunities/{id} alone and beside the
#                         report clients (the mixed-load row), once per
#                         server THREADS in THREADS_LIST (2 4 8)
#   bench/run.sh profile  perf record -g of the server during a wrk run of the
#                         GET row, plus a system-wide one (where the CPU goes)
#   bench/run.sh metrics  what the request metrics cost: the GET rows (wrk
#                         only) against the server started with METRICS=on
#                         and with METRICS=off, in alternating turns; req/s,
#                         server CPU µs/req of each and the loss in %
#
# Env (defaults): BIN (bin/crm-api), SCALE (100000 accounts), OWNERS (20),
#   SCALE_OPPS (1000000 opportunities, `rows` only; smaller for quick runs),
#   REPORT_CONNS (2: wrk connections of the report rows, so their p50 is the
#   time of a report, not of a queue of 32), REPORT_ROUNDS (4: the report
#   rows' wrk and pgbench runs take turns, DURATION/REPORT_ROUNDS s each, so
#   the machine's drift does not fall on one side of their ratio),
#   MIXED_CONNS (2: report clients running beside the mixed-load row),
#   DURATION (20 s, wrk and pgbench), WARMUP (5 s), CONNS (32), WRK_THREADS (2),
#   THREADS (2, server pool), PG_DIR (.pg-bench), PG_PORT (5460),
#   API_PORT (18100), IDLE_TRIES (60 waits of about 1 s for an idle machine
#   before each measured run), SETUP_SQL (a psql file run after the data is
#   generated, before the server starts: for what-if experiments such as a
#   changed SQL function; the report names it), THREADS_LIST (`threads`),
#   ONLY (a bash regex: `rows` runs only the rows whose names match it,
#   e.g. 'forecast'), SERVER_METRICS (on: the server's METRICS in every mode
#   but `metrics`), METRICS_ROUNDS (4 turns of each side, DURATION s each,
#   `metrics` only).
# Output: the table on stdout and in bench/out/results.md (results-threads.md
# for `threads`, results-metrics.md for `metrics`, -whatif added with SETUP_SQL); raw wrk/pgbench/perf output, the expanded pgbench scripts and
# the server's access log in bench/out/MODE/. Everything started here is
# stopped on exit, even on failure.
#
# Adding a row: write bench/NAME.lua (wrk, loading bench/common.lua) and
# bench/sql/NAME.sql (pgbench, with `-- @statement FILE STATEMENT ARGS...`
# standing for the server's own SQL, read from its C source) and add a
# bench_row line to rows_all below. The C source is read preprocessed, so
# statements made by macros (the opportunity lists) are found too.
# Variables set in front of a bench_row call change that row only: CONNS,
# TARGET_* (empty: not checked), POOL_BODY (a function printing request body
# K; the pgbench script, which uses :body, then runs as POOL_SIZE copies, one
# per body, picked at random per transaction: pgbench cannot build strings),
# ROUNDS (turns of wrk and pgbench; not with a background load)
# and BG_LUA + BG_SQL (a background load of MIXED_CONNS clients during the
# measured wrk and pgbench runs).
# shellcheck disable=SC2317 # cleanup (a trap) and body_* (POOL_BODY) are called indirectly
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MODE="${1:-rows}"
BIN="${BIN:-bin/crm-api}"
SCALE="${SCALE:-100000}"
OWNERS="${OWNERS:-20}"
SCALE_OPPS="${SCALE_OPPS:-1000000}"
REPORT_CONNS="${REPORT_CONNS:-2}"
MIXED_CONNS="${MIXED_CONNS:-2}"
REPORT_ROUNDS="${REPORT_ROUNDS:-4}"
ONLY="${ONLY:-}"
DURATION="${DURATION:-20}"
WARMUP="${WARMUP:-5}"
CONNS="${CONNS:-32}"
WRK_THREADS="${WRK_THREADS:-2}"
THREADS="${THREADS:-2}"
SERVER_METRICS="${SERVER_METRICS:-on}"
METRICS_ROUNDS="${METRICS_ROUNDS:-4}"
PG_DIR="${PG_DIR:-.pg-bench}"
PG_PORT="${PG_PORT:-5460}"
API_PORT="${API_PORT:-18100}"
IDLE_TRIES="${IDLE_TRIES:-60}"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
OUT=bench/out
export BENCH_DIR=bench BENCH_SCALE="$SCALE"

# Targets of the foundation milestone (auth and access logging on).
TARGET_RATIO=0.5
TARGET_P99_MS=10
TARGET_CPU_US=50
TARGET_RSS_MIB=32
# Targets of issues 3-5, set on their rows (see rows_all).
TARGET_P50_MS=""            # none by default; reports: 50 ms
TARGET_REPORT_P50_MS=50
TARGET_REPORT_RATIO=0.83     # reports: the API within 1.2x of the bare SQL
TARGET_MIXED_P99_MS=20      # GET /opportunities/{id} while reports run
TARGET_HISTORY_PCT=10       # POST throughput lost to the history triggers
TARGET_TOTALS_PCT=10        # POST and PATCH throughput lost to the monthly totals' triggers
TARGET_CHANGES_PCT=10       # POST and PATCH throughput lost to the change feed's triggers
TARGET_CHANGES_RATIO=0.8    # GET /changes?limit=500 against pgbench of its statement
TARGET_BATCH_RATIO=0.8      # POST /batch of 50 creates against the same transaction in pgbench
POOL_BODY=""
POOL_SIZE=64
PGBENCH_CLIENTS="4 8"       # pgbench -c of the baseline (the best counts); reports: as many as wrk
ROUNDS=1                    # turns of wrk and pgbench in a row's measured time; reports: REPORT_ROUNDS
BG_LUA=""
BG_SQL=""

say() { printf 'bench: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

for n in IDLE_TRIES SCALE OWNERS SCALE_OPPS REPORT_CONNS REPORT_ROUNDS MIXED_CONNS DURATION WARMUP CONNS WRK_THREADS THREADS \
  PG_PORT API_PORT METRICS_ROUNDS; do
  case "${!n}" in '' | *[!0-9]*) die "$n must be a whole number, got '${!n}'" ;; esac
done
for n in SCALE SCALE_OPPS DURATION REPORT_CONNS REPORT_ROUNDS MIXED_CONNS METRICS_ROUNDS; do
  [ "${!n}" -ge 1 ] || die "$n must be at least 1"
done
case "$MODE" in rows | threads | profile | metrics) ;; *) die "usage: bench/run.sh [rows|threads|profile|metrics]" ;; esac
case "$SERVER_METRICS" in on | off) ;; *) die "SERVER_METRICS must be on or off, got '$SERVER_METRICS'" ;; esac
THREADS_LIST="${THREADS_LIST:-2 4 8}"
for n in $THREADS_LIST; do
  case "$n" in '' | *[!0-9]*) die "THREADS_LIST must list whole numbers, got '$THREADS_LIST'" ;; esac
done
[ -x "$BIN" ] || die "$BIN not found or not executable (build it, or set BIN)"
for tool in wrk "$PG_BIN/pgbench" "$PG_BIN/psql" "${CC:-cc}"; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/deps.sh bench)"
done
CLK_TCK="$(getconf CLK_TCK)"
# `make bench` rebuilds first; a binary older than its sources measures
# something else than the checkout (and its SQL may differ from the baseline).
STALE="$(find api db openapi.yaml -newer "$BIN" -type f -print -quit 2>/dev/null || true)"
if [ -n "$STALE" ]; then
  say "WARNING: $BIN is older than $STALE (and maybe more): rebuild it"
fi
# Raw output of this mode (wrk, pgbench, server logs, perf) goes to
# bench/out/MODE/, wiped first; the tables stay in bench/out.
# A what-if run (SETUP_SQL) writes beside the plain one, never over it.
WHATIF="${SETUP_SQL:+-whatif}"
RAW="$OUT/$MODE$WHATIF"
rm -rf "$RAW"
mkdir -p "$RAW"

# ---------------------------------------------------------------- cleanup
SERVER_PID=""
PERF_PID=""
BG_PIDS=()
PG_STARTED=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$PERF_PID" ]; then kill -INT "$PERF_PID" 2>/dev/null || true; fi
  local pid
  for pid in "${BG_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  stop_server || true
  if [ -n "$PG_STARTED" ]; then
    scripts/pg.sh stop "$PG_DIR" >/dev/null 2>&1 || say "warning: could not stop PostgreSQL in $PG_DIR"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- database
psql_q() { "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c "$1"; }

# Opportunities (`rows` only): SCALE_OPPS deals and their lines, then the id
# ranges the wrk and pgbench scripts draw from.
GEN_SECONDS=""
GEN_LINES=""
generate_opportunities() {
  # Deal g has 2 + g % 3 lines: 3 on average over every 3 deals.
  local lines=$((2 * SCALE_OPPS + 3 * (SCALE_OPPS / 3) + (SCALE_OPPS % 3 == 2 ? 3 : SCALE_OPPS % 3)))
  say "generating $SCALE_OPPS opportunities with $lines lines"
  local check t0="$EPOCHREALTIME" range n
  check="$("$PG_BIN/psql" -X -q -At -d "$DATABASE_URL" -v opps="$SCALE_OPPS" -v accounts="$SCALE" \
    -f bench/data_opportunities.sql 2>&1)" || die "opportunity generation failed: $check"
  [ "$check" = "opportunities=$SCALE_OPPS min_id=1 max_id=$SCALE_OPPS lines=$lines" ] ||
    die "generated data is not opportunities 1..$SCALE_OPPS with $lines lines: $check"
  GEN_LINES="$lines"
  GEN_SECONDS="$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')"
  say "generated in ${GEN_SECONDS}s: $check"
  # Owners and products were each inserted by one statement: contiguous ids.
  range="$(psql_q "SELECT min(id), max(id), count(*) FROM users WHERE email LIKE 'owner%@bench.example'")"
  IFS='|' read -r BENCH_OWNER_MIN BENCH_OWNER_MAX n <<<"$range"
  if [ "$n" != "$OWNERS" ] || [ $((BENCH_OWNER_MAX - BENCH_OWNER_MIN + 1)) != "$OWNERS" ]; then
    die "the bench owners are not $OWNERS contiguous ids: $range"
  fi
  range="$(psql_q "SELECT min(id), max(id), count(*) FROM lookup_items WHERE kind = 'product'")"
  IFS='|' read -r BENCH_PRODUCT_MIN BENCH_PRODUCT_MAX n <<<"$range"
  if [ "$n" -lt 1 ] || [ $((BENCH_PRODUCT_MAX - BENCH_PRODUCT_MIN + 1)) != "$n" ]; then
    die "the bench products are not contiguous ids: $range"
  fi
  export BENCH_OPPS="$SCALE_OPPS" BENCH_OWNER_MIN BENCH_OWNER_MAX BENCH_PRODUCT_MIN BENCH_PRODUCT_MAX
  # The definition forecast_results builds from the report rows' query string.
  PGBENCH_DEFS+=(-D opps="$SCALE_OPPS" -D owner_min="$BENCH_OWNER_MIN" -D owner_max="$BENCH_OWNER_MAX"
    -D forecast_def='{"period":"next_12_months","group_by":"month","split_by":"owner"}' -D grid_period=month)
}

start_database() {
  scripts/pg.sh destroy "$PG_DIR" >/dev/null 2>&1 || true
  PG_STARTED=1
  DATABASE_URL="$(scripts/pg.sh start "$PG_DIR" "$PG_PORT" 2>"$RAW/pg-start.log")" ||
    die "PostgreSQL did not start (see $RAW/pg-start.log)"
  export DATABASE_URL
  PG_DATA="$(scripts/pg.sh datadir "$PG_DIR")"
  # create-admin migrates first; its token (one line) is wrk's bearer.
  TOKEN="$("$BIN" create-admin --name "Bench admin" --email admin@bench.example 2>"$RAW/create-admin.log")" ||
    die "crm-api create-admin failed (see $RAW/create-admin.log)"
  [ -n "$TOKEN" ] || die "create-admin printed no token"
  # What the server sends to api_authenticate (for pipeline pgbench scripts).
  TOKEN_HASH="$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)"
  [ "$(psql_q "SELECT count(*) FROM api_tokens WHERE token_hash = decode('$TOKEN_HASH', 'hex')")" = 1 ] ||
    die "the admin token's SHA-256 is not in api_tokens"
  say "generating $SCALE accounts over $OWNERS owners"
  local check
  check="$("$PG_BIN/psql" -X -q -At -d "$DATABASE_URL" -v scale="$SCALE" -v owners="$OWNERS" \
    -f bench/data.sql 2>&1)" || die "data generation failed: $check"
  [ "$check" = "accounts=$SCALE min_id=1 max_id=$SCALE" ] ||
    die "generated data is not accounts 1..$SCALE: $check"
  # The caller of the write rows' pgbench scripts (set as api_authenticate does).
  ADMIN_ID="$(psql_q "SELECT id FROM users WHERE email = 'admin@bench.example'")"
  PGBENCH_DEFS=(-D scale="$SCALE" -D token_hash="$TOKEN_HASH" -D admin_only=f -D user_id="$ADMIN_ID"
    -D caller_role=admin)
  [ "$MODE" = profile ] || generate_opportunities
  if [ -n "${SETUP_SQL:-}" ]; then
    say "running SETUP_SQL=$SETUP_SQL"
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -f "$SETUP_SQL" >"$RAW/setup-sql.log" 2>&1 ||
      die "SETUP_SQL failed: $(tail -n 5 "$RAW/setup-sql.log")"
  fi
}

# Busy share of the whole machine (percent, integer) over one second.
machine_busy_pct() {
  local a b
  read -ra a < <(head -n1 /proc/stat)
  sleep 1
  read -ra b < <(head -n1 /proc/stat)
  # cpu user nice system idle iowait irq softirq steal
  local busy=$(((b[1] + b[2] + b[3] + b[6] + b[7]) - (a[1] + a[2] + a[3] + a[6] + a[7])))
  local total=$(((b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + b[7] + b[8]) -
    (a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7] + a[8])))
  [ "$total" -gt 0 ] || total=1
  echo $((100 * busy / total))
}

# Waits until PostgreSQL runs nothing (no active client backend, no
# autovacuum worker) and the machine is below 10 % busy.
wait_idle() {
  local i active busy=100
  for ((i = 0; i < IDLE_TRIES; i++)); do
    active="$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid()
      AND (backend_type = 'autovacuum worker' OR (backend_type = 'client backend' AND state NOT LIKE 'idle%'))")"
    if [ "$active" = 0 ]; then
      busy="$(machine_busy_pct)"
      [ "$busy" -ge 10 ] || return 0
    else
      sleep 0.5
    fi
  done
  say "warning: not idle after $IDLE_TRIES tries (PostgreSQL active: $active, machine busy: $busy %); going on"
}

# ---------------------------------------------------------------- server
# One HTTP/1.0 request over bash's /dev/tcp; prints the status code.
http_status() {
  local path="$1" auth="" line=""
  [ -z "${2:-}" ] || auth="Authorization: Bearer $2"$'\r\n'
  {
    exec 3<>"/dev/tcp/127.0.0.1/$API_PORT"
  } 2>/dev/null || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n%s\r\n' "$path" "$auth" >&3
  read -r line <&3 || true
  exec 3<&-
  line="${line#HTTP/* }"
  printf '%s\n' "${line%% *}"
}

# start_server LABEL: access logging to bench/out/server-LABEL.log.
start_server() {
  local label="$1" i
  SERVER_LOG="$RAW/server-$label.log"
  PORT="$API_PORT" BIND=127.0.0.1 THREADS="$THREADS" LOG_LEVEL=info METRICS="$SERVER_METRICS" \
    "$BIN" serve >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  for ((i = 0; i < 100; i++)); do
    [ "$(http_status /healthz 2>/dev/null)" = 200 ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || {
      tail -n 20 "$SERVER_LOG" >&2
      SERVER_PID=""
      die "the server died at start"
    }
    sleep 0.1
  done
  [ "$(http_status /healthz)" = 200 ] || die "the server does not answer /healthz on port $API_PORT"
  local got
  got="$(http_status /accounts/1 "$TOKEN")"
  [ "$got" = 200 ] || die "GET /accounts/1 with the admin token answered $got, not 200"
  say "server $SERVER_PID up ($THREADS threads, METRICS=$SERVER_METRICS), log $SERVER_LOG"
}

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  local pid="$SERVER_PID" status=0 i
  SERVER_PID=""
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "warning: server $pid still running 10 s after SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || status=$?
  [ "$status" -eq 0 ] || say "warning: server exited with status $status after SIGTERM"
}

# utime + stime of a process, in clock ticks (fields 14 and 15; the fields
# after the command name, which is in parentheses, start at field 3).
cpu_ticks() {
  local stat rest
  local -a f
  stat="$(cat "/proc/$1/stat")"
  rest="${stat##*) }"
  read -ra f <<<"$rest"
  echo $((f[11] + f[12]))
}

vm_hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# Busy ticks of the whole machine (user nice system irq softirq), and of
# irq + softirq alone (interrupt time is charged to no process).
machine_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }
irq_ticks() { awk '$1 == "cpu" { print $7 + $8; exit }' /proc/stat; }

# Ticks of this shell's finished children (wrk), from the `times` builtin;
# it must run in this shell, not in a $(...) subshell: sets CHILD_TICKS.
children_ticks() {
  times >"$RAW/.times"
  CHILD_TICKS="$(awk -v hz="$CLK_TCK" 'NR == 2 {
    t = 0
    for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }
    printf "%d\n", t * hz + 0.5 }' "$RAW/.times")"
  rm -f "$RAW/.times"
}

# "pid ticks" for the postmaster and its children (backends, workers).
pg_ticks_snapshot() {
  local pm pid
  pm="$(sed -n 1p "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
  [ -n "$pm" ] || return 0
  for pid in "$pm" $(pgrep -P "$pm" || true); do
    printf '%s %s\n' "$pid" "$(cpu_ticks "$pid" 2>/dev/null || echo 0)"
  done
}

# Ticks PostgreSQL used between two snapshots (processes that ended in
# between are not counted; the server's connections persist).
pg_ticks_between() {
  awk 'NR == FNR { before[$1] = $2; next } { total += $2 - ($1 in before ? before[$1] : 0) }
       END { print total + 0 }' <(printf '%s\n' "$1") <(printf '%s\n' "$2")
}

# ---------------------------------------------------------------- pgbench
# A C file after the preprocessor (macros expanded), cached in $RAW.
preprocessed() {
  local out
  out="$RAW/cpp-$(slug "$1").c"
  if [ ! -f "$out" ]; then
    # shellcheck disable=SC2046 # pkg-config prints several words
    "${CC:-cc}" -E -P -std=c17 -D_GNU_SOURCE -Iapi $(pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql) \
      "$1" >"$out" 2>"$out.err" || die "cannot preprocess $1: $(tail -n 3 "$out.err")"
  fi
  printf '%s\n' "$out"
}

# Prints the SQL of a statement of the server's C source: the string
# literals after {"NAME", up to the closing brace, concatenated; the first
# such entry of the preprocessed file (statement tables come first).
c_statement_sql() {
  awk -v name="$2" '
    function unescape(s,   out, c, i) {
      out = ""
      for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c == "\\") {
          i++
          c = substr(s, i, 1)
          if (c == "n") c = "\n"
          else if (c == "t") c = "\t"
        }
        out = out c
      }
      return out
    }
    # {"name", "SQL"} or, from DB_STATEMENT, {.name = "name", .sql = ("SQL")}
    BEGIN { key = "([{][ \t]*\"" name "\"[ \t]*,|[.]name[ \t]*=[ \t]*\"" name "\"[ \t]*,[ \t]*[.]sql[ \t]*=[ \t]*[(]?)" }
    !found {
      if (!match($0, key)) next
      rest = substr($0, RSTART + RLENGTH)
      if (rest !~ /^[ \t]*("|$)/) next
      found = 1
      $0 = rest
    }
    found {
      line = $0
      outside = ""
      while (match(line, /"([^"\\]|\\.)*"/)) {
        sql = sql unescape(substr(line, RSTART + 1, RLENGTH - 2))
        outside = outside substr(line, 1, RSTART - 1)
        line = substr(line, RSTART + RLENGTH)
      }
      outside = outside line
      if (index(outside, "}")) { print sql; ok = 1; exit }
    }
    END { exit ok ? 0 : 1 }
  ' "$(preprocessed "$1")"
}

# Expands a pgbench template: `-- @statement FILE NAME ARGS...` becomes the
# statement's SQL with $1..$n replaced by ARGS, ended by a semicolon, or by
# \gset when that is the last word (its columns become variables for the
# statements after it, as the server passes a check's result on).
expand_pgbench_script() {
  # shellcheck disable=SC2016 # a regex matching $1, $2... literally
  local template="$1" out="$2" line sql rest done_sql n end re='^([^$]*)\$([0-9]+)(.*)$'
  local -a words
  : >"$out"
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ "$line" =~ ^--\ @statement\  ]]; then
      read -ra words <<<"${line#-- @statement }"
      end=";"
      if [ "${words[-1]}" = '\gset' ]; then
        end=" \gset"
        unset 'words[-1]'
      fi
      [ "${#words[@]}" -ge 2 ] || die "$template: @statement needs FILE NAME [ARGS...]"
      sql="$(c_statement_sql "${words[0]}" "${words[1]}")" ||
        die "$template: no statement ${words[1]} in ${words[0]}"
      # The binary must be built from this source, or the baseline is not
      # the SQL it runs.
      grep -qaF -- "$sql" "$BIN" ||
        die "$BIN does not contain the SQL of ${words[1]} in ${words[0]}: rebuild it"
      rest="$sql"
      done_sql=""
      while [[ "$rest" =~ $re ]]; do
        n="${BASH_REMATCH[2]}"
        if [ "$n" -lt 1 ] || [ "$n" -gt $((${#words[@]} - 2)) ]; then
          die "$template: ${words[1]} uses \$$n but the line gives $((${#words[@]} - 2)) argument(s)"
        fi
        done_sql+="${BASH_REMATCH[1]}${words[n + 1]}"
        rest="${BASH_REMATCH[3]}"
      done
      printf '%s%s%s\n' "$done_sql" "$rest" "$end" >>"$out"
    else
      printf '%s\n' "$line" >>"$out"
    fi
  done <"$template"
}

# run_pgbench SCRIPT CLIENTS OUTFILE: prints the TPS. SCRIPT @NAME stands
# for the pgbench options in array NAME instead (the -f and -D of a pool).
run_pgbench() {
  local script="$1" clients="$2" outfile="$3" tps
  local -a files=(-f "$script")
  if [[ "$script" == @* ]]; then
    local -n files_ref="${script#@}"
    files=("${files_ref[@]}")
  fi
  "$PG_BIN/pgbench" -M prepared -n -j2 -c"$clients" -T"$DURATION" "${PGBENCH_DEFS[@]}" "${files[@]}" \
    "$DATABASE_URL" >"$outfile" 2>&1 || die "pgbench failed: $(tail -n 5 "$outfile")"
  if grep -Eq '^number of failed transactions: [1-9]' "$outfile"; then
    die "pgbench had failed transactions (see $outfile)"
  fi
  tps="$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$outfile")"
  [ -n "$tps" ] || die "no tps in $outfile"
  printf '%s\n' "$tps"
}

# greater A B: whether the number A is greater than B (decimals too).
greater() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

# A random whole number in [LOW, HIGH].
rand_between() { echo $(((RANDOM * 32768 + RANDOM) % ($2 - $1 + 1) + $1)); }

# Request bodies as the server passes them on after validation (quantities
# and money as text): POST /opportunities with two lines, and the PATCH of
# two fields. The wrk scripts send the same shapes.
body_create() {
  printf '{"account_id":%d,"name":"Bench deal","lines":[{"product_id":%d,"quantity":"2"},' \
    "$(rand_between 1 "$SCALE")" "$(rand_between "$BENCH_PRODUCT_MIN" "$BENCH_PRODUCT_MAX")"
  printf '{"product_id":%d,"quantity":"1","unit_price":"99.50"}]}\n' \
    "$(rand_between "$BENCH_PRODUCT_MIN" "$BENCH_PRODUCT_MAX")"
}
body_patch() {
  local n
  n="$(rand_between 11 89)"
  printf '{"next_step":"Bench step %d","probability":%d}\n' "$n" "$n"
}

# make_pool SCRIPT BODY_FUNCTION: POOL_SIZE copies of the expanded SCRIPT,
# copy K reading :body_K, with -D body_K=<body K>, into the array POOL_ARGS
# (run_pgbench @POOL_ARGS ...): a random body per transaction, bound as a
# parameter like the server's.
POOL_ARGS=()
make_pool() {
  local script="$1" fn="$2" k dir="${1%.sql}-pool"
  grep -q ':body\b' "$script" || die "$script reads no :body"
  rm -rf "$dir"
  mkdir -p "$dir"
  POOL_ARGS=()
  for ((k = 1; k <= POOL_SIZE; k++)); do
    sed "s/:body\b/:body_$k/g" "$script" >"$dir/$k.sql"
    POOL_ARGS+=(-f "$dir/$k.sql" -D "body_$k=$("$fn" "$k")")
  done
}

# start_staggered_wrk COUNT LUA SECONDS OUTFILE TIMEOUT: COUNT one-connection
# wrk clients in the background, started 0.5 s apart (so they connect as
# independent users would), writing OUTFILE-1.txt...; their pids and output
# files in STAGGERED_PIDS and STAGGERED_OUTS.
STAGGERED_PIDS=()
STAGGERED_OUTS=()
start_staggered_wrk() {
  local i
  STAGGERED_PIDS=()
  STAGGERED_OUTS=()
  for ((i = 1; i <= $1; i++)); do
    STAGGERED_OUTS+=("${4%.txt}-$i.txt")
    wrk -t1 -c1 -d"$3"s --latency --timeout "$5" -s "$2" -H "Authorization: Bearer $TOKEN" \
      "http://127.0.0.1:$API_PORT" >"${4%.txt}-$i.txt" 2>&1 &
    STAGGERED_PIDS+=($!)
    [ "$i" -eq "$1" ] || sleep 0.5
  done
}

# bg_start wrk|pgbench FILE SECONDS OUTFILE: MIXED_CONNS clients of FILE in
# the background for SECONDS; bg_wait waits for them to end by themselves.
# wrk: one process of one connection per client (OUTFILE-1.txt, -2...),
# started 0.5 s apart. The server keeps a connection on the pool thread that
# accepted it, and a thread busy with a report accepts nothing: clients that
# connect together tend to share one thread (the other then serves all the
# fast requests alone), clients that connect apart get one thread each, as
# independent users do, and then every thread stalls behind a report.
# pgbench: one process of MIXED_CONNS clients (OUTFILE).
BG_OUTS=()
bg_start() {
  local i
  BG_PIDS=()
  BG_OUTS=()
  case "$1" in
    wrk)
      start_staggered_wrk "$MIXED_CONNS" "$2" "$3" "$4" 30s
      BG_PIDS=("${STAGGERED_PIDS[@]}")
      BG_OUTS=("${STAGGERED_OUTS[@]}")
      ;;
    pgbench)
      BG_OUTS+=("$4")
      "$PG_BIN/pgbench" -M prepared -n -j1 -c"$MIXED_CONNS" -T"$3" "${PGBENCH_DEFS[@]}" -f "$2" \
        "$DATABASE_URL" >"$4" 2>&1 &
      BG_PIDS+=($!)
      ;;
  esac
}
bg_wait() {
  local i
  for i in "${!BG_PIDS[@]}"; do
    wait "${BG_PIDS[$i]}" || die "the background load failed: $(tail -n 5 "${BG_OUTS[$i]}")"
  done
  BG_PIDS=()
}

# "tid ticks" of the server's pool threads (MHD-worker), and their shares
# of the ticks between two such snapshots ("71 %/29 %"; nothing for one
# thread, or in thread-per-connection mode).
worker_ticks() {
  local t
  for t in /proc/"$1"/task/*; do
    [ "$(cat "$t/comm" 2>/dev/null)" = MHD-worker ] || continue
    printf '%s %s\n' "${t##*/}" "$(cpu_ticks "${t##*/}" 2>/dev/null || echo 0)"
  done
}
worker_split() {
  awk 'NR == FNR { if (NF) before[$1] = $2; next }
       NF { d = $2 - ($1 in before ? before[$1] : 0); v[++n] = d; total += d }
       END { if (n < 2 || total <= 0) exit
             for (i = 1; i <= n; i++) printf "%s%.0f %%", (i > 1 ? "/" : ""), 100 * v[i] / total }' \
    <(printf '%s\n' "$1") <(printf '%s\n' "$2")
}

# ---------------------------------------------------------------- wrk
# run_wrk LUA SECONDS OUTFILE. With WRK_STAGGER=1: CONNS wrk processes of
# one connection each, started 0.5 s apart (OUTFILE-1.txt, -2...), as
# independent users connect: connections opened together tend to land on
# one server pool thread, which then serves them in turn while the other
# idles. OUTFILE then gets their combined result line (merge_wrk_results).
run_wrk() {
  if [ "${WRK_STAGGER:-}" != 1 ]; then
    wrk -t"$WRK_THREADS" -c"$CONNS" -d"$2"s --latency --timeout 10s -s "$1" \
      -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$API_PORT" >"$3" 2>&1 ||
      die "wrk failed: $(tail -n 5 "$3")"
    return
  fi
  local i
  start_staggered_wrk "$CONNS" "$1" "$2" "$3" 10s
  for i in "${!STAGGERED_PIDS[@]}"; do
    wait "${STAGGERED_PIDS[$i]}" || die "wrk failed: $(tail -n 5 "${STAGGERED_OUTS[$i]}")"
  done
  merge_wrk_results together "$3" "${STAGGERED_OUTS[@]}"
}

# merge_wrk_results together|in-turn OUTFILE FILES...: one result line from
# the wrk result lines of FILES: clients that ran together (requests and
# req/s summed, p50/p90/mean the mean of the clients') or runs made one
# after another (requests summed over their summed time; p50/p90/mean
# weighted by requests); p99/p99.9/max the worst either way.
merge_wrk_results() {
  local how="$1" out="$2"
  shift 2
  awk -v how="$how" '
       function num(k,   v) { v = $0; if (!match(v, "\"" k "\":[0-9.eE+-]+")) return 0
                               v = substr(v, RSTART + length(k) + 3, RLENGTH - length(k) - 3); return v + 0 }
       /^BENCH_JSON / { n++; r = num("requests"); req += r; rps += num("rps"); bytes += num("bytes")
                        w = how == "together" ? 1 : r; weight += w
                        if (how == "together") { if (num("duration_us") > dur) dur = num("duration_us") }
                        else dur += num("duration_us")
                        p50 += w * num("p50_us"); p90 += w * num("p90_us"); mean += w * num("mean_us")
                        if (num("p99_us") > p99) p99 = num("p99_us"); if (num("p999_us") > p999) p999 = num("p999_us")
                        if (num("max_us") > mx) mx = num("max_us")
                        split("connect read write status timeout", e, " ")
                        for (i in e) err[e[i]] += num("err_" e[i]) }
       END { if (n == 0 || weight == 0) exit 1
             if (how != "together") rps = dur > 0 ? req * 1e6 / dur : 0
             printf "BENCH_JSON {\"requests\":%d,\"duration_us\":%d,\"bytes\":%d,\"rps\":%.2f,\"p50_us\":%d,", req, dur, bytes, rps, p50 / weight
             printf "\"p90_us\":%d,\"p99_us\":%d,\"p999_us\":%d,\"max_us\":%d,\"mean_us\":%.1f,", p90 / weight, p99, p999, mx, mean / weight
             printf "\"err_connect\":%d,\"err_read\":%d,\"err_write\":%d,\"err_status\":%d,\"err_timeout\":%d}\n", \
               err["connect"], err["read"], err["write"], err["status"], err["timeout"] }' "$@" >"$out" ||
    die "no result line in $*"
}

json_num() { sed -n "s/^BENCH_JSON .*\"$2\":\([0-9.eE+-]*\).*/\1/p" "$1"; }

slug() { printf '%s' "$1" | tr -c 'A-Za-z0-9\n' '_' | tr -s _ | sed 's/^_//; s/_$//'; }

# ---------------------------------------------------------------- rows
TABLE_HEAD='| operation | API req/s | pgbench TPS | ratio | p50 | p99 | server CPU µs/req | server RSS |
|---|---:|---:|---:|---:|---:|---:|---:|'
ROWS=()
DETAILS=()
MISSED=()

# collect LINES: files a row's awk output (ROW|, DETAIL-, MISS lines) into
# ROWS, DETAILS and MISSED, and says each row it added.
collect() {
  local line
  while IFS= read -r line; do
    case "$line" in
      ROW*)
        ROWS+=("${line#ROW}")
        say "done: ${line#ROW}"
        ;;
      DETAIL*) DETAILS+=("${line#DETAIL}") ;;
      MISS*) MISSED+=("${line#MISS}") ;;
    esac
  done <<<"$1"
}

# only_wanted NAME: whether the row NAME runs (every row, or those ONLY matches).
only_wanted() {
  [ -z "$ONLY" ] || [[ "$1" =~ $ONLY ]]
}

# run_wrk_counted LUA SECONDS OUTFILE: run_wrk, adding the CPU ticks the
# server, PostgreSQL, wrk, the machine and its interrupts used meanwhile,
# and the seconds it took, to bench_row's srv, pg, wrk, machine, irq and
# elapsed (bash's dynamic scope: it runs inside bench_row).
run_wrk_counted() {
  local srv0 srv1 pg0 pg1 wrk0 m0 m1 q0 q1 e0 e1
  pg0="$(pg_ticks_snapshot)"
  children_ticks
  wrk0="$CHILD_TICKS"
  m0="$(machine_ticks)"
  q0="$(irq_ticks)"
  srv0="$(cpu_ticks "$SERVER_PID")"
  e0="$EPOCHREALTIME"
  run_wrk "$@"
  e1="$EPOCHREALTIME"
  srv1="$(cpu_ticks "$SERVER_PID")"
  m1="$(machine_ticks)"
  q1="$(irq_ticks)"
  children_ticks
  pg1="$(pg_ticks_snapshot)"
  srv=$((srv + srv1 - srv0))
  pg=$((pg + $(pg_ticks_between "$pg0" "$pg1")))
  wrk=$((wrk + CHILD_TICKS - wrk0))
  machine=$((machine + m1 - m0))
  irq=$((irq + q1 - q0))
  elapsed="$(awk -v a="$elapsed" -v b="$e0" -v c="$e1" 'BEGIN { print a + c - b }')"
}

# bench_row NAME LUA_SCRIPT PGBENCH_SQL_FILE [PIPELINE_SQL_FILE]: warm-up,
# measured wrk run (CPU of the server, PostgreSQL, wrk and the machine, and
# the server's RSS around it), then pgbench at each of PGBENCH_CLIENTS (-c4
# and -c8) on the same SQL; the higher TPS is the baseline. With ROUNDS > 1
# the wrk run and the pgbench runs take turns (see below). PIPELINE_SQL_FILE,
# if given, is everything the server sends (auth + data), also run -c4 and
# -c8 and shown in the details only.
bench_row() {
  local name="$1" lua="$2" template="$3" pipeline_template="${4:-}" s
  only_wanted "$name" || return 0
  s="$(slug "$name")"
  local script="$RAW/pgbench-$s.sql" wrk_out="$RAW/wrk-$s.txt" pipeline_script=""
  [ -f "$lua" ] || die "no wrk script $lua"
  [ -f "$template" ] || die "no pgbench script $template"
  expand_pgbench_script "$template" "$script"
  local pg_script="$script" bg_script="" bg_note=""
  if [ -n "$POOL_BODY" ]; then
    make_pool "$script" "$POOL_BODY"
    pg_script=@POOL_ARGS
  fi
  if [ -n "$BG_LUA" ]; then
    bg_script="$RAW/pgbench-$s-background.sql"
    expand_pgbench_script "$BG_SQL" "$bg_script"
  fi
  if [ -n "$pipeline_template" ]; then
    pipeline_script="$RAW/pgbench-$s-pipeline.sql"
    expand_pgbench_script "$pipeline_template" "$pipeline_script"
  fi
  if [ "${ROUNDS:-1}" -gt 1 ]; then
    say "row '$name': warm-up ${WARMUP}s, then $ROUNDS turns of wrk -c$CONNS and pgbench -c${PGBENCH_CLIENTS// /\/-c}, ${DURATION}s each in all"
  else
    say "row '$name': warm-up ${WARMUP}s, wrk -c$CONNS ${DURATION}s, pgbench -c${PGBENCH_CLIENTS// /\/-c} ${DURATION}s each"
  fi

  wait_idle
  # The background load runs through the warm-up and the measured run.
  [ -z "$BG_LUA" ] || bg_start wrk "$BG_LUA" $((WARMUP + DURATION + 3)) "$RAW/wrk-$s-background.txt"
  if [ "$WARMUP" -gt 0 ]; then
    run_wrk "$lua" "$WARMUP" "$RAW/wrk-$s-warmup.txt"
  fi
  # With ROUNDS > 1 the measured wrk run and the pgbench runs alternate in
  # ROUNDS turns of DURATION/ROUNDS s each, so a drift of this shared
  # machine weighs on the API and on its baseline alike.
  local rounds="${ROUNDS:-1}" secs="$DURATION" round round_out best c t
  [ "$rounds" -le 1 ] || secs=$(((DURATION + rounds - 1) / rounds))
  [ "$rounds" -le 1 ] || [ -z "$BG_LUA" ] || die "row '$name': ROUNDS and a background load do not go together"
  local srv=0 pg=0 wrk=0 machine=0 irq=0 elapsed=0 thr0 thr1 split round_ratios=""
  local -a round_outs=()
  local -A tps_sum=()
  thr0="$(worker_ticks "$SERVER_PID")"
  for ((round = 1; round <= rounds; round++)); do
    round_out="$wrk_out"
    [ "$rounds" -le 1 ] || round_out="${wrk_out%.txt}-round$round.txt"
    [ "$round" -eq 1 ] || wait_idle
    run_wrk_counted "$lua" "$secs" "$round_out"
    round_outs+=("$round_out")
    [ "$rounds" -gt 1 ] || break
    best=0
    for c in $PGBENCH_CLIENTS; do
      wait_idle
      t="$(DURATION="$secs" run_pgbench "$pg_script" "$c" "$RAW/pgbench-$s-c$c-round$round.txt")"
      tps_sum[$c]="$(awk -v a="${tps_sum[$c]:-0}" -v b="$t" 'BEGIN { print a + b }')"
      if greater "$t" "$best"; then best="$t"; fi
    done
    round_ratios+="${round_ratios:+, }$(awk -v a="$(json_num "$round_out" rps)" -v b="$best" \
      'BEGIN { printf "%.2f", a / b }')"
  done
  [ "$rounds" -le 1 ] || merge_wrk_results in-turn "$wrk_out" "${round_outs[@]}"
  thr1="$(worker_ticks "$SERVER_PID")"
  split="$(worker_split "$thr0" "$thr1")"
  local hwm
  hwm="$(vm_hwm_kib "$SERVER_PID")"
  grep -q '^BENCH_JSON ' "$wrk_out" || die "no result line in $wrk_out"
  if [ -n "$BG_LUA" ]; then
    bg_wait
    local o bg_rps="" bg_p50=""
    for o in "${BG_OUTS[@]}"; do
      bg_rps+="${bg_rps:+ + }$(json_num "$o" rps)"
      bg_p50+="${bg_p50:+, }$(awk -v u="$(json_num "$o" p50_us)" 'BEGIN { printf "%.0f", u / 1000 }')"
    done
    bg_note="; beside it $MIXED_CONNS wrk clients of $BG_LUA, one connection each, started 0.5 s apart"
    bg_note+=" (whole warm-up and run): $bg_rps req/s, p50 $bg_p50 ms"
  fi
  [ -z "$split" ] || bg_note="; server pool threads' CPU split during wrk $split$bg_note"

  local requests rps p50 p99 p999 max errs="" e v
  requests="$(json_num "$wrk_out" requests)"
  rps="$(json_num "$wrk_out" rps)"
  p50="$(json_num "$wrk_out" p50_us)"
  p99="$(json_num "$wrk_out" p99_us)"
  p999="$(json_num "$wrk_out" p999_us)"
  max="$(json_num "$wrk_out" max_us)"
  for e in connect read write status timeout; do
    v="$(json_num "$wrk_out" "err_$e")"
    [ "$v" = 0 ] || errs+=" $e=$v"
  done
  [ "$requests" -gt 0 ] || die "wrk completed no request (see $wrk_out)"

  # pgbench at each client count of PGBENCH_CLIENTS; the baseline is the best
  # (with ROUNDS, the mean TPS of the turns at that count).
  local bg_tps="" tps_list="" base=0 base_c=""
  for c in $PGBENCH_CLIENTS; do
    if [ "$rounds" -gt 1 ]; then
      t="$(awk -v a="${tps_sum[$c]}" -v n="$rounds" 'BEGIN { print a / n }')"
    else
      wait_idle
      [ -z "$BG_LUA" ] || bg_start pgbench "$bg_script" $((DURATION + 3)) "$RAW/pgbench-$s-background-c$c.txt"
      t="$(run_pgbench "$pg_script" "$c" "$RAW/pgbench-$s-c$c.txt")"
      if [ -n "$BG_LUA" ]; then
        bg_wait
        bg_tps+="${bg_tps:+, }$(awk '/^tps = / { printf "%.1f", $3 }' "${BG_OUTS[0]}") beside -c$c"
      fi
    fi
    tps_list+="${tps_list:+, }-c$c $(printf '%.0f' "$t")"
    if greater "$t" "$base"; then base="$t" base_c="c$c"; fi
  done
  [ -z "$BG_LUA" ] || bg_note+="; pgbench ran beside $MIXED_CONNS pgbench clients of its SQL (TPS $bg_tps)"
  [ "$rounds" -le 1 ] ||
    bg_note+="; wrk and pgbench alternated in $rounds turns of $secs s each, API/pgbench per turn: $round_ratios"
  local ptps4=0 ptps8=0
  if [ -n "$pipeline_script" ]; then
    wait_idle
    ptps4="$(run_pgbench "$pipeline_script" 4 "$RAW/pgbench-$s-pipeline-c4.txt")"
    wait_idle
    ptps8="$(run_pgbench "$pipeline_script" 8 "$RAW/pgbench-$s-pipeline-c8.txt")"
  fi

  # One awk computes the row, the detail line and the missed targets.
  local lines
  lines="$(awk -v name="$name" -v rps="$rps" -v base="$base" -v c="$base_c" -v tps_list="$tps_list" \
    -v p50="$p50" -v p99="$p99" \
    -v p999="$p999" -v max="$max" -v n="$requests" -v hwm="$hwm" -v errs="$errs" -v hz="$CLK_TCK" \
    -v srv="$srv" -v pg="$pg" -v wrk="$wrk" -v machine="$machine" -v irq="$irq" -v pt4="$ptps4" -v pt8="$ptps8" -v cores="$(nproc)" \
    -v secs="$((secs * rounds))" -v e0=0 -v e1="$elapsed" -v conns="$CONNS" -v bg="$bg_note" \
    -v tr="$TARGET_RATIO" -v tp="$TARGET_P99_MS" -v tc="$TARGET_CPU_US" -v tm="$TARGET_RSS_MIB" \
    -v t50="$TARGET_P50_MS" '
    function us(ticks) { return ticks * 1e6 / hz / n }
    BEGIN {
      ratio = rps / base; cpu = us(srv); rss = hwm / 1024
      others = machine - irq - srv - pg - wrk; if (others < 0) others = 0
      pbase = pt4 > pt8 ? pt4 : pt8
      printf "ROW| %s%s | %.0f | %.0f (%s) | %.2f | %.2f ms | %.2f ms | %.1f | %.1f MiB |\n",
        name, errs == "" ? "" : " (wrk errors:" errs ")", rps, base, c, ratio, p50 / 1000, p99 / 1000, cpu, rss
      pipe = pbase > 0 ? sprintf("; pgbench on the whole pipeline the server sends (auth + data) -c4 %.0f, " \
        "-c8 %.0f TPS (API ÷ that: %.2f)", pt4, pt8, rps / pbase) : ""
      printf "DETAIL- %s: %d requests in %d s (wrk -c%d); p99.9 %.2f ms, max %.2f ms; pgbench TPS %s%s; " \
        "CPU per request during wrk: server %.1f µs, PostgreSQL %.1f µs, wrk %.1f µs, " \
        "interrupts %.1f µs, other processes %.1f µs (machine %.0f %% busy)%s%s\n",
        name, n, secs, conns, p999 / 1000, max / 1000, tps_list, pipe, cpu, us(pg), us(wrk), us(irq), us(others),
        100 * machine / (hz * (e1 - e0) * cores), bg, errs == "" ? "" : "; wrk errors:" errs
      if (errs != "") printf "MISS%s: wrk errors:%s\n", name, errs
      if (tr != "" && ratio < tr) printf "MISS%s: ratio %.2f < %s\n", name, ratio, tr
      if (t50 != "" && p50 / 1000 > t50) printf "MISS%s: p50 %.2f ms > %s ms\n", name, p50 / 1000, t50
      if (tp != "" && p99 / 1000 > tp) printf "MISS%s: p99 %.2f ms > %s ms\n", name, p99 / 1000, tp
      if (tc != "" && cpu > tc) printf "MISS%s: server CPU %.1f µs/req > %s\n", name, cpu, tc
      if (tm != "" && rss > tm) printf "MISS%s: server RSS %.1f MiB > %s MiB\n", name, rss, tm
    }')"
  collect "$lines"
}

# trigger_cost_rows LABEL WHAT TARGET_PCT SQL_FILE BODY_FN TABLE.TRIGGER...:
# what the triggers cost the write of SQL_FILE (pgbench only, bodies from
# BODY_FN): disabled and enabled, alternating in runs of DURATION/2 s,
# twice each at -c4 and at -c8 (so a drift of the machine weighs on both
# alike); the cost is that of the best TPS of each state. The monthly
# totals are counted again afterwards (writes made with their triggers
# off are missing from them).
trigger_cost_rows() {
  local label="$1" what="$2" target="$3" sql="$4" body="$5" c state round half=$(((DURATION + 1) / 2)) t trigger
  only_wanted "$label, $what triggers" || return 0
  shift 5
  local tag="${what// /_}" alter
  local script
  script="$RAW/pgbench-$(basename "$sql" .sql)-$tag.sql"
  local -A tps=([disable4]=0 [disable8]=0 [enable4]=0 [enable8]=0) runs=()
  expand_pgbench_script "$sql" "$script"
  make_pool "$script" "$body"
  say "$what on $label: pgbench -c4/-c8, ${half}s runs alternating the triggers disabled/enabled, twice each"
  for c in 4 8; do
    for round in 1 2; do
      for state in disable enable; do
        alter=""
        for trigger in "$@"; do alter+="ALTER TABLE ${trigger%%.*} ${state^^} TRIGGER ${trigger#*.}; "; done
        psql_q "$alter" >/dev/null
        wait_idle
        t="$(DURATION="$half" run_pgbench @POOL_ARGS "$c" "$RAW/pgbench-$tag-${state}d-c$c-$round.txt")"
        tps[$state$c]="$(awk -v a="${tps[$state$c]}" -v b="$t" 'BEGIN { print a + b / 2 }')"
        runs[$state$c]+="${runs[$state$c]:+, }$(printf '%.0f' "$t")"
      done
    done
  done
  psql_q "SELECT opportunity_totals_rebuild()" >/dev/null
  local lines
  lines="$(awk -v d4="${tps[disable4]}" -v d8="${tps[disable8]}" -v e4="${tps[enable4]}" -v e8="${tps[enable8]}" \
    -v rd4="${runs[disable4]}" -v rd8="${runs[disable8]}" -v re4="${runs[enable4]}" -v re8="${runs[enable8]}" \
    -v half="$half" -v target="$target" -v label="$label" -v what="$what" 'BEGIN {
      d = d4 > d8 ? d4 : d8; dc = d4 > d8 ? "c4" : "c8"
      e = e4 > e8 ? e4 : e8; ec = e4 > e8 ? "c4" : "c8"
      cost = 100 * (1 - e / d)
      printf "ROW| %s, %s triggers disabled (pgbench only) | – | %.0f (%s) | – | – | – | – | – |\n", label, what, d, dc
      printf "ROW| %s, %s triggers enabled (pgbench only) | – | %.0f (%s) | – | – | – | – | – |\n", label, what, e, ec
      printf "DETAIL- %s on %s: pgbench TPS (mean of two %d s runs, alternating) with the " \
        "triggers disabled -c4 %.0f (%s), -c8 %.0f (%s); enabled -c4 %.0f (%s), -c8 %.0f (%s): " \
        "the triggers cost %.1f %% of the best TPS (-c4 %.1f %%, -c8 %.1f %%)\n",
        what, label, half, d4, rd4, d8, rd8, e4, re4, e8, re8, cost, 100 * (1 - e4 / d4), 100 * (1 - e8 / d8)
      if (cost >= target) printf "MISS%s on %s: costs %.1f %% of TPS >= %s %%\n", what, label, cost, target
    }')"
  collect "$lines"
}

# Every operation of the current milestone; later milestones add lines here.
# Reads first, then the reports and the mixed load, then the writes (a
# PATCH moves deals between outcomes; POSTs add deals).
rows_all() {
  bench_row "GET /accounts/{id}" bench/get_account.lua bench/sql/account_get.sql \
    bench/sql/account_get_pipeline.sql
  bench_row "GET /opportunities/{id}" bench/get_opportunity.lua bench/sql/opportunity_get.sql
  bench_row "GET /opportunities?owner_id=…&sort=close_date&limit=50" bench/list_opportunities.lua \
    bench/sql/opportunity_list_close_date.sql
  CONNS="$REPORT_CONNS" WRK_STAGGER=1 PGBENCH_CLIENTS="$REPORT_CONNS" ROUNDS="$REPORT_ROUNDS" \
    TARGET_P50_MS="$TARGET_REPORT_P50_MS" \
    TARGET_RATIO="$TARGET_REPORT_RATIO" TARGET_P99_MS="" TARGET_CPU_US="" \
    bench_row "GET /reports/forecast?period=next_12_months&group_by=month&split_by=owner" \
    bench/forecast_report.lua bench/sql/forecast_report.sql
  CONNS="$REPORT_CONNS" WRK_STAGGER=1 PGBENCH_CLIENTS="$REPORT_CONNS" ROUNDS="$REPORT_ROUNDS" \
    TARGET_P50_MS="$TARGET_REPORT_P50_MS" \
    TARGET_RATIO="$TARGET_REPORT_RATIO" TARGET_P99_MS="" TARGET_CPU_US="" \
    bench_row "GET /dashboard/funnel" bench/dashboard_funnel.lua bench/sql/dashboard_funnel.sql
  CONNS="$REPORT_CONNS" WRK_STAGGER=1 PGBENCH_CLIENTS="$REPORT_CONNS" ROUNDS="$REPORT_ROUNDS" \
    TARGET_P50_MS="$TARGET_REPORT_P50_MS" \
    TARGET_RATIO="$TARGET_REPORT_RATIO" TARGET_P99_MS="" TARGET_CPU_US="" \
    bench_row "GET /dashboard/sales-grid?period=month" bench/dashboard_sales_grid.lua \
    bench/sql/dashboard_sales_grid.sql
  TARGET_RATIO="$TARGET_CHANGES_RATIO" TARGET_P99_MS="" TARGET_CPU_US="" \
    bench_row "GET /changes?limit=500" bench/list_changes.lua bench/sql/changes_page.sql
  TARGET_P99_MS="$TARGET_MIXED_P99_MS" BG_LUA=bench/forecast_report.lua BG_SQL=bench/sql/forecast_report.sql \
    bench_row "GET /opportunities/{id} while $MIXED_CONNS clients run the forecast report" \
    bench/get_opportunity.lua bench/sql/opportunity_get.sql
  POOL_BODY=body_patch bench_row "PATCH /opportunities/{id} (next_step, probability; writes history)" \
    bench/patch_opportunity.lua bench/sql/opportunity_patch.sql
  POOL_BODY=body_create bench_row "POST /opportunities (2 lines)" bench/create_opportunity.lua \
    bench/sql/opportunity_create.sql
  # 50 creates in one transaction: the API's work per operation (routing,
  # validation, a round trip in the open transaction) against the same
  # statements sent by pgbench; 8 connections, so the latency is a
  # batch's and not a queue's.
  CONNS=8 TARGET_RATIO="$TARGET_BATCH_RATIO" TARGET_P99_MS="" TARGET_CPU_US="" POOL_BODY=body_create \
    bench_row "POST /batch (50 opportunity creates, 2 lines each)" bench/batch_create.lua bench/sql/batch_create.sql
  # A new deal is inside the history grace window: the history triggers
  # run (per line, and on the value update) but write nothing.
  trigger_cost_rows "POST /opportunities" history "$TARGET_HISTORY_PCT" bench/sql/opportunity_create.sql \
    body_create opportunities.opportunity_history opportunity_lines.opportunity_lines_history
  trigger_cost_rows "POST /opportunities" "monthly totals" "$TARGET_TOTALS_PCT" bench/sql/opportunity_create.sql \
    body_create opportunities.opportunity_totals_inserted opportunities.opportunity_totals_updated
  trigger_cost_rows "PATCH /opportunities/{id}" "monthly totals" "$TARGET_TOTALS_PCT" \
    bench/sql/opportunity_patch.sql body_patch opportunities.opportunity_totals_updated
  # The change feed's triggers are deferred: one event per deal at commit.
  trigger_cost_rows "POST /opportunities" "change feed" "$TARGET_CHANGES_PCT" bench/sql/opportunity_create.sql \
    body_create opportunities.opportunity_change_event
  trigger_cost_rows "PATCH /opportunities/{id}" "change feed" "$TARGET_CHANGES_PCT" \
    bench/sql/opportunity_patch.sql body_patch opportunities.opportunity_change_event
}

report() {
  local file="$1" title="$2" r d m
  {
    printf '## %s\n\n' "$title"
    printf '%s, commit %s%s, %s cores; %s accounts over %s owners; ' \
      "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
      "$(git diff --quiet HEAD -- api db 2>/dev/null || echo ' (api/db modified)')" "$(nproc)" \
      "$SCALE" "$OWNERS"
    [ -z "$GEN_SECONDS" ] ||
      printf '%s opportunities with %s lines (generated in %s s); ' "$SCALE_OPPS" "$GEN_LINES" "$GEN_SECONDS"
    printf 'wrk -t%s -c%s -d%ss --latency --timeout 10s after %ss warm-up; ' \
      "$WRK_THREADS" "$CONNS" "$DURATION" "$WARMUP"
    printf 'pgbench -M prepared -n -j2 -c4 and -c8 -T%s on the data SQL alone (baseline = the higher); ' "$DURATION"
    printf 'server THREADS=%s, LOG_LEVEL=info (access log to a file), bearer auth on' "$THREADS"
    if [ -n "${SETUP_SQL:-}" ]; then printf '; what-if: SETUP_SQL=%s run after the data' "$SETUP_SQL"; fi
    printf '.\n\n'
    printf '%s\n' "$TABLE_HEAD"
    for r in "${ROWS[@]}"; do printf '%s\n' "$r"; done
    printf '\n'
    for d in "${DETAILS[@]}"; do printf '%s\n' "$d"; done
    if [ -n "$GEN_SECONDS" ]; then
      printf '\nNotes:\n'
      printf -- '- Report rows: %s wrk clients of one connection each, started 0.5 s apart (p50 = the time of one ' \
        "$REPORT_CONNS"
      printf 'report while %s run; the mean of the clients'"'"' p50), beside pgbench -c%s (the same concurrency); ' \
        "$REPORT_CONNS" "$REPORT_CONNS"
      printf 'wrk and pgbench take %s turns of DURATION/%s s each, so a drift of the machine weighs on both ' \
        "$REPORT_ROUNDS" "$REPORT_ROUNDS"
      printf 'sides of the ratio (the per-turn ratios are in the details); no p99 or CPU target. '
      printf 'Mixed row: p99 target %s ms; its %s report clients connect 0.5 s apart, so each holds a server pool ' \
        "$TARGET_MIXED_P99_MS" "$MIXED_CONNS"
      printf 'thread in turn, as independent users would.\n'
      printf -- '- pgbench binds no NULL: parameters the server sends as NULL are written NULL in the SQL; the list '
      printf 'runs custom_plans first in the same pipeline, as the server does.\n'
      printf -- '- POST and PATCH: pgbench runs the as_caller statement of the server (the settings of a '
      printf 'caller whose token is cached) in the same pipeline; bodies are a pool of %s (random accounts, products, values), one script ' "$POOL_SIZE"
      printf 'copy each. PATCH deals are 100+ days old: each writes 2 history entries.\n'
    fi
    printf '\nTargets: ratio >= %s, p99 <= %s ms, server CPU <= %s µs/req, RSS <= %s MiB' \
      "$TARGET_RATIO" "$TARGET_P99_MS" "$TARGET_CPU_US" "$TARGET_RSS_MIB"
    [ -z "$GEN_SECONDS" ] || printf '; reports p50 <= %s ms; history on POST < %s %%; monthly totals on POST and PATCH < %s %%' \
      "$TARGET_REPORT_P50_MS" "$TARGET_HISTORY_PCT" "$TARGET_TOTALS_PCT"
    [ -z "$GEN_SECONDS" ] || printf '; change feed page ratio >= %s, its triggers on POST and PATCH < %s %%' \
      "$TARGET_CHANGES_RATIO" "$TARGET_CHANGES_PCT"
    printf ': '
    if [ "${#MISSED[@]}" -eq 0 ]; then
      printf 'all met.\n'
    else
      printf 'missed:\n'
      for m in "${MISSED[@]}"; do printf -- '- %s\n' "$m"; done
    fi
  } | tee "$file"
}

# ---------------------------------------------------------------- metrics
# metrics_cost NAME LUA: what counting the request metrics costs a GET row.
# wrk against the server started with METRICS=on, then with METRICS=off
# (restarted for every turn, each turn after its own warm-up), in
# METRICS_ROUNDS turns of DURATION s per side; odd turns start with on,
# even ones with off, so a drift of the machine weighs on both alike.
metrics_cost() {
  local name="$1" lua="$2" s round m order out t0 t1 e
  only_wanted "$name" || return 0
  s="$(slug "$name")"
  local -A requests=([on]=0 [off]=0) micros=([on]=0 [off]=0) ticks=([on]=0 [off]=0) errors=([on]=0 [off]=0) runs=()
  say "row '$name': $METRICS_ROUNDS turns of METRICS=on and of METRICS=off, wrk -c$CONNS ${DURATION}s each"
  for ((round = 1; round <= METRICS_ROUNDS; round++)); do
    order="on off"
    [ $((round % 2)) -eq 1 ] || order="off on"
    for m in $order; do
      SERVER_METRICS="$m" start_server "metrics-$s-$m-$round"
      wait_idle
      [ "$WARMUP" -eq 0 ] || run_wrk "$lua" "$WARMUP" "$RAW/wrk-$s-$m-$round-warmup.txt"
      out="$RAW/wrk-$s-$m-$round.txt"
      t0="$(cpu_ticks "$SERVER_PID")"
      run_wrk "$lua" "$DURATION" "$out"
      t1="$(cpu_ticks "$SERVER_PID")"
      stop_server
      requests[$m]=$((requests[$m] + $(json_num "$out" requests)))
      micros[$m]=$((micros[$m] + $(json_num "$out" duration_us)))
      ticks[$m]=$((ticks[$m] + t1 - t0))
      for e in connect read write status timeout; do errors[$m]=$((errors[$m] + $(json_num "$out" "err_$e"))); done
      runs[$m]+="${runs[$m]:+, }$(printf '%.0f' "$(json_num "$out" rps)")"
    done
  done
  collect "$(awk -v name="$name" -v n_on="${requests[on]}" -v n_off="${requests[off]}" -v u_on="${micros[on]}" \
    -v u_off="${micros[off]}" -v t_on="${ticks[on]}" -v t_off="${ticks[off]}" -v r_on="${runs[on]}" \
    -v r_off="${runs[off]}" -v e_on="${errors[on]}" -v e_off="${errors[off]}" -v hz="$CLK_TCK" 'BEGIN {
      on = n_on * 1e6 / u_on; off = n_off * 1e6 / u_off
      printf "ROW| %s | %.0f | %.0f | %.1f %% | %.1f | %.1f |\n", name, on, off, 100 * (1 - on / off),
        t_on * 1e6 / hz / n_on, t_off * 1e6 / hz / n_off
      printf "DETAIL- %s: req/s of each turn with METRICS=on %s, with METRICS=off %s; wrk errors on %d, off %d\n",
        name, r_on, r_off, e_on, e_off
      if (e_on + e_off > 0) printf "MISS%s: wrk errors (on %d, off %d)\n", name, e_on, e_off
    }')"
}

metrics_report() {
  local file="$1" r d m
  {
    printf '## bench/run.sh metrics: what METRICS=on costs the GET rows\n\n'
    printf '%s, commit %s%s, %s cores; %s accounts, %s opportunities; per side %s turns of wrk -t%s -c%s -d%ss ' \
      "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
      "$(git diff --quiet HEAD -- api db 2>/dev/null || echo ' (api/db modified)')" "$(nproc)" "$SCALE" \
      "$SCALE_OPPS" "$METRICS_ROUNDS" "$WRK_THREADS" "$CONNS" "$DURATION"
    printf -- '--latency, each after a %ss warm-up on a freshly started server, alternating which side goes ' "$WARMUP"
    printf 'first; server THREADS=%s, LOG_LEVEL=info, bearer auth on. Loss = 1 - on ÷ off.\n\n' "$THREADS"
    printf '| operation | METRICS=on req/s | METRICS=off req/s | loss | server CPU µs/req, on | off |\n'
    printf '|---|---:|---:|---:|---:|---:|\n'
    for r in "${ROWS[@]}"; do printf '%s\n' "$r"; done
    printf '\n'
    for d in "${DETAILS[@]}"; do printf '%s\n' "$d"; done
    for m in "${MISSED[@]}"; do printf -- '- missed: %s\n' "$m"; done
  } | tee "$file"
}

# ---------------------------------------------------------------- profile
# perf record of the server alone, then of the whole machine, each during
# a wrk run of the GET row (no pgbench). Reports: bench/out/profile/perf-*.txt.
profile() {
  command -v perf >/dev/null || die "perf is missing (apt-get install linux-perf)"
  local lua=bench/get_account.lua
  wait_idle
  [ "$WARMUP" -eq 0 ] || run_wrk "$lua" "$WARMUP" "$RAW/wrk-profile-warmup.txt"
  say "perf record -g -p $SERVER_PID for ${DURATION}s during wrk"
  perf record -q -g -p "$SERVER_PID" -o "$RAW/perf-server.data" -- sleep "$DURATION" \
    2>"$RAW/perf-server.err" &
  PERF_PID=$!
  run_wrk "$lua" "$DURATION" "$RAW/wrk-profile-server.txt"
  wait "$PERF_PID" || die "perf record failed: $(cat "$RAW/perf-server.err")"
  PERF_PID=""
  local r="$RAW/perf-server"
  perf report -i "$r.data" --stdio --no-children --sort dso -g none >"$r-dso.txt" 2>/dev/null
  perf report -i "$r.data" --stdio --no-children --sort dso,symbol -g none --percent-limit 0.3 \
    >"$r-symbols.txt" 2>/dev/null
  perf report -i "$r.data" --stdio --children --sort symbol -g none --percent-limit 1 \
    >"$r-inclusive.txt" 2>/dev/null
  perf report -i "$r.data" --stdio --no-children --sort dso,symbol --percent-limit 2 \
    >"$r-callers.txt" 2>/dev/null
  wait_idle
  say "perf record -a -g for ${DURATION}s during wrk (whole machine)"
  perf record -q -a -g -o "$RAW/perf-all.data" -- sleep "$DURATION" 2>"$RAW/perf-all.err" &
  PERF_PID=$!
  run_wrk "$lua" "$DURATION" "$RAW/wrk-profile-all.txt"
  wait "$PERF_PID" || die "perf record failed: $(cat "$RAW/perf-all.err")"
  PERF_PID=""
  r="$RAW/perf-all"
  perf report -i "$r.data" --stdio --no-children --sort comm -g none >"$r-comm.txt" 2>/dev/null
  perf report -i "$r.data" --stdio --no-children --sort comm,dso -g none --percent-limit 0.5 \
    >"$r-comm-dso.txt" 2>/dev/null
  say "reports: $RAW/perf-server-{dso,symbols,inclusive,callers}.txt, $RAW/perf-all-{comm,comm-dso}.txt"
  say "wrk under perf: $(json_num "$RAW/wrk-profile-server.txt" rps) req/s (server only)," \
    "$(json_num "$RAW/wrk-profile-all.txt" rps) req/s (system-wide)"
}

# ---------------------------------------------------------------- main
# All in one function called on the last line, with exit on that line: bash
# reads a script as it runs, so a run would otherwise trip over edits made
# to this file meanwhile.
main() {
  start_database
  case "$MODE" in
    rows)
      start_server default
      rows_all
      stop_server
      report "$OUT/results$WHATIF.md" "make bench${WHATIF:+ (what-if)}"
      ;;
    threads)
      # Each pool size against its own pgbench baseline, in one run.
      for THREADS in $THREADS_LIST; do
        start_server "threads-$THREADS"
        bench_row "GET /opportunities/{id}, THREADS=$THREADS" bench/get_opportunity.lua \
          bench/sql/opportunity_get.sql
        TARGET_P99_MS="$TARGET_MIXED_P99_MS" BG_LUA=bench/forecast_report.lua BG_SQL=bench/sql/forecast_report.sql \
          bench_row "GET /opportunities/{id} while $MIXED_CONNS clients run the forecast report, THREADS=$THREADS" \
          bench/get_opportunity.lua bench/sql/opportunity_get.sql
        stop_server
      done
      report "$OUT/results-threads$WHATIF.md" "bench/run.sh threads: pool sizes compared${WHATIF:+ (what-if)}"
      ;;
    profile)
      start_server default
      profile
      stop_server
      ;;
    metrics)
      metrics_cost "GET /accounts/{id}" bench/get_account.lua
      metrics_cost "GET /opportunities/{id}" bench/get_opportunity.lua
      metrics_cost "GET /opportunities?owner_id=…&sort=close_date&limit=50" bench/list_opportunities.lua
      metrics_report "$OUT/results-metrics$WHATIF.md"
      ;;
  esac
}

main "$@"; exit
