#!/usr/bin/env bash
# Turns files into a C table {name, data, size}, in the order given, so the
# binary carries its SQL (db/schema/, db/functions/), its OpenAPI document
# and its /docs page and needs no files beside it. An argument is a path
# (also its name) or name=path, for files built elsewhere
# (docs/index.html=obj/docs/site/index.html).
set -euo pipefail

echo "#include \"embedded.h\""
i=0
for arg in "$@"; do
  echo "static const unsigned char file_${i}[] = {"
  od -An -v -tx1 "${arg#*=}" | sed -e 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'
  echo "0x00};"
  i=$((i + 1))
done
echo 'const struct embedded_file embedded_files[] = {'
i=0
for arg in "$@"; do
  echo "  {\"${arg%%=*}\", file_${i}, sizeof file_${i} - 1},"
  i=$((i + 1))
done
echo '  {NULL, NULL, 0}};'
