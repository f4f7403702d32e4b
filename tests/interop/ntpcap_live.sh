#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: our ntpcap capturing live on the sandbox's lo with -Z nobody while chronyd 4.3, our
# ntpd (--observe, synchronising from chronyd) and NTPsec 1.2.2's ntpd serve, and our ntpdig,
# NTPsec's ntpdig and NTPsec's ntpq (mode 6) make traffic; tcpdump captures the same traffic to
# a file. Checks: ntpcap dropped its privileges before the first frame (/proc/PID/status: every
# uid nobody's, CapEff/CapPrm 0, NoNewPrivs 1) and still captured; its JSON lines parse; its -w
# copy reads back; on tcpdump's file, `ntpcap -r` pairs the same requests as `tshark -2` and
# decodes every NTP packet's fields as tshark does. Then crafted captures (python3 writes the
# pcaps): a monlist amplification (a mode-7 MON_GETLIST request answered by 100 items), a
# spoofed kiss-o'-death and an NTS downgrade each give their anomaly code and --fail-on exits 3.
# Usage: ntpcap_live.sh OUR_NTPDIG OUR_NTPD   (CTest label interop; our ntpcap is found from
# OUR_NTPD's build directory)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
NTPCAP=$(cd "$(dirname "$NTK_NTPD")/../../cli/ntpcap" 2>/dev/null && pwd)/ntpcap
[ -x "$NTPCAP" ] || ntk_fatal "our ntpcap '$NTPCAP' is not built"
command -v tshark >/dev/null || ntk_skip "missing tool tshark"
NOBODY=$(id -u nobody) || ntk_skip "no user nobody"
mkdir -m 1777 "$W/cap" # -w is opened after the drop, as nobody

echo "== live capture as nobody"
"$NTPCAP" -i lo -Z nobody --nano --immediate-mode --json -w "$W/cap/live.pcap" \
  >"$W/live.json" 2>"$W/live.err" &
CAP_PID=$!
NTK_PIDS+=("$CAP_PID")
dropped=0
for _ in $(seq 1 50); do
  uids=$(awk '$1 == "Uid:" { print $2, $3, $4, $5 }' "/proc/$CAP_PID/status" 2>/dev/null)
  if [ "$uids" = "$NOBODY $NOBODY $NOBODY $NOBODY" ]; then
    dropped=1
    break
  fi
  sleep 0.1
done
check_eq "ntpcap runs as nobody (real, effective, saved, fs uid)" 1 "$dropped"
status=$(cat "/proc/$CAP_PID/status" 2>/dev/null)
check_eq "ntpcap: CapEff" 0000000000000000 "$(awk '$1 == "CapEff:" { print $2 }' <<<"$status")"
check_eq "ntpcap: CapPrm" 0000000000000000 "$(awk '$1 == "CapPrm:" { print $2 }' <<<"$status")"
check_eq "ntpcap: NoNewPrivs" 1 "$(awk '$1 == "NoNewPrivs:" { print $2 }' <<<"$status")"
check_eq "ntpcap: supplementary groups" "$(id -g nobody)" \
  "$(awk '$1 == "Groups:" { print $2 }' <<<"$status")"
ntk_capture_start "$W/tcpdump.pcap" "udp port 123"

echo "== traffic"
start_chronyd c 127.0.0.1 123 2
ntk_wait_ntp 127.0.0.1
start_ntpsec n 127.0.0.3
start_ntpd o 123 "server 127.0.0.1 iburst minpoll 4 maxpoll 4" "interface ignore wildcard" \
  "interface ignore ipv6" "interface ignore 127.0.0.1" "interface listen 127.0.0.2" \
  "restrict default nopeer" "restrict 127.0.0.1"
if ntk_wait_log "$W/o/ntpd.log" "synchronised to association" 20; then
  ntk_pass "our ntpd synchronised to chronyd"
else
  ntk_fail "our ntpd did not synchronise within 20 s"
fi
ntk_wait_ntp 127.0.0.3
for a in 127.0.0.1 127.0.0.2 127.0.0.3; do
  ntk_run "dig-$a" ours "$a"
  ntk_run "sec-dig-$a" ntpsec_ntpdig "$a"
done
ntk_run ntpq-p ntpsec_ntpq -n -p 127.0.0.2
ntk_run ntpq-rv ntpsec_ntpq -n -c rv 127.0.0.3
ntk_run ntpq-mru ntpsec_ntpq -n -c mrulist 127.0.0.2
ntk_capture_stop
sleep 0.3
kill -INT "$CAP_PID"
wait "$CAP_PID"
check_eq "live ntpcap exits 0 on SIGINT" 0 "$?"
sed 's/^/  ntpcap| /' "$W/live.err"
check_json "live: every line parses, the last is the summary" "$W/live.json" \
  'L[-1]["type"]' summary
check_json "live: schema on every line" "$W/live.json" \
  'sorted(set(o["schema"] for o in L))' '["ntpkit.ntpcap/1"]'
