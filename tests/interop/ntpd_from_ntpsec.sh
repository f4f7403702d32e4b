#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: our ntpd (--observe) as a client of NTPsec ntpd 1.2.2 in orphan mode (stratum 5,
# reference timestamp 0: shared/data/README.md) on 127.0.0.2:123; it syncs and serves
# stratum 6 with refid 127.0.0.2 to our ntpdig (--port 1123); on the wire (tcpdump) its
# requests are NTPv4 mode 3 and each got a mode-4 reply.
# Usage: ntpd_from_ntpsec.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}

start_ntpsec n 127.0.0.2
ntk_wait_ntp 127.0.0.2
ntk_capture_start "$W/c.pcap" "udp port 123 and host 127.0.0.2 and not host 127.0.0.6"
start_ntpd o 1123 "server 127.0.0.2 iburst minpoll 4 maxpoll 4"

echo "== our ntpd (port 1123) syncs from NTPsec ntpd"
if ntk_wait_log "$W/o/ntpd.log" "synchronised to association" 15; then
  ntk_pass "our ntpd logs 'synchronised to association' within 15 s"
else
  ntk_fail "our ntpd did not log 'synchronised to association' within 15 s"
fi
ntk_wait_ntp 127.0.0.1 1123
ntk_run q ours -j -t 2 --port 1123 127.0.0.1
check_rc "ours --port 1123 127.0.0.1" 0
check_json_schema "ours --port 1123" "$W/q.out"
check_json "ours --port 1123: our ntpd synced to NTPsec (stratum 5)" "$W/q.out" \
  "[S['ok'], S['port'], S['stratum'], S['leap'], S['refid_hex'], S['li']]" \
  '[true, 1123, 6, "no-leap", "7f000002", 0]'
check_json "ours --port 1123: root delay, root dispersion 0..1 s" "$W/q.out" \
  "0 <= S['root_delay'] < 1 and 0 <= S['root_dispersion'] < 1" true
check_sample "ours --port 1123" "$W/q.out"
if ntk_wait_log "$W/o/ntpd.log" "status: synchronised to association [0-9]+, stratum 6" 10; then
  ntk_pass "our ntpd's status line: synchronised, stratum 6"
else
  ntk_fail "no 'status: synchronised ... stratum 6' line in our ntpd's log"
fi
check_nomatch "our ntpd logs no error" "cannot|error|failed" "$(cat "$W/o/ntpd.log")"

echo "== on the wire"
ntk_capture_stop
ntk_pcap_ntp "$W/c.pcap" >"$W/c.txt"
sed 's/^/  pcap| /' "$W/c.txt"
req=$(awk '$1 == "127.0.0.1" && $3 == "127.0.0.2" && $4 == 123 && $5 == 3' "$W/c.txt" | wc -l)
rep=$(awk '$1 == "127.0.0.2" && $2 == 123 && $3 == "127.0.0.1" && $5 == 4' "$W/c.txt" | wc -l)
check_match "our ntpd's mode-3 requests to NTPsec (iburst: 2 or more)" '^([2-9]|[1-9][0-9]+)$' \
  "$req"
check_eq "NTPsec's mode-4 replies = requests" "$req" "$rep"
check_eq "every request NTPv4 (first byte 0x23 or 0xe3)" "" "$("$NTK_PY" - "$W/c.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read(); o = 24
while o + 16 <= len(d):
    n = struct.unpack("<IIII", d[o:o + 16])[2]; f = d[o + 16:o + 16 + n]; o += 16 + n
    ntp = f[42:]
    if len(ntp) >= 48 and ntp[0] & 7 == 3 and ntp[0] & 0x3f != 0x23:
        print(hex(ntp[0]))
PY
)"
ntk_show_log o
ntk_done
