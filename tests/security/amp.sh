#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Security (C1, R1.1-R1.3): no amplification by any NTP mode. From non-loopback sources
# (10.99.0.0/16 on lo) every mode 0-7 in versions 0-7 and malformed variants (short, odd
# lengths, unknown extension fields, MAC trailers, 9 KB) go to our ntpd (--observe, `restrict
# default`, no rate limit so every answerable request IS answered): mode 7 never answered,
# modes 1/2/4/5 never answered, every reply no larger than its request, and exactly the
# answerable mode-3 (and NTPv1 mode-0) requests answered with 48 bytes. NTS: requests with a
# cookie nobody issued plus 0-3 placeholders get an NTS NAK no larger than the request from an
# NTS server and a plain 48-byte reply from a server without NTS (CVE-2023-4012 class); a
# genuine NTS exchange of our ntpdig --nts (captured) gets a reply no larger than its request.
# Usage: amp.sh OUR_NTPDIG OUR_NTPD   (CTest label security)
# shellcheck source-path=SCRIPTDIR source=../interop/lib.sh
. "$(dirname "$0")/../interop/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}

# The whole of 10.99.0.0/16 is local on lo: any 10.99.x.y can be a source.
ip addr add 10.99.0.1/16 dev lo || ntk_fatal "ip addr add 10.99.0.1/16 failed"
C=$W/certs
ntk_certs "$C"
ntk_hosts "127.0.0.3 ntske.test"
base=("interface ignore wildcard" "interface ignore ipv6" "restrict default")
start_ntpd plain 123 "${base[@]}" "interface listen 127.0.0.2"
start_ntpd nts 123 "${base[@]}" "interface listen 127.0.0.3" "nts enable" \
  "nts cert $C/srv.pem" "nts key $C/srv.key"
for a in 127.0.0.2 127.0.0.3; do
  for n in $(seq 1 50); do
    ntk_probe "$a" 123 10.99.200.1 >/dev/null && break
    sleep 0.1
  done
  if ntk_probe "$a" 123 10.99.200.2 >/dev/null; then
    ntk_pass "our ntpd on $a answers a plain request from 10.99.200.2"
  else
    ntk_fail "our ntpd on $a does not answer"
    ntk_show_log plain
    ntk_show_log nts
    ntk_done
  fi
done

echo "== every mode x version x variant from 10.99.1.0/24 .. 10.99.9.0/24"
"$NTK_PY" - 127.0.0.2 127.0.0.3 >"$W/amp.txt" <<'EOF'
import os, selectors, socket, struct, sys, time
plain, nts = sys.argv[1], sys.argv[2]
def hdr(vn, mode, size=48):
    h = bytearray(48)
    h[0] = (vn << 3) | mode
    h[2], h[3] = 6, 0xEC
    t = time.time() + 2208988800
    h[40:48] = struct.pack("!II", int(t), int((t % 1) * 2**32) | 1)
    return bytes(h)
def ef(t, body):
    return struct.pack("!HH", t, 4 + len(body)) + body
variants = {
    "48": lambda vn, m: hdr(vn, m),
    "short47": lambda vn, m: hdr(vn, m)[:47],
    "short12": lambda vn, m: hdr(vn, m)[:12],
    "odd49": lambda vn, m: hdr(vn, m) + b"\0",
    "nak52": lambda vn, m: hdr(vn, m) + b"\0\0\0\x07",
    "mac68": lambda vn, m: hdr(vn, m) + struct.pack("!I", 77) + os.urandom(16),
    "mac72": lambda vn, m: hdr(vn, m) + struct.pack("!I", 77) + os.urandom(20),
    "trail60": lambda vn, m: hdr(vn, m) + os.urandom(12),
    "ef16": lambda vn, m: hdr(vn, m) + ef(0x7777, bytes(12)),
    "ef32": lambda vn, m: hdr(vn, m) + ef(0x7777, bytes(28)),
    "ef2x": lambda vn, m: hdr(vn, m) + ef(0x0001, bytes(28)) + ef(0x2005, bytes(60)),
    "efbadlen": lambda vn, m: hdr(vn, m) + struct.pack("!HH", 0x0104, 400) + bytes(60),
    "big9k": lambda vn, m: hdr(vn, m) + bytes(9000 - 48),
}
cases = []
for mode in range(8):
    for vn in range(8):
        for name, f in variants.items():
            cases.append(("m%d v%d %s" % (mode, vn, name), plain, f(vn, mode), mode, vn, name))
