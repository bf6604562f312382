#!/usr/bin/env bash
# Runs each libFuzzer target for FUZZ_SECONDS (default 60), one at a time
# (one process each, no parallel jobs), on its checked-in seed corpus
# (tests/fuzz/corpus/<target>/, read only) and its scratch corpus
# (WORK/corpus-<target>/, where libFuzzer writes the inputs it finds), with
# tests/fuzz/<target>.dict when there is one. A crash, a sanitizer report,
# a leak or a timeout fails the target: its input is kept in
# WORK/artifacts-<target>/ and its report and stack are printed (whole log:
# WORK/<target>.log). Prints per target the runs, coverage and corpus, then
# "N passed, M failed"; exits 1 when any failed.
#
#   scripts/fuzz.sh BIN WORK TARGET...     (make fuzz passes them)
#
# Replay one input: BIN/<target> WORK/artifacts-<target>/crash-...
set -uo pipefail

seconds="${FUZZ_SECONDS:-60}"
bin="$1"
work="$2"
shift 2

# Inputs longer than this are not tried: bodies and patches are small
# documents, a query string a line, an amount a few characters.
max_len_of() {
  case "$1" in
    fuzz_money) echo 128 ;;
    fuzz_query_string) echo 2048 ;;
    *) echo 4096 ;;
  esac
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

passed=0
failed=0
total_start=$(date +%s)
for target in "$@"; do
  seeds="tests/fuzz/corpus/$target"
  corpus="$work/corpus-$target"
  artifacts="$work/artifacts-$target"
  log="$work/$target.log"
  mkdir -p "$corpus" "$artifacts"
  # One process, in the foreground: no -jobs, which would fork a worker
  # logging to ./fuzz-0.log.
  options=(-max_total_time="$seconds" -max_len="$(max_len_of "$target")" -timeout=10 -rss_limit_mb=2048
    -print_final_stats=1 -artifact_prefix="$artifacts/")
  [ -f "tests/fuzz/$target.dict" ] && options+=(-dict="tests/fuzz/$target.dict")
  dirs=("$corpus")
  [ -d "$seeds" ] && dirs+=("$seeds")

  start=$(date +%s)
  "$bin/$target" "${options[@]}" "${dirs[@]}" >"$log" 2>&1
  status=$?
  elapsed=$(($(date +%s) - start))

  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  added=$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  units=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  bytes=$(sed -n 's/.* corp: [0-9]*\/\([0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
  seed_count=$(find "$seeds" -type f 2>/dev/null | wc -l)

  if [ "$status" -eq 0 ] && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|runtime error:' "$log"; then
    passed=$((passed + 1))
    verdict=ok
  else
    failed=$((failed + 1))
    verdict="FAILED (exit $status)"
  fi
  printf '%-22s %s: %s runs in %ss (%s/s), cov %s, ft %s, corpus %s units %s (%s seeds, %s added)\n' \
    "$target" "$verdict" "${runs:-?}" "$elapsed" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${units:-?}" "${bytes:-?}" \
    "$seed_count" "${added:-?}"
  if [ "$verdict" != ok ]; then
    grep -E 'invariant broken|ERROR:|SUMMARY:|runtime error:|==[0-9]+==' "$log" | head -n 10 | sed 's/^/    /'
    grep -E -A12 'invariant broken|ERROR:' "$log" | grep -E '^ +#[0-9]+ ' | head -n 12 | sed 's/^/    /'
    echo "    input kept in $artifacts/ (log: $log)"
  fi
done
echo "fuzz: $(($(date +%s) - total_start))s in all, ${seconds}s per target"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
