#!/usr/bin/env bash
# Install the Debian packages that are missing for building, running, testing
# benchmarking or fuzzing Pipeline API.
#
#   scripts/deps.sh [build|run|test|bench|fuzz|faults] (default: test)
#
#   build  C libraries (-dev), pkg-config, gcc, make, node/npm (the /docs page
#          embeds Redoc from npm)
#   run    build + postgresql
#   test   run + python3, python3-pytest, python3-yaml, python3-jsonschema
#          (the conformance check; PyYAML also reads openapi.yaml for the docs
#          page test), curl, valgrind, chromium (headless, for the browser
#          tests of CORS and /docs), prometheus (for its promtool, which
#          checks a real /metrics scrape; Debian ships promtool only in that
#          package, 19 MB: installed, never started)
#   bench  run + wrk, postgresql-contrib (pgbench ships with postgresql-15)
#   fuzz   C libraries, pkg-config, gcc, make + clang, libclang-rt-14-dev
#          (libFuzzer and the sanitizer runtimes; no server, so no npm)
#   faults run + python3, python3-pytest, wrk and the fuzz set (make test-faults)
#
# Silent when nothing is missing. As root it runs apt-get (apt-get update only
# when something is missing); otherwise it prints the sudo command to run and
# exits 1. Package installs never start system services here.
set -euo pipefail

set_name="${1:-test}"

build_pkgs=(
  libulfius-dev libjansson-dev libpq-dev liborcania-dev libyder-dev
  libxlsxwriter-dev libcurl4-gnutls-dev libgnutls28-dev libmicrohttpd-dev
  pkg-config gcc make libc6-dev
)
run_pkgs=("${build_pkgs[@]}" postgresql)

case "$set_name" in
  build) wanted=("${build_pkgs[@]}") ;;
  run) wanted=("${run_pkgs[@]}") ;;
  test) wanted=("${run_pkgs[@]}" python3 python3-pytest python3-yaml python3-jsonschema curl valgrind chromium prometheus) ;;
  bench) wanted=("${run_pkgs[@]}" wrk postgresql-contrib) ;;
  fuzz) wanted=("${build_pkgs[@]}" clang libclang-rt-14-dev) ;;
  faults) wanted=("${run_pkgs[@]}" python3 python3-pytest wrk clang libclang-rt-14-dev) ;;
  -h | --help)
    awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"
    exit 0
    ;;
  *)
    echo "usage: $0 [build|run|test|bench|fuzz|faults]" >&2
    exit 2
    ;;
esac

installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

missing=()
for pkg in "${wanted[@]}"; do
  installed "$pkg" || missing+=("$pkg")
done

# Node.js and npm may come from somewhere other than Debian (nvm, NodeSource,
# a tarball): only ask apt for the ones that are not on PATH at all. Every
# set that builds bin/crm-api needs npm (scripts/docs-bundle.sh).
if [ "$set_name" != fuzz ]; then
  if ! command -v node >/dev/null 2>&1 && ! installed nodejs; then
    missing+=(nodejs)
  fi
  if ! command -v npm >/dev/null 2>&1 && ! installed npm; then
    missing+=(npm)
  fi
fi

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing Debian packages (${set_name}): ${missing[*]}" >&2
  echo "sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "deps.sh: installing missing Debian packages (${set_name}): ${missing[*]}" >&2

export DEBIAN_FRONTEND=noninteractive

# Keep package post-install scripts from starting system services (the
# postgresql package would otherwise start a cluster on port 5432). Only when
# no policy is in place already (Docker images ship one), and removed after.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  trap 'rm -f "$policy"' EXIT
  printf '#!/bin/sh\n# temporary, from scripts/deps.sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
fi

apt_opts=(-q -o DPkg::Lock::Timeout=300)
apt-get "${apt_opts[@]}" update >&2
apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}" >&2