check_json "live: the summary names the capture and the user" "$W/live.json" \
  '[L[-1]["live"], L[-1]["user"], L[-1]["source"], L[-1]["timestamp_precision"]]' \
  '[true, "nobody", "lo", "ns"]'
check_json "live: client exchanges seen" "$W/live.json" \
  'len([o for o in L if o["type"] == "exchange" and o["kind"] == "client"]) >= 8' true
check_json "live: control exchanges seen (ntpq)" "$W/live.json" \
  'len([o for o in L if o["type"] == "exchange" and o["kind"] == "control"]) >= 2' true
live_frames=$(jq_py "$W/live.json" 'L[-1]["frames"]')
ntk_run reread "$NTPCAP" -r "$W/cap/live.pcap" --json -q
check_rc "ntpcap -r of its own -w copy" 0
check_json "-w copy: as many frames as the live run counted" "$W/reread.out" 'L[-1]["frames"]' \
  "$live_frames"

echo "== ntpcap -r against tshark on tcpdump's file"
ntk_run file "$NTPCAP" -r "$W/tcpdump.pcap" --json -v
check_rc "ntpcap -r tcpdump.pcap" 0
tshark -2 -r "$W/tcpdump.pcap" -Y ntp -T fields -E separator=/t -e frame.number -e ip.src \
  -e udp.srcport -e ip.dst -e udp.dstport -e ntp.flags.li -e ntp.flags.vn -e ntp.flags.mode \
  -e ntp.stratum -e ntp.ppoll -e ntp.precision -e ntp.refid -e ntp.xmt -e ntp.ctrl.sequence \
  -e ntp.ctrl.flags2.opcode -e ntp.response_in >"$W/tshark.tsv" 2>"$W/tshark.err"
