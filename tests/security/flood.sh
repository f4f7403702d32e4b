#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Load: our ntpd (--observe, orphan stratum 5, `restrict default kod limited`, the good
# client 127.0.0.5 exempt) flooded on loopback for FLOOD_S (60) seconds by three attackers at
# once: bench/ntpload with well-formed mode-3 requests from 10,000 addresses (127.1.x.y),
# malformed datagrams (random lengths and bytes, bad versions/modes, bogus extension fields
# and MACs, mode 7) from random 198.18.x.y, and mode-6 traffic (READSTAT, READVAR, READ_MRU
# with and without a nonce, bad offsets/counts) from random 198.19.x.y; meanwhile our ntpdig
# asks from 127.0.0.5 every 100 ms. Asserts: the good client's answered fraction >= 99 %
# (its p99 latency T4-T1 reported), ntpd stays up, VmRSS (sampled every 5 s) grows < 10 %
# after the first 10 s, ntpd's sysstats counted the flood, and mode 6 answered addresses that
# never spent a nonce with fewer bytes than they sent (no amplification; the bytes towards
# addresses that proved themselves are reported). Prints a Markdown summary table for
# BENCHMARKS.md. Bounded: about FLOOD_S + 20 s in all (FLOOD_S >= 15 for the RSS check).
# Usage: flood.sh OUR_NTPDIG OUR_NTPD   (CTest label security; NTK_NTPQ in the env)
# Environment: FLOOD_S (60), FLOOD_WINDOW (1000 ntpload requests in flight), FLOOD_PPS (4000
#   datagrams/s for each Python attacker)
# shellcheck source-path=SCRIPTDIR source=../interop/lib.sh
. "$(dirname "$0")/../interop/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
FLOOD_S=${FLOOD_S:-60}
FLOOD_WINDOW=${FLOOD_WINDOW:-1000}
FLOOD_PPS=${FLOOD_PPS:-4000}
LOAD=$(cd "$(dirname "$NTK_NTPD")/../.." && pwd)/bench/ntpload
[ -x "$LOAD" ] || ntk_skip "bench/ntpload is not built ($LOAD)"
[ -x "${NTK_NTPQ:-}" ] || ntk_skip "our ntpq (NTK_NTPQ) is not built"

# Exempt: 127.0.0.5 (the good client), 127.0.0.6 (readiness probe), 127.0.0.1 (ntpq).
start_ntpd f 123 "tos orphan 5 orphanwait 1" "restrict default kod limited" \
  "restrict 127.0.0.5" "restrict 127.0.0.6" "restrict 127.0.0.1"
NPID=$LAST_PID
ntk_wait_ntp 127.0.0.1 123
# The Python attackers' sources: 198.18.0.0/15 (RFC 2544's benchmark range), every address of
# it local on lo like 127/8, but not loopback to ntpd, so its mode-6 rate limit and
# anti-amplification (daemon/core/ctlsrv.h rules 3 and 6) apply, as to a remote attacker.
ip route add local 198.18.0.0/15 dev lo || ntk_fatal "cannot route 198.18.0.0/15 to lo"

# The attackers (KIND junk: malformed datagrams; ctl: mode 6) to 127.0.0.1:123 from random
# source addresses (IP_PKTINFO) at about PPS for SECONDS; each prints a count line.
cat >"$W/attack.py" <<'EOF'
import os, random, select, socket, struct, sys, time
kind, secs, pps = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
IP_PKTINFO = 8  # Linux; the socket module does not export it
net = 18 if kind == "junk" else 19  # 198.18.0.0/15, routed to lo
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)  # the answer's destination: whose nonce
s.bind(("0.0.0.0", 0))
s.setblocking(False)
rnd = random.Random(int.from_bytes(os.urandom(8), "big"))
dst = ("127.0.0.1", 123)
sent = got = 0
nonces = {}  # source -> nonce text from a REQ_NONCE answer

def src():
    return bytes([198, net, rnd.randrange(256), rnd.randrange(1, 255)])

def ntp_hdr(first):
    return bytes([first]) + os.urandom(47)

