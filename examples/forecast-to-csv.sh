#!/usr/bin/env bash
# Pulls a saved forecast report as CSV, for a spreadsheet or a script.
#
#   CRM_API_TOKEN=... examples/forecast-to-csv.sh REPORT_ID [OUT.csv | -]
#
# Writes the report's results to OUT.csv, to stdout with `-`, or by default
# to the file name the API gives (Content-Disposition: "<report name>.csv")
# in the current folder. Env: CRM_API_TOKEN (required), CRM_API_URL
# (default http://127.0.0.1:8080). On an error it prints the API's problem
# detail and exits 1, leaving no partial file behind.
set -euo pipefail

usage() {
  echo "usage: CRM_API_TOKEN=... $0 REPORT_ID [OUT.csv | -]" >&2
  exit 2
}
[ $# -ge 1 ] && [ $# -le 2 ] || usage
report_id="$1"
out="${2:-}"
case "$report_id" in '' | *[!0-9]*) echo "REPORT_ID must be a number, got '$report_id'" >&2 && usage ;; esac
: "${CRM_API_TOKEN:?set CRM_API_TOKEN to an API token (make run prints one)}"
api="${CRM_API_URL:-http://127.0.0.1:8080}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The token goes through a config file on stdin, so it never shows in `ps`.
status=0
printf 'header = "Authorization: Bearer %s"\n' "$CRM_API_TOKEN" |
  curl --silent --show-error --max-time 120 --config - \
    --header 'Accept: text/csv' \
    --dump-header "$tmp/headers" --output "$tmp/body" --write-out '%{http_code}' \
    "$api/forecast-reports/$report_id/results" >"$tmp/status" || status=$?
if [ "$status" -ne 0 ]; then
  echo "could not reach $api (curl exit $status)" >&2
  exit 1
fi
http_status="$(cat "$tmp/status")"
if [ "$http_status" != 200 ]; then
  # The problem+json body names what is wrong (title, detail, errors).
  echo "report $report_id: HTTP $http_status" >&2
  head -c 2000 "$tmp/body" >&2
  echo >&2
  exit 1
fi

if [ -z "$out" ]; then
  # The server's file name is already safe ("<report name>.csv", no path);
  # basename keeps it in the current folder whatever it holds.
  out="$(sed -n 's/^[Cc]ontent-[Dd]isposition:.*filename="\([^"]*\)".*/\1/p' "$tmp/headers" | tr -d '\r' | tail -n 1)"
  out="$(basename -- "${out:-forecast-$report_id.csv}")"
fi
if [ "$out" = - ]; then
  cat "$tmp/body"
else
  mv "$tmp/body" "$out"
  echo "$out" >&2
fi
