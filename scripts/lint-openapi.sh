#!/usr/bin/env bash
# Lints openapi.yaml with Redocly CLI (from npm, pinned), zero errors wanted.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
version=2.77.0
tools=".tools/redocly"
if [ ! -x "$tools/node_modules/.bin/redocly" ]; then
  mkdir -p "$tools"
  (cd "$tools" && npm install --silent --no-audit --no-fund "@redocly/cli@$version" >/dev/null)
fi
"$tools/node_modules/.bin/redocly" lint --format=summary openapi.yaml
