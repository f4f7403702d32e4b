#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: NTPsec 1.2.2's ntpq (Python) against our ntpd's mode-6 responder. Our ntpd
# (--observe) on 127.0.0.2:123 syncs from chronyd 4.3 on 127.0.0.1:123; ntpq queries it from
# 127.0.0.1 (loopback: full answers): -p, rv, rv &1, sysstats, mrulist, associations, and
# with the control key (-a 3 -k symkey.keys) ifstats and reslist. Then the anti-amplification
# policy from a NON-local source, 10.99.0.1 (an address on lo; routes make it the source
# towards 10.99.0.2 and 10.99.0.3): with only `restrict default`, NTPsec's ntpq's rv (12 bytes
# in, a larger answer) is refused with PERMISSION; a second ntpd of ours on 10.99.0.3 with
# `restrict 10.99.0.0 mask 255.255.0.0` answers it. Byte counts are checked in
# tests/unit/test_ctlsrv.c (test_amplification), not with tcpdump.
# Usage: ntpd_ntpq.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
KEYS=$(readlink -f "$(dirname "$0")/../data/symkey.keys")

ip addr add 10.99.0.1/32 dev lo
ip addr add 10.99.0.2/32 dev lo
ip addr add 10.99.0.3/32 dev lo
ip addr add 10.99.0.4/32 dev lo
for a in 10.99.0.2 10.99.0.3 10.99.0.4; do
  ip route replace local $a dev lo table local proto kernel scope host src 10.99.0.1
done

start_chronyd c 127.0.0.1 123 2
ntk_wait_ntp 127.0.0.1
common=("server 127.0.0.1 iburst minpoll 4 maxpoll 4" "keys $KEYS" "trustedkey 1 2 3"
  "controlkey 3" "interface ignore wildcard" "interface ignore ipv6"
  "interface ignore 127.0.0.1" "restrict default nomodify" "restrict 127.0.0.1")
start_ntpd o 123 "${common[@]}" "interface listen 127.0.0.2" "interface listen 10.99.0.2" \
  'setvar site = "lab 7" default' 'setvar rack = "r12"'
start_ntpd r 123 "${common[@]}" "interface listen 10.99.0.3" \
  "restrict 10.99.0.0 mask 255.255.0.0"
# No restrict line at all: NTPsec's implicit default (noquery limited), localhost may query.
start_ntpd i 123 "server 127.0.0.1 iburst minpoll 4 maxpoll 4" "interface ignore wildcard" \
  "interface ignore ipv6" "interface listen 127.0.0.4" "interface listen 10.99.0.4"
for n in o r; do
  if ntk_wait_log "$W/$n/ntpd.log" "synchronised to association" 20; then
    ntk_pass "our ntpd $n synchronised to chronyd"
  else
    ntk_fail "our ntpd $n did not synchronise within 20 s"
  fi
done
sleep 1 # let the selection mark the system peer

q() { # LABEL ARGS...: NTPsec's ntpq, numeric, against 127.0.0.2
  local label=$1
  shift
  ntk_run "$label" ntpsec_ntpq -n "$@"
}

echo "== ntpq -p"
q peers -p 127.0.0.2
check_rc "ntpq -p" 0
row=$(grep -E '^\*127\.0\.0\.1 ' <<<"$OUT")
check_match "ntpq -p: chronyd's row is the system peer ('*')" '^\*127\.0\.0\.1 ' "$row"
read -r _ refid st t _ poll _ <<<"$row"
check_eq "ntpq -p: stratum and type" "2 u" "$st $t"
# The poll column is 2^min(ppoll, hpoll): ppoll must not be the reply's echo of our request's
# poll field (0 under data minimisation, which showed 1 s); NTPsec reports 99, "unknown".
check_eq "ntpq -p: poll is ours (minpoll 4 maxpoll 4)" 16 "$poll"
check_match "ntpq -p: refid is chronyd's (a dotted quad or .LOCL.)" '^([0-9.]+|\.[A-Z]+\.)$' "$refid"

echo "== ntpq -c rv"
q rv -c rv 127.0.0.2
check_rc "ntpq -c rv" 0
check_match "rv: version" 'version="ntpd ntpkit' "$OUT"
check_match "rv: stratum 3" 'stratum=3' "$OUT"
check_match "rv: refid is chronyd's address" 'refid=127\.0\.0\.1' "$OUT"
check_nomatch "rv: no error" '\*\*\*' "$OUT$ERR"
check_match "rv: setvar ... default is in the default list" 'site="lab 7"' "$OUT"
check_nomatch "rv: a setvar without default is not" 'rack=' "$OUT"
q rvset -c "rv 0 rack,site" 127.0.0.2
check_match "rv 0 rack,site: both setvar variables by name" 'rack="r12", site="lab 7"' "$OUT"

