#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Lint: clang-tidy with the repository's .clang-tidy (its comments give the check set and the
# reason of every exclusion) finds nothing in any .c under lib/ daemon/ cli/ exporters/ that the
# build compiles, using the build's compile_commands.json; two files at a time.
# Usage: clang-tidy.sh SOURCE_DIR BUILD_DIR   Environment: CLANG_TIDY (default clang-tidy),
# NTK_JOBS (default 2).
set -euo pipefail
src=$1
build=$2
tidy=${CLANG_TIDY:-clang-tidy}
jobs=${NTK_JOBS:-2}
command -v "$tidy" >/dev/null || {
  echo "$tidy not found: apt-get install clang-tidy"
  exit 1
}
db=$build/compile_commands.json
[ -e "$db" ] || {
  echo "no $db: configure with CMAKE_EXPORT_COMPILE_COMMANDS=ON"
  exit 1
}
cd "$src"
list=$(mktemp)
out=$(mktemp)
trap 'rm -f "$list" "$out"' EXIT
skipped=0
while IFS= read -r f; do
  # Only what this build compiles (an optional part may be off); the rest is listed.
  if grep -qF "\"file\": \"$src/$f\"" "$db" || grep -qF "\"file\": \"$(pwd -P)/$f\"" "$db"; then
    echo "$f" >>"$list"
  else
    echo "not compiled in this build, not checked: $f"
    skipped=$((skipped + 1))
  fi
done < <(find lib daemon cli exporters -name '*.c' | sort)
n=$(wc -l <"$list")
"$tidy" --version | head -n 2
t0=$SECONDS
rc=0
# -Wno-unknown-warning-option: the database may hold gcc-only warning flags.
xargs -P "$jobs" -n 4 "$tidy" -p "$build" --quiet --extra-arg=-Wno-unknown-warning-option \
  <"$list" >"$out" 2>&1 || rc=$?
grep -E '(warning|error):' "$out" || true
if [ "$rc" -ne 0 ]; then
  echo "clang-tidy: findings (exit $rc) by check:"
  grep -oE '\[[A-Za-z0-9.,-]+\]$' "$out" | sort | uniq -c | sort -rn || true
  grep -v "warnings generated" "$out" | tail -n 40
  exit 1
fi
echo "clang-tidy: $n files clean ($skipped not compiled here), $((SECONDS - t0)) s"