def junk():
    k = rnd.randrange(8)
    if k == 0:
        return os.urandom(rnd.randrange(0, 1100))
    if k == 1:  # a header with any version and mode, any length around 48
        return ntp_hdr(rnd.randrange(256))[: rnd.randrange(1, 49)] + os.urandom(rnd.randrange(0, 30))
    if k == 2:  # mode 3 with a bogus extension field: length 0, odd, past the end, huge
        ln = rnd.choice([0, 3, 4, 5, 16, 17, 0xFFFF, 0x8000])
        return ntp_hdr(0x23) + struct.pack("!HH", rnd.randrange(65536), ln) + os.urandom(rnd.randrange(0, 64))
    if k == 3:  # mode 3 with a truncated or odd MAC
        return ntp_hdr(0x23) + os.urandom(rnd.choice([1, 4, 8, 12, 16, 20, 24, 28, 36]))
    if k == 4:  # mode 7 (ntpdc), implementation 3, request 1..40
        return bytes([0x17, 0, 3, rnd.randrange(1, 41)]) + os.urandom(rnd.choice([4, 44, 188]))
    if k == 5:  # version 0, 1 and 5-7 clients
        return ntp_hdr((rnd.choice([0, 1, 5, 6, 7]) << 3) | 3)
    if k == 6:  # modes 1, 2, 4, 5 (symmetric, server, broadcast) from nowhere
        return ntp_hdr(0x20 | rnd.choice([1, 2, 4, 5]))
    return ntp_hdr(0x23)[: rnd.choice([1, 12, 40, 47])]

def ctl(op, seq, data=b"", assoc=0, offset=0, count=None):
    if count is None:
        count = len(data)
    p = struct.pack("!BBHHHHH", 0x16, op, seq, 0, assoc, offset, count) + data
    return p + b"\0" * (-len(p) % 4)

def mode6(seq):
    k = rnd.randrange(10)
    a = src()
    if k == 0:
        return a, ctl(1, seq)  # READSTAT
    if k == 1:
        return a, ctl(1, seq, assoc=rnd.randrange(1, 65536))
    if k == 2:
        return a, ctl(2, seq)  # READVAR, all variables
    if k == 3:
        return a, ctl(2, seq, rnd.choice([b"version,stratum", b"x" * 400, b'a="unterminated', b",,,=="]))
    if k == 4:
        # REQ_NONCE; the answer arms a READ_MRU from the same source. Bare (12 bytes: its
        # 52-byte answer would amplify) or padded with data as long as the answer.
        return a, ctl(12, seq, rnd.choice([b"", b"\0" * 48, b" " * 48]))
    if k == 5 and nonces:
        a, n = rnd.choice(list(nonces.items()))
        return a, ctl(10, seq, n + b", frags=32, limit=200")
    if k == 6:  # READ_MRU without a nonce, with a forged one
        return a, ctl(10, seq, rnd.choice([b"frags=32", b"nonce=0123456789abcdef0123456789abcdef, frags=128"]))
    if k == 7:  # offset and count that lie
        return a, ctl(2, seq, b"version", offset=rnd.randrange(65536), count=rnd.randrange(65536))
    if k == 8:  # an unknown opcode, a response bit set, a truncated header
        return a, rnd.choice([ctl(rnd.randrange(13, 31), seq), ctl(0x82, seq), ctl(2, seq)[:rnd.randrange(1, 12)]])
    return a, ctl(2, seq, b"mru")

# Bytes sent to and received from ntpd, by kind of source address: "proven" once it has
# spent a nonce in a READ_MRU (ntpd may answer it in full), else "unproven".
tx = {"proven": 0, "unproven": 0}
rx = {"proven": 0, "unproven": 0}
by_op = {}
op_tx, op_rx = {}, {}  # bytes by opcode, unproven sources only
spent = set()

def send(a, p):
    global sent
    try:
        s.sendmsg([p], [(socket.IPPROTO_IP, IP_PKTINFO, struct.pack("!I4s4s", 0, a, b"\0" * 4))], 0, dst)
        sent += 1
        if len(p) > 1 and p[1] == 10 and b"nonce=" in p and a in nonces:
            spent.add(a)
        tx["proven" if a in spent else "unproven"] += len(p)
        if a not in spent and len(p) > 1:
            op_tx[p[1] & 0x1F] = op_tx.get(p[1] & 0x1F, 0) + len(p)
    except OSError:
        pass

def drain():
    global got
    while True:
        try:
            s.recv(2048)
        except OSError:
            return
        got += 1

t0 = time.monotonic()
seq = 0
while True:
    now = time.monotonic()
    if now - t0 >= secs:
        break
    due = int(pps * (now - t0)) - sent
    for _ in range(min(max(due, 0), 200)):
        seq = (seq + 1) & 0xFFFF
        if kind == "junk":
            send(src(), junk())
        else:
            a, p = mode6(seq)
            send(a, p)
    if kind == "ctl":  # answers: keep the nonces (by destination address) for READ_MRU
        while True:
            try:
                d, anc, _, _ = s.recvmsg(2048, 64)
            except OSError:
                break
            got += 1
            if len(d) > 1:
                by_op[d[1] & 0x1F] = by_op.get(d[1] & 0x1F, 0) + 1
            for lvl, typ, data in anc:
                if lvl == socket.IPPROTO_IP and typ == IP_PKTINFO:
                    rx["proven" if data[8:12] in spent else "unproven"] += len(d)
                    if data[8:12] not in spent and len(d) > 1:
                        op_rx[d[1] & 0x1F] = op_rx.get(d[1] & 0x1F, 0) + len(d)
                if lvl == socket.IPPROTO_IP and typ == IP_PKTINFO and len(d) > 12 and d[1] & 0x1F == 12:
                    i = d.find(b"nonce=")
                    if i >= 0:
                        nonces[data[8:12]] = d[i:].split(b",")[0].split(b"\r")[0].split(b"\0")[0]
                        if len(nonces) > 256:
                            nonces.pop(next(iter(nonces)))
    else:
        drain()
    select.select([s], [], [], 0.005)