echo "== ntpq -c associations, rv &1"
q assoc -c associations 127.0.0.2
check_rc "ntpq -c associations" 0
check_match "associations: one, the system peer" ' 1 +[0-9]+ +[0-9a-f]{4} +yes +yes +none +sys\.peer' "$OUT"
q rv1 -c "rv &1" 127.0.0.2
check_rc "ntpq -c 'rv &1'" 0
check_match "rv &1: srcadr" 'srcadr=127\.0\.0\.1' "$OUT"
check_match "rv &1: stratum 2" 'stratum=2' "$OUT"
check_match "rv &1: ppoll as NTPsec's for a server (99: unknown), hpoll 4" 'ppoll=99, hpoll=4' "$OUT"
check_nomatch "rv &1: no error" '\*\*\*' "$OUT$ERR"

echo "== ntpq -c sysstats"
q sysstats -c sysstats 127.0.0.2
check_rc "ntpq -c sysstats" 0
check_match "sysstats: uptime" '^uptime: +[0-9]' "$OUT"
check_match "sysstats: control requests counted" 'control requests: +[1-9]' "$OUT"

echo "== ntpq -c mrulist"
for i in 3 4 5 6; do ntk_probe 127.0.0.2 123 127.0.0.$i >/dev/null; done
q mru -c mrulist 127.0.0.2
check_rc "ntpq -c mrulist" 0
check_match "mrulist: the querying address (mode 6, v2)" ' 6 2 +[0-9]+ .* 127\.0\.0\.1$' "$OUT"
check_eq "mrulist: the four NTP clients 127.0.0.3-6 (mode 3, v4, count 1)" 4 \
  "$(grep -cE ' 3 4 +1 .* 127\.0\.0\.[3-6]$' <<<"$OUT")"
check_nomatch "mrulist: no error" '\*\*\*' "$OUT$ERR"

echo "== with the control key: ifstats, reslist"
q ifstats -a 3 -k "$KEYS" -c ifstats 127.0.0.2
check_rc "ntpq -a 3 ifstats" 0
check_match "ifstats: our address" '127\.0\.0\.2:123' "$OUT"
check_match "ifstats: 10.99.0.2 too" '10\.99\.0\.2:123' "$OUT"
q reslist -a 3 -k "$KEYS" -c reslist 127.0.0.2
check_rc "ntpq -a 3 reslist" 0
check_match "reslist: restrict 127.0.0.1" '127\.0\.0\.1/32' "$OUT"
check_match "reslist: restrict default nomodify" '0\.0\.0\.0/0 +nomodify' "$(tr -s ' \n' ' ' <<<"$OUT")"
q reslist2 -a 2 -k "$KEYS" -c reslist 127.0.0.2
check_match "reslist with key 2 (not the control key): PERMISSION" 'PERMISSION' "$OUT$ERR"

echo "== from 10.99.0.1 (not loopback, not proven)"
q far -c rv 10.99.0.2
check_match "rv from 10.99.0.1 with only 'restrict default': PERMISSION" 'PERMISSION' "$OUT$ERR"
check_nomatch "rv from 10.99.0.1: no variables" 'version=' "$OUT"
q opened -c rv 10.99.0.3
check_rc "rv to the ntpd with 'restrict 10.99.0.0 mask 255.255.0.0'" 0
check_match "rv from 10.99.0.1, opened network: version" 'version="ntpd ntpkit' "$OUT"
q far_signed -a 3 -k "$KEYS" -c ifstats 10.99.0.2
check_match "a signed ifstats from 10.99.0.1 (larger than the request): answered" \
  '10\.99\.0\.2:123' "$OUT"

echo "== no restrict lines: the implicit default"
q implicit_lo -c rv 127.0.0.4
check_match "no restrict lines: localhost may query" 'version="ntpd ntpkit' "$OUT"
q implicit_far -c rv 10.99.0.4
check_nomatch "no restrict lines: noquery for 10.99.0.1 (no answer at all)" 'version=' "$OUT"
check_match "no restrict lines: the query from 10.99.0.1 timed out" 'timed out' "$OUT$ERR"
check_match "no restrict lines: the implicit rule is logged" 'no `restrict default` for IPv4' \
  "$(cat "$W/i/ntpd.log")"
if ntk_probe 10.99.0.4 123 10.99.0.1 >/dev/null; then ntk_pass "no restrict lines: time is still served to 10.99.0.1"; else
  ntk_fail "no restrict lines: no time for 10.99.0.1"; fi

check_nomatch "our ntpd o logs no error" "cannot|error|failed" "$(cat "$W/o/ntpd.log")"
ntk_show_log o
ntk_show_log r
ntk_done
