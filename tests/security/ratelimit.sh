#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Security (C5, R5.1-R5.2; daemon/core/mru.h): rate limiting of our ntpd (--observe,
# `restrict default kod limited`, `discard minimum 2`, `limit average 1 burst 2`, `mru
# maxdepth 50 minage 64`) from non-loopback sources (10.99.0.0/16 on lo):
#   - a new source port per request does not escape the limit (the MRU key is the address);
#   - the KoD RATE is itself rate-limited: one per client every 2 s at most;
#   - a flood of spoofed source addresses (more than the MRU holds) cannot deny a client
#     already in the table its answers, and gets no KoD (untracked sources share one bucket);
#   - CVE-2015-7705: a spoofed flood in a victim's name (its address and port) makes the
#     server send the victim one answer and at most one KoD per 2 s, nothing more;
#   - every KoD is a 48-byte mode-4 stratum-0 RATE packet with origin = the request's transmit.
# Usage: ratelimit.sh OUR_NTPDIG OUR_NTPD   (CTest label security; NTK_NTPQ in the env)
# shellcheck source-path=SCRIPTDIR source=../interop/lib.sh
. "$(dirname "$0")/../interop/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
[ -x "${NTK_NTPQ:-}" ] || ntk_skip "our ntpq (NTK_NTPQ) is not built"

ip addr add 10.99.0.1/16 dev lo || ntk_fatal "ip addr add 10.99.0.1/16 failed"
start_ntpd r 123 "interface ignore wildcard" "interface ignore ipv6" \
  "interface listen 127.0.0.2" "restrict default kod limited" "restrict 127.0.0.1" \
  "discard minimum 2" "limit average 1 burst 2" "mru maxdepth 50 minage 64"
PID=$LAST_PID
for n in $(seq 1 50); do
  ntk_probe 127.0.0.2 123 127.0.0.1 >/dev/null && break
  sleep 0.1
done
kods() { "$NTK_NTPQ" -n -c "rv 0 ss_kodsent" 127.0.0.2 2>&1 | sed -n 's/.*ss_kodsent=\([0-9]*\).*/\1/p'; }
k0=$(kods)
check_match "ntpq reads ss_kodsent" '^[0-9]+$' "$k0"

cat >"$W/rl.py" <<'EOF'
# rl.py CASE: one scenario; prints its outcome on one line.
import socket, struct, sys, threading, time
case = sys.argv[1]
DST = ("127.0.0.2", 123)
def req():
    h = bytearray(48)
    h[0] = (4 << 3) | 3
    t = time.time() + 2208988800
    h[40:48] = struct.pack("!II", int(t), int((t % 1) * 2**32) | 1)
    return bytes(h)
