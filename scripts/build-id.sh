#!/usr/bin/env bash
# The build id that `make release` links into coop-edge: the short commit (with -dirty when tracked
# files differ from it) and a date, e.g. "4b1d973, 2026-12-02". The date is SOURCE_DATE_EPOCH's when
# set (reproducible builds), else the commit's for a clean tree, else today's. Outside a git checkout
# the commit is "unknown".
#   scripts/build-id.sh            prints the id
#   scripts/build-id.sh --object DIR [CC]
#                                  writes DIR/build-id-<hash>.o defining coop_edge_build_id (the
#                                  weak symbol Sources/CPlatform/shim.h reads) and prints its path.
#                                  The name changes with the id, so swift build relinks when it does.
set -euo pipefail
cd "$(dirname "$0")/.."

if commit=$(git rev-parse --short=7 HEAD 2>/dev/null); then
  dirty=""
  git diff --quiet HEAD -- 2>/dev/null || dirty="-dirty"
  if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
    day=$(date -u -d "@$SOURCE_DATE_EPOCH" +%F)
  elif [ -z "$dirty" ]; then
    day=$(git log -1 --format=%cd --date=short)
  else
    day=$(date -u +%F)
  fi
  id="$commit$dirty, $day"
else
  id="unknown, $(date -u ${SOURCE_DATE_EPOCH:+-d "@$SOURCE_DATE_EPOCH"} +%F)"
fi

if [ "${1:-}" != "--object" ]; then
  echo "$id"
  exit 0
fi
dir=${2:?usage: build-id.sh --object DIR [CC]}
cc=${3:-cc}
mkdir -p "$dir"
hash=$(printf '%s' "$id" | sha256sum | cut -c1-12)
object="$dir/build-id-$hash.o"
if [ ! -f "$object" ]; then
  # The id holds only [0-9a-f-, ] and "unknown": nothing to escape in a C string.
  printf 'const char coop_edge_build_id[] = "%s";\n' "$id" | "$cc" -c -x c -O2 -fPIC -o "$object.tmp" -
  mv "$object.tmp" "$object"
fi
echo "$(pwd)/$object"
