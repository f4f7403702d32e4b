#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: symmetric keys (MD5 key 1, SHA1 key 2, AES-128-CMAC key 3 of tests/data/symkey.keys
# and symkey-chrony.keys) with our ntpd both ways. Client: three ntpd of ours (`server
# 127.0.0.1 key N`) sync from chronyd A (127.0.0.1:123), their requests and chronyd's replies
# carry MACs; one with a wrong secret for key 1 never syncs; three more sync from NTPsec ntpd
# (orphan, 127.0.0.2) with key 1, 2, 3. Server: our ntpd on 127.0.0.3, 127.0.0.4 and
# 127.0.0.5 port 123 (`interface listen`, `keys`, `trustedkey 1 2 3`): chronyd
# B (-x) with key 1/2/3 to each address gets authenticated replies (chronyc ntpdata); our and
# NTPsec's ntpdig -a N -k get authenticated replies; a wrong secret or an unknown key id is
# dropped without a reply.
# Usage: ntpd_symkey.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}

keys=$NTK_DATA/symkey.keys
wrong=$NTK_DATA/symkey-client-wrong.keys
start_chronyd a 127.0.0.1 123 2 "keyfile $NTK_DATA/symkey-chrony.keys"
ntk_wait_ntp 127.0.0.1
ntk_capture_start "$W/c.pcap" "udp port 123 and host 127.0.0.1 and not host 127.0.0.6"

echo "== ours as a client of chronyd A with key 1, 2, 3, and key 1 with a wrong secret"
for k in 1 2 3; do
  start_ntpd "c$k" "${k}123" "keys $keys" "trustedkey 1 2 3" \
    "server 127.0.0.1 key $k iburst minpoll 4 maxpoll 4"
done
start_ntpd cw 4123 "keys $wrong" "trustedkey 1 9" \
  "server 127.0.0.1 key 1 iburst minpoll 4 maxpoll 4"
declare -A mac=([1]=16 [2]=20 [3]=16)
for k in 1 2 3; do
  if ntk_wait_log "$W/c$k/ntpd.log" "synchronised to association" 20; then
    ntk_pass "our ntpd with key $k synchronised to chronyd A"
  else
    ntk_fail "our ntpd with key $k did not synchronise within 20 s"
  fi
  ntk_run "c$k" ours -j -t 2 --port "${k}123" 127.0.0.1
  check_json "ours --port ${k}123: ntpd with key $k serves stratum 3" "$W/c$k.out" \
    "[S and S['ok'], S and S['stratum'], S and S['leap']]" '[true, 3, "no-leap"]'
done
sleep 2
check_nomatch "our ntpd with a wrong secret for key 1 does not synchronise" \
  "synchronised to association" "$(cat "$W/cw/ntpd.log")"
ntk_capture_stop

echo "== on the wire: mode 3 requests of ours to chronyd A and chronyd's replies"
# "SPORT DPORT MODE LENGTH KEYID" per NTP packet to or from 127.0.0.1:123.
"$NTK_PY" - "$W/c.pcap" >"$W/c.txt" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read(); o = 24
while o + 16 <= len(d):
    n = struct.unpack("<IIII", d[o:o + 16])[2]; f = d[o + 16:o + 16 + n]; o += 16 + n
    sp, dp = struct.unpack("!HH", f[34:38]); ntp = f[42:]
    kid = struct.unpack("!I", ntp[48:52])[0] if len(ntp) > 48 else 0
    print(sp, dp, ntp[0] & 7, len(ntp), kid)
PY
sed 's/^/  pcap| /' "$W/c.txt"
for k in 1 2 3; do
  port=$(awk -v k="$k" '$3 == 3 && $5 == k { print $1; exit }' "$W/c.txt")
  [ -n "$port" ] || port=none
  check_eq "key $k: every request of that client has MAC key $k of ${mac[$k]} bytes" \
    "$((48 + 4 + mac[$k])) $k" "$(awk -v p="$port" '$1 == p && $3 == 3 { print $4, $5 }' \
    "$W/c.txt" | sort -u | tr '\n' ' ' | sed 's/ $//')"
  check_eq "key $k: every reply of chronyd to it has MAC key $k" "$((48 + 4 + mac[$k])) $k" \
    "$(awk -v p="$port" '$2 == p && $3 == 4 { print $4, $5 }' "$W/c.txt" | sort -u |
      tr '\n' ' ' | sed 's/ $//')"
done
# Two clients sent key 1: ours with the right secret (answered), ours with a wrong one (not).
check_eq "key-1 clients answered / not answered by chronyd (the wrong secret is dropped)" "1 1" \
  "$(awk '$3 == 3 && $5 == 1 { req[$1]++ } $3 == 4 { rep[$2]++ }
    END { for (p in req) if (rep[p] > 0) a++; else n++; print a + 0, n + 0 }' "$W/c.txt")"

echo "== ours as a client of NTPsec ntpd (orphan stratum 5, 127.0.0.2) with key 1, 2, 3"
start_ntpsec n 127.0.0.2 "keys $keys" "trustedkey 1 2 3"
ntk_wait_ntp 127.0.0.2
for k in 1 2 3; do
  start_ntpd "n$k" "${k}124" "keys $keys" "trustedkey 1 2 3" \
    "server 127.0.0.2 key $k iburst minpoll 4 maxpoll 4"
