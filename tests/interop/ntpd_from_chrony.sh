#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: our ntpd (--observe) as a client of chronyd 4.3 (-x, local stratum 2) on
# 127.0.0.1:123, then as a server: our ntpdig (--port) and NTPsec's ntpdig (port 123 only,
# so a second ntpd of ours bound to 127.0.0.2 by `interface listen`) see stratum 3, no-leap.
# Usage: ntpd_from_chrony.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}

start_chronyd a 127.0.0.1 123 2
ntk_wait_ntp 127.0.0.1
start_ntpd o 1123 "server 127.0.0.1 iburst minpoll 4 maxpoll 4"
opid=$LAST_PID

echo "== our ntpd (port 1123) syncs from chronyd"
if ntk_wait_log "$W/o/ntpd.log" "synchronised to association" 15; then
  ntk_pass "our ntpd logs 'synchronised to association' within 15 s"
else
  ntk_fail "our ntpd did not log 'synchronised to association' within 15 s"
fi
ntk_wait_ntp 127.0.0.1 1123
ntk_run q ours -j -t 2 --port 1123 127.0.0.1
check_rc "ours --port 1123 127.0.0.1" 0
check_json_schema "ours --port 1123" "$W/q.out"
check_json "ours --port 1123: our ntpd synced to chronyd" "$W/q.out" \
  "[S['ok'], S['port'], S['stratum'], S['leap'], S['refid_hex'], S['li'], S['version']]" \
  '[true, 1123, 3, "no-leap", "7f000001", 0, 4]'
check_json "ours --port 1123: root delay and dispersion 0..1 s, delay < 10 ms" "$W/q.out" \
  "0 <= S['root_delay'] < 1 and 0 <= S['root_dispersion'] < 1 and 0 <= S['delay'] < 0.01" true
check_sample "ours --port 1123" "$W/q.out"
ntk_run qt ours -t 2 --port 1123 127.0.0.1
check_rc "ours --port 1123 127.0.0.1 (text)" 0
check_eq "text host ip stratum leap" "127.0.0.1 - s3 no-leap" "$(ntk_text_fields "$OUT")"
if ntk_wait_log "$W/o/ntpd.log" "status: synchronised to association [0-9]+, stratum 3" 10; then
  ntk_pass "our ntpd's status line: synchronised, stratum 3"
else
  ntk_fail "no 'status: synchronised ... stratum 3' line in our ntpd's log"
fi
check_nomatch "our ntpd logs no error" "cannot|error|failed" "$(cat "$W/o/ntpd.log")"

echo "== IPv6 (::1 port 1123), versions mirrored, junk never answered"
ntk_run v6 ours -j -t 2 --port 1123 ::1
check_json "ours --port 1123 ::1" "$W/v6.out" "[S and S['ok'], S and S['ip'], S and S['stratum']]" \
  '[true, "::1", 3]'
# One datagram per case from 127.0.0.5; prints the first byte of the reply in hex or "none".
raw() { # HEX-OF-THE-FIRST-BYTES LENGTH
  "$NTK_PY" - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.5", 0))
s.settimeout(0.5)
pkt = bytes.fromhex(sys.argv[1]).ljust(int(sys.argv[2]), b"\0")
s.sendto(pkt, ("127.0.0.1", 1123))
try:
    print("%02x" % s.recv(1024)[0])
except OSError:
    print("none")
PY
}
check_eq "a v4 mode-3 request: a v4 mode-4 reply (0x24)" 24 "$(raw 23 48)"
check_eq "a v3 mode-3 request: a v3 mode-4 reply (0x1c)" 1c "$(raw 1b 48)"
check_eq "a v2 mode-3 request: a v2 mode-4 reply (0x14)" 14 "$(raw 13 48)"
check_eq "a 47-byte mode-3 request: no reply" none "$(raw 23 47)"
check_eq "a mode-7 (ntpdc) request: no reply" none "$(raw 17 48)"
check_eq "a mode-4 packet (a reply) sent to the server: no reply" none "$(raw 24 48)"
check_eq "a v5 mode-3 request: no reply" none "$(raw 2b 48)"

echo "== NTPsec's ntpdig against a second ntpd of ours on 127.0.0.2:123"
# The interface lines of the NTPsec captures (shared/data/README.md), as an NTPsec user has them.
start_ntpd p 123 "interface ignore wildcard" "interface ignore ipv6" "interface ignore 127.0.0.1" \
  "interface listen 127.0.0.2" "server 127.0.0.1 iburst minpoll 4 maxpoll 4"
if ntk_wait_log "$W/p/ntpd.log" "synchronised to association" 15; then
  ntk_pass "our ntpd on 127.0.0.2 synchronised"
else
  ntk_fail "our ntpd on 127.0.0.2 did not synchronise within 15 s"
fi
if ntk_probe 127.0.0.2 123 127.0.0.6 >/dev/null; then
  ntk_wait_ntp 127.0.0.2
  ntk_jitter 127.0.0.2
  # Ours and NTPsec's ntpdig side by side, text and JSON (lib.sh).
  ntk_compare p "127.0.0.2 - s3 no-leap" 127.0.0.2
  check_json "ours -j 127.0.0.2: refid chronyd's address" "$W/p_j.out" \
    "[S['refid'], S['refid_hex'], S['port']]" '["127.0.0.1", "7f000001", 123]'
  check_eq "nothing answers on 127.0.0.3:123 (ours listens on 127.0.0.2 only)" "" \
    "$(ntk_probe 127.0.0.3 123 127.0.0.6)"
  check_eq "nothing answers on [::1]:123 (interface ignore ipv6)" "" \
    "$(ntk_probe ::1 123 ::1)"
  check_nomatch "our ntpd p logs no error" "cannot|error|failed" "$(cat "$W/p/ntpd.log")"
else
  ntk_show_log p
  ntk_fail "our ntpd with 'interface listen 127.0.0.2' does not answer on 127.0.0.2:123"
fi
echo "== a pool line with its own port and -4"
start_chronyd b 127.0.0.5 4123 2
ntk_hosts "127.0.0.5 pool.test" "::1 pool.test"
start_ntpd q 5123 "pool -4 pool.test port 4123 iburst minpoll 4 maxpoll 4"
if ntk_wait_log "$W/q/ntpd.log" "synchronised to association" 15; then
  ntk_pass "'pool -4 pool.test port 4123': synchronised to chronyd B on 127.0.0.5:4123"
else
  ntk_show_log q
  ntk_fail "'pool -4 pool.test port 4123' did not synchronise within 15 s"
fi

echo "== the pid file (-p) and SIGTERM"
check_eq "our ntpd o's pid file holds its pid" "$opid" "$(tr -d ' \n' <"$W/o/ntpd.pid")"
kill -TERM "$opid"
wait "$opid"
check_eq "our ntpd o exits 0 on SIGTERM" 0 "$?"
check_match "our ntpd o logs why it exits" "signal 15: exiting" "$(cat "$W/o/ntpd.log")"
ntk_show_log o
ntk_show_log p
ntk_done
