#!/usr/bin/env bash
# Embedded PostgreSQL 15 cluster in a private folder (no system service).
#
#   scripts/pg.sh start   DIR PORT   init DIR if needed, start it if not running,
#                                    print the DATABASE_URL (one line, stdout)
#   scripts/pg.sh url     DIR PORT   print the DATABASE_URL only
#   scripts/pg.sh stop    DIR        fast stop if running (ok if not)
#   scripts/pg.sh destroy DIR        stop, then delete the cluster's data
#   scripts/pg.sh datadir DIR        print the data folder actually used
#
# The URL is libpq's, over the unix socket in the data folder:
#   postgresql://crm@/crm?host=/abs/DIR&port=PORT
# Superuser `crm`, database `crm`, trust auth on the socket and 127.0.0.1 only.
# Everything but the URL goes to stderr.
#
# As root the server runs as the OS user `postgres` (PG_OS_USER); when that user
# cannot reach DIR (e.g. a checkout under /root) or the socket path would be too
# long, the data lives in /tmp/crm-pg-<hash of DIR> instead (same for every
# command, so url/stop/destroy agree with start). DIR then holds only a marker
# file, FALLBACK_DATADIR; `rm -rf DIR` still wipes the database: the next start
# finds no marker and discards the old cluster.
# Env: PG_BIN (default /usr/lib/postgresql/15/bin), PG_OS_USER (default postgres).
set -euo pipefail
umask 022

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
PG_OS_USER="${PG_OS_USER:-postgres}"
DB_NAME=crm
DB_USER=crm
# Longest socket file name PostgreSQL would create inside the data folder.
SOCK_SUFFIX="/.s.PGSQL.65535"
SOCK_MAX=100
MARKER_NAME=FALLBACK_DATADIR

prog="scripts/pg.sh"
say() { echo "pg.sh: $*" >&2; }
die() {
  say "error: $*"
  exit 1
}
usage() {
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2
  exit 2
}

is_root() { [ "$(id -u)" -eq 0 ]; }

# Run a command as the OS user that owns the cluster, from a folder it can read.
as_owner() {
  if is_root; then
    (cd / && runuser -u "$PG_OS_USER" -- "$@")
  else
    (cd / && "$@")
  fi
}

# Nearest existing ancestor of a path (the path itself if it exists).
existing_ancestor() {
  local p="$1"
  while [ ! -e "$p" ] && [ "$p" != / ]; do
    p="$(dirname "$p")"
  done
  printf '%s\n' "$p"
}

fallback_dir() {
  local h
  h="$(printf '%s' "$1" | sha256sum | cut -c1-16)"
  printf '/tmp/crm-pg-%s\n' "$h"
}

