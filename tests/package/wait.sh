#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Package test: ntpkit-wait (ntpkit-wait.service) against a stand-in ntpq that answers
# "leap=11" (alarm: not synchronised) a given number of times, then "leap=00": it exits 0 on
# the first synchronised answer, 1 after exactly -n tries, 2 on a usage error, and treats a
# missing answer as "not yet".
# Usage: wait.sh SOURCE_DIR
set -euo pipefail
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
wait_sh=$src/packaging/ntpkit-wait.sh
# The stand-in: counts its calls in $tmp/calls, answers alarm while calls <= $ALARMS; with
# ALARMS=none it prints nothing and fails, like ntpq with no daemon listening.
cat >"$tmp/ntpq" <<'SH'
#!/bin/sh
n=$(($(cat "$CALLS" 2>/dev/null || echo 0) + 1))
echo $n >"$CALLS"
[ "$*" = "-n -c rv 0 leap 127.0.0.1" ] || { echo "bad args: $*" >&2; exit 9; }
[ "$ALARMS" = none ] && exit 1
if [ "$n" -le "$ALARMS" ]; then echo "leap=11"; else echo "leap=00"; fi
SH
chmod 755 "$tmp/ntpq"
export NTPQ=$tmp/ntpq CALLS=$tmp/calls
run() { # ALARMS TRIES -> "status calls"
    rm -f "$CALLS"
    set +e
    ALARMS=$1 sh "$wait_sh" -n "$2" -s 0 >/dev/null 2>&1
    local st=$?
    set -e
    echo "$st $(cat "$CALLS" 2>/dev/null || echo 0)"
}
[ "$(run 0 5)" = "0 1" ] || fail "synchronised at once: $(run 0 5)"
[ "$(run 3 5)" = "0 4" ] || fail "synchronised on the 4th try: $(run 3 5)"
[ "$(run 9 4)" = "1 4" ] || fail "never synchronised in 4 tries: $(run 9 4)"
[ "$(run none 3)" = "1 3" ] || fail "no daemon: $(run none 3)"
set +e
sh "$wait_sh" -n x >/dev/null 2>&1
[ $? -eq 2 ] || fail "-n x is not a usage error"
sh "$wait_sh" -q >/dev/null 2>&1
[ $? -eq 2 ] || fail "-q is not a usage error"
set -e
echo "ntpkit-wait: exits 0 on the first synchronised answer, 1 after -n tries, 2 on usage"
