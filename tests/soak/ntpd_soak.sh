#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Soak: our ntpd (--observe, orphan mode, `restrict default kod limited` with the load's
# addresses exempt) under half its measured maximum load from CLIENTS distinct addresses for
# SOAK_SECONDS; asserts that its RSS grew by less than 1 % from the warmed-up baseline (the
# maximum-load run fills the client list first) and that no reply was lost, late, kissed or
# unsynchronised. Runs in a private network namespace with CAP_SYS_TIME dropped; server pinned
# to CPU 0 and ntpload to CPU 1 when there are two. Bounded: everything under SOAK_SECONDS +
# 120 s, ntpd stopped by PID.
# Usage: ntpd_soak.sh OUR_NTPD NTPLOAD   (CTest label soak, disabled unless -DNTK_SOAK=ON)
# Environment: SOAK_SECONDS (600), CLIENTS (10000), WINDOW (64). Exit 0 pass, 1 fail, 77 skip.
set -uo pipefail
export LC_ALL=C
ntpd=${1:-}
load=${2:-}
secs=${SOAK_SECONDS:-600}
clients=${CLIENTS:-10000}
window=${WINDOW:-64}

fail() {
  echo "FAIL ntpd_soak: $*"
  exit 1
}

if [ "${NTK_SOAK_INNER:-}" != 1 ]; then
  if [ ! -x "$ntpd" ] || [ ! -x "$load" ]; then fail "usage: ntpd_soak.sh OUR_NTPD NTPLOAD"; fi
  [ "$(id -u)" -eq 0 ] || {
    echo "SKIP ntpd_soak: needs root (unshare -n)"
    exit 77
  }
  for c in unshare capsh ip timeout taskset; do
    command -v "$c" >/dev/null || {
      echo "SKIP ntpd_soak: missing $c"
      exit 77
    }
  done
  export NTK_SOAK_INNER=1
  exec timeout -k 10 $((secs + 120)) unshare -n capsh --drop=cap_sys_time -- "$0" "$@"
fi

capbnd=$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)
(((0x$capbnd >> 25) & 1)) && fail "CAP_SYS_TIME is still in the bounding set"
ip link set lo up || fail "ip link set lo up"
scpu=0 lcpu=1
[ "$(nproc)" -ge 2 ] || lcpu=0
tmp=$(mktemp -d)
pid=
lpid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  for p in $lpid $pid; do kill "$p" 2>/dev/null; done
  for p in $lpid $pid; do wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

printf '%s\n' "tos orphan 5 orphanwait 1" "restrict default kod limited" \
  "restrict 127.0.0.0 mask 255.0.0.0" "discard average 0 minimum 0" >"$tmp/ntp.conf"
NTK_NTPD_PORT=1123 taskset -c $scpu "$ntpd" -n --observe -c "$tmp/ntp.conf" >"$tmp/ntpd.log" 2>&1 &
pid=$!

field() { awk -v k="$2" '{ for (i = 1; i < NF; i += 2) if ($i == k) print $(i + 1) }' <<<"$1"; }
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status"; }
runload() { taskset -c $lcpu "$load" -p 1123 -w "$window" -t 1000 "$@"; }

out=
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || break
  out=$(runload -d 0.1 -w 1 -t 50)
  [ "$(field "$out" replies)" -gt 0 ] 2>/dev/null && [ "$(field "$out" unsync)" = 0 ] && break
  sleep 0.1
done
[ "$(field "$out" unsync)" = 0 ] || {
  cat "$tmp/ntpd.log"
  fail "ntpd did not answer synchronised: ${out:-nothing}"
}

# The maximum (5 s from every client address), which also fills the client list.
out=$(runload -d 5 -c "$clients")
echo "# maximum: $out"
max=$(field "$out" replies_per_s)
rate=$((max / 2))
[ "$rate" -gt 0 ] || fail "no replies at maximum load"
sleep 1
base=$(rss_kib)
echo "# baseline RSS $base KiB; soak at $rate requests/s from $clients addresses for $secs s"

runload -d "$secs" -c "$clients" -r "$rate" >"$tmp/soak.out" &
lpid=$!
peak=$base
t=0
while kill -0 "$lpid" 2>/dev/null; do
  sleep 10
  t=$((t + 10))
  kill -0 "$pid" 2>/dev/null || fail "ntpd died during the soak (after about $t s)"
  r=$(rss_kib)
  [ "$r" -gt "$peak" ] && peak=$r
  [ $((t % 60)) -eq 0 ] && echo "# t=${t}s RSS $r KiB"
done
wait "$lpid"
lpid=
out=$(cat "$tmp/soak.out")
end=$(rss_kib)
echo "# soak: $out"
echo "# RSS baseline $base KiB, end $end KiB, peak $peak KiB"

status=0
check() { # DESC CONDITION-RESULT(0/1)
  if [ "$2" = 1 ]; then echo "ok   - $1"; else
    echo "FAIL - $1"
    status=1
  fi
}
check "RSS growth < 1 % (peak $peak KiB vs $base KiB)" \
  "$(awk -v a="$peak" -v b="$base" 'BEGIN { print (a - b < b * 0.01) ? 1 : 0 }')"
for k in lost late kod bad unsync; do
  check "$k = 0 (got $(field "$out" "$k"))" "$([ "$(field "$out" "$k")" = 0 ] && echo 1 || echo 0)"
done
check "replies = sent ($(field "$out" replies) of $(field "$out" sent))" \
  "$([ "$(field "$out" replies)" = "$(field "$out" sent)" ] && echo 1 || echo 0)"
check "replies/s within 2 % of $rate ($(field "$out" replies_per_s))" \
  "$(awk -v a="$(field "$out" replies_per_s)" -v b="$rate" 'BEGIN { print (a >= b * 0.98) ? 1 : 0 }')"
kill -0 "$pid" 2>/dev/null || fail "ntpd is not running at the end"
exit $status
