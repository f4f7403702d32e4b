#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Package test: the capability bounding set of ntpd.service (read from the unit template) is
# enough for ntpd's start as the unit runs it: as root limited to that set, with
# no_new_privs, in a network namespace of its own, `ntpd -n --observe -u nobody:nogroup`
# binds port 123, drops to nobody with no capability left, and answers ntpq; without
# CAP_SETUID in the set the drop fails and ntpd exits 1 (the check can fail). systemd itself
# is not involved (not PID 1 here). Skipped (77) when not root or without namespaces.
# Usage: caps.sh SOURCE_DIR NTPD NTPQ
set -euo pipefail
src=$1 ntpd=$2 ntpq=$3
if [ "$(id -u)" -ne 0 ] || ! unshare -n true 2>/dev/null; then echo "SKIP: needs root and netns"; exit 77; fi
command -v setpriv >/dev/null || { echo "SKIP: no setpriv"; exit 77; }
if ! getent passwd nobody >/dev/null || ! getent group nogroup >/dev/null; then echo "SKIP: no nobody"; exit 77; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

set_line=$(sed -n 's/^CapabilityBoundingSet=//p' "$src/packaging/systemd/ntpd.service.in")
[ -n "$set_line" ] || fail "no CapabilityBoundingSet in ntpd.service.in"
bset=-all
for c in $set_line; do bset="$bset,+$(echo "${c#CAP_}" | tr '[:upper:]' '[:lower:]')"; done
printf 'server 127.0.0.1\nrestrict default kod nomodify nopeer noquery limited\nrestrict 127.0.0.1\n' \
    >"$tmp/ntp.conf"

# In the namespace: start ntpd under the bounding set, wait (bounded) for an answer, report
# the process's ids and capability sets, stop it.
cat >"$tmp/run.sh" <<'SH'
set -u
tmp=$1 ntpd=$2 ntpq=$3 bset=$4
ip link set lo up
setpriv --bounding-set="$bset" --inh-caps=-all --no-new-privs \
    "$ntpd" -n --observe -u nobody:nogroup -c "$tmp/ntp.conf" 2>"$tmp/ntpd.log" &
p=$!
i=0
while [ $i -lt 50 ]; do
    out=$("$ntpq" -n -c "rv 0 leap" 127.0.0.1 2>/dev/null)
    case $out in *leap=*) break ;; esac
    kill -0 $p 2>/dev/null || break
    sleep 0.1
    i=$((i + 1))
done
echo "answer: $out"
grep -E '^(Uid|CapPrm|CapEff|CapBnd|NoNewPrivs):' /proc/$p/status 2>/dev/null | tr -s '\t' ' '
kill $p 2>/dev/null
wait $p
echo "exit: $?"
SH
unshare -n bash "$tmp/run.sh" "$tmp" "$ntpd" "$ntpq" "$bset" >"$tmp/out" 2>&1 || true
grep -qx "answer: leap=11" "$tmp/out" || { cat "$tmp/out" "$tmp/ntpd.log"; fail "ntpd did not answer"; }
grep -qx "Uid: 65534 65534 65534 65534" "$tmp/out" || { cat "$tmp/out"; fail "not running as nobody"; }
grep -qx "CapEff: 0000000000000000" "$tmp/out" || { cat "$tmp/out"; fail "capabilities left"; }
grep -qx "CapPrm: 0000000000000000" "$tmp/out" || { cat "$tmp/out"; fail "capabilities permitted"; }
grep -qx "CapBnd: 00000000020004c0" "$tmp/out" || { cat "$tmp/out"; fail "bounding set"; }
grep -qx "NoNewPrivs: 1" "$tmp/out" || { cat "$tmp/out"; fail "no_new_privs"; }
echo "bounding set {$set_line}: ntpd binds 123, drops to nobody, answers ntpq"

# Negative control: the same without CAP_SETUID.
unshare -n bash "$tmp/run.sh" "$tmp" "$ntpd" "$ntpq" "${bset/,+setuid/}" >"$tmp/out" 2>&1 || true
grep -qx "exit: 1" "$tmp/out" || { cat "$tmp/out"; fail "ntpd without CAP_SETUID did not exit 1"; }
grep -q "cannot become uid 65534" "$tmp/ntpd.log" || { cat "$tmp/ntpd.log"; fail "no drop error"; }
echo "without CAP_SETUID: ntpd refuses to run as root (exit 1)"
