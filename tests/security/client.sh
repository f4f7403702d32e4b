#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Security (C6, R6.1-R6.3): our ntpd (--observe) as a CLIENT of hostile servers scripted in
# python3, each bound on the address one association polls (so its packets come from the
# right address and port: the off-path spoofer's best case). ntpd A's sources must all be
# refused: zero origin (CVE-2015-8138, -7431), bogus origin, KoD RATE / DENY with a wrong
# origin (off-path, CVE-2015-7704), stratum 0 without a kiss code, stratum 16, LI 3, an
# unauthenticated reply and a bad MAC to a keyed association (CVE-2015-1798), and an NTS
# association answered without NTS fields (downgrade) or with a NAK naming another UID.
# Asserted with our ntpq (rv &N: reach, flash, hpoll, bogusorg), rawstats (one line per
# request for forged replies, NTPsec's BOGON bits) and the logs: nothing was
# accepted, no "synchronised" line, polling went on at the iburst pace. ntpd B: KoD RATE and
# DENY with the right origin are acted on as RFC 8633 says (RATE: hpoll raised, the burst
# ends; DENY: never polled again); the duplicate and a same-origin forgery after a genuine
# reply, and the replay of the previous reply, are ignored (CVE-2016-4954 class) and the
# offset stays the genuine one; an NTS NAK with the right UID sends A back to NTS-KE.
# Usage: client.sh OUR_NTPDIG OUR_NTPD   (CTest label security; NTK_NTPQ in the env)
# shellcheck source-path=SCRIPTDIR source=../interop/lib.sh
. "$(dirname "$0")/../interop/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
[ -x "${NTK_NTPQ:-}" ] || ntk_skip "our ntpq (NTK_NTPQ) is not built"
KEYS=$(readlink -f "$(dirname "$0")/../data/symkey.keys")
C=$W/certs
ntk_certs "$C"
ntk_hosts "127.0.0.20 ntske.test"

# The hostile servers: ADDR=BEHAVIOUR. Per request it logs "ADDR n BEHAVIOUR [ke=K]".
A_SRV="127.0.0.11=zero_org 127.0.0.12=bogus_org 127.0.0.13=kod_rate_off 127.0.0.14=kod_deny_off
127.0.0.15=stratum0 127.0.0.16=stratum16 127.0.0.17=li3 127.0.0.18=nomac 127.0.0.19=badmac
127.0.0.20=nts"
B_SRV="127.0.0.31=kod_rate 127.0.0.32=kod_deny 127.0.0.33=dup"
# 127.0.0.43=t3lt2: a reply whose transmit is 1 s before its receive (negative server
# processing time) must be refused (TEST8 header: assoc.c bounds T3 - T2 to 0..4 s, as
# chrony's MAX_SERVER_INTERVAL; before that fix it was selected and C synchronised to it).
C_SRV="127.0.0.41=zero_xmt 127.0.0.42=zero_rx 127.0.0.43=t3lt2"
D_SRV="127.0.0.51=absurd"
cat >"$W/hostile.py" <<'EOF'
import os, selectors, socket, struct, sys, time
log = open(sys.argv[1], "a", buffering=1)
alog = sys.argv[2]  # ntpd A's log: NTS-KE sessions are counted there
sel = selectors.DefaultSelector()
for a in sys.argv[3:]:
    addr, beh = a.split("=")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 123))
    sel.register(s, selectors.EVENT_READ, [addr, beh, 0, None])
def now():
    t = time.time() + 2208988800
    return struct.pack("!II", int(t), int((t % 1) * 2**32))
def shifted(ts, d):
    return struct.pack("!I", (struct.unpack("!I", ts[:4])[0] + d) % 2**32) + ts[4:]
def reply(req, org=None, stratum=2, li=0, refid=b"\x0a\x01\x02\x03", rx=None, tx=None):
    h = bytearray(48)
    h[0] = (li << 6) | (4 << 3) | 4
    h[1], h[2], h[3] = stratum, req[2], 0xEC
    h[4:8], h[8:12] = struct.pack("!I", 0x10), struct.pack("!I", 0x100)
    h[12:16] = refid
    h[16:24] = shifted(now(), -10)
    h[24:32] = req[40:48] if org is None else org
    h[32:40] = rx or now()
    h[40:48] = tx or now()
    return bytes(h)
def ef(t, body):
    return struct.pack("!HH", t, 4 + len(body)) + body
