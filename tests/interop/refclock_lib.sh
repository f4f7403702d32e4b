# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# Helpers shared by refclock_shm.sh, refclock_sock.sh and refclock_gpsd.sh (sourced after
# lib.sh's ntk_setup): our ntpd on 127.0.0.1:123 with one refclock, queried with our ntpq
# ($NTK_NTPQ). The test sets OFF_MS and TOL_MS (the expected offset in ms and its tolerance)
# and PROD (rc_producer.py).

ourq() { "$NTK_NTPQ" "$@" 127.0.0.1; }

# The refclock's row of ntpq -p when it is the system peer: NTPsec names refclocks NAME(UNIT)
# (also with -n). The test sets RC_NAME (an ERE, e.g. 'SHM\(2\)') before sourcing this.
RC_ROW="^\*${RC_NAME:-SHM\(2\)} "
RC_ANY="^.${RC_NAME:-SHM\(2\)} " # the same row, selected or not

# Wait (bounded: 40 s) until the refclock is the system peer of our ntpd.
rc_wait_selected() {
  local _n
  for _n in $(seq 1 80); do
    ourq -n -p 2>/dev/null | grep -Eq "$RC_ROW" && break
    sleep 0.5
  done
  ntk_run peers "$NTK_NTPQ" -n -p 127.0.0.1
  check_match "ntpq -p: the refclock is the system peer ('*') after ${SECONDS}s" \
    "$RC_ROW" "$OUT"
}

# rc_check_offset DESC: the refclock's offset (ntpq -p, ms; selected or not: after polls of
# bad samples only it may have dropped out for a while) is OFF_MS within TOL_MS.
rc_check_offset() {
  ntk_run peers "$NTK_NTPQ" -n -p 127.0.0.1
  local off
  off=$(grep -E "$RC_ANY" <<<"$OUT" | awk '{ print $9 }')
  check_near "$1: ntpq -p offset (ms) is the producer's" "${off:-none}" "$OFF_MS" "$TOL_MS"
}

# rc_check_peer DESC REFID-ERE: the row is '*' with NTPsec's name, the refid, stratum 0, type
# l (local), and the offset.
rc_check_peer() {
  rc_check_offset "$1"
  check_match "$1: ntpq -p row: '*', NAME(UNIT), refid, stratum 0, type l" \
    "$RC_ROW +$2 +0 l " "$(grep -E "$RC_ROW" <<<"$OUT")"
}

# rv: we are stratum 1 with the refclock's refid.
rc_check_rv() {
  ntk_run rv "$NTK_NTPQ" -c rv 127.0.0.1
  check_match "ntpq rv: stratum 1" '(^|[ ,])stratum=1,' "$OUT"
  check_match "ntpq rv: refid ${RC_REFID:-GPS}" "(^|[ ,])refid=${RC_REFID:-GPS}," "$OUT"
}

# The refclock's association id (ntpq associations, the first row).
rc_assoc() {
  ourq -c as 2>/dev/null | awk '$2 ~ /^[0-9]+$/ { print $2; exit }'
}

rc_cv() { # ASSOC
  ntk_run cv "$NTK_NTPQ" -c "cv $1" 127.0.0.1
}

# rc_counters ASSOC: RC_NOREPLY RC_BADFORMAT RC_BADDATA from cv.
rc_counters() {
  local out
  out=$(ourq -c "cv $1" 2>&1 | tr ',' '\n')
  RC_NOREPLY=$(sed -n 's/^ *noreply=\([0-9]*\).*/\1/p' <<<"$out")
  RC_BADFORMAT=$(sed -n 's/^ *badformat=\([0-9]*\).*/\1/p' <<<"$out")
  RC_BADDATA=$(sed -n 's/^ *baddata=\([0-9]*\).*/\1/p' <<<"$out")
  ntk_log "cv $1: noreply=$RC_NOREPLY badformat=$RC_BADFORMAT baddata=$RC_BADDATA"
}

# rc_bad_phase DESC "PRODUCER-ARGS" COUNTER MIN [nooffset]: runs the producer in the
# foreground (bounded), then COUNTER (noreply, badformat or baddata) of cv grew by at least
# MIN and (unless nooffset) the offset is still the good samples'.
rc_bad_phase() {
  local desc=$1 args=$2 what=$3 min=$4 before after
  rc_counters "$ASSOC"
  before=$(eval echo "\${RC_${what^^}:-}")
  # shellcheck disable=SC2086
  timeout -k 2 30 "$NTK_PY" "$PROD" $args >"$W/bad.log" 2>&1
  sleep 1.5 # the last sample read and counted
  rc_counters "$ASSOC"
  after=$(eval echo "\${RC_${what^^}:-}")
  if [ -n "$before" ] && [ -n "$after" ] && [ "$((after - before))" -ge "$min" ]; then
    ntk_pass "$desc: cv $what $before -> $after (at least +$min)"
  else
    ntk_fail "$desc: cv $what '$before' -> '$after' (expected at least +$min)"
  fi
  [ "${5:-}" = nooffset ] || rc_check_offset "$desc: not used"
}

# Clients of ours get stratum 1 and the refclock's refid: our ntpdig -j and chronyd 4.3.
rc_client_checks() { # REFID
  ntk_run dig ours -j -t 2 127.0.0.1
  check_rc "ntpdig 127.0.0.1" 0
  check_json "ntpdig: stratum 1, refid $1, li 0" "$W/dig.out" \
    "[S['stratum'], S['refid'], S['li']]" "[1, \"$1\", 0]"
  start_chronyd c 127.0.0.4 0 10 "server 127.0.0.1 iburst minpoll 0 maxpoll 0"
  local sel _n
  for _n in $(seq 1 30); do
    sel=$("$CHRONYC" -h "$W/c/chronyd.sock" -n sources 2>&1 | grep -E '^\^\* 127\.0\.0\.1 ') &&
      break
    sleep 0.5
  done
  check_match "chronyd selects ours (^*) at stratum 1" '^\^\* 127\.0\.0\.1 +1 ' "$sel"
  ntk_run trk "$CHRONYC" -h "$W/c/chronyd.sock" -n ntpdata 127.0.0.1
  local hex
  hex=$(printf '%s' "$1" | od -An -tx1 | tr -d ' \n' | tr 'a-f' 'A-F')
  while [ ${#hex} -lt 8 ]; do hex="${hex}00"; done
  check_match "chronyc ntpdata: our reference ID is $1" "^Reference ID +: $hex" "$OUT"
  check_match "chronyc ntpdata: stratum 1" '^Stratum +: 1$' "$OUT"
}
