#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Builds a roff man page from scdoc source, then tidies what scdoc 1.11 emits so that
# `mandoc -Tlint` and `man --warnings` print nothing:
#  - paragraph macros with nothing to separate (after .TH/.SH/.SS, before .SH/.SS, doubled)
#    are dropped, and one before .RE moves after it, so definition entries keep their gap;
#  - every '-' in text becomes '\-', so options and negative numbers render as ASCII
#    hyphen-minus (groff may print a plain '-' as a typographic hyphen, which breaks copy
#    and paste of options); scdoc's list-bullet lines (\h'-04') are left alone;
#  - filled text lines are wrapped at spaces to at most 80 bytes (roff joins them again);
#  - hyphenation is turned off after .TH (which turns it on), so that option, key and
#    schema names are never split at the end of a line.
# Usage: scdoc2man.sh SCDOC INPUT.scd OUTPUT
set -eu
scdoc=$1 in=$2 out=$3
trap 'rm -f "$out.tmp" "$out.tmp2"' EXIT
"$scdoc" <"$in" >"$out.tmp"
awk '
  function macro(l) { return l ~ /^[.\047]/ }
  # Prints a filled text line, broken at single spaces into lines of at most 80 bytes.
  function wrap(l,    n, w, i, cur, word) {
    n = split(l, w, " ")
    cur = ""
    for (i = 1; i <= n; i++) {
      word = w[i]
      if (cur != "" && length(cur) + 1 + length(word) > 80 && cur !~ /\\$/) {
        print cur
        cur = (word ~ /^[.\047]/) ? "\\&" word : word
      } else {
        cur = (cur == "" && i == 1) ? word : cur " " word
      }
    }
    print cur
  }
  pending && $0 ~ /^\.(TH|SH|SS|P|PP|LP)( |$)/ { pending = 0 }
  pending && $0 ~ /^\.RE( |$)/ { print; prev = $0; next }
  pending { print ".P"; pending = 0 }
  $0 == ".P" {
    if (prev !~ /^\.(TH|SH|SS|P)( |$)/) pending = 1
    next
  }
  /^\.nf( |$)/ { nofill = 1 }
  /^\.fi( |$)/ { nofill = 0 }
  !macro($0) && $0 !~ /\\h\047/ { gsub(/\\-/, "-"); gsub(/-/, "\\-") }
  !macro($0) && !nofill && length($0) > 80 && $0 !~ /^ / { wrap($0); prev = $0; next }
  { print; prev = $0 }
  /^\.TH / { print ".nh" }
' "$out.tmp" >"$out.tmp2"
mv "$out.tmp2" "$out"
