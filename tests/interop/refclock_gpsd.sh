#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: Debian's gpsd (3.22) as the real producer for our ntpd's `refclock shm unit 0
# refid GPS` (--observe). gpsd reads a fake NMEA receiver (rc_nmea.py: GPRMC, GPGGA, GPZDA
# once a second, correct checksums, the time of each set the second it is sent at) from a
# tcp://127.0.0.1 source. Not gpsfake: gpsd 3.22 exports no time to NTP for a pseudo-terminal
# (ntpshm_link_activate() returns at once for source_pty, "don't talk to NTP when we're
# running inside the test harness"), and gpsfake only feeds PTYs; 3.22 does for tcp:// (later
# gpsd releases refuse TCP and UDP too: the test then skips). ntpd makes the root-only
# segment of unit 0, gpsd attaches it and writes a sample a second (ntpshm_put), and ntpd
# reaches, selects and shows it: ntpq -p SHM(0) '*' with reach > 0 and stratum 0 type l,
# cv a whole-second timecode from the NMEA time, rv stratum 1 refid GPS, ntpmon's row and
# (in tmux) its detail pane with the clock variables. NMEA over TCP is
# coarse: the offset is the transport delay (a few ms here), checked within 50 ms. chrony's
# SOCK (/run/chrony.DEV.sock) gpsd 3.22 writes only from its PPS thread (chrony_send), which
# needs a serial or /dev/pps device: none here, so `refclock sock` is not tested with gpsd.
# Usage: refclock_gpsd.sh OUR_NTPDIG OUR_NTPD   (CTest label interop; NTK_NTPQ in the env)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
command -v gpsd >/dev/null || ntk_skip "missing gpsd (scripts/peers installs gpsd)"
ntk_setup "$@"
NTK_NTPD=${2:-}
[ -x "${NTK_NTPQ:-}" ] || ntk_skip "our ntpq (NTK_NTPQ) is not built"
RC_NAME='SHM\(0\)'
OFF_MS=0    # gpsd's sample: receive time - NMEA second = the transport delay (ms)
TOL_MS=50   # coarse: NMEA over TCP, Python's sleep
NMEA_PORT=5017
# shellcheck source=refclock_lib.sh
. "$NTK_SRC/refclock_lib.sh"

start_ntpd o 123 "refclock shm unit 0 refid GPS minpoll 2 maxpoll 2" "restrict default" \
  "restrict 127.0.0.1"
NPID=$LAST_PID
if ntk_wait_log "$W/o/ntpd.log" "refclock SHM\(0\): shared memory segment 0x4e545030 attached" 10
then ntk_pass "ntpd made and attached unit 0's segment"; else ntk_fail "no segment"; fi

# The fake receiver: 60 s of fixes (the test needs about 30).
timeout -k 2 70 "$NTK_PY" "$NTK_SRC/rc_nmea.py" "$NMEA_PORT" 60 "$W/sent.nmea" \
  >"$W/nmea.log" 2>&1 &
NTK_PIDS+=("$!")
ntk_wait_log "$W/nmea.log" "^listening" 10 || ntk_fatal "rc_nmea.py did not start"
# -N foreground, -n read without waiting for a client, -D 5 logs each ntpshm_put; its own
# client port 2947 and SHM export live in this test's network and IPC namespaces.
timeout -k 2 70 gpsd -N -n -D 5 "tcp://127.0.0.1:$NMEA_PORT" >"$W/gpsd.log" 2>&1 &
NTK_PIDS+=("$!")
if ntk_wait_log "$W/gpsd.log" "identified as type NMEA0183" 15; then
  ntk_pass "gpsd reads the tcp:// receiver and identifies it as NMEA0183"
else
  sed 's/^/  gpsd| /' "$W/gpsd.log" | tail -n 20
  ntk_fail "gpsd did not identify the receiver"
  ntk_done
fi
if ! ntk_wait_log "$W/gpsd.log" "NTP: ntpshm_put\(tcp://" 10; then
  grep -E 'NTP|PPS' "$W/gpsd.log" | sed 's/^/  gpsd| /' | head -n 20
  ntk_log "checks so far: $NTK_CHECKS, failed: $NTK_FAILS"
  [ "$NTK_FAILS" -eq 0 ] || ntk_done
  ntk_skip "this gpsd ($(gpsd -V 2>&1)) exports no time to NTP for a tcp:// source" \
    "(gpsd >= 3.23 returns early in ntpshm_link_activate for SOURCE_TCP/UDP too)"