def uid_of(req):
    off = 48
    while off + 4 <= len(req):
        t, n = struct.unpack("!HH", req[off:off + 4])
        if n < 16:
            break
        if t == 0x0104:
            return req[off + 4:off + n]
        off += n
    return b""
while True:
    for key, _ in sel.select(1):
        st = key.data
        req, src = key.fileobj.recvfrom(4096)
        st[2] += 1
        addr, beh, n, _ = st
        s = key.fileobj
        out, note = [], ""
        R = os.urandom
        if beh == "zero_org":
            out = [reply(req, org=bytes(8))]
        elif beh == "bogus_org":
            out = [reply(req, org=R(8))]
        elif beh in ("kod_rate_off", "kod_deny_off"):
            code = b"RATE" if beh == "kod_rate_off" else b"DENY"
            out = [reply(req, org=R(8), stratum=0, li=3, refid=code)]
        elif beh in ("kod_rate", "kod_deny"):
            code = b"RATE" if beh == "kod_rate" else b"DENY"
            out = [reply(req, stratum=0, li=3, refid=code)]
        elif beh == "stratum0":
            out = [reply(req, stratum=0, refid=b"\0\0\0\0")]
        elif beh == "stratum16":
            out = [reply(req, stratum=16)]
        elif beh == "li3":
            out = [reply(req, li=3)]
        elif beh == "zero_xmt":
            out = [reply(req, tx=bytes(8))]
        elif beh == "zero_rx":
            out = [reply(req, rx=bytes(8))]
        elif beh == "t3lt2":  # sent 1 s before it was received
            t = now()
            out = [reply(req, rx=t, tx=shifted(t, -1))]
        elif beh == "absurd":  # 10^6 s (11.6 days) ahead
            out = [reply(req, rx=shifted(now(), 10**6), tx=shifted(now(), 10**6))]
        elif beh == "nomac":
            out = [reply(req)]
        elif beh == "badmac":
            out = [reply(req) + req[48:52] + R(16)]
        elif beh == "dup":
            good = reply(req)
            # the genuine reply, its duplicate, a same-origin forgery 1000 s ahead, and the
            # replay of the previous genuine reply
            out = [good, good, reply(req, rx=shifted(now(), 1000), tx=shifted(now(), 1000))]
            if st[3] is not None:
                out.append(st[3])
            st[3] = good
        elif beh == "nts":
            ke = sum(1 for l in open(alog) if "NTS-KE with ntske.test:" in l)
            note = " ke=%d" % ke
            uid = uid_of(req)
            nak = reply(req, stratum=0, li=3, refid=b"NTSN")
            if n <= 3:  # a NAK for somebody else, then a downgrade: both refused
                out = [nak + ef(0x0104, R(len(uid) or 32)), reply(req)]
            else:  # the right UID: acted on (back to NTS-KE)
                out = [nak + ef(0x0104, uid)]
        for p in out:
            s.sendto(p, src)
            time.sleep(0.002)
        log.write("%s %d %s%s\n" % (addr, n, beh, note))
EOF
: >"$W/hostile.log"
# shellcheck disable=SC2086 # the lists split into ADDR=BEHAVIOUR words
"$NTK_PY" "$W/hostile.py" "$W/hostile.log" "$W/a/ntpd.log" $A_SRV $B_SRV $C_SRV $D_SRV &
NTK_PIDS+=("$!")
sleep 0.5

# ntpd K: the NTS-KE server (TCP 4460 on every address) that ntpd A's NTS association uses;
# its cookies are useless to the hostile NTP server on 127.0.0.20.
start_ntpd k 1123 "interface ignore wildcard" "interface ignore ipv6" \
  "interface listen 127.0.0.3" "nts enable" "nts cert $C/srv.pem" "nts key $C/srv.key"
sleep 0.5
lines=("interface ignore wildcard" "interface ignore ipv6" "keys $KEYS" "trustedkey 1 2 3")
for s in $A_SRV; do
  a=${s%=*}
  case ${s#*=} in
  nomac | badmac) lines+=("server $a key 1 iburst minpoll 4 maxpoll 4") ;;
  nts) lines+=("server ntske.test nts ca $C/ca.pem iburst minpoll 4 maxpoll 4") ;;
  *) lines+=("server $a iburst minpoll 4 maxpoll 4") ;;
  esac
