#!/usr/bin/env bash
# Fault suite: black-box scenarios against the built server and a real
# PostgreSQL (connection floods, slow clients, SIGTERM under load, PostgreSQL
# restarted or killed under load, a long mixed soak), then the libFuzzer
# targets (make fuzz) and the API suite under ThreadSanitizer (make
# test-tsan). Each part is timed; a table of the parts closes the run,
# followed by the scenarios' pytest summary line.
#
#   scripts/test-faults.sh BINARY [pytest args for the scenarios...]
#
# The scenarios are tests/faults/test_*.py, marked by part: flood, shutdown,
# postgres, soak (e.g. `scripts/test-faults.sh bin/crm-api -m soak`).
#
# Env: FAULTS_PARTS           parts to run, space-separated (default: all)
#      FAULTS_PART_TIMEOUT    hard limit of one part, seconds (900)
#      FAULTS_PG_PORT         port of the cluster most scenarios share (5442,
#                             in .pg-faults/)
#      FAULTS_PG_PORT_VICTIM  port of the cluster the PostgreSQL scenarios
#                             stop and kill (5444, in .pg-faults-victim/)
#      FAULTS_API_PORTS       ports for the servers, one per server started
#                             (18082,18084-18099; busy ones are passed over)
# Server logs, the figures and each part's output go to $(dirname BINARY)/faults/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bin="$(realpath "$1")"
shift
run_dir="$(dirname "$bin")/faults"
part_timeout="${FAULTS_PART_TIMEOUT:-900}"
rm -rf "$run_dir"
mkdir -p "$run_dir"

# Stop what the scenarios started, even when one of them failed or the run
# was interrupted: the servers and load tools (listed with their executable
# as they start, so a reused pid is left alone), then the clusters.
cleanup() {
  local pid exe
  if [ -f "$run_dir/pids" ]; then
    while read -r pid exe; do
      if [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$exe" ]; then
        kill -KILL "$pid" 2>/dev/null || true
      fi
    done <"$run_dir/pids"
  fi
  for dir in .pg-faults .pg-faults-victim; do
    if [ -e "$dir" ]; then scripts/pg.sh stop "$dir" >/dev/null 2>&1 || true; fi
  done
}
trap cleanup EXIT

parts=()
part_status=()
part_seconds=()
status=0

# run_part NAME COMMAND...: runs one part under the hard time limit, records
# its status and duration; a failing part does not stop the next ones.
run_part() {
  local name="$1" rc=0 t0 t1
  shift
  if [ -n "${FAULTS_PARTS:-}" ] && [[ " $FAULTS_PARTS " != *" $name "* ]]; then
    return 0
  fi
  echo "== part $name: $*"
  t0=$(date +%s.%N)
  set +e
  timeout --kill-after=10 "$part_timeout" "$@" 2>&1 | tee "$run_dir/$name.out"
  rc="${PIPESTATUS[0]}"
  set -e
  t1=$(date +%s.%N)
  [ "$rc" -ne 124 ] || printf '\npart %s: stopped after its limit of %ss\n' "$name" "$part_timeout" >&2
  parts+=("$name")
  part_status+=("$rc")
  part_seconds+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')")
  [ "$rc" -eq 0 ] || status=1
}

# ---- the parts, in order (append new ones here: run_part NAME COMMAND...;
# the output of each is kept in $run_dir/NAME.out)
pytest_args=("$@")
if [[ " ${pytest_args[*]} " != *" tests/"* ]]; then
  pytest_args=(tests/faults "${pytest_args[@]}")
fi
run_part scenarios env CRM_API_BIN="$bin" FAULTS_RUN_DIR="$run_dir" \
  /usr/bin/python3 -m pytest -p no:cacheprovider -rfE "${pytest_args[@]}"
# libFuzzer targets, FUZZ_SECONDS (60) each on the checked-in corpora.
run_part fuzz make --no-print-directory fuzz
# The API suite once against a ThreadSanitizer build: 0 reports.
run_part tsan make --no-print-directory test-tsan

echo
echo "== fault suite parts"
total=0
for i in "${!parts[@]}"; do
  result=ok
  [ "${part_status[$i]}" -eq 0 ] || result="FAILED (exit ${part_status[$i]})"
  printf '  %-12s %8s s  %s\n' "${parts[$i]}" "${part_seconds[$i]}" "$result"
  total="$(awk -v a="$total" -v b="${part_seconds[$i]}" 'BEGIN { printf "%.1f", a + b }')"
done
printf '  %-12s %8s s\n' total "$total"
# The run ends with the scenarios' pytest summary line.
if [ -f "$run_dir/scenarios.out" ]; then
  grep -E '^=+ .* in [0-9.]+s' "$run_dir/scenarios.out" | tail -n 1 || true
fi
exit "$status"