done
for k in 1 2 3; do
  if ntk_wait_log "$W/n$k/ntpd.log" "synchronised to association" 15; then
    ntk_pass "our ntpd with key $k synchronised to NTPsec ntpd"
  else
    ntk_fail "our ntpd with key $k did not synchronise to NTPsec within 15 s"
  fi
  ntk_run "cn$k" ours -j -t 2 --port "${k}124" 127.0.0.1
  check_json "ours --port ${k}124: ntpd with key $k serves stratum 6" "$W/cn$k.out" \
    "[S and S['ok'], S and S['stratum'], S and S['refid']]" '[true, 6, "127.0.0.2"]'
done
ntk_run auth ntpsec_ntpq -n -c sysstats -c authinfo 127.0.0.2
check_match "ntpq authinfo of NTPsec: authenticated requests it answered" \
  'encryptions: +[1-9]' "$OUT"

echo "== ours as a server with keys, on 127.0.0.3, 127.0.0.4, 127.0.0.5 port 123"
start_ntpd s 123 "interface listen 127.0.0.3" "interface listen 127.0.0.4" \
  "interface listen 127.0.0.5" "keys $keys" "trustedkey 1 2 3" \
  "server 127.0.0.1 key 2 iburst minpoll 4 maxpoll 4"
if ntk_wait_log "$W/s/ntpd.log" "synchronised to association" 20; then
  ntk_pass "our ntpd s synchronised to chronyd A"
else
  ntk_fail "our ntpd s did not synchronise within 20 s"
fi
ntk_wait_ntp 127.0.0.3
start_chronyd b 127.0.0.6 0 10 "keyfile $NTK_DATA/symkey-chrony.keys" \
  "server 127.0.0.3 key 1 iburst minpoll 1 maxpoll 1" \
  "server 127.0.0.4 key 2 iburst minpoll 1 maxpoll 1" \
  "server 127.0.0.5 key 3 iburst minpoll 1 maxpoll 1"
declare -A ip=([1]=127.0.0.3 [2]=127.0.0.4 [3]=127.0.0.5)
declare -A ty=([1]="1 +104" [2]="2 +160" [3]="13 +128") # chronyc -n: type id, key bits
for k in 1 2 3; do
  ntd=
  for i in $(seq 1 40); do
    ntd=$("$CHRONYC" -h "$W/b/chronyd.sock" -n ntpdata "${ip[$k]}" 2>&1)
    grep -Eq '^Total good RX +: [3-9]' <<<"$ntd" && break
    sleep 0.25
  done
  mapfile -t nl <<<"$ntd"
  printf '  ntpdata| %s\n' "${nl[@]}"
  check_match "chronyd B -> ours ${ip[$k]} key $k: authenticated" '^Authenticated +: Yes' "$ntd"
  check_match "chronyd B -> ours ${ip[$k]} key $k: 3 or more good replies" \
    '^Total good RX +: [3-9]' "$ntd"
  check_match "chronyd B -> ours ${ip[$k]} key $k: stratum 3" '^Stratum +: 3$' "$ntd"
done
ntk_run auth "$CHRONYC" -h "$W/b/chronyd.sock" -n authdata
for k in 1 2 3; do
  check_match "chronyc -n authdata: ${ip[$k]} SK key $k, type and bits ${ty[$k]}" \
    "^${ip[$k]//./\\.} +SK +$k +${ty[$k]} " "$OUT"
done
ntk_run srcs "$CHRONYC" -h "$W/b/chronyd.sock" -n sources
check_match "chronyc sources of B: one of ours selected (^*)" '^\^\* 127\.0\.0\.[345] +3 ' "$OUT"

echo "== ntpdig -a N -k to ours (127.0.0.3)"
for k in 1 2 3; do
  ntk_run "d$k" ours -j -t 2 -a "$k" -k "$keys" 127.0.0.3
  check_rc "ours -a $k 127.0.0.3" 0
  check_json "ours -a $k 127.0.0.3: authenticated reply" "$W/d$k.out" \
    "[len(L), S and S['ok'], S and S['authenticated'], S and S['key_id'], S and S['stratum']]" \
    "[1, true, true, $k, 3]"
  ntk_run "n$k" ntpsec_ntpdig -j -t 2 -a "$k" -k "$keys" 127.0.0.3
  check_rc "NTPsec ntpdig -a $k 127.0.0.3" 0
  check_json "NTPsec ntpdig -a $k 127.0.0.3: stratum" "$W/n$k.out" "L[0]['stratum']" 3
done
for k in 1 9; do
  ntk_run "w$k" ours -j -t 1 -a "$k" -k "$wrong" 127.0.0.3
  check_rc "ours -a $k -k symkey-client-wrong.keys (dropped)" 1
  check_json "ours -a $k -k symkey-client-wrong.keys: no reply" "$W/w$k.out" \
    "[len(L), L[0]['ok'], L[0]['error']]" '[1, false, "timeout"]'
  ntk_run "wn$k" ntpsec_ntpdig -j -t 1 -a "$k" -k "$wrong" 127.0.0.3
  check_rc "NTPsec ntpdig -a $k -k symkey-client-wrong.keys (dropped)" 1
done
for n in c1 c2 c3 cw n1 n2 n3 s; do ntk_show_log $n; done
ntk_done
