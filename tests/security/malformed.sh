#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Security (C2, R2.1-R2.3; C1 R1.3): malformed NTP packets against our ntpd (--observe,
# `restrict default`, keys 1 MD5 / 2 SHA1 / 3 AES-CMAC trusted). Groups from non-loopback
# sources (10.99.0.0/16 on lo): truncated, bad lengths, oversized (9 KB, 65 KB), extension
# fields with bad lengths and nested garbage, MAC trailers of 4/8/12/16/20/24 bytes, crypto-NAK,
# an unknown key id, a bad MAC, NTS-shaped fields to a server without NTS. Each group: exactly
# the requests daemon/core/server.h answers are answered (a legal trailer, a good MAC: the
# reply then carries the same key's MAC), never more, never larger than the request; the
# drops are counted exactly (ntpq rv ss_badformat / ss_badauth / ss_received); ntpd still
# answers a good request after each group. CVE-2014-9296 (pattern), CVE-2015-1798 (MAC
# required when a key is used), CVE-2016-4957 (crypto-NAK), CVE-2016-9312 (oversized),
# CVE-2023-4012 (NTS fields without NTS).
# Usage: malformed.sh OUR_NTPDIG OUR_NTPD   (CTest label security; NTK_NTPQ in the env)
# shellcheck source-path=SCRIPTDIR source=../interop/lib.sh
. "$(dirname "$0")/../interop/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
[ -x "${NTK_NTPQ:-}" ] || ntk_skip "our ntpq (NTK_NTPQ) is not built"
KEYS=$(readlink -f "$(dirname "$0")/../data/symkey.keys")

ip addr add 10.99.0.1/16 dev lo || ntk_fatal "ip addr add 10.99.0.1/16 failed"
start_ntpd m 123 "interface ignore wildcard" "interface ignore ipv6" \
  "interface listen 127.0.0.2" "keys $KEYS" "trustedkey 1 2 3" "restrict default" \
  "restrict 127.0.0.1"

cat >"$W/send.py" <<'EOF'
# send.py GROUP INDEX: the GROUP's packets, each from its own 10.99.INDEX.i source; prints
# "name|request length|replies|reply lengths|key id of the first reply's MAC".
import hashlib, os, selectors, socket, struct, sys, time
group, gi = sys.argv[1], int(sys.argv[2])
KEYS = {1: ("md5", b"AnchorsMD5Key"),
        2: ("sha1", bytes.fromhex("8bb9956fb1c117e638fb115ea395d8b08105ee68"))}
def hdr(vn=4, mode=3):
    h = bytearray(48)
    h[0] = (vn << 3) | mode
    h[2], h[3] = 6, 0xEC
    t = time.time() + 2208988800
    h[40:48] = struct.pack("!II", int(t), int((t % 1) * 2**32) | 1)
    return bytes(h)
def ef(t, body, length=None):
    return struct.pack("!HH", t, 4 + len(body) if length is None else length) + body
def mac(kid, pkt, bad=False):
    alg, key = KEYS[kid]
    d = hashlib.new(alg, key + pkt).digest()
    if bad:
        d = bytes([d[0] ^ 1]) + d[1:]
    return pkt + struct.pack("!I", kid) + d
