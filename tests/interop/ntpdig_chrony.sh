#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: our ntpdig against chronyd 4.3 (-x, local stratum 3), side by side with NTPsec's
# ntpdig against the same server in the same run: text and JSON output, --port, -p, -c with a
# name of two addresses, -4/-6, -I.
# Usage: ntpdig_chrony.sh OUR_NTPDIG [OUR_NTPDIG_FAKECLK]   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"

ntk_hosts "127.0.0.1 ntk-a.test" "::1 ntk-a.test" "127.0.0.1 ntk-twin.test" \
  "127.0.0.3 ntk-twin.test"
start_chronyd a 127.0.0.1,::1 123 3
start_chronyd b 127.0.0.3 123 4
start_chronyd c 127.0.0.1 10123 6
ntk_wait_ntp 127.0.0.1
ntk_wait_ntp ::1
ntk_wait_ntp 127.0.0.3
ntk_wait_ntp 127.0.0.1 10123

echo "== jitter of chronyd a"
ntk_jitter 127.0.0.1

echo "== ours vs NTPsec's ntpdig: an address, a name (-4), ::1"
ntk_compare addr "127.0.0.1 - s3 no-leap" 127.0.0.1
check_json "ours -j 127.0.0.1: chronyd a" "$W/addr_j.out" \
  "[S['port'], S['stratum'], S['refid'], S['refid_hex'], S['kiss_code'], S['authenticated'],
    S['key_id'], S['root_delay'], S['poll_log2']]" \
  '[123, 3, "127.127.1.1", "7f7f0101", null, false, null, 0.0, 0]'
check_json "ours -j 127.0.0.1: chrony's precision -32..-10" "$W/addr_j.out" \
  "-32 <= S['precision_log2'] <= -10" true
ntk_compare name "ntk-a.test 127.0.0.1 s3 no-leap" -4 ntk-a.test
ntk_compare v6 "ntk-a.test ::1 s3 no-leap" -6 ntk-a.test
check_json "ours -j -6 ntk-a.test" "$W/v6_j.out" "[S['host'], S['ip'], S['stratum']]" \
  '["ntk-a.test", "::1", 3]'
ntk_run v6lit ours -t 2 ::1
check_rc "ours ::1" 0
check_eq "ours ::1 text host ip stratum leap" "::1 - s3 no-leap" "$(ntk_text_fields "$OUT")"

echo "== --port: chronyd c (stratum 6) on 127.0.0.1:10123"
ntk_run port ours -j -t 2 --port=10123 127.0.0.1
check_rc "ours --port=10123" 0
check_json "ours --port=10123" "$W/port.out" "[S['ok'], S['port'], S['stratum'], S['ip']]" \
  '[true, 10123, 6, "127.0.0.1"]'
ntk_run port_text ours -t 2 --port 10123 127.0.0.1
check_rc "ours --port 10123 (text)" 0
check_eq "text host ip stratum leap" "127.0.0.1 - s6 no-leap" "$(ntk_text_fields "$OUT")"

echo "== -p 3: three JSON lines, one selected"
ntk_run p3 ours -j -p 3 -g 20 -t 2 127.0.0.1
check_rc "ours -p 3" 0
check_json_schema "ours -p 3" "$W/p3.out"
check_json "ours -p 3: lines, selected, samples, all ok" "$W/p3.out" \
  "[len(L), sum(o['selected'] for o in L), [o['sample'] for o in L], all(o['ok'] for o in L)]" \
  '[3, 1, [0, 1, 2], true]'

echo "== -c: a name with two addresses (chronyd a stratum 3, chronyd b stratum 4)"
ntk_run c_j ours -j -t 2 -c ntk-twin.test
check_rc "ours -j -c ntk-twin.test" 0
check_json_schema "ours -j -c ntk-twin.test" "$W/c_j.out"
check_json "ours -j -c ntk-twin.test: both addresses answered" "$W/c_j.out" \
  "[len(L), sorted(o['ip'] for o in L), sorted(o['stratum'] for o in L), all(o['ok'] for o in L)]" \
  '[2, ["127.0.0.1", "127.0.0.3"], [3, 4], true]'
check_json "ours -j -c ntk-twin.test: lowest stratum selected" "$W/c_j.out" \
  "[S['host'], S['ip'], S['stratum'], sum(o['selected'] for o in L)]" \
  '["ntk-twin.test", "127.0.0.1", 3, 1]'
ntk_run c_t ours -t 2 -c ntk-twin.test
check_rc "ours -c ntk-twin.test" 0
ntk_run c_tn ntpsec_ntpdig -t 2 -c ntk-twin.test
check_rc "NTPsec ntpdig -c ntk-twin.test" 0
echo "# ours:   $(cat "$W/c_t.out")"
echo "# NTPsec: $(cat "$W/c_tn.out")   (NTPsec 1.2.2 prints 'localhost' as host with -c)"
check_eq "ours -c text host ip stratum leap" "ntk-twin.test 127.0.0.1 s3 no-leap" \
  "$(ntk_text_fields "$(cat "$W/c_t.out")")"
check_eq "NTPsec -c text ip stratum leap" "127.0.0.1 s3 no-leap" \
  "$(ntk_text_fields "$(cat "$W/c_tn.out")" | cut -d' ' -f2-)"

echo "== -I: send from 127.0.0.5; chronyd a must list that client"
ntk_run bind ours -j -t 2 -I 127.0.0.5 127.0.0.1
check_rc "ours -I 127.0.0.5" 0
check_json "ours -I 127.0.0.5" "$W/bind.out" "[S['ok'], S['ip'], S['stratum']]" \
  '[true, "127.0.0.1", 3]'
ntk_run clients "$CHRONYC" -h "$W/a/chronyd.sock" -n clients
check_match "chronyc clients of chronyd a lists 127.0.0.5" '^127\.0\.0\.5 +1 ' "$OUT"

ntk_done
