#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: our ntpd (--observe) with `refclock sock path P refid GPS` (chrony's SOCK protocol,
# which gpsd also speaks), fed by the test producer (rc_producer.py) sending struct
# sock_sample datagrams with a known offset of +2.5 ms and a uniform jitter of +/-20 us.
# ntpd binds the socket, selects the refclock ('*' as SOCK(0), offset within the jitter),
# rv shows stratum 1 refid GPS, cv the clock variables; bad datagrams (a wrong magic, a
# wrong size, wild microseconds, a bad leap) are counted in cv badformat/baddata and not
# used while good ones keep coming, silence in noreply; ntpdig and chronyd querying ours get stratum 1 refid GPS.
# Usage: refclock_sock.sh OUR_NTPDIG OUR_NTPD   (CTest label interop; NTK_NTPQ in the env)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
[ -x "${NTK_NTPQ:-}" ] || ntk_skip "our ntpq (NTK_NTPQ) is not built"
PROD=$NTK_SRC/rc_producer.py
RC_NAME='SOCK\(0\)'
OFF_MS=2.500 # the producer's offset
TOL_MS=0.021 # its jitter (20 us) and ntpq's rounding
# shellcheck source=refclock_lib.sh
. "$NTK_SRC/refclock_lib.sh"

SOCK=$W/gps.sock
: >"$SOCK.stale" && ln -s "$SOCK.stale" "$W/not-a-socket"
start_ntpd o 123 "refclock sock path $SOCK refid GPS minpoll 2 maxpoll 2" \
  "refclock sock unit 1 path $W/not-a-socket" "restrict default" "restrict 127.0.0.1"
NPID=$LAST_PID
if ntk_wait_log "$W/o/ntpd.log" "refclock SOCK\(0\): listening on $SOCK" 10; then
  ntk_pass "ntpd bound $SOCK"
else
  ntk_fail "ntpd did not bind $SOCK"
fi
check_match "a path that is not a socket is not removed: unit 1 is left out" \
  "refclock SOCK\(1\): cannot bind $W/not-a-socket: Address already in use" \
  "$(cat "$W/o/ntpd.log")"
check_eq "the file behind it is still there" yes "$([ -e "$SOCK.stale" ] && echo yes)"
check_eq "the socket is a socket" yes "$([ -S "$SOCK" ] && echo yes)"

echo "== good samples"
"$NTK_PY" "$PROD" sock "$SOCK" good 600 >"$W/prod0.log" 2>&1 &
PPID0=$!
NTK_PIDS+=("$PPID0")
rc_wait_selected
rc_check_peer "SOCK" '\.GPS\.'
rc_check_rv
ASSOC=$(rc_assoc)
rc_cv "$ASSOC"
check_match "cv: name" 'name="SOCK"' "$OUT"
check_match "cv: device" 'device="SOCK/chrony refclock socket"' "$OUT"
check_match "cv: a timecode (the datagram)" \
  'timecode="sample [0-9]{10}\.[0-9]{6} \+0\.00[0-9]{7}"' "$OUT"
rc_client_checks GPS

echo "== bad datagrams among the good ones: counted, not used"
rc_counters "$ASSOC"
rc_bad_phase "wrong magic" "sock $SOCK badmagic 4" badformat 3
rc_bad_phase "39 bytes" "sock $SOCK badsize 4" badformat 3
rc_bad_phase "wild microseconds" "sock $SOCK wild 4" baddata 3
rc_bad_phase "leap 7" "sock $SOCK leap 4" baddata 3
ntk_stop "$PPID0"
rc_bad_phase "silence for 3 polls" "sock $SOCK none 13" noreply 2 nooffset
echo "== good samples again"
"$NTK_PY" "$PROD" sock "$SOCK" good 600 >"$W/prod1.log" 2>&1 &
NTK_PIDS+=("$!")
rc_wait_selected
rc_check_offset "after the bad datagrams"
kill -TERM "$NPID"
wait "$NPID"
check_eq "ntpd exits 0 on SIGTERM (the refclocks closed under the seccomp filter)" 0 "$?"
check_match "ntpd logged its exit" "signal 15: exiting" "$(cat "$W/o/ntpd.log")"
check_eq "ntpd removed the socket it bound" gone "$([ -e "$SOCK" ] && echo left || echo gone)"
check_nomatch "no seccomp violation logged" "seccomp|SIGSYS" "$(grep -v 'allow-list loaded' \
  "$W/o/ntpd.log")"
ntk_done
