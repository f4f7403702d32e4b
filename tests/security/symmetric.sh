#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Security (C4, R4.1; R1.2; C7 R7.1): symmetric and broadcast packets from strangers against our
# ntpd (--observe, `restrict default`, keys 1-3 trusted, one configured server that never
# answers: exactly one association). Unauthenticated mode 1 and mode 2, mode 5 broadcasts,
# and mode 1 signed with a TRUSTED key (the Sybil of CVE-2016-1549 / CVE-2018-7170) from
# 1000 source addresses: never answered, no association mobilised (our ntpq -c as still shows
# one), each packet counted in ss_badformat (where NTPsec 1.2.2 counts modes 1, 2 and 5:
# interop_ntpd_counters_ntpsec), RSS bounded. Interleaved-style requests (origin =
# the server's previous receive timestamp, CVE-2016-1548 pivot) get a basic reply whose
# origin is the request's own transmit.
# Usage: symmetric.sh OUR_NTPDIG OUR_NTPD   (CTest label security; NTK_NTPQ in the env)
# shellcheck source-path=SCRIPTDIR source=../interop/lib.sh
. "$(dirname "$0")/../interop/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
[ -x "${NTK_NTPQ:-}" ] || ntk_skip "our ntpq (NTK_NTPQ) is not built"
KEYS=$(readlink -f "$(dirname "$0")/../data/symkey.keys")

ip addr add 10.99.0.1/16 dev lo || ntk_fatal "ip addr add 10.99.0.1/16 failed"
start_silent 127.0.0.5 123
start_ntpd s 123 "interface ignore wildcard" "interface ignore ipv6" \
  "interface listen 127.0.0.2" "keys $KEYS" "trustedkey 1 2 3" "restrict default" \
  "restrict 127.0.0.1" "server 127.0.0.5 minpoll 4 maxpoll 4"
PID=$LAST_PID
for n in $(seq 1 50); do
  ntk_probe 127.0.0.2 123 10.99.250.1 >/dev/null && break
  sleep 0.1
done

# ss VAR...: our ntpq's values of the system statistics, space-separated.
ss() {
  local out v line=""
  out=$("$NTK_NTPQ" -n -c "rv 0 $(echo "$@" | tr ' ' ,)" 127.0.0.2 2>&1)
  for v in "$@"; do
    line="$line $(printf '%s\n' "$out" | tr ',' '\n' | sed -n "s/^ *$v=\([0-9]*\).*/\1/p")"
  done
  echo "${line# }"
}
assocs() { # the number of association rows of our ntpq -c as
  "$NTK_NTPQ" -n -c as 127.0.0.2 >"$W/as.out" 2>&1
  awk '$1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+$/' "$W/as.out" | wc -l
}
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status"; }

"$NTK_NTPQ" -n -c as 127.0.0.2 | sed 's/^/  as| /'
check_eq "associations at start (the configured server)" 1 "$(assocs)"
rss0=$(rss)
d0=$(ss ss_badformat)

echo "== 1000 sources x (mode 1, mode 2, mode 5, mode 1 signed with trusted key 1)"
"$NTK_PY" - >"$W/sybil.txt" <<'EOF'
import hashlib, selectors, socket, struct, time
def hdr(mode, stratum=2):
    h = bytearray(48)
    h[0] = (4 << 3) | mode
    h[1], h[2], h[3] = stratum, 6, 0xEC
    h[12:16] = b"\x7f\x00\x00\x09"
    t = time.time() + 2208988800
    h[16:24] = struct.pack("!II", int(t) - 10, 0)
    h[40:48] = struct.pack("!II", int(t), int((t % 1) * 2**32) | 1)
    return bytes(h)
def signed(p):
    return p + struct.pack("!I", 1) + hashlib.md5(b"AnchorsMD5Key" + p).digest()
sel = selectors.DefaultSelector()
socks, sent = [], 0
for i in range(1000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.99.%d.%d" % (1 + i // 200, 1 + i % 200), 0))
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, i)
    socks.append(s)
for rnd in range(4):
    for i, s in enumerate(socks):
        p = {0: hdr(1), 1: hdr(2), 2: hdr(5), 3: signed(hdr(1))}[rnd]
        s.sendto(p, ("127.0.0.2", 123))
        sent += 1
        if i % 100 == 99:
            time.sleep(0.01)
replies = 0
end = time.time() + 1.0
while time.time() < end:
    for key, _ in sel.select(0.1):
        try:
            while True:
                key.fileobj.recv(2048)
                replies += 1
        except BlockingIOError:
            pass
print(sent, replies)
EOF
read -r sent replies <"$W/sybil.txt"
check_eq "symmetric/broadcast packets sent" 4000 "$sent"
check_eq "replies to them (R1.2, R4.1)" 0 "$replies"
sleep 0.5
"$NTK_NTPQ" -n -c as 127.0.0.2 | sed 's/^/  as| /'
check_eq "associations after the Sybil (none mobilised)" 1 "$(assocs)"
check_eq "ss_badformat counted every one of them" 4000 "$(($(ss ss_badformat) - d0))"
rss1=$(rss)
ntk_log "RSS before $rss0 kB, after $rss1 kB"
if [ -n "$rss0" ] && [ -n "$rss1" ] && [ $((rss1 - rss0)) -lt 2048 ]; then
  ntk_pass "RSS grew less than 2 MB ($rss0 -> $rss1 kB)"
else
  ntk_fail "RSS grew from '$rss0' to '$rss1' kB"
fi

echo "== interleaved-style requests (origin = the server's previous receive timestamp)"
"$NTK_PY" - >"$W/il.txt" <<'EOF'
import socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.99.9.1", 0))
s.settimeout(1)
def req(mode, org=b"\0" * 8, rec=b"\0" * 8):
    h = bytearray(48)
    h[0] = (4 << 3) | mode
    h[24:32], h[32:40] = org, rec
    t = time.time() + 2208988800
    h[40:48] = struct.pack("!II", int(t), int((t % 1) * 2**32) | 1)
    return bytes(h)
def ask(p):
    s.sendto(p, ("127.0.0.2", 123))
    try:
        return s.recv(2048)
    except OSError:
        return b""
first = ask(req(3))
prev_rx, prev_tx = first[32:40], first[40:48]
out = []
# chrony's interleaved request: origin = the server's previous receive, receive = its transmit
p = req(3, org=prev_rx, rec=prev_tx)
r = ask(p)
out.append("il3 %d %d" % (len(r), r[24:32] == p[40:48] if r else -1))
# the same as a symmetric-active packet
r = ask(req(1, org=prev_rx, rec=prev_tx))
out.append("il1 %d" % len(r))
# origin = the server's previous transmit (a reply to our "reply")
p = req(3, org=prev_tx)
r = ask(p)
out.append("org-tx %d %d" % (len(r), r[24:32] == p[40:48] if r else -1))
print(" ".join(out))
EOF
check_eq "interleaved-style: basic 48-byte replies with origin = own transmit; mode 1 unanswered" \
  "il3 48 1 il1 0 org-tx 48 1" "$(cat "$W/il.txt")"
check_eq "associations at the end" 1 "$(assocs)"
if kill -0 "$PID" 2>/dev/null; then ntk_pass "ntpd is running"; else ntk_fail "ntpd died"; fi
ntk_show_log s | tail -n 20
ntk_done