fi
ntk_pass "gpsd writes time samples to SHM (ntpshm_put)"
ntk_run ipcs ipcs -m
check_match "gpsd attached unit 0's segment too (2 attachments, root 600)" \
  '0x4e545030 +[0-9]+ +root +600 +96 +2 ' "$OUT"

rc_wait_selected
# Four polls (4 s each) of gpsd's samples: reach 17 (bounded: 30 s).
for _n in $(seq 1 60); do
  reach=$(ourq -n -p 2>/dev/null | grep -E "$RC_ANY" | awk '{ print $7 }')
  [ "${reach:-0}" = 17 ] && break
  sleep 0.5
done
check_eq "ntpq -p: SHM(0) reached in each of 4 polls" 17 "${reach:-none}"
rc_check_peer "gpsd's samples" '\.GPS\.'
ASSOC=$(rc_assoc)
rc_cv "$ASSOC"
check_match "cv: a timecode from gpsd (whole seconds of the NMEA time)" \
  'timecode="[0-9]{10}\.000000000 [0-9]{10}\.[0-9]{9}"' "$OUT"
check_match "cv: the SHM driver's name, refid and 4 or more polls" \
  'name="SHM".*poll=([4-9]|[1-9][0-9]+),.*refid=GPS' "$(tr -d '\n' <<<"$OUT")"
rc_counters "$ASSOC"
check_eq "cv: no bad samples from gpsd (badformat baddata)" "0 0" \
  "${RC_BADFORMAT:-?} ${RC_BADDATA:-?}"
RC_REFID=GPS rc_check_rv
# The sentences the receiver sent: every checksum right, 3 a second.
check_eq "every NMEA sentence rc_nmea.py sent has a correct checksum" "ok" "$("$NTK_PY" - \
  "$W/sent.nmea" <<'PY'
import functools, sys
lines = open(sys.argv[1], newline="").read().split("\r\n")[:-1]
ok = len(lines) >= 15 and len(lines) % 3 == 0 and all(
    l[0] == "$" and l[-3] == "*" and
    int(l[-2:], 16) == functools.reduce(lambda a, c: a ^ c, l[1:-3].encode(), 0)
    for l in lines)
print("ok" if ok else "bad (%d lines)" % len(lines))
PY
)"
# ntpmon: the row (--once, also -n) and, in a terminal (tmux), the detail pane's clock
# variables (detail mode asks for READCLOCK).
MON=$(dirname "$NTK_NTPD")/../../cli/ntpmon/ntpmon
if [ -x "$MON" ]; then
  ntk_run mon "$MON" --once -n 127.0.0.1
  check_match "ntpmon -n --once: *SHM(0) .GPS. stratum 0 type l" \
    '^\*SHM\(0\) +\.GPS\. +0 l ' "$OUT"
  if command -v tmux >/dev/null; then
    SOCK=$W/tmux.sock
    tmux -S "$SOCK" new-session -d -s mon -x 100 -y 24 "env LANG=C.UTF-8 $MON 127.0.0.1; sleep 60"
    NTK_PIDS+=("$(tmux -S "$SOCK" display -p -t mon '#{pid}')")
    for _n in $(seq 1 50); do
      tmux -S "$SOCK" capture-pane -p -t mon | grep -q 'SHM(0)' && break
      sleep 0.1
    done
    tmux -S "$SOCK" send-keys -t mon d
    for _n in $(seq 1 100); do
      tmux -S "$SOCK" capture-pane -p -t mon | grep -q '^clock: ' && break
      sleep 0.1
    done
    SCREEN=$(tmux -S "$SOCK" capture-pane -p -t mon)
    check_match "ntpmon detail pane (key d): SHM(0)'s clock variables" \
      "^clock: +name=SHM +device=SHM/Shared memory interface +poll=[1-9][0-9]* +noreply=[0-9]+$(
      ) +badformat=0 +baddata=0" "$SCREEN"
    check_match "ntpmon detail pane: SHM(0)'s peer variables" \
      '^detail: +srcadr=127\.127\.28\.0:123 +srchost=SHM\(0\) .* kind=refclock +refid=GPS' \
      "$SCREEN"
    tmux -S "$SOCK" kill-server
  else
    ntk_log "no tmux: ntpmon's detail pane not checked"
  fi
fi
ntk_log "gpsd samples written: $(grep -c 'NTP: ntpshm_put' "$W/gpsd.log")," \
  "ntpq -p: $(grep -E "$RC_ANY" <<<"$(ourq -n -p 2>/dev/null)")"
ntk_stop "$NPID"
ntk_done
