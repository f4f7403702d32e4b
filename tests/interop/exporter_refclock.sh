#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: ntpkit_exporter in front of our ntpd (--observe) with `refclock sock PATH`, fed by
# the test producer (rc_producer.py, chrony's SOCK datagrams). The exporter reads the clock
# variables with READCLOCK: /metrics has ntpkit_refclock_polls_total and
# ntpkit_refclock_errors_total{error=noreply|badformat|baddata} for source SOCK(0) (kind
# refclock, empty address) with HELP and TYPE, polls growing; promtool check metrics accepts
# it; /json has the same values in the source's "refclock" object; when the producer stops,
# noreply grows by at least 2 polls.
# Usage: exporter_refclock.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
EXPORTER=$(dirname "$NTK_NTPD")/../../exporters/ntpkit_exporter
[ -x "$EXPORTER" ] || ntk_skip "ntpkit_exporter is not built ($EXPORTER)"
command -v curl >/dev/null || ntk_skip "missing tool curl"
PROD=$NTK_SRC/rc_producer.py

SOCK=$W/gps.sock
start_ntpd o 123 "refclock sock path $SOCK refid GPS minpoll 2 maxpoll 2" \
  "restrict default" "restrict 127.0.0.1"
if ntk_wait_log "$W/o/ntpd.log" "refclock SOCK\(0\): listening on $SOCK" 10; then
  ntk_pass "ntpd bound $SOCK"
else
  ntk_fail "ntpd did not bind $SOCK"
fi
"$NTK_PY" "$PROD" sock "$SOCK" good 600 >"$W/prod.log" 2>&1 &
PROD_PID=$!
NTK_PIDS+=("$PROD_PID")

"$EXPORTER" --web.listen-address=127.0.0.1:10125 --ntp.address=127.0.0.1 --ntp.timeout=1 \
  --log.level=debug >"$W/exp.log" 2>&1 &
NTK_PIDS+=("$!")

LBL='source="SOCK\(0\)",address="",kind="refclock"'
scrape() { curl -sS --max-time 5 "http://127.0.0.1:10125/$1" 2>/dev/null; }
# value FAMILY-AND-LABELS-ERE: the sample's value in $M ("" when absent).
value() { grep -E "^$1 " <<<"$M" | awk '{ print $2 }'; }

# Wait (bounded: 30 s) until the refclock was polled twice with samples coming in.
for _ in $(seq 60); do
  M=$(scrape metrics) || true
  p=$(value "ntpkit_refclock_polls_total\{$LBL\}")
  [ -n "$p" ] && [ "$p" -ge 2 ] && break
  sleep 0.5
done
check_match "ntpkit_up 1" '^ntpkit_up 1$' "$(grep '^ntpkit_up ' <<<"$M")"
check_match "polls of SOCK(0) counted (> 0)" '^[1-9][0-9]*$' "$(value "ntpkit_refclock_polls_total\{$LBL\}")"
check_match "HELP of ntpkit_refclock_polls_total" '^# HELP ntpkit_refclock_polls_total ' "$M"
check_match "TYPE counter of ntpkit_refclock_polls_total" \
  '^# TYPE ntpkit_refclock_polls_total counter$' "$M"
check_match "TYPE counter of ntpkit_refclock_errors_total" \
  '^# TYPE ntpkit_refclock_errors_total counter$' "$M"
for e in noreply badformat baddata; do
  check_match "errors of SOCK(0), error=$e" '^[0-9]+$' \
    "$(value "ntpkit_refclock_errors_total\{$LBL,error=\"$e\"\}")"
done
check_eq "badformat 0 with good samples" 0 \
  "$(value "ntpkit_refclock_errors_total\{$LBL,error=\"badformat\"\}")"
check_lines "one polls series (the refclock only)" 1 "$(grep '^ntpkit_refclock_polls_total{' <<<"$M")"
if command -v promtool >/dev/null; then
  if promtool check metrics <<<"$M" >"$W/promtool.out" 2>&1; then
    ntk_pass "promtool check metrics"
  else
    ntk_fail "promtool check metrics"
    cat "$W/promtool.out"
  fi
fi
scrape json >"$W/j.json"
check_json "/json: the refclock object of SOCK(0)" "$W/j.json" \
  "[[s['refclock']['name'], s['refclock']['polls_total'] > 0, s['kind']] for s in L[0]['sources'] if s['source'] == 'SOCK(0)']" \
  '[["SOCK", true, "refclock"]]'

echo "== the producer stops: noreply grows"
M=$(scrape metrics) || true
n0=$(value "ntpkit_refclock_errors_total\{$LBL,error=\"noreply\"\}")
p0=$(value "ntpkit_refclock_polls_total\{$LBL\}")
ntk_stop "$PROD_PID"
n1=$n0
for _ in $(seq 60); do # bounded: 30 s (a poll every 4 s)
  sleep 0.5
  M=$(scrape metrics) || true
  n1=$(value "ntpkit_refclock_errors_total\{$LBL,error=\"noreply\"\}")
  [ -n "$n0" ] && [ -n "$n1" ] && [ "$((n1 - n0))" -ge 2 ] && break
done
p1=$(value "ntpkit_refclock_polls_total\{$LBL\}")
if [ -n "$n0" ] && [ -n "$n1" ] && [ "$((n1 - n0))" -ge 2 ]; then
  ntk_pass "noreply $n0 -> $n1 (at least +2) after the producer stopped"
else
  ntk_fail "noreply '$n0' -> '$n1' (expected at least +2)"
  cat "$W/exp.log"
fi
if [ -n "$p0" ] && [ -n "$p1" ] && [ "$p1" -gt "$p0" ]; then
  ntk_pass "polls $p0 -> $p1 (still polled)"
else
  ntk_fail "polls '$p0' -> '$p1' (expected to grow)"
fi
ntk_done