print("%s sent %d answered %d nonces %d" % (kind, sent, got, len(nonces)))
if kind == "ctl":
    print("bytes unproven %d %d proven %d %d answers-by-opcode %s" % (
        tx["unproven"], rx["unproven"], tx["proven"], rx["proven"],
        ",".join("%d:%d" % kv for kv in sorted(by_op.items()))))
    print("unproven bytes in/out by opcode: " + " ".join(
        "%d:%d/%d" % (op, op_tx.get(op, 0), op_rx.get(op, 0)) for op in sorted(set(op_tx) | set(op_rx))))
EOF

rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$NPID/status" 2>/dev/null; }

echo "== flood for $FLOOD_S s: ntpload -c 10000 -w $FLOOD_WINDOW, junk and mode 6 at $FLOOD_PPS/s each"
timeout -k 2 $((FLOOD_S + 10)) "$LOAD" -j -a 127.0.0.1 -p 123 -c 10000 -w "$FLOOD_WINDOW" \
  -t 50 -d "$FLOOD_S" >"$W/load.json" 2>"$W/load.err" &
LPID=$!
NTK_PIDS+=("$LPID")
timeout -k 2 $((FLOOD_S + 10)) "$NTK_PY" "$W/attack.py" junk "$FLOOD_S" "$FLOOD_PPS" \
  >"$W/junk.out" 2>&1 &
JPID=$!
NTK_PIDS+=("$JPID")
timeout -k 2 $((FLOOD_S + 10)) "$NTK_PY" "$W/attack.py" ctl "$FLOOD_S" "$FLOOD_PPS" \
  >"$W/ctl.out" 2>&1 &
CPID=$!
NTK_PIDS+=("$CPID")
sleep 0.5 # the flood is on before the first good request
# The good client: one request every 100 ms (gap after each answer), 1 s timeout each, in
# runs of at most 100 samples (ntpdig's -p limit).
goodn=$(((FLOOD_S * 10) - 10))
good_client() {
  local left=$goodn n
  while [ "$left" -gt 0 ]; do
    n=$((left > 100 ? 100 : left))
    "$NTK_OURS" -j -p "$n" -g 100 -t 1 -I 127.0.0.5 127.0.0.1
    left=$((left - n))
  done
}
good_client >"$W/good.json" 2>"$W/good.err" &
GPID=$!
NTK_PIDS+=("$GPID")

RSS_SAMPLES=()
for n in $(seq 0 5 "$FLOOD_S"); do
  [ "$n" -gt 0 ] && sleep 5
  kill -0 "$NPID" 2>/dev/null || break
  RSS_SAMPLES+=("$n:$(rss)")
  ntk_log "t=${n}s VmRSS $(rss) KiB"
done
wait "$LPID" "$JPID" "$CPID" 2>/dev/null
wait "$GPID" 2>/dev/null
if kill -0 "$NPID" 2>/dev/null; then
  ntk_pass "ntpd (pid $NPID) is still running after the flood"
else
  ntk_fail "ntpd died during the flood"
  ntk_show_log f
fi
RSS_SAMPLES+=("end:$(rss)")
ntk_log "ntpload: $(cat "$W/load.json" "$W/load.err")"
ntk_log "$(cat "$W/junk.out")"
ntk_log "$(cat "$W/ctl.out")"
sed 's/^/  good-err| /' "$W/good.err" | head -5

echo "== the good client"
# One JSON line per request: answered = ok; latency = T4 - T1 of each answered sample.
good=$(jq_py "$W/good.json" "(lambda ok, lat: '%d %d %.6f %.6f %.6f' % (len(L), len(ok),
  len(ok) / max(len(L), 1), lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else -1,
  lat[len(lat) // 2] if lat else -1))([o for o in L if o['ok']], sorted(
  (int(o['t4'].replace('.', ''), 16) - int(o['t1'].replace('.', ''), 16)) / 2**32
  for o in L if o['ok']))")
read -r g_asked g_ok g_frac g_p99 g_p50 <<<"$good"
ntk_log "good client: $g_asked asked, $g_ok answered ($g_frac), p50 ${g_p50} s, p99 ${g_p99} s"
if awk -v n="$g_asked" -v m="$goodn" 'BEGIN { exit !(n >= m * 0.9) }'; then
  ntk_pass "the good client asked $g_asked times (of $goodn) during the flood"