done
# rawstats (NTPsec 1.2.2): a line per reply to our request, with the BOGON bits of a refused
# one, and one for the first datagram after each request that did not answer it.
mkdir -m 755 "$W/sa" "$W/sb"
start_ntpd a 123 "${lines[@]}" "interface listen 127.0.0.2" "statsdir $W/sa/" \
  "statistics rawstats" "filegen rawstats type none enable"
A_PID=$LAST_PID
lines=("interface ignore wildcard" "interface ignore ipv6")
# maxpoll 10 for the RATE kiss: room to raise hpoll
lines+=("server 127.0.0.31 iburst minpoll 4 maxpoll 10" "server 127.0.0.32 iburst minpoll 4 maxpoll 4"
  "server 127.0.0.33 iburst minpoll 4 maxpoll 4" "statsdir $W/sb/" "statistics rawstats"
  "filegen rawstats type none enable")
start_ntpd b 123 "${lines[@]}" "interface listen 127.0.0.4"
B_PID=$LAST_PID
lines=("interface ignore wildcard" "interface ignore ipv6")
for s in $C_SRV; do lines+=("server ${s%=*} iburst minpoll 4 maxpoll 4"); done
start_ntpd c 123 "${lines[@]}" "interface listen 127.0.0.5"
start_ntpd d 123 "interface ignore wildcard" "interface ignore ipv6" \
  "server 127.0.0.51 iburst minpoll 4 maxpoll 4" "interface listen 127.0.0.6"

# Six iburst requests 2 s apart, then a 16 s poll: look after the burst.
sleep 13

# rv HOST ADDR VARS: our ntpq's values of VARS (comma-separated) for the association whose
# srcadr is ADDR, space-separated.
rv() {
  local host=$1 addr=$2 vars=$3 i out v line=""
  for i in 1 2 3 4 5 6 7 8 9 10; do
    out=$("$NTK_NTPQ" -n -c "rv &$i srcadr,$vars" "$host" 2>&1 | tr -d '\n' | tr ',' '\n')
    if printf '%s\n' "$out" | grep -Eq "^ *srcadr=$addr(:123)?$"; then
      for v in ${vars//,/ }; do
        line="$line $(printf '%s\n' "$out" | sed -n "s/^ *$v=\"\{0,1\}\([^\" ]*\).*/\1/p")"
      done
      echo "${line# }"
      return 0
    fi
  done
  echo "no-association"
}
num() { # octal reach / hex flash as ntpq prints them -> decimal ("x" if not a number)
  if [[ $2 =~ ^[0-9a-fA-F]+$ ]]; then echo $(($1#$2)); else echo x; fi
}
reqs() { awk -v a="$1" '$1 == a' "$W/hostile.log" | wc -l; }

echo "== ntpd A: every reply refused"
"$NTK_NTPQ" -n -p 127.0.0.2 | sed 's/^/  A| /'
for s in $A_SRV; do
  a=${s%=*}
  b=${s#*=}
  [ "$b" = nts ] && continue
  read -r reach flash hpoll bogus <<<"$(rv 127.0.0.2 "$a" reach,flash,hpoll,bogusorg)"
  reach=$(num 8 "$reach") flash=$(num 16 "$flash")
  ntk_log "$b ($a): reach $reach flash $flash hpoll $hpoll bogusorg $bogus, $(reqs "$a") requests"
  case $b in
  # refused before reach: the origin test, or authentication (reach stays 0)
  # (stratum 0 without a kiss code is a kiss nobody knows: not a reply that sets reach)
  zero_org | bogus_org | kod_rate_off | kod_deny_off | nomac | badmac | stratum0)
    check_eq "$b: reach" 0 "$reach"
    ;;
  # answered our request (reach set, RFC 5905) but unusable
  stratum16 | li3) check_eq "$b: reach (the server answered)" 1 "$reach" ;;
  esac
  want=
  case $b in
  # not an answer to our request: nothing changed but the bogusorg counter (no packet flash
  # bit: only peer_stratum 0x0200 and peer_unreach 0x1000)
  zero_org | bogus_org | kod_rate_off | kod_deny_off)
    check_eq "$b: every reply counted in bogusorg" 6 "$bogus"
    check_eq "$b: flash (peer_stratum, peer_unreach only)" 4608 "$flash"
    ;;
  nomac | badmac) want=0x0010 ;;     # TEST5 authentication
  stratum0) want=0x0004 ;;           # TEST3 (an unknown kiss: not used)
  stratum16 | li3) want=0x0020 ;;    # TEST6/7 unsynchronised or stratum 16
  esac
  if [ -n "$want" ]; then
    check_eq "$b: flash has $want" 1 "$(((flash & want) != 0))"
  fi
  check_eq "$b: hpoll unchanged (minpoll 4)" 4 "$hpoll"
  check_eq "$b: polled at the iburst pace (6 requests)" 6 "$(reqs "$a")"
  # rawstats' last fields (lost, dropped, BOGON bits), one line per request: a forged reply
  # is logged once per request however many come, with its reason.
  tail3=$(awk -v a="$a" '$3 == a { print $18, $19, $20 }' "$W/sa/rawstats" 2>/dev/null |
    sort -u | paste -sd '|')
  case $b in
  zero_org) want="0 1 4|1 1 4|2 1 4|3 1 4|4 1 4|5 1 4" ;; # not ours, origin zero: BOGON3
  bogus_org | kod_rate_off | kod_deny_off) want="0 1 2|1 1 2|2 1 2|3 1 2|4 1 2|5 1 2" ;;
  nomac | badmac) want="0 0 10" ;; # our reply, refused: authentication (BOGON5)
  stratum0) want="0 0 4" ;;        # an unknown kiss (BOGON3)
  stratum16 | li3) want="0 0 20" ;;
  esac
  check_eq "$b: rawstats lines (lost, dropped, BOGON) as NTPsec 1.2.2 writes them" "$want" \
    "$tail3"
  check_eq "$b: rawstats, one line per request" 6 \
    "$(awk -v a="$a" '$3 == a' "$W/sa/rawstats" 2>/dev/null | wc -l)"
