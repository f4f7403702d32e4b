#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: Debian's gpsd (3.22) fed by gpsfake with a generated NMEA log (GPRMC, GPGGA and
# GPZDA every second, correct checksums, timestamps from now) as the real producer for our
# ntpd's `refclock shm unit 0 refid GPS` (--observe). What runs here: ntpd creates the
# root-only segment of unit 0, gpsd attaches it, identifies the fake receiver as NMEA0183
# and parses its fixes. What cannot: gpsd never exports time to NTP for a pseudo-terminal,
# which is all gpsfake can give it (ntpshm_link_activate() returns at once for a PTY source,
# "don't talk to NTP when we're running inside the test harness"), so no sample reaches the
# segment and the test exits 77 with that reason. Should a gpsd do so one day, the checks
# of refclock_shm.sh run instead (selected, stratum 1, refid GPS, cv timecode).
# Usage: refclock_gpsd.sh OUR_NTPDIG OUR_NTPD   (CTest label interop; NTK_NTPQ in the env)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
for t in gpsd gpsfake; do
  command -v "$t" >/dev/null || ntk_skip "missing $t (scripts/peers installs gpsd, gpsd-clients)"
done
ntk_setup "$@"
NTK_NTPD=${2:-}
[ -x "${NTK_NTPQ:-}" ] || ntk_skip "our ntpq (NTK_NTPQ) is not built"
RC_NAME='SHM\(0\)'
# shellcheck source=refclock_lib.sh
. "$NTK_SRC/refclock_lib.sh"

start_ntpd o 123 "refclock shm unit 0 refid GPS minpoll 2 maxpoll 2" "restrict default" \
  "restrict 127.0.0.1"
NPID=$LAST_PID
if ntk_wait_log "$W/o/ntpd.log" "refclock SHM\(0\): shared memory segment 0x4e545030 attached" 10
then ntk_pass "ntpd made and attached unit 0's segment"; else ntk_fail "no segment"; fi

# Three minutes of fixes from the next second on: RMC, GGA, ZDA, one cycle a second.
"$NTK_PY" - "$W/gps.nmea" <<'PY'
import datetime, sys, time
def nmea(body):
    c = 0
    for ch in body.encode():
        c ^= ch
    return "$%s*%02X\r\n" % (body, c)
start = int(time.time()) + 1
with open(sys.argv[1], "w", newline="") as f:
    for i in range(180):
        t = datetime.datetime.fromtimestamp(start + i, datetime.timezone.utc)
        hms = t.strftime("%H%M%S.00")
        f.write(nmea("GPRMC,%s,A,4807.038,N,01131.000,E,000.0,000.0,%s,,,A"
                     % (hms, t.strftime("%d%m%y"))))
        f.write(nmea("GPGGA,%s,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,," % hms))
        f.write(nmea("GPZDA,%s,%s,00,00" % (hms, t.strftime("%d,%m,%Y"))))
PY
check_eq "every NMEA sentence's checksum is right (540 sentences)" "540 ok" "$("$NTK_PY" - \
  "$W/gps.nmea" <<'PY'
import functools, sys
lines = open(sys.argv[1], newline="").read().split("\r\n")[:-1]
ok = all(l[0] == "$" and l[-3] == "*" and
         int(l[-2:], 16) == functools.reduce(lambda a, c: a ^ c, l[1:-3].encode(), 0)
         for l in lines)
print(len(lines), "ok" if ok else "bad")
PY
)"
# -n: gpsd reads without waiting for a client; -c: 3 sentences a second, one cycle a second.
# TMPDIR: gpsfake names its control socket after its PID, the same in every PID namespace.
TMPDIR=$W timeout -k 2 60 gpsfake -n -1 -c 0.333 -v -D 3 "$W/gps.nmea" >"$W/gpsfake.log" 2>&1 &
NTK_PIDS+=("$!")
if ntk_wait_log "$W/gpsfake.log" "identified as type NMEA0183" 20; then
  ntk_pass "gpsd runs and identifies gpsfake's receiver as NMEA0183"
else
  sed 's/^/  gpsfake| /' "$W/gpsfake.log" | tail -n 20
  ntk_skip "gpsd did not start under gpsfake here"
fi
ntk_run ipcs ipcs -m
check_match "gpsd attached unit 0's segment too (2 attachments, root 600)" \
  '0x4e545030 +[0-9]+ +root +600 +96 +2 ' "$OUT"

# Give gpsd 12 s (3 polls) to write a sample.
sleep 12
ASSOC=$(rc_assoc)
rc_counters "$ASSOC"
rc_cv "$ASSOC"
if grep -q 'timecode=""' <<<"$OUT"; then
  check_match "gpsd took the device as a pseudo-terminal" "/dev/pts/" \
    "$(grep -m1 'adding /dev/' "$W/gpsfake.log")"
  ntk_log "checks so far: $NTK_CHECKS, failed: $NTK_FAILS"
  [ "$NTK_FAILS" -eq 0 ] || ntk_done
  ntk_skip "gpsd 3.22 exports no time to NTP for a PTY source (ntpshm_link_activate), and" \
    "gpsfake only feeds PTYs: no sample reaches the segment (cv noreply=$RC_NOREPLY)"
fi
rc_wait_selected
check_match "cv: a timecode from gpsd (whole seconds of the NMEA time)" \
  'timecode="[0-9]{10}\.000000000 [0-9]{10}\.[0-9]{9}"' "$OUT"
RC_REFID=GPS rc_check_rv
ntk_stop "$NPID"
ntk_done