else
  ntk_fail "the good client asked only ${g_asked:-0} times (of $goodn)"
fi
if awk -v f="$g_frac" 'BEGIN { exit !(f + 0 >= 0.99) }'; then
  ntk_pass "the good client's answered fraction $g_frac >= 0.99"
else
  ntk_fail "the good client's answered fraction ${g_frac:-none} < 0.99"
fi
check_json "the good client (exempt) got no KoD" "$W/good.json" \
  "[o['kiss_code'] for o in L if o['kiss_code']]" '[]'

echo "== memory"
base=""
growth=""
for s in "${RSS_SAMPLES[@]}"; do
  t=${s%%:*}
  v=${s#*:}
  [ "$t" = 10 ] && base=$v
  if [ -n "$base" ] && [ -n "$v" ]; then
    growth=$(awk -v b="$base" -v v="$v" -v g="${growth:-0}" \
      'BEGIN { x = (v - b) * 100 / b; printf "%.1f", (x > g ? x : g) }')
  fi
done
if [ -n "$base" ] && awk -v g="$growth" 'BEGIN { exit !(g < 10) }'; then
  ntk_pass "VmRSS growth after t=10 s: at most $growth % (from $base KiB)"
else
  ntk_fail "VmRSS growth after t=10 s: ${growth:-unknown} % (samples ${RSS_SAMPLES[*]})"
fi

echo "== ntpd's counters"
ntk_run sys "$NTK_NTPQ" -c sysstats 127.0.0.1
ss() { awk -F: -v k="$1" 'index($1, k) == 1 { gsub(/[^0-9]/, "", $2); print $2; exit }' "$W/sys.out"; }
received=$(ss "packets received")
check_match "ntpd received more than the good client's requests" '^[0-9]{5,}$' "${received:-}"
check_match "ntpd rate-limited the flood (rate limited > 0)" '^[1-9][0-9]*$' "$(ss "rate limited")"
check_match "ntpd counted malformed packets (bad length or format > 0)" '^[1-9][0-9]*$' \
  "$(ss "bad length or format")"

echo "== mode 6: no amplification towards addresses that never proved themselves"
read -r _ _ u_tx u_rx _ p_tx p_rx _ by_op <<<"$(grep '^bytes' "$W/ctl.out")"
ntk_log "$(grep '^unproven' "$W/ctl.out")"
ntk_log "mode 6 bytes: unproven sources sent $u_tx, got $u_rx; proven (nonce spent) sent $p_tx, got $p_rx; answers by opcode $by_op"
if [ -n "${u_tx:-}" ] && [ "$u_rx" -le "$u_tx" ]; then
  ntk_pass "mode 6 towards unproven addresses: $u_rx bytes out for $u_tx bytes in"
else
  ntk_fail "mode 6 towards unproven addresses: ${u_rx:-?} bytes out for ${u_tx:-?} bytes in"
fi

echo "== summary (for BENCHMARKS.md)"
lj() { jq_py "$W/load.json" "L[0]['$1']" 2>/dev/null; }
echo "| figure | value |"
echo "|---|---|"
echo "| flood duration | $FLOOD_S s |"
echo "| ntpload (10,000 addresses, window $FLOOD_WINDOW): sent / replies / KoD / lost | $(lj sent) / $(lj replies) / $(lj kod) / $(lj lost) |"
echo "| malformed datagrams: $(awk '{ print "sent " $3 ", answered " $5 }' "$W/junk.out") | - |"
echo "| mode-6 requests: $(awk '/^ctl/ { print "sent " $3 ", answered " $5 ", nonces " $7 }' "$W/ctl.out") | - |"
echo "| mode-6 bytes in / out, unproven sources | $u_tx / $u_rx |"
echo "| mode-6 bytes in / out, sources that spent a nonce (READ_MRU) | $p_tx / $p_rx |"
echo "| good client (127.0.0.5, every 100 ms): asked / answered | $g_asked / $g_ok |"
echo "| good client answered fraction | $g_frac |"
echo "| good client latency T4-T1 p50 / p99 | $(awk -v a="$g_p50" -v b="$g_p99" 'BEGIN { printf "%.1f µs / %.1f µs", a * 1e6, b * 1e6 }') |"
echo "| ntpd VmRSS (KiB) at t=0,5,...,end | $(printf '%s ' "${RSS_SAMPLES[@]}") |"
echo "| VmRSS growth after t=10 s | ${growth:-?} % |"
while IFS= read -r line; do
  case $line in *:*) echo "| sysstats ${line%%:*} | $(echo "${line#*:}" | tr -s ' ') |" ;; esac
done <"$W/sys.out"
ntk_show_log f | tail -n 20
ntk_done