done
# NTS: requests 1-3 got a NAK naming another UID and a reply without NTS fields (downgrade):
# refused, NTS-KE not redone; request 4 got a NAK with its own UID: back to NTS-KE.
ntk_log "NTS hostile log: $(awk '$1 == "127.0.0.20" { printf "%s:%s ", $2, $4 }' "$W/hostile.log")"
check_eq "nts: NTS-KE sessions seen at requests 1-3 (wrong-UID NAK and downgrade ignored)" \
  "ke=1 ke=1 ke=1" "$(awk '$1 == "127.0.0.20" && $2 <= 3 { print $4 }' "$W/hostile.log" | paste -sd ' ')"
if ntk_wait_log "$W/a/ntpd.log" "NTS-KE with ntske.test:.*" 1 &&
  [ "$(grep -c "NTS-KE with ntske.test:" "$W/a/ntpd.log")" -ge 2 ]; then
  ntk_pass "nts: the NAK with the right UID sent the association back to NTS-KE"
else
  ntk_fail "nts: no second NTS-KE after the right NAK ($(grep -c "NTS-KE with ntske.test:" "$W/a/ntpd.log") sessions)"
fi
read -r reach flash <<<"$(rv 127.0.0.2 127.0.0.20 reach,flash)"
reach=$(num 8 "$reach")
check_eq "nts: reach (no reply authenticated)" 0 "$reach"
check_nomatch "A never synchronised" "synchronised to association" "$(cat "$W/a/ntpd.log")"
if kill -0 "$A_PID" 2>/dev/null; then ntk_pass "A is running"; else ntk_fail "A died"; fi

echo "== ntpd B: genuine kisses acted on, duplicates and replays ignored"
"$NTK_NTPQ" -n -p 127.0.0.4 | sed 's/^/  B| /'
read -r reach flash hpoll <<<"$(rv 127.0.0.4 127.0.0.31 reach,flash,hpoll)"
reach=$(num 8 "$reach") flash=$(num 16 "$flash")
ntk_log "kod_rate: reach $reach flash $flash hpoll $hpoll, $(reqs 127.0.0.31) requests"
# RFC 5905 s7.4 / assoc.h: hpoll + 1, at least minpoll + 2 (the engine had it at 6: now 7)
if [ "${hpoll:-0}" -ge 6 ] 2>/dev/null; then
  ntk_pass "KoD RATE (right origin): hpoll raised to $hpoll (>= minpoll + 2)"
else
  ntk_fail "KoD RATE (right origin): hpoll '$hpoll', expected >= 6"
