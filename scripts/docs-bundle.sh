#!/usr/bin/env bash
# Builds the files of the /docs page that the binary embeds: Redoc's
# standalone bundle, installed with `npm ci` from docs/package-lock.json,
# and docs/index.html naming it.
#
#   scripts/docs-bundle.sh OUT    (the Makefile passes obj/docs)
#
# Writes OUT/site/ (the page and redoc.standalone.<hash>.js; the hash in the
# name lets browsers cache the script for a year) and OUT/embed.list, the
# name=path arguments for scripts/embed.sh. npm's own cache (~/.npm) keeps
# the packages, so builds after the first need no network.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="$1"
npm_dir="$out/npm"
site="$out/site"

fail() {
  echo "docs-bundle.sh: $*" >&2
  exit 1
}

command -v npm >/dev/null 2>&1 ||
  fail "npm is needed to build the /docs page (Redoc from npm); install it with: scripts/deps.sh build"

mkdir -p "$npm_dir"
cp docs/package.json docs/package-lock.json docs/.npmrc "$npm_dir/"
if ! (cd "$npm_dir" && npm ci --prefer-offline --ignore-scripts --omit=peer --no-audit --no-fund \
  --fetch-retries=1 --fetch-timeout=60000 --loglevel=error >&2); then
  fail "npm ci failed in $npm_dir (see above). The first build downloads the packages pinned in
docs/package-lock.json from the npm registry (\`npm config get registry\`); later builds take them
from npm's cache. Check the network, then run make again."
fi

bundle="$npm_dir/node_modules/redoc/bundles/redoc.standalone.js"
[ -s "$bundle" ] || fail "$bundle is missing: did docs/package-lock.json stop pinning redoc 2.x?"

# Redoc's sidebar shows the Redocly logo from a CDN; the page must request
# nothing from another host, so the logo gets an empty data: URL (the image
# fails and Redoc hides it). Exactly one such URL is expected: anything else
# means Redoc changed and this step must be looked at again.
logo_url='https://cdn.redoc.ly/redoc/logo-mini.svg'
[ "$(grep -oF "$logo_url" "$bundle" | wc -l)" = 1 ] ||
  fail "expected Redoc's bundle to name $logo_url exactly once; review this script for the new Redoc"
rm -rf "$site"
mkdir -p "$site"
sed -e "s#$logo_url#data:,#" "$bundle" >"$site/redoc.standalone.js"
hash="$(sha256sum "$site/redoc.standalone.js" | cut -c1-16)"
script="redoc.standalone.$hash.js"
mv "$site/redoc.standalone.js" "$site/$script"
sed -e "s#@REDOC_SCRIPT@#/docs/$script#" docs/index.html >"$site/index.html"
grep -q "/docs/$script" "$site/index.html" || fail "docs/index.html has no @REDOC_SCRIPT@ placeholder"

printf '%s\n' "docs/index.html=$site/index.html" "docs/$script=$site/$script" >"$out/embed.list"
