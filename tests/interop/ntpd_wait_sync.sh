#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: our ntpd's -w (--wait-sync), as NTPsec's: the parent of the fork waits for the
# daemon's first synchronisation. Against chronyd (-x, stratum 2, 127.0.0.3) the parent exits 0
# within the time and the daemon keeps running; towards a silent address it exits ETIMEDOUT
# (110) once the time is up; a daemon that fails after the fork makes the parent exit 1.
# Usage: ntpd_wait_sync.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
[ -x "$NTK_NTPD" ] || ntk_fatal "our ntpd '$NTK_NTPD' is not an executable"

start_chronyd a 127.0.0.3 123 2
ntk_wait_ntp 127.0.0.3

# run_w NAME PORT SECONDS CONF-LINE...: ntpd --observe -w SECONDS in the background (no -n);
# sets RC (the parent's exit status), ELAPSED (s) and DPID (the daemon, from its pidfile).
run_w() {
  local name=$1 port=$2 secs=$3 t0 t1
  shift 3
  mkdir -m 750 "$W/$name"
  printf '%s\n' "$@" >"$W/$name/ntp.conf"
  t0=$(date +%s.%N)
  NTK_NTPD_PORT=$port timeout 60 "$NTK_NTPD" --observe -w "$secs" -l "$W/$name/ntpd.log" \
    -c "$W/$name/ntp.conf" -p "$W/$name/ntpd.pid" >"$W/$name/out" 2>&1
  RC=$?
  t1=$(date +%s.%N)
  ELAPSED=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  DPID=
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    [ -s "$W/$name/ntpd.pid" ] && break
    sleep 0.1
  done
  [ -s "$W/$name/ntpd.pid" ] && DPID=$(cat "$W/$name/ntpd.pid") && NTK_PIDS+=("$DPID")
  ntk_log "$name: parent exit $RC after ${ELAPSED}s, daemon pid ${DPID:-none}"
}

echo "== -w 20 with chronyd as server: exit 0 once synchronised"
run_w s 1123 20 "server 127.0.0.3 iburst minpoll 4 maxpoll 4"
check_eq "-w 20, reachable server: parent exit status" 0 "$RC"
check_match "-w 20: the parent returned before the 20 s were up" '^([0-9]|1[0-9])\.' "$ELAPSED"
check_match "the daemon logged its synchronisation" "synchronised to association" \
  "$(cat "$W/s/ntpd.log")"
if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
  ntk_pass "the daemon is still running after the parent exited"
else
  ntk_fail "the daemon is not running after -w returned"
fi
ntk_wait_ntp 127.0.0.1 1123

echo "== -w 3 towards a silent address: ETIMEDOUT after about 3 s"
run_w t 2123 3 "server 127.0.0.5 iburst minpoll 4 maxpoll 4"
check_eq "-w 3, no server: parent exit status (ETIMEDOUT)" 110 "$RC"
check_match "-w 3: the parent waited the 3 s (not much more)" '^[34]\.' "$ELAPSED"
check_match "the parent said why" "not synchronised in time" "$(cat "$W/t/ntpd.log")"

echo "== -w 10, the daemon exits after the fork (SIGTERM before any sync): exit 1"
mkdir -m 750 "$W/u"
printf '%s\n' "server 127.0.0.5 iburst" >"$W/u/ntp.conf"
NTK_NTPD_PORT=3123 timeout 60 "$NTK_NTPD" --observe -w 10 -l "$W/u/ntpd.log" \
  -c "$W/u/ntp.conf" -p "$W/u/ntpd.pid" >"$W/u/out" 2>&1 &
PARENT=$!
for _ in $(seq 1 50); do
  [ -s "$W/u/ntpd.pid" ] && break
  sleep 0.1
done
DPID=$(cat "$W/u/ntpd.pid" 2>/dev/null)
[ -n "$DPID" ] && NTK_PIDS+=("$DPID") && kill -TERM "$DPID"
wait "$PARENT"
RC=$?
check_eq "-w 10, the daemon ended first: parent exit status" 1 "$RC"
ntk_done
