#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: rate limiting by our ntpd (--observe, synced from chronyd A, local stratum 2).
# `restrict default kod limited` with `discard minimum 2` (port 1123) or `limit average 1
# burst 2 kod 1` (port 2123): a flood of our ntpdig -p 10 -g 50 gets answers, then one KoD
# RATE (JSON error "kod", kiss_code "RATE") and stops; `restrict default limited` without
# kod (port 3123) drops the excess silently (NTPsec's 1 s grace: too soon is interval + 1 s
# < minimum); a client with its own `restrict` line without `limited` (127.0.0.5) is never
# limited; with every limit at its default (port 4123) a client at iburst pace (2 s) is never
# limited.
# Usage: ntpd_kod.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}

start_chronyd a 127.0.0.3 123 2
ntk_wait_ntp 127.0.0.3
srv="server 127.0.0.3 iburst minpoll 4 maxpoll 4"
# 127.0.0.6 (the readiness probe) and 127.0.0.5 are exempt.
start_ntpd k1 1123 "restrict default kod limited" "restrict 127.0.0.6" "restrict 127.0.0.5" \
  "discard minimum 2" "$srv"
start_ntpd k2 2123 "restrict default kod limited" "restrict 127.0.0.6" \
  "limit average 1 burst 2 kod 1" "$srv"
start_ntpd k3 3123 "restrict default limited" "restrict 127.0.0.6" "discard minimum 2" "$srv"
# The restrict line of Debian's NTPsec ntp.conf, every rate limit at its default.
start_ntpd k4 4123 "restrict default kod limited nomodify noquery" "restrict 127.0.0.6" "$srv"
for n in k1:1123 k2:2123 k3:3123 k4:4123; do
  ntk_wait_log "$W/${n%:*}/ntpd.log" "synchronised to association" 20 ||
    ntk_fail "our ntpd ${n%:*} did not synchronise within 20 s"
  ntk_wait_ntp 127.0.0.1 "${n#*:}"
done

for port in 1123 2123; do
  echo "== a flood of ours -p 10 -g 50 to port $port (kod limited)"
  ntk_run "f$port" ours -j -p 10 -g 50 -t 1 --port "$port" 127.0.0.1
  check_rc "ours -p 10 to port $port (an earlier sample succeeded)" 0
  check_json_schema "ours -p 10 to port $port" "$W/f$port.out"
  check_json "port $port: exactly one KoD line, error kod, kiss_code RATE, ok false" \
    "$W/f$port.out" "[(o['error'], o['kiss_code'], o['ok']) for o in L if o['error'] == 'kod']" \
    '[["kod", "RATE", false]]'
  check_json "port $port: the KoD is the last line, the samples before it succeeded" \
    "$W/f$port.out" "'kod' in [o['error'] for o in L] and [o['error'] for o in L].index('kod')
    == len(L) - 1 and all(o['ok'] for o in L[:-1]) and len(L) >= 2" true
  check_json "port $port: the KoD line's stratum 0, refid RATE" "$W/f$port.out" \
    "[L[-1]['stratum'], L[-1]['refid_hex']]" '[0, "52415445"]'
  check_json "port $port: a successful sample at stratum 3 is selected" "$W/f$port.out" \
    "[S and S['ok'], S and S['stratum'], sum(o['selected'] for o in L)]" '[true, 3, 1]'
done

echo "== the same flood from 127.0.0.5 (restrict 127.0.0.5: not limited)"
ntk_run ex ours -j -p 6 -g 50 -t 1 -I 127.0.0.5 --port 1123 127.0.0.1
check_rc "ours -p 6 from 127.0.0.5 (restrict 127.0.0.5: not limited)" 0
check_json "from 127.0.0.5: 6 answers, no KoD" "$W/ex.out" \
  "[len(L), all(o['ok'] for o in L), [o['kiss_code'] for o in L if o['kiss_code']]]" \
  '[6, true, []]'

echo "== port 3123: limited without kod drops the excess, no KoD"
ntk_run d ours -j -p 3 -g 50 -t 0.3 --port 3123 127.0.0.1
check_json "port 3123: first answered, then timeouts, no KoD" "$W/d.out" \
  "[[o['ok'] for o in L], [o['error'] for o in L]]" \
  '[[true, false, false], [null, "timeout", "timeout"]]'
check_rc "ours -p 3 to port 3123 (one sample succeeded)" 0

echo "== port 4123 (defaults): a client at iburst pace (6 requests, 2 s apart) is never limited"
ntk_run ib ours -j -p 6 -g 2000 -t 1 --port 4123 127.0.0.1
check_rc "ours -p 6 -g 2000 to port 4123" 0
check_json "port 4123: 6 answers, no KoD" "$W/ib.out" \
  "[len(L), [o['ok'] for o in L], [o['kiss_code'] for o in L if o['kiss_code']]]" \
  '[6, [true, true, true, true, true, true], []]'

for n in k1 k2 k3 k4; do ntk_show_log $n; done
ntk_done