R = os.urandom
G = {
    "truncated": [("empty", b""), ("1", hdr()[:1]), ("12", hdr()[:12]), ("44", hdr()[:44]),
                  ("47", hdr()[:47])],
    "badlen": [("49", hdr() + b"\0"), ("50", hdr() + b"\0\0"), ("51", hdr() + b"\0" * 3),
               ("63", hdr() + R(15)), ("101", hdr() + R(53))],
    "oversized": [("9000", hdr() + bytes(9000 - 48)), ("65000", hdr() + R(65000 - 48)),
                  ("65504 EFs", hdr() + ef(0x7777, bytes(65504 - 52)))],
    "ef": [("len0", hdr() + ef(0x7777, bytes(28), 0)),
           ("len8", hdr() + ef(0x7777, bytes(28), 8)),
           ("len30 (not x4)", hdr() + ef(0x7777, bytes(28), 30)),
           ("len past end", hdr() + ef(0x7777, bytes(28), 400)),
           ("second len 0", hdr() + ef(0x7777, bytes(28)) + ef(0x7778, bytes(28), 0)),
           ("len 0xfffc", hdr() + ef(0x7777, bytes(60), 0xFFFC)),
           ("1000 EFs of 16 + 1 of 28", hdr() + ef(0x7777, bytes(12)) * 1000 + ef(1, bytes(24))),
           # nested garbage: legal outer fields whose bodies hold EF-looking junk
           ("nested", hdr() + ef(0x0104, ef(0x0404, R(24), 0xFFF0) + R(100))),
           ("nested random", hdr() + ef(0x2005, R(200)) + ef(0x7777, R(28)))],
    "mac": [("crypto-NAK 4", hdr() + struct.pack("!I", 0)),
            ("crypto-NAK key 1", hdr() + struct.pack("!I", 1)),
            ("trailer 8", hdr() + R(8)), ("trailer 12", hdr() + R(12)),
            ("trailer 16", hdr() + R(16)),
            ("unknown key 20", hdr() + struct.pack("!I", 4711) + R(16)),
            ("unknown key 24", hdr() + struct.pack("!I", 4711) + R(20)),
            ("bad MAC md5", mac(1, hdr(), bad=True)),
            ("bad MAC sha1", mac(2, hdr(), bad=True)),
            ("md5 digest under key 2", hdr() + struct.pack("!I", 2) +
             hashlib.md5(KEYS[1][1] + hdr()).digest()),
            ("good md5", mac(1, hdr())), ("good sha1", mac(2, hdr()))],
    "nts": [("UID+cookie+auth", hdr() + ef(0x0104, R(32)) + ef(0x0204, R(100)) +
             ef(0x0404, struct.pack("!HH", 16, 16) + R(32))),
            ("UID only", hdr() + ef(0x0104, R(32))),
            ("auth bad lengths", hdr() + ef(0x0104, R(32)) + ef(0x0204, R(100)) +
             ef(0x0404, struct.pack("!HH", 0xFFFF, 0xFFFF) + R(32)))],
}
sel = selectors.DefaultSelector()
cases = G[group]
socks = []
for i, (name, p) in enumerate(cases):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 17)
    s.bind(("10.99.%d.%d" % (gi, i + 1), 0))
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, i)
    socks.append(s)
    s.sendto(p, ("127.0.0.2", 123))
got = {}
end = time.time() + 0.6
while time.time() < end:
    for key, _ in sel.select(0.1):
        try:
            while True:
                got.setdefault(key.data, []).append(key.fileobj.recv(65536))
        except BlockingIOError:
            pass
for i, (name, p) in enumerate(cases):
    r = got.get(i, [])
    kid = struct.unpack("!I", r[0][48:52])[0] if r and len(r[0]) > 48 else 0
    print("%s|%d|%d|%s|%d" % (name, len(p), len(r), ",".join(str(len(d)) for d in r), kid))
EOF

# ss VAR...: our ntpq's values of the system statistics, space-separated.
ss() {
  local out v line
  out=$("$NTK_NTPQ" -n -c "rv 0 $(echo "$@" | tr ' ' ,)" 127.0.0.2 2>&1)
  line=""
  for v in "$@"; do
    line="$line $(printf '%s\n' "$out" | tr ',' '\n' | sed -n "s/^ *$v=\([0-9]*\).*/\1/p")"
  done
  echo "${line# }"
}

for n in $(seq 1 50); do
  ntk_probe 127.0.0.2 123 10.99.250.1 >/dev/null && break
  sleep 0.1
