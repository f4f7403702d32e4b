#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Lint: function size budgets of STYLE.md §3.7 for lib/, daemon/ and cli/:
# median <= 15 lines, 90th percentile <= 50, none over 150. A function is counted from its
# opening '{' in column 0 to its closing '}' in column 0 (the layout clang-format gives us).
# Usage: fnsize.sh SOURCE_DIR
set -euo pipefail
cd "$1"
find lib daemon cli -name '*.c' -print0 | sort -z | xargs -0 awk '
  /^\{/ { start = FNR; name = prev; next }
  /^\}/ && start { printf "%d %s:%d %s\n", FNR - start - 1, FILENAME, start, name; start = 0 }
  { if ($0 ~ /^[A-Za-z]/) prev = $0 }
' | sort -n >"${TMPDIR:-/tmp}/ntk-fnsize.$$"
trap 'rm -f "${TMPDIR:-/tmp}/ntk-fnsize.$$"' EXIT
f="${TMPDIR:-/tmp}/ntk-fnsize.$$"
n=$(wc -l <"$f")
[ "$n" -gt 0 ] || { echo "no functions found"; exit 1; }
median=$(awk -v n="$n" 'NR == int((n + 1) / 2) { print $1 }' "$f")
p90=$(awk -v n="$n" 'NR == int((n * 9 + 9) / 10) { print $1 }' "$f")
max=$(tail -n1 "$f" | cut -d' ' -f1)
echo "functions: $n, median $median lines, p90 $p90, longest $max ($(tail -n1 "$f" | cut -d' ' -f2))"
status=0
[ "$median" -le 15 ] || { echo "median over 15"; status=1; }
[ "$p90" -le 50 ] || { echo "p90 over 50"; status=1; }
awk '$1 > 150 { print "over 150 lines: " $0; bad = 1 } END { exit bad }' "$f" || status=1
exit $status
