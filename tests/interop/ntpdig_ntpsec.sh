#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: our ntpdig against NTPsec ntpd 1.2.2 (orphan stratum 5, clock discipline off) on
# 127.0.0.2:123, side by side with NTPsec's ntpdig in the same run: text and JSON output, -p,
# and -c on a name with NTPsec's and chrony's address.
# Usage: ntpdig_ntpsec.sh OUR_NTPDIG [OUR_NTPDIG_FAKECLK]   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"

ntk_hosts "127.0.0.2 ntk-n.test" "127.0.0.2 ntk-mix.test" "127.0.0.1 ntk-mix.test"
start_ntpsec n 127.0.0.2
start_chronyd a 127.0.0.1 123 3
ntk_wait_ntp 127.0.0.1
ntk_wait_ntp 127.0.0.2

echo "== NTPsec ntpd's own view (ntpq)"
ntk_run rv ntpsec_ntpq -n -c "rv 0 leap,stratum,refid" 127.0.0.2
check_match "ntpq rv: leap 00, stratum 5" 'leap=00, *stratum=5' "$OUT"

echo "== jitter of NTPsec ntpd"
ntk_jitter 127.0.0.2

echo "== ours vs NTPsec's ntpdig: an address and a name"
ntk_compare addr "127.0.0.2 - s5 no-leap" 127.0.0.2
check_json "ours -j 127.0.0.2: NTPsec orphan server" "$W/addr_j.out" \
  "[S['port'], S['stratum'], S['refid'], S['refid_hex'], S['kiss_code'], S['authenticated'],
    S['key_id']]" \
  '[123, 5, "127.0.0.1", "7f000001", null, false, null]'
check_json "ours -j 127.0.0.2: NTPsec's precision -32..-10" "$W/addr_j.out" \
  "-32 <= S['precision_log2'] <= -10" true
ntk_compare name "ntk-n.test 127.0.0.2 s5 no-leap" ntk-n.test

echo "== -p 3: three JSON lines, one selected"
ntk_run p3 ours -j -p 3 -g 20 -t 2 127.0.0.2
check_rc "ours -p 3" 0
check_json_schema "ours -p 3" "$W/p3.out"
check_json "ours -p 3: lines, selected, samples, all ok" "$W/p3.out" \
  "[len(L), sum(o['selected'] for o in L), [o['sample'] for o in L], all(o['ok'] for o in L)]" \
  '[3, 1, [0, 1, 2], true]'
ntk_run p3n ntpsec_ntpdig -p 3 -g 20 -t 2 127.0.0.2
check_rc "NTPsec ntpdig -p 3" 0
check_same "-p 3 text host ip stratum leap (NTPsec vs ours)" \
  "$(ntk_text_fields "$(cat "$W/p3n.out")")" \
  "$(ntk_text_fields "$(timeout 10 "$NTK_OURS" -p 3 -g 20 -t 2 127.0.0.2)")"

echo "== -c: a name with NTPsec ntpd (stratum 5) and chronyd (stratum 3)"
ntk_run c_j ours -j -t 2 -c ntk-mix.test
check_rc "ours -j -c ntk-mix.test" 0
check_json_schema "ours -j -c ntk-mix.test" "$W/c_j.out"
check_json "ours -j -c ntk-mix.test: both answered" "$W/c_j.out" \
  "[len(L), sorted(o['ip'] for o in L), sorted(o['stratum'] for o in L), all(o['ok'] for o in L)]" \
  '[2, ["127.0.0.1", "127.0.0.2"], [3, 5], true]'
check_json "ours -j -c ntk-mix.test: lowest stratum selected" "$W/c_j.out" \
  "[S['ip'], S['stratum'], sum(o['selected'] for o in L)]" '["127.0.0.1", 3, 1]'
ntk_run c_tn ntpsec_ntpdig -t 2 -c ntk-mix.test
check_rc "NTPsec ntpdig -c ntk-mix.test" 0
check_eq "NTPsec -c text ip stratum leap" "127.0.0.1 s3 no-leap" \
  "$(ntk_text_fields "$OUT" | cut -d' ' -f2-)"

ntk_done
