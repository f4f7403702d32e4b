#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Lint: pages that document no program's options (ntp.keys(5), libntk(3)) are clean roff:
# `mandoc -Tlint` prints nothing about them, and neither does groff through `man --warnings`
# (skipped, and said so, when man-db is not installed). manpage.sh (program pages, with their
# --help) and confpage.sh (ntp.conf(5)) call it for the roff part.
# Usage: roffpage.sh PAGE...
set -euo pipefail
command -v mandoc >/dev/null || { echo "mandoc not found: apt-get install mandoc"; exit 1; }
bad=0
for page in "$@"; do
  [ -s "$page" ] || { echo "$page: missing or empty"; bad=$((bad + 1)); continue; }
  lint=$(mandoc -Tlint "$page" 2>&1 || true)
  if [ -n "$lint" ]; then
    echo "mandoc -Tlint $page:"; echo "$lint"; bad=$((bad + 1))
  fi
  if command -v man >/dev/null; then
    warn=$(MANPAGER=cat MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null || true)
    if [ -n "$warn" ]; then
      echo "man --warnings -l $page:"; echo "$warn"; bad=$((bad + 1))
    fi
  fi
  echo "$page: checked"
done
command -v man >/dev/null || echo "man not installed: groff warnings not checked"
echo "roffpage: $bad problem(s)"
[ "$bad" -eq 0 ]