def sock(addr, port=0, timeout=0.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(timeout) if timeout else s.setblocking(False)
    return s
bad_kod = []
def classify(reply, request):
    """'n' a normal answer, 'k' a KoD RATE (checked against R5.2), '-' none."""
    if not reply:
        return "-"
    if reply[12:16] == b"RATE":
        if not (len(reply) == 48 and reply[1] == 0 and reply[0] & 7 == 4
                and reply[24:32] == request[40:48]):
            bad_kod.append(reply.hex())
        return "k"
    return "n"
def drain(s):
    out = []
    try:
        while True:
            out.append(s.recv(2048))
    except (BlockingIOError, socket.timeout):
        pass
    return out
def paced(src, n, gap, new_port):
    """n requests gap s apart from src (a new socket per request when new_port)."""
    res, s = [], sock(src, timeout=0.05)
    for i in range(n):
        t0 = time.time()
        if new_port:
            s.close()
            s = sock(src, timeout=0.05)
        p = req()
        s.sendto(p, DST)
        try:
            r = s.recv(2048)
        except socket.timeout:
            r = b""
        res.append(classify(r, p))
        time.sleep(max(0.0, gap - (time.time() - t0)))
    return "".join(res)
if case == "ports":
    print(paced("10.99.1.1", 10, 0.05, True), paced("10.99.1.2", 10, 0.05, False), len(bad_kod))
elif case == "kodrate":
    print(paced("10.99.2.1", 28, 0.15, True), len(bad_kod))
elif case == "flood":
    good = "10.99.3.1"
    first = paced(good, 1, 0, True)
    stop, stats = threading.Event(), {"sent": 0, "n": 0, "k": 0}
    def flood():
        s = [sock("10.99.%d.%d" % (10 + i // 250, 1 + i % 250)) for i in range(4500)]
        i = 0
        while not stop.is_set() and i < len(s):
            for j in range(20):
                s[i].sendto(req(), DST)
                i += 1
            stats["sent"] = i
            time.sleep(0.04)
            for x in s[max(0, i - 200):i]:
                for r in drain(x):
                    stats["k" if r[12:16] == b"RATE" else "n"] += 1
        time.sleep(0.3)
        for x in s:
            for r in drain(x):
                stats["k" if r[12:16] == b"RATE" else "n"] += 1
    th = threading.Thread(target=flood)
    th.start()
    polls = ""
    for k in range(3):
        time.sleep(3.0)
        polls += paced(good, 1, 0, True)
    stop.set()
    th.join()
    print(first + polls, stats["sent"] >= 4000, stats["n"], stats["k"])
elif case == "victim":
    v = sock("10.99.4.1", 4123)
    got, sent = [], []
    t_end = time.time() + 1.8
    while time.time() < t_end:
        p = req()
        sent.append(p)
        v.sendto(p, DST)
        time.sleep(0.01)
    time.sleep(0.3)
    got = drain(v)
    by_xmt = {p[40:48]: p for p in sent}
    cls = "".join(classify(r, by_xmt.get(r[24:32], b"\0" * 48)) for r in got)
    print(len(sent) >= 100, cls or "none", len(bad_kod))
EOF

echo "== a new source port per request (10.99.1.1) vs one port (10.99.1.2): 10 requests in 0.5 s"
read -r newp samep bad <<<"$("$NTK_PY" "$W/rl.py" ports)"
check_eq "new port per request: 1 answer, 1 KoD, 8 dropped" "nk--------" "$newp"
check_eq "one port: the same" "nk--------" "$samep"
check_eq "KoDs well-formed (48 B, mode 4, stratum 0, RATE, origin = request transmit)" 0 "$bad"

echo "== 28 requests 0.15 s apart (4 s): KoDs at most one per 2 s"
read -r seq bad <<<"$("$NTK_PY" "$W/rl.py" kodrate)"
check_eq "1 answer, KoDs at 0.15 s and 2.25 s only" "nk-------------k------------" "$seq"
check_eq "KoDs well-formed" 0 "$bad"

# Before the flood fills the MRU: a victim that is not in the table shares the overflow
# bucket, which the flood keeps limited, and gets nothing at all.
echo "== CVE-2015-7705: 1.8 s of requests in the victim's name (10.99.4.1:4123) at 100/s"
read -r many seq bad <<<"$("$NTK_PY" "$W/rl.py" victim)"
check_eq "at least 100 spoofed requests sent" True "$many"
check_eq "what reached the victim: 1 answer, 1 KoD" "nk" "$seq"
check_eq "KoDs well-formed" 0 "$bad"

echo "== a flood of 4500 spoofed addresses (> mru maxdepth 50) while a known client polls every 3 s"
read -r polls sent fn fk <<<"$("$NTK_PY" "$W/rl.py" flood)"
check_eq "the known client: answered before and at each of its 3 polls during the flood" "nnnn" "$polls"
check_eq "the flood sent at least 4000 requests" True "$sent"
check_eq "KoDs to the flood (untracked sources share a bucket that is never kissed)" 0 "$fk"
# At most the free MRU slots (50, less the entries of 127.0.0.1 and the earlier clients) get
# a first answer each, plus the overflow bucket's share (about 2 + 1 per s over ~9 s).
if [ "$fn" -ge 1 ] && [ "$fn" -le 70 ]; then
  ntk_pass "answers to the flood bounded: $fn (1..70) of >= 4000"
else
  ntk_fail "answers to the flood: $fn, expected 1..70"
fi

k1=$(kods)
# ports 2 + kodrate 2 + victim 1 = 5 KoDs seen by our sockets; the server counted the same.
check_eq "ss_kodsent counted exactly the KoDs seen" 5 "$((k1 - k0))"
if kill -0 "$PID" 2>/dev/null; then ntk_pass "ntpd is running"; else ntk_fail "ntpd died"; fi
ntk_show_log r | tail -n 20
ntk_done