# Can the cluster's OS user search every folder down to $1? Without that user
# (postgresql not installed yet) judge by the "other" permission bits, so that
# `url` agrees with a later `start`.
owner_can_reach() {
  local p="$1"
  if id -u "$PG_OS_USER" >/dev/null 2>&1; then
    runuser -u "$PG_OS_USER" -- test -x "$p" 2>/dev/null
    return
  fi
  while :; do
    [ $((8#$(stat -c %a "$p") & 1)) -eq 1 ] || return 1
    [ "$p" != / ] || return 0
    p="$(dirname "$p")"
  done
}

# Decide the data folder for DIR (absolute). Deterministic for a given DIR.
resolve_dir() {
  local abs="$1" why=""
  if [ $((${#abs} + ${#SOCK_SUFFIX})) -ge "$SOCK_MAX" ]; then
    why="socket path under $abs would be ${SOCK_MAX}+ chars"
  elif is_root && ! owner_can_reach "$(existing_ancestor "$abs")"; then
    why="OS user $PG_OS_USER cannot reach $abs"
  fi
  if [ -n "$why" ]; then
    DATA="$(fallback_dir "$abs")"
    NOTE="$why; using $DATA instead"
  else
    DATA="$abs"
    NOTE=""
  fi
}

# Percent-encode for a URI query value (keep unreserved chars and '/').
urlencode() {
  local s="$1" out="" c i LC_ALL=C
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    case "$c" in
      [A-Za-z0-9/._~-]) out+="$c" ;;
      *) out+="$(printf '%%%02X' "'$c")" ;;
    esac
  done
  printf '%s' "$out"
}

print_url() {
  printf 'postgresql://%s@/%s?host=%s&port=%s\n' "$DB_USER" "$DB_NAME" "$(urlencode "$DATA")" "$1"
}

check_port() {
  case "$1" in
    '' | *[!0-9]*) die "PORT must be a number, got '$1'" ;;
  esac
  if [ "$1" -lt 1 ] || [ "$1" -gt 65535 ]; then
    die "PORT out of range: $1"
  fi
}

check_bins() {
  if [ ! -x "$PG_BIN/pg_ctl" ] || [ ! -x "$PG_BIN/initdb" ]; then
    die "PostgreSQL 15 binaries not found in $PG_BIN (install: scripts/deps.sh run)"
  fi
  if is_root; then
    id -u "$PG_OS_USER" >/dev/null 2>&1 ||
      die "OS user '$PG_OS_USER' does not exist (install postgresql: scripts/deps.sh run)"
  fi
}

has_cluster() { [ -f "$DATA/PG_VERSION" ]; }

# pg_ctl status: 0 running, 3 not running, 4 no (valid) data folder.
pg_status() {
  local rc=0
  as_owner "$PG_BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1 || rc=$?
  return "$rc"
}

# Take a per-folder lock so concurrent start/stop calls do not race.
LOCKED=""
lock() {
  local lockfile
  [ -z "$LOCKED" ] || return 0
  lockfile="/tmp/crm-pg-$(id -u)-$(printf '%s' "$DATA" | sha256sum | cut -c1-16).lock"
  exec 9>>"$lockfile"
  flock -w 120 9 || die "timed out waiting for lock $lockfile"
  LOCKED=1
}

# Make DATA exist, empty or holding a cluster, owned by the cluster's OS user.
prepare_dir() {
  if [ -L "$DATA" ]; then
    die "$DATA is a symlink; refusing to use it"
  fi
  if [ -e "$DATA" ] && [ ! -d "$DATA" ]; then
    die "$DATA exists and is not a folder"
  fi
  if [ -d "$DATA" ] && ! has_cluster && [ -n "$(ls -A "$DATA" 2>/dev/null)" ]; then
    die "$DATA is not empty and holds no PostgreSQL cluster; refusing to touch it"
  fi
  mkdir -p "$DATA"
  if is_root && [ "$(stat -c %U "$DATA")" != "$PG_OS_USER" ]; then
    chown -R "$PG_OS_USER:" "$DATA"
  fi
  chmod 700 "$DATA"
}

write_conf() {
  local port="$1" sockdir
  sockdir="${DATA//\'/\'\'}"
  # Rewritten on every start: port and socket folder follow the arguments.
  as_owner tee "$DATA/crm-pg.conf" >/dev/null <<EOF
# Written by $prog on each start; edits are lost.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockdir'
max_connections = 100
shared_buffers = 256MB
work_mem = 8MB
maintenance_work_mem = 64MB
effective_cache_size = 1GB
max_wal_size = 1GB
timezone = 'UTC'
log_timezone = 'UTC'
lc_messages = 'C'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 1000
EOF
}

init_cluster() {
  say "initializing a new cluster in $DATA"
  local out
  # Collation C keeps sorting byte order (fast, the same everywhere); ctype
  # C.UTF-8 makes ILIKE and lower() fold case beyond ASCII (é = É).
  out="$(as_owner "$PG_BIN/initdb" -D "$DATA" -U "$DB_USER" --encoding=UTF8 --locale=C --lc-ctype=C.UTF-8 \
    --auth=trust 2>&1)" || {
    printf '%s\n' "$out" >&2
    die "initdb failed"
  }
  as_owner tee "$DATA/pg_hba.conf" >/dev/null <<'EOF'
# Written by scripts/pg.sh: trust on the unix socket and 127.0.0.1 only.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 trust
host    all       all   127.0.0.1/32  trust
EOF
  printf "\ninclude_if_exists = 'crm-pg.conf'\n" | as_owner tee -a "$DATA/postgresql.conf" >/dev/null
}

# A postmaster killed hard stays a zombie until its parent (often PID 1) reaps
# it; pg_ctl and postgres would take it for a live server. Wait that out.
wait_for_zombie() {
  local pid state i
  pid="$(sed -n 1p "$DATA/postmaster.pid" 2>/dev/null || true)"
  case "$pid" in '' | *[!0-9]*) return 0 ;; esac
  for ((i = 0; i < 120; i++)); do
    state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null || true)"
    [ "$state" = Z ] || return 0
    sleep 0.5
  done
  say "warning: postmaster $pid is still a zombie"
}

running_port() { sed -n 4p "$DATA/postmaster.pid" 2>/dev/null || true; }

# Start the postmaster; close inherited descriptors (lock, caller pipes) so the
# daemon keeps none of them open.
start_server() {
  (
    for fd in "/proc/$BASHPID/fd/"*; do
      fd="${fd##*/}"
      if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-"; fi
    done
    as_owner "$PG_BIN/pg_ctl" start -D "$DATA" -w -t 120 -l "$DATA/server.log" </dev/null >&2
  ) || {
    say "server failed to start; last lines of $DATA/server.log:"
    tail -n 30 "$DATA/server.log" >&2 2>/dev/null || true
    exit 1
  }
}

ensure_database() {
  local port="$1" exists
  exists="$(as_owner "$PG_BIN/psql" -X -q -At -h "$DATA" -p "$port" -U "$DB_USER" -d postgres \
    -c "select 1 from pg_database where datname = '$DB_NAME'")"
  if [ "$exists" != 1 ]; then
    say "creating database $DB_NAME"
    as_owner "$PG_BIN/createdb" -h "$DATA" -p "$port" -U "$DB_USER" -O "$DB_USER" -E UTF8 "$DB_NAME"
  fi
}

# In the fallback case DIR keeps only a marker naming the real data folder.
# DIR without the marker (deleted to wipe the database, or a fresh clone at a
# path used before) means the fallback cluster is stale: discard it.
fallback_marker() {
  local marker="$ABS/$MARKER_NAME"
  [ -f "$marker" ] && return 0
  # Cannot keep a marker there: never wipe.
  [ -w "$(existing_ancestor "$(dirname "$ABS")")" ] || return 0
  if [ -e "$DATA" ]; then
    say "$ABS has no $MARKER_NAME: discarding the old cluster in $DATA"
    cmd_destroy_data
  fi
  mkdir -p "$ABS"
  printf 'The PostgreSQL data for this folder lives in %s\n(written by %s; delete this folder to wipe that database)\n' \
    "$DATA" "$prog" >"$marker"
}

cmd_start() {
  local port="$1" status=0 rport
  check_bins
  [ -z "$NOTE" ] || say "note: $NOTE"
  lock
  [ -z "$NOTE" ] || fallback_marker
  prepare_dir
  has_cluster || init_cluster
  wait_for_zombie
  pg_status || status=$?
  if [ "$status" -eq 0 ]; then
    rport="$(running_port)"
    if [ "$rport" != "$port" ]; then
      die "cluster in $DATA is already running on port $rport, not $port (stop it first: $prog stop $ABS)"
    fi
    say "reusing running cluster in $DATA (port $port)"
  else
    write_conf "$port"
    say "starting cluster in $DATA on port $port (log: $DATA/server.log)"
    start_server
  fi
  ensure_database "$port"
  print_url "$port"
}

cmd_stop() {
  local status=0
  if ! has_cluster; then
    say "no cluster in $DATA; nothing to stop"
    return 0
  fi
  check_bins
  lock
  wait_for_zombie
  pg_status || status=$?
  if [ "$status" -ne 0 ]; then
    say "cluster in $DATA is not running"
    return 0
  fi
  as_owner "$PG_BIN/pg_ctl" stop -D "$DATA" -m fast -w -t 120 >&2
}

cmd_destroy() {
  cmd_destroy_data
  if [ -n "$NOTE" ] && [ -f "$ABS/$MARKER_NAME" ]; then
    rm -f "$ABS/$MARKER_NAME"
    rmdir "$ABS" 2>/dev/null || true
  fi
}

cmd_destroy_data() {
  cmd_stop
  if [ -d "$DATA" ] && { has_cluster || [ -z "$(ls -A "$DATA")" ]; }; then
    say "removing $DATA"
    rm -rf "$DATA"
  elif [ -e "$DATA" ]; then
    die "$DATA holds no PostgreSQL cluster; not removing it"
  fi
}

[ $# -ge 2 ] || usage
cmd="$1"
[ -n "$2" ] || usage
ABS="$(realpath -m -- "$2")"
NOTE=""
DATA=""
resolve_dir "$ABS"

case "$cmd" in
  start)
    [ $# -eq 3 ] || usage
    check_port "$3"
    cmd_start "$3"
    ;;
  url)
    [ $# -eq 3 ] || usage
    check_port "$3"
    print_url "$3"
    ;;
  stop)
    [ $# -eq 2 ] || usage
    [ -z "$NOTE" ] || say "note: $NOTE"
    cmd_stop
    ;;
  destroy)
    [ $# -eq 2 ] || usage
    [ -z "$NOTE" ] || say "note: $NOTE"
    cmd_destroy
    ;;
  datadir)
    [ $# -eq 2 ] || usage
    printf '%s\n' "$DATA"
    ;;
  *) usage ;;
esac
