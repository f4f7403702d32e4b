#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Lint: a program's built man page and its --help agree, and the page is clean roff.
#  (a) every option (-x, --long) that `PROGRAM --help` prints is an entry of the page's OPTIONS
#      section, and every option of an OPTIONS entry appears somewhere in --help. An entry is
#      the term line of a definition: the line before `.RS` (scdoc) or after `.TP`, starting
#      with '-'. Options named with --page-only are hidden on purpose (ntpdig's -r/--replay,
#      as in NTPsec): they must be in the page and need not be in --help.
#  (b) `mandoc -Tlint` prints nothing about the page, and neither does groff through
#      `man --warnings` (skipped, and said so, when man-db is not installed).
# Usage: manpage.sh [--page-only OPTION]... PROGRAM PAGE
set -euo pipefail
export LC_ALL=C
page_only=()
while [ "${1-}" = --page-only ]; do
  page_only+=("$2")
  shift 2
done
[ $# -eq 2 ] || { echo "usage: $0 [--page-only OPTION]... PROGRAM PAGE" >&2; exit 2; }
prog=$1 page=$2
name=$(basename "$prog")
[ -r "$page" ] || { echo "$page: no such page (is scdoc installed? apt-get install scdoc)"; exit 1; }
command -v mandoc >/dev/null || { echo "mandoc not found: apt-get install mandoc"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bad=0

# The option tokens of FILE, one per line: --long (up to '=' or a non-name character) and -x
# standing alone (so "-0.5", "-46" and hyphenated words are not taken).
options() {
  perl -ne 'print "$1\n" while /(?<![[:alnum:]-])(--[[:alnum:]][[:alnum:]-]*)/g;
            print "$1\n" while /(?<![[:alnum:]-])(-[[:alnum:]?])(?![[:alnum:].-])/g' "$1"
}

# (a) --help against the OPTIONS section.
if ! "$prog" --help >"$tmp/help" 2>"$tmp/help.err"; then
  echo "$name --help failed:"; cat "$tmp/help.err"; exit 1
fi
options "$tmp/help" | sort -u >"$tmp/help.opts"
awk '
  /^\.SH / { in_opts = ($0 ~ /^\.SH "?OPTIONS"?$/) }
  !in_opts { next }
  { l = $0; gsub(/\\f[BIRP]/, "", l); gsub(/\\-/, "-", l); gsub(/\\&/, "", l) }
  /^\.RS/ && prev ~ /^-/ { print prev }
  after_tp && l ~ /^-/ { print l }
  { after_tp = ($0 ~ /^\.TP/); prev = l }
' "$page" >"$tmp/entries"
options "$tmp/entries" | sort -u >"$tmp/page.opts"
[ -s "$tmp/page.opts" ] || { echo "$page: no option entries found in its OPTIONS section"; exit 1; }
printf '%s\n' "${page_only[@]}" | sed '/^$/d' | sort -u >"$tmp/hidden"
while read -r o; do
  echo "$name: $o is in --help but not documented in OPTIONS of $page"; bad=$((bad + 1))
done < <(comm -23 "$tmp/help.opts" "$tmp/page.opts")
while read -r o; do
  echo "$name: $o is documented in $page but missing from --help"; bad=$((bad + 1))
done < <(comm -13 "$tmp/help.opts" "$tmp/page.opts" | comm -23 - "$tmp/hidden")
while read -r o; do
  echo "$name: --page-only $o is not documented in OPTIONS of $page"; bad=$((bad + 1))
done < <(comm -23 "$tmp/hidden" "$tmp/page.opts")
echo "$name: $(wc -l <"$tmp/help.opts") options in --help, $(wc -l <"$tmp/page.opts") in the" \
  "page's OPTIONS, page-only: ${page_only[*]:-none}"

# (b) The roff is clean: roffpage.sh's checks (mandoc -Tlint, man --warnings).
"$(dirname "$0")/roffpage.sh" "$page" || bad=$((bad + 1))
echo "manpage: $bad problem(s)"
[ "$bad" -eq 0 ]