# mode 6 as ntpq sends it: a 12-byte READVAR of the system variables
cases.append(("m6 v2 ctl12", plain, bytes([0x16, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]), 6, 2, "ctl12"))
# NTS: UID, a cookie nobody issued, N placeholders, an Authenticator (RFC 8915 s.5)
for ph in range(4):
    uid = os.urandom(32)
    cookie = os.urandom(100)
    auth = struct.pack("!HH", 16, 16) + os.urandom(32)
    p = hdr(4, 3) + ef(0x0104, uid) + ef(0x0204, cookie) + ef(0x0304, bytes(100)) * ph + \
        ef(0x0404, auth)
    for dst in (plain, nts):
        cases.append(("nts ph%d %s" % (ph, dst), dst, p, 3, 4, "nts%d" % ph))
sel = selectors.DefaultSelector()
socks = []
for i, c in enumerate(cases):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
    s.bind(("10.99.%d.%d" % (1 + i // 250, 1 + i % 250), 0))
    s.setblocking(False)
    socks.append(s)
    sel.register(s, selectors.EVENT_READ, i)
got = {}
for i, c in enumerate(cases):
    socks[i].sendto(c[2], (c[1], 123))
    if i % 50 == 49:
        time.sleep(0.02)
end = time.time() + 1.5
while time.time() < end:
    for key, _ in sel.select(0.1):
        try:
            while True:
                d = key.fileobj.recv(65536)
                got.setdefault(key.data, []).append(d)
        except BlockingIOError:
            pass
for i, c in enumerate(cases):
    r = got.get(i, [])
    print("%s|%d|%d|%s|%d|%d|%s" % (c[0], len(c[2]), len(r),
          ",".join(str(len(d)) for d in r), c[3], c[4], c[5]))
EOF
n=$(wc -l <"$W/amp.txt")
ntk_log "$n requests sent; answered:"
awk -F'|' '$3 > 0' "$W/amp.txt" | sed 's/^/  /'
# Expected answers: mode 3 in v1-4 and NTPv1 mode 0 with a bare 48-byte header, and NTPv4
# mode 3 with legal extension fields (RFC 7822: unknown ones ignored, not echoed). Everything
# else is dropped: a MAC with an unknown key, a crypto-NAK, illegal lengths, a 16-byte EF alone
# (a trailer of 16 is neither an EF allowed last nor a MAC), EFs before NTPv4 (a trailer that
# is no MAC). The plain server answers NTS requests as plain ones (48 bytes).
check_eq "requests sent (8 modes x 8 versions x 13 variants + 1 mode 6 + 8 NTS)" 841 "$n"
check_eq "replies larger than their request" "" \
  "$(awk -F'|' '{ k = split($4, a, ","); for (i = 1; i <= k; i++) if (a[i] + 0 > $2 + 0) print $1 }' "$W/amp.txt")"
check_eq "requests answered more than once" "" "$(awk -F'|' '$3 > 1 { print $1 }' "$W/amp.txt")"
check_eq "mode 7 requests answered (R1.1)" 0 "$(awk -F'|' '$5 == 7 && $3 > 0' "$W/amp.txt" | wc -l)"
check_eq "mode 1/2/4/5 requests answered (R1.2)" 0 \
  "$(awk -F'|' '($5 == 1 || $5 == 2 || $5 == 4 || $5 == 5) && $3 > 0' "$W/amp.txt" | wc -l)"
check_eq "answered mode 0/3 requests (mode 3 v1-4, mode 0 v1; EFs in v4)" \
  "m0 v1 48 m3 v1 48 m3 v2 48 m3 v3 48 m3 v4 48 m3 v4 ef2x m3 v4 ef32" \
  "$(awk -F'|' '($5 == 0 || $5 == 3) && $7 !~ /^nts/ && $3 > 0 { print $1 }' "$W/amp.txt" |
    sort | tr '\n' ' ' | sed 's/ $//')"
check_eq "their replies are 48 bytes each" "48" \
  "$(awk -F'|' '($5 == 0 || $5 == 3) && $7 !~ /^nts/ && $3 > 0 { print $4 }' "$W/amp.txt" | sort -u)"
check_eq "mode 6 READVAR from a stranger: reply no larger than 12 bytes" "" \
  "$(awk -F'|' '$7 == "ctl12" && $3 > 0 && $4 + 0 > 12' "$W/amp.txt")"
check_eq "NTS-shaped requests to the server without NTS: answered plain (48 bytes)" \
  "48 48 48 48" "$(awk -F'|' '$7 ~ /^nts/ && $1 ~ /127.0.0.2$/ { print $4 }' "$W/amp.txt" | tr '\n' ' ' | sed 's/ $//')"
check_eq "NTS requests with an unknown cookie to the NTS server: a NAK of 48 + 36 bytes each" \
  "84 84 84 84" "$(awk -F'|' '$7 ~ /^nts/ && $1 ~ /127.0.0.3$/ { print $4 }' "$W/amp.txt" | tr '\n' ' ' | sed 's/ $//')"
check_eq "total bytes out <= bytes in" 1 \
  "$(awk -F'|' '{ in_ += $2; k = split($4, a, ","); for (i = 1; i <= k; i++) out += a[i] }
    END { print (out <= in_) ? 1 : 0 }' "$W/amp.txt")"

echo "== a genuine NTS exchange (our ntpdig --nts), captured: reply <= request"
ntk_capture_start "$W/nts.pcap" "udp port 123 and host 127.0.0.3"
ntk_run dig ours -j --nts --nts-ca "$C/ca.pem" ntske.test
ntk_capture_stop
# The server has no source: its reply is stratum 0 refid INIT, which ntpdig reports as a kiss
# (exit 1); what matters here is that the exchange was NTS-authenticated.
check_json "ours --nts: NTS-KE done, the reply NTS-authenticated" "$W/dig.out" \
  "[L[0]['nts']['ke_ok'], L[0]['authenticated'], L[0]['nts']['reply']]" '[true, true, "ok"]'
"$NTK_PY" - "$W/nts.pcap" >"$W/nts.txt" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
end = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
off = 24
while off + 16 <= len(data):
    incl = struct.unpack(end + "IIII", data[off:off + 16])[2]
    fr = data[off + 16:off + 16 + incl]
    off += 16 + incl
    ihl = (fr[14] & 15) * 4
    udp = fr[14 + ihl:]
    print(struct.unpack("!H", udp[2:4])[0], len(udp) - 8)
EOF
sed 's/^/  dport len: /' "$W/nts.txt"
req=$(awk '$1 == 123 { print $2 }' "$W/nts.txt" | head -n 1)
rep=$(awk '$1 != 123 { print $2 }' "$W/nts.txt" | head -n 1)
check_eq "one NTS request and one reply captured" "1 1" \
  "$(awk '$1 == 123' "$W/nts.txt" | wc -l) $(awk '$1 != 123' "$W/nts.txt" | wc -l)"
if [ -n "$req" ] && [ -n "$rep" ] && [ "$rep" -le "$req" ] && [ "$req" -gt 48 ]; then
  ntk_pass "NTS reply $rep bytes <= request $req bytes"
else
  ntk_fail "NTS reply '$rep' bytes vs request '$req' bytes"
fi

for a in 127.0.0.2 127.0.0.3; do
  if ntk_probe "$a" 123 10.99.200.3 >/dev/null; then
    ntk_pass "our ntpd on $a still answers"
  else
    ntk_fail "our ntpd on $a no longer answers"
  fi
done
ntk_show_log plain | tail -n 20
ntk_show_log nts | tail -n 20
ntk_done
