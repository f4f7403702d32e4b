#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: symmetric-key authentication (MD5 key 1, SHA1 key 2, AES-128-CMAC key 3 of
# tests/data/symkey.keys) against chronyd 4.3 (127.0.0.1) and NTPsec ntpd 1.2.2 (127.0.0.2),
# ours next to NTPsec's ntpdig; a wrong secret, a key id the server lacks, a key id the keys
# file lacks, and -a without -k.
# Usage: ntpdig_symkey.sh OUR_NTPDIG [OUR_NTPDIG_FAKECLK]   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"

keys=$NTK_DATA/symkey.keys
wrong=$NTK_DATA/symkey-client-wrong.keys
start_chronyd a 127.0.0.1 123 3 "keyfile $NTK_DATA/symkey-chrony.keys"
start_ntpsec n 127.0.0.2 "keys $keys" "trustedkey 1 2 3"
ntk_wait_ntp 127.0.0.1
ntk_wait_ntp 127.0.0.2

declare -A strat=([127.0.0.1]=3 [127.0.0.2]=5)
for srv in 127.0.0.1 127.0.0.2; do
  for k in 1 2 3; do
    echo "== key $k to $srv"
    l=k${k}_${srv//./_}
    ntk_run "$l" ours -j -t 2 -a "$k" -k "$keys" "$srv"
    check_rc "ours -a $k $srv" 0
    check_json_schema "ours -a $k $srv" "$W/$l.out"
    check_json "ours -a $k $srv: authenticated reply" "$W/$l.out" \
      "[len(L), S['ok'], S['error'], S['authenticated'], S['key_id'], S['stratum'], S['leap']]" \
      "[1, true, null, true, $k, ${strat[$srv]}, \"no-leap\"]"
    ntk_run "${l}n" ntpsec_ntpdig -j -t 2 -a "$k" -k "$keys" "$srv"
    check_rc "NTPsec ntpdig -a $k $srv" 0
    check_same "-a $k $srv stratum (NTPsec vs ours)" "$(jq_py "$W/${l}n.out" "L[0]['stratum']")" \
      "$(jq_py "$W/$l.out" "L[0]['stratum']")"
  done
  echo "== text output with key 3 to $srv"
  ntk_run t3 ours -t 2 -a 3 -k "$keys" "$srv"
  check_rc "ours -a 3 $srv (text)" 0
  check_eq "ours -a 3 $srv text host ip stratum leap" "$srv - s${strat[$srv]} no-leap" \
    "$(ntk_text_fields "$OUT")"

  # Both servers drop a request whose MAC does not verify, or whose key id they lack, without
  # a reply (no crypto-NAK: shared/data/README.md, symkey.pcap frames 7, 8, 27, 28).
  for case in "1 wrong secret" "9 key unknown to the server"; do
    k=${case%% *}
    echo "== key $k from symkey-client-wrong.keys to $srv (${case#* })"
    l=w${k}_${srv//./_}
    ntk_run "$l" ours -j -t 1 -a "$k" -k "$wrong" "$srv"
    check_rc "ours -a $k (${case#* }) $srv" 1
    check_json_schema "ours -a $k (${case#* }) $srv" "$W/$l.out"
    check_json "ours -a $k (${case#* }) $srv: one failed sample, no reply" "$W/$l.out" \
      "[len(L), S, L[0]['ok'], L[0]['error'], L[0]['authenticated'],
        L[0]['key_id'] in (None, $k)]" "[1, null, false, \"timeout\", false, true]"
    check_match "ours -a $k (${case#* }) $srv: stderr says no reply, no eligible servers" \
      "no reply within 1(\.0*)? s.*no eligible servers" "$(tr '\n' ' ' <"$W/$l.err")"
    ntk_run "${l}n" ntpsec_ntpdig -j -t 1 -a "$k" -k "$wrong" "$srv"
    check_rc "NTPsec ntpdig -a $k (${case#* }) $srv" 1
    check_match "NTPsec ntpdig -a $k (${case#* }) $srv" "no eligible servers" "$ERR"
  done
done

echo "== -a 9 with a keys file that has no key 9"
ntk_run nokey ours -t 1 -a 9 -k "$keys" 127.0.0.1
check_rc "ours -a 9 -k symkey.keys" 1
check_lines "ours -a 9 -k symkey.keys stderr" 1 "$ERR"
check_match "ours -a 9 -k symkey.keys stderr names the key" '^ntpdig: .*\b9\b' "$ERR"
check_eq "ours -a 9 -k symkey.keys stdout" "" "$OUT"
# NTPsec 1.2.2 sends the request unsigned, then dies on the unsigned reply (a Python
# traceback in verify_mac): exit 1 too, but not "one clear line".
ntk_run nokeyn ntpsec_ntpdig -t 1 -a 9 -k "$keys" 127.0.0.1
check_rc "NTPsec ntpdig -a 9 -k symkey.keys" 1

echo "== -a without -k"
ntk_run nok ours -t 1 -a 1 127.0.0.1
check_rc "ours -a 1 without -k" 2
check_lines "ours -a 1 without -k stderr" 1 "$ERR"
check_match "ours -a 1 without -k stderr mentions -k" '^ntpdig: .*-k' "$ERR"
ntk_run nokn ntpsec_ntpdig -t 1 -a 1 127.0.0.1
check_rc "NTPsec ntpdig -a 1 without -k (NTPsec exits 1, ours 2 by the spec)" 1

ntk_done