done
vars=(ss_received ss_badformat ss_badauth ss_declined ss_processed)
before=$(ss "${vars[@]}")
ntk_log "counters before: ${vars[*]} = $before"
check_match "ntpq reads the counters" '^[0-9]+ [0-9]+ [0-9]+ [0-9]+ [0-9]+$' "$before"

# Per group: the answered names, then the deltas of ss_received (the group's datagrams + 1
# liveness probe + 2 for the ntpq query that read the counters before), ss_badformat and
# ss_badauth.
gi=1
run_group() { # GROUP "ANSWERED (names, |-separated)" D_RECEIVED D_BADFORMAT D_BADAUTH
  local g=$1 want=$2 before_g after d
  echo "== group $g"
  before_g=$(ss "${vars[@]}")
  "$NTK_PY" "$W/send.py" "$g" "$gi" >"$W/$g.txt"
  gi=$((gi + 1))
  sed 's/^/  /' "$W/$g.txt"
  check_eq "$g: the answered requests" "$want" \
    "$(awk -F'|' '$3 > 0 { print $1 }' "$W/$g.txt" | paste -sd '|')"
  check_eq "$g: replies larger than the request, or more than one" "" \
    "$(awk -F'|' '$3 > 1 || ($3 == 1 && $4 + 0 > $2 + 0) { print $1 }' "$W/$g.txt")"
  if ntk_probe 127.0.0.2 123 "10.99.251.$gi" >/dev/null; then
    ntk_pass "$g: ntpd still answers a good request"
  else
    ntk_fail "$g: ntpd no longer answers a good request"
  fi
  after=$(ss "${vars[@]}")
  d=$(awk -v a="$before_g" -v b="$after" 'BEGIN { n = split(a, x); split(b, y)
    for (i = 1; i <= 3; i++) printf "%s%d", (i > 1 ? " " : ""), y[i] - x[i] }')
  check_eq "$g: counted (d received, d badformat, d badauth)" "$3 $4 $5" "$d"
}
# The empty datagram counts nowhere, not even as received (NTPsec 1.2.2 drops it before it
# counts anything: interop_ntpd_counters_ntpsec).
run_group truncated "" 7 4 0
run_group badlen "" 8 5 0
# Longer than any NTP packet ntpd takes (its receive buffer is a few KB): truncated on
# receive and dropped as malformed, even the one made of a single legal 65 KB EF.
run_group oversized "" 6 3 0
# Dropped: every bad length, and 1001 fields (over the cap on the EF count, R2.2).
run_group ef "nested|nested random" 12 7 0
check_eq "ef: the answered ones are 48 bytes" "48 48" \
  "$(awk -F'|' '$3 > 0 { print $4 }' "$W/ef.txt" | paste -sd ' ')"
# badformat: the 8/12/16-byte trailers; badauth: both crypto-NAKs, both unknown key ids, the
# three bad MACs (a right digest under the wrong key id included).
run_group mac "good md5|good sha1" 15 3 7
check_eq "mac: good md5 answered with 68 bytes signed with key 1, good sha1 with 72 and key 2" \
  "68 1 72 2" "$(awk -F'|' '$3 > 0 { print $4, $5 }' "$W/mac.txt" | paste -sd ' ')"
# Without NTS configured the fields are ignored: a plain 48-byte reply (chrony does the same);
# the malformed Authenticator is still a legal EF sequence.
run_group nts "UID+cookie+auth|UID only|auth bad lengths" 6 0 0
check_eq "nts: answered plain, 48 bytes" "48 48 48" \
  "$(awk -F'|' '$3 > 0 { print $4 }' "$W/nts.txt" | paste -sd ' ')"

if kill -0 "$LAST_PID" 2>/dev/null; then ntk_pass "ntpd is running"; else ntk_fail "ntpd died"; fi
ntk_log "counters after: ${vars[*]} = $(ss "${vars[@]}")"
ntk_show_log m | tail -n 20
ntk_done
