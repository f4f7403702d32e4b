#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: Kiss-o'-Death RATE from NTPsec ntpd 1.2.2 rate limiting (RFC 5905 section 7.4).
# Ours with -p 6 -g 100 gets answers, then a KoD: a JSON line with error "kod" and kiss_code
# "RATE", no further request to that server in the same run (counted on the wire with
# tcpdump), exit 0 because an earlier sample succeeded. NTPsec's ntpdig, which does not
# honour KoD, is run the same way from another address for comparison.
# Usage: ntpdig_kod.sh OUR_NTPDIG [OUR_NTPDIG_FAKECLK]   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"

# As make-captures/scen/kod.sh: 2 answers at 100 ms spacing, then KoD RATE (kod.pcap).
# 127.0.0.6 (the readiness probe) is exempt from the limit.
start_ntpsec n 127.0.0.2 "restrict default kod limited" "restrict 127.0.0.1 kod limited" \
  "restrict 127.0.0.3 kod limited" "restrict 127.0.0.6" "limit average 1 burst 2 kod 1"
ntk_wait_ntp 127.0.0.2
ntk_capture_start "$W/kod.pcap" "udp port 123 and host 127.0.0.2 and not host 127.0.0.6"

echo "== ours -j -p 6 -g 100 (from 127.0.0.1)"
ntk_run ours ours -j -p 6 -g 100 -t 1 127.0.0.2
check_rc "ours -p 6 against a rate-limiting server (an earlier sample succeeded)" 0
check_json_schema "ours -p 6" "$W/ours.out"
check_json "ours -p 6: exactly one KoD line, error kod, kiss_code RATE, ok false" "$W/ours.out" \
  "[(o['error'], o['kiss_code'], o['ok']) for o in L if o['error'] == 'kod']" \
  '[["kod", "RATE", false]]'
check_json "ours -p 6: the KoD is the last line, samples before it succeeded" "$W/ours.out" \
  "[o['error'] for o in L].index('kod') == len(L) - 1 and all(o['ok'] for o in L[:-1])
  and len(L) >= 2" true
check_json "ours -p 6: a successful sample is selected" "$W/ours.out" \
  "[S['ok'], S['stratum'], sum(o['selected'] for o in L)]" '[true, 5, 1]'
check_json "ours -p 6: the KoD line's stratum 0 and refid" "$W/ours.out" \
  "[L[-1]['stratum'], L[-1]['refid_hex']]" '[0, "52415445"]'
check_match "ours -p 6: stderr reports the KoD" 'RATE|kiss|KoD|kod' "$ERR"
lines=$(wc -l <"$W/ours.out")

echo "== NTPsec's ntpdig -p 6 -g 100 (from 127.0.0.3)"
ip route replace local 127.0.0.2 dev lo table local proto kernel scope host src 127.0.0.3
ntk_run ntpsec ntpsec_ntpdig -j -p 6 -g 100 -t 1 127.0.0.2
ip route replace local 127.0.0.2 dev lo table local proto kernel scope host src 127.0.0.1
check_rc "NTPsec ntpdig -p 6" 0
check_match "NTPsec ntpdig drops the KoD" 'stratum 0, probable KOD packet' "$ERR"
ntk_capture_stop

echo "== on the wire"
ntk_pcap_ntp "$W/kod.pcap" >"$W/kod.txt"
sed 's/^/  pcap| /' "$W/kod.txt"
# Requests (mode 3) of a client and the first KoD (mode 4, stratum 0, RATE) to it.
wire() { # CLIENT -> "requests requests-after-first-KoD KoDs"
  awk -v c="$1" '$1 == c && $5 == 3 { req++; if (kod) after++ }
    $3 == c && $5 == 4 && $6 == 0 && $7 == "RATE" { kod++ }
    END { printf "%d %d %d\n", req, after, kod }' "$W/kod.txt"
}
read -r req after kods <<<"$(wire 127.0.0.1)"
ntk_log "ours (127.0.0.1): $req requests, $kods KoD, $after requests after the first KoD"
check_eq "ours: requests on the wire = JSON lines" "$lines" "$req"
check_eq "ours: KoD RATE replies on the wire" 1 "$kods"
check_eq "ours: requests after the KoD" 0 "$after"
read -r req after kods <<<"$(wire 127.0.0.3)"
ntk_log "NTPsec ntpdig (127.0.0.3): $req requests, $kods KoD, $after requests after the first KoD"
check_eq "NTPsec ntpdig: requests on the wire" 6 "$req"
check_ne "NTPsec ntpdig: requests after the KoD (it ignores KoD)" 0 "$after"

echo "== NTPsec ntpd's counters"
ntk_run ss ntpsec_ntpq -n -c sysstats 127.0.0.2
check_match "ntpq sysstats: KoD responses counted" 'KoD responses: +[1-9]' "$OUT"

ntk_done
