#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Lint: every C source and header conforms to the committed .clang-format.
set -euo pipefail
src=$1
cf=${CLANG_FORMAT:-clang-format}
command -v "$cf" >/dev/null || { echo "clang-format not found: apt-get install clang-format"; exit 1; }
cd "$src"
mapfile -t files < <(find lib include daemon cli exporters tests bench -name '*.[ch]' 2>/dev/null | sort)
bad=0
for f in "${files[@]}"; do
  if ! "$cf" --style=file --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not clang-formatted: $f (run: clang-format -i $f)"
    bad=$((bad + 1))
  fi
done
echo "clang-format: ${#files[@]} files checked, $bad not conforming"
[ "$bad" -eq 0 ]