fi
check_eq "KoD RATE: the burst ended after the kiss (1 request)" 1 "$(reqs 127.0.0.31)"
check_eq "KoD RATE: flash RATE bit" 1 "$(((flash & 0x0008) != 0))"
check_eq "KoD DENY (right origin): never polled again (1 request)" 1 "$(reqs 127.0.0.32)"
read -r reach bogus offset <<<"$(rv 127.0.0.4 127.0.0.33 reach,bogusorg,offset)"
reach=$(num 8 "$reach")
n=$(reqs 127.0.0.33)
ntk_log "dup: reach $reach bogusorg $bogus offset $offset ms, $n requests"
# reach shifts at each poll, not at each request of the iburst: one poll so far
check_eq "dup: the genuine replies accepted (reach 1 after the first poll)" 1 "$reach"
# per request: the duplicate and the forgery; per request after the first: the replay
check_eq "dup: bogusorg counts the duplicates, forgeries and replays" "$((3 * n - 1))" "$bogus"
if awk -v o="$offset" 'BEGIN { exit !(o != "" && o > -500 && o < 500) }'; then
  ntk_pass "dup: offset stays the genuine one ($offset ms)"
else
  ntk_fail "dup: offset '$offset' ms: a forgery got in"
fi
# Per request: the genuine reply (accepted: 0 0 0), then the duplicate (the first that did
# not answer a request: logged with BOGON1), the forgery and the replay (not logged).
check_eq "dup: rawstats, two lines per request" "$((2 * n))" \
  "$(awk '$3 == "127.0.0.33"' "$W/sb/rawstats" 2>/dev/null | wc -l)"
check_eq "dup: rawstats, the genuine reply accepted and the duplicate's BOGON1" "0 0 0|0 1 1" \
  "$(awk '$3 == "127.0.0.33" { print $18, $19, $20 }' "$W/sb/rawstats" | sort -u | paste -sd '|')"
check_eq "KoD RATE and DENY (right origin): rawstats, BOGON4 (denied)" "0 0 8" \
  "$(awk '$3 == "127.0.0.31" || $3 == "127.0.0.32" { print $18, $19, $20 }' "$W/sb/rawstats" |
    sort -u | paste -sd '|')"
if kill -0 "$B_PID" 2>/dev/null; then ntk_pass "B is running"; else ntk_fail "B died"; fi
echo "== ntpd C: zero transmit / zero receive timestamps; D: a source 10^6 s ahead"
for h in 127.0.0.5 127.0.0.6; do "$NTK_NTPQ" -n -p $h | sed "s/^/  $h| /"; done
read -r reach flash <<<"$(rv 127.0.0.5 127.0.0.41 reach,flash)"
ntk_log "zero_xmt: reach $reach flash $flash"
check_eq "zero transmit: answered (reach 1) but refused (TEST3 0x0004)" "1 1" \
  "$(num 8 "$reach") $((($(num 16 "$flash") & 0x0004) != 0))"
read -r reach flash <<<"$(rv 127.0.0.5 127.0.0.42 reach,flash)"
ntk_log "zero_rx: reach $reach flash $flash"
check_eq "zero receive: answered (reach 1) but refused (T3 - T2 out of 0..4 s: pkt_header 0x0040)" \
  "1 1" "$(num 8 "$reach") $((($(num 16 "$flash") & 0x0040) != 0))"
read -r reach flash <<<"$(rv 127.0.0.5 127.0.0.43 reach,flash)"
ntk_log "t3lt2: reach $reach flash $flash"
check_eq "T3 < T2: answered (reach 1) but refused (pkt_header 0x0040)" "1 1" \
  "$(num 8 "$reach") $((($(num 16 "$flash") & 0x0040) != 0))"
check_nomatch "C never synchronised" "synchronised to association" "$(cat "$W/c/ntpd.log")"
# With --observe the engine only reports the panic (without it, eng_sys.c exits as NTPsec).
check_match "D: the 10^6 s offset is a panic, never a correction" \
  "panic: association 1, .*offset beyond the panic threshold" "$(cat "$W/d/ntpd.log")"
check_nomatch "D: no step, no slew of it" "step|stepped|slew" "$(grep -i 'association 1' "$W/d/ntpd.log")"
ntk_show_log c | tail -n 20
ntk_show_log d | tail -n 20
ntk_show_log a | tail -n 30
ntk_show_log b | tail -n 15
ntk_done