ntk_log "tshark: $(wc -l <"$W/tshark.tsv") NTP packets"
"$NTK_PY" - "$W/file.out" "$W/tshark.tsv" >"$W/cmp.txt" <<'PY'
import datetime, json, sys
L = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
pk = {o["frame"]: o for o in L if o["type"] == "packet" and o["what"] == "ntp"}
ex = [o for o in L if o["type"] == "exchange"]
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[2]) if l.strip()]
bad = []
def tsec(text):  # tshark's "Nov 26, 2026 03:56:57.449061393 UTC" -> NTP us (mod 2^32 s)
    d, frac = text.replace(" UTC", "").rsplit(".", 1)
    t = datetime.datetime.strptime(d, "%b %d, %Y %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return era_free(t) * 1000000 + int(frac[:6])
def era_free(t):  # NTP seconds modulo 2^32: the era of a random T1 is anyone's guess
    return (int(t.timestamp()) + 2208988800) % 2**32
def osec(iso):
    d, frac = iso.rstrip("Z").split(".")
    t = datetime.datetime.strptime(d, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return era_free(t) * 1000000 + int(frac[:6])
pairs = {}
for r in rows:
    (fr, src, sp, dst, dp, li, vn, mode, st, poll, prec, refid, xmt, seq, op, resp_in) = r
    fr = int(fr)
    o = pk.get(fr)
    if o is None:
        bad.append("frame %d: not an ntp packet for ntpcap" % fr); continue
    got = [o["src"], o["src_port"], o["dst"], o["dst_port"], o["li"], o["version"], o["mode"]]
    want = [src, int(sp), dst, int(dp), int(li), int(vn), int(mode)]
    if int(mode) in (1, 2, 3, 4, 5):
        got += [o["stratum"], o["poll_log2"] & 255, o["precision_log2"] & 255,
                o["refid_hex"], osec(o["xmt_time"]) if o["xmt_time"] else "NULL"]
        want += [int(st), int(poll), int(prec), refid, tsec(xmt) if xmt != "NULL" else "NULL"]
    if int(mode) == 6:
        got += [o["ctl_sequence"], o["ctl_opcode"]]
        want += [int(seq), int(op)]
    # One microsecond apart at most: ns -> us truncation may differ by one on either side.
    if len(got) > 7 and got[-1] != "NULL" and want[-1] != "NULL" and abs(got[-1] - want[-1]) <= 1:
        got[-1] = want[-1]
    if got != want:
        bad.append("frame %d: ntpcap %s, tshark %s" % (fr, got, want))
    if resp_in:
        pairs[fr] = int(resp_in.split(",")[0])
ours = {o["request_frame"]: o for o in ex}
if set(ours) != set(pairs):
    bad.append("paired requests differ: only ntpcap %s, only tshark %s"
               % (sorted(set(ours) - set(pairs)), sorted(set(pairs) - set(ours))))
for q, r in pairs.items():
    o = ours.get(q)
    # A multi-fragment response: tshark points at its first datagram, ntpcap at its last.
    if o and not (o["response_frame"] == r or (o["kind"] == "control" and o["response_frame"] > r)):
        bad.append("request %d: response %d for ntpcap, %d for tshark" % (q, o["response_frame"], r))
print("packets %d exchanges %d tshark_pairs %d" % (len(rows), len(ex), len(pairs)))
for b in bad:
    print("MISMATCH " + b)
PY
sed 's/^/  cmp| /' "$W/cmp.txt"
check_eq "ntpcap and tshark: every field of every NTP packet, and the pairing" 0 \
  "$(grep -c MISMATCH "$W/cmp.txt")"
check_match "the capture has enough to compare" 'exchanges ([2-9][0-9]|1[0-9])' "$(cat "$W/cmp.txt")"
check_json "file: the JSON lines parse and end with the summary" "$W/file.out" 'L[-1]["type"]' \
  summary

echo "== crafted captures"
"$NTK_PY" - "$W" <<'PY'
import os, struct, sys
def udp(src, sport, dst, dport, payload):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 8 + len(payload), 0, 0, 64, 17, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    return (b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip +
            struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)
def pcap(name, frames):
    with open(os.path.join(sys.argv[1], name), "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        for t, fr in frames:
            f.write(struct.pack("<IIII", int(t), int(round((t % 1) * 1e6)), len(fr), len(fr)))
            f.write(fr)
T = 1767225600.0
NTP = 2208988800
def ts(t):
    return struct.pack("!II", int(t) + NTP, int((t % 1) * 2**32))
C, S = "192.0.2.50", "198.51.100.1"
# Monlist: NTP Classic mode 7 (VN 2), implementation 3, MON_GETLIST (20), answered by 100
# items of 72 bytes, 6 per datagram (17 datagrams, "more" on all but the last).
req = bytes([0x17, 0, 3, 20]) + b"\0" * 44
frames = [(T, udp(C, 43210, S, 123, req))]
left, i = 100, 0
while left:
    n = min(6, left); left -= n
    first = 0x80 | (0x40 if left else 0) | 0x17
    body = bytes([first, i & 0x7F, 3, 20]) + struct.pack("!HH", n, 72) + os.urandom(72 * n)
    frames.append((T + 0.0001 * (i + 1), udp(S, 123, C, 43210, body))); i += 1
pcap("monlist.pcap", frames)
# Spoofed KoD: a client's request, its genuine answer, then a RATE kiss whose origin is
# not the transmit timestamp of any request.
q = bytes([0x23]) + b"\0" * 39 + ts(T)
r = bytes([0x24, 2, 6, 0xE8]) + b"\0" * 8 + b"\x0a\0\0\x01" + ts(T - 10) + ts(T) + ts(T + .00001) + ts(T + .00002)
kod = bytes([0xE4, 0, 0, 0xE8]) + b"\0" * 8 + b"RATE" + b"\0" * 8 + ts(T + 77.5) + b"\0" * 16
pcap("kod.pcap", [(T, udp(C, 40000, S, 123, q)), (T + 0.001, udp(S, 123, C, 40000, r)),
                  (T + 0.5, udp(S, 123, C, 40000, kod))])
# NTS downgrade: a request with NTS Unique Identifier, Cookie and Authenticator fields
# (RFC 8915 section 5.7) answered by a plain 48-byte response.
def ef(t, body):
    return struct.pack("!HH", t, 4 + len(body)) + body
nq = (q + ef(0x0104, os.urandom(32)) + ef(0x0204, os.urandom(100)) +
      ef(0x0404, struct.pack("!HH", 16, 16) + os.urandom(32)))
pcap("downgrade.pcap", [(T, udp(C, 40001, S, 123, nq)), (T + 0.001, udp(S, 123, C, 40001, r))])
PY
crafted() { # NAME CODE SEVERITY: the capture gives CODE; --fail-on SEVERITY exits 3
  ntk_run "$1" "$NTPCAP" -r "$W/$1.pcap" --json
  check_rc "ntpcap -r $1.pcap" 0
  check_json "$1: anomaly $2 reported" "$W/$1.out" \
    "'$2' in [o['code'] for o in L if o['type'] == 'anomaly']" true
  check_json "$1: $2 has severity $3" "$W/$1.out" \
    "sorted(set(o['severity'] for o in L if o['type'] == 'anomaly' and o['code'] == '$2'))" \
    "[\"$3\"]"
  ntk_run "$1-fail" "$NTPCAP" -r "$W/$1.pcap" -q --fail-on "$3"
  check_rc "$1: --fail-on $3" 3
}
crafted monlist mode7_monlist crit
check_json "monlist: amplification flagged" "$W/monlist.out" \
  "'amplification' in [o['code'] for o in L if o['type'] == 'anomaly']" true
check_json "monlist: one private exchange of 17 datagrams" "$W/monlist.out" \
  "[(o['kind'], o['response_datagrams']) for o in L if o['type'] == 'exchange']" \
  '[["private", 17]]'
ntk_run monlist-crit "$NTPCAP" -r "$W/monlist.pcap" -q --fail-on crit
check_rc "monlist: --fail-on crit" 3
crafted kod kod_spoofed warn
crafted downgrade nts_downgrade crit
ntk_run downgrade-crit "$NTPCAP" -r "$W/downgrade.pcap" -q --fail-on crit
check_rc "downgrade: --fail-on crit" 3
ntk_done
