#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Security: raw mode-6 datagrams (python3) against our ntpd (--observe), from loopback
# (127.0.0.1: full answers) and from strangers 10.99.0.2-9 (10.99.0.1/24 on lo), checked
# against the rules of daemon/core/ctlsrv.h: long, quoted, NUL and control-byte names; 1000
# names; count/offset fields that lie and odd lengths; M/E/R flags in requests; every opcode
# 0-31 with and without data; READ_MRU without, with a forged, foreign or stale nonce, absurd
# frags/limit, unknown resume points; CONFIGURE/WRITEVAR/SETTRAP refused signed or not (no
# remote configuration, CVE-2015-7703 class); wrong keys; proof of address and
# anti-amplification; a flood of 10,000 requests; ss_numctlreq counts them; ntpd survives
# (NTPsec's ntpq and ours still get answers). README.md maps the CVEs to these checks.
# Usage: mode6.sh OUR_NTPDIG OUR_NTPD   (CTest label security; NTK_NTPQ = our ntpq)
# shellcheck source-path=SCRIPTDIR source=../interop/lib.sh
. "$(dirname "$0")/../interop/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
KEYS=$(readlink -f "$(dirname "$0")/../data/symkey.keys")
PORT=123

ip addr add 10.99.0.1/24 dev lo || ntk_fatal "ip addr add 10.99.0.1/24 failed"
start_ntpd m 123 "keys $KEYS" "trustedkey 1 2 3" "controlkey 3" "restrict default nopeer"
NTPD_PID=$LAST_PID
ntk_wait_log "$W/m/ntpd.log" "serving on port" 10 || ntk_fail "ntpd did not start serving"
# A few NTP clients in the MRU list (mode 3 from 127.0.0.3-6); the probe also waits for ntpd.
for n in $(seq 1 25); do ntk_probe 127.0.0.1 "$PORT" 127.0.0.3 >/dev/null && break; sleep 0.2; done
for i in 4 5 6; do ntk_probe 127.0.0.1 "$PORT" "127.0.0.$i" >/dev/null; done

# py_checks LABEL FILE: run the python checks FILE, fold their ok/FAIL lines into our counts.
py_checks() {
  M6_PORT=$PORT W=$W timeout -k 2 80 "$NTK_PY" "$2" >"$W/$1.out" 2>&1
  local rc=$?
  cat "$W/$1.out"
  local ok fails
  read -r _ ok fails < <(grep '^PYCHECKS ' "$W/$1.out")
  NTK_CHECKS=$((NTK_CHECKS + ${ok:-0} + ${fails:-0}))
  NTK_FAILS=$((NTK_FAILS + ${fails:-0}))
  if [ "$rc" -ne 0 ] || [ -z "${ok:-}" ]; then ntk_fail "$1: python exited $rc"; fi
}

alive() { # LABEL: ntpd's process still runs; our ntpq and NTPsec's get rv from loopback
  if kill -0 "$NTPD_PID" 2>/dev/null; then ntk_pass "$1: ntpd still runs"; else
    ntk_fail "$1: ntpd died"; fi
  if [ -n "${NTK_NTPQ:-}" ]; then
    ntk_run "alive_$1" "$NTK_NTPQ" -n -c "rv 0 version" 127.0.0.1
    check_match "$1: our ntpq rv version" 'version="ntpd ntpkit' "$OUT"
  fi
  ntk_run "alive_ntpsec_$1" ntpsec_ntpq -n -c "rv 0 version" 127.0.0.1
  check_match "$1: NTPsec's ntpq rv version" 'version="ntpd ntpkit' "$OUT"
}

# The python checks (python3, raw sockets): the shared helpers, the checks, the flood.
cp "$(dirname "$0")/m6lib.py" "$W/m6lib.py"
cat >"$W/m6checks.py" <<'PY'
# The mode-6 checks against our ntpd (see mode6.sh's header).
import os, random, struct, sys, time
sys.path.insert(0, os.path.dirname(sys.argv[0]))
from m6lib import *

LO = Cli("127.0.0.1", "127.0.0.1")
FAR = Cli("10.99.0.2", "10.99.0.1")  # a stranger that never proves its address
W = os.environ["W"]
random.seed(11)

print("== baseline from loopback (full answers)")
n0 = numctlreq(LO)
r = LO.ask(2)
check("rv from 127.0.0.1: a data response", "data", summ(r))
check_true("rv: version of ntpkit", b'version="ntpd ntpkit' in text(r))
check("rv: the response echoes opcode 2, sequence, R set, mode 6",
      [(2, LO.seq, True, 6)] * len(r), [(p["op"], p["seq"], p["r"], p["mode"]) for p in map(parse, r)])
pads = [d[12 + parse(d)["count"]:] for d in r]
check("rv: datagrams padded to 4 with zero bytes only (no memory leaked in padding)",
      [(0, set(b"\0" * len(x))) for x in pads], [(len(d) % 4, set(x)) for d, x in zip(r, pads)])
# An early nonce for the stale-nonce check at the end (valid 16 s).
stale = text(LO.ask(12)).decode().strip()
stale_t = time.monotonic()
check_true("REQ_NONCE from 127.0.0.1: nonce=<32 hex>", len(stale) == 38 and stale.startswith("nonce="), stale)

print("== long, quoted and binary variable names (CVE-2016-2519, 2017-6458, 2018-7182, 2019-6443)")
# Names are 1..64 bytes (NTK_CVAR_NAME_MAX): longer is a format error, not a lookup.
check("READVAR one 64-char unknown name", "error UNKNOWNVAR", summ(LO.ask(2, "a" * 64)))
check("READVAR one 65-char name", "error BADFMT", summ(LO.ask(2, "a" * 65)))
check("READVAR one 200-char name", "error BADFMT", summ(LO.ask(2, "a" * 200)))
check("READVAR one 460-char name", "error BADFMT", summ(LO.ask(2, "b" * 460)))
check("READVAR one 468-char name (count = the maximum)", "error BADFMT", summ(LO.ask(2, "c" * 468)))
check("READVAR a 469-char name (count > 468): no answer", "none", summ(LO.ask(2, "d" * 469)))
check("READVAR 200-char name=value", "error BADFMT", summ(LO.ask(2, "e" * 200 + "=" + "f" * 200)))
check("READVAR stratum=\"unterminated", "error BADFMT", summ(LO.ask(2, 'stratum="abc')))
check("READVAR \"unterminated name", "error BADFMT", summ(LO.ask(2, '"abc')))
check("READVAR version,\"  (quote at the end)", "error BADFMT", summ(LO.ask(2, 'version,"')))
check("READVAR name with a NUL byte inside", "error BADFMT", summ(LO.ask(2, b"stra\0tum")))
r = LO.ask(2, b"stratum\0\0")
check("READVAR stratum then NULs (NUL is blank, as ntpq's padding)", ["data", True],
      [summ(r), text(r).startswith(b"stratum=")])
check("READVAR name of control bytes", "error BADFMT", summ(LO.ask(2, bytes(range(1, 32)))))
check("READVAR bytes 0x80-0xff", "error BADFMT", summ(LO.ask(2, bytes(range(128, 256)))))
r = LO.ask(2, b"\0" * 8)
check("READVAR data of only NULs (count 8): the default list", ["data", True],
      [summ(r), b'version="ntpd ntpkit' in text(r)])
check("READVAR 234 unknown names (468 bytes of 'a,')", "error UNKNOWNVAR", summ(LO.ask(2, "a," * 234)))
r = LO.ask(2, "leap," * 93)
# A name asked again is answered once (NTPsec 1.2.2 too: it marks the names wanted, then walks
# its table), so the long answer comes from many different names below.
check("READVAR 93 x leap (465 bytes)", ["data", 1], [summ(r), text(r).count(b"leap=")])
many = [n + r for n in ("nts_client_send", "nts_client_recv_good", "nts_client_recv_bad",
                        "nts_server_send", "nts_server_recv_good", "nts_server_recv_bad",
                        "nts_cookie_make", "nts_cookie_decode", "nts_cookie_decode_old",
                        "nts_cookie_decode_old2", "nts_cookie_decode_older",
                        "nts_cookie_decode_too_old", "nts_cookie_decode_error",
                        "nts_ke_serves_good", "nts_ke_serves_bad", "nts_ke_probes_good",
                        "nts_ke_probes_bad") for r in ("", "_r")]
while len(",".join(many)) > 468:
    many.pop()
r = LO.ask(2, ",".join(many))
check("READVAR %d different names (%d bytes)" % (len(many), len(",".join(many))),
      ["data", len(many)], [summ(r), text(r).count(b"=")])
check("READVAR a list of 1000 names (count 2000 > 468): no answer", "none",
      summ(LO.ask(2, "x," * 1000)))
r = LO.ask(2, "a," * 999 + "a", count=468)
check("READVAR count 468 but 1999 data bytes (trailer that is no MAC): no answer", "none", summ(r))

print("== header fields that lie")
check("count 40 > the 8 data bytes sent: no answer", "none", summ(LO.ask(2, "version,", count=40)))
check("count 0xffff: no answer", "none", summ(LO.ask(2, "version,", count=0xFFFF)))
check("count 4 < 8 data bytes (4 bytes of trailer): no answer", "none", summ(LO.ask(2, "version,", count=4)))
check("offset 8 in a request: no answer", "none", summ(LO.ask(2, offset=8)))
check("offset 0xfffc in a request: no answer", "none", summ(LO.ask(2, "version", offset=0xFFFC)))
check("13 bytes (count 1, unpadded): no answer", "none", summ(LO.ask(2, "v", pad=False)))
check("15 bytes (count 3, unpadded): no answer", "none", summ(LO.ask(2, "ver", pad=False)))
check("11 bytes (short header): no answer", "none", summ(LO.xchg(pkt(2)[:11])))
check("1 byte (0x16): no answer", "none", summ(LO.xchg(b"\x16")))
check("status word set in a request (ignored)", "data", summ(LO.ask(2, status=0xFFFF)))
check("version 1 request answered", "data", summ(LO.ask(2, vn=1)))
check("version 0 request: no answer", "none", summ(LO.ask(2, vn=0)))
check("version 7 request: no answer", "none", summ(LO.ask(2, vn=7)))

print("== fragment flags in requests")
check("M (more) set in a request: no answer", "none", summ(LO.ask(2, "version", flags=M)))
check("E (error) set in a request: no answer", "none", summ(LO.ask(2, flags=E)))
check("R (response) set: no answer (no reflection of responses)", "none", summ(LO.ask(2, flags=R)))
check("R|E|M set: no answer", "none", summ(LO.ask(2, flags=R | E | M)))
check("M set with count 0: no answer", "none", summ(LO.ask(2, flags=M)))

print("== every opcode 0-31, associd 0, without and with data, from loopback")
want = {0: "data", 1: "data", 2: "data", 3: "error PERMISSION", 4: "error BADASSOC",
        5: "error PERMISSION", 8: "error BADOP", 10: "error PERMISSION",
        11: "error PERMISSION", 12: "data"}
for data in (b"", b"x=1,stratum"):
    got = {}
    for op in range(32):
        got[op] = summ(LO.ask(op, data))
    w = {op: want.get(op, "error BADOP") for op in range(32)}
    if data:
        w[2] = "error UNKNOWNVAR"
    check("opcodes 0-31 with %d data bytes" % len(data), w, got)
r = LO.ask(0, assoc=0xBEEF)
check("UNSPEC for association 0xbeef (none)", "error BADASSOC", summ(r))
check("READVAR for association 0xbeef (none)", "error BADASSOC", summ(LO.ask(2, assoc=0xBEEF)))
check("READSTAT for association 0xbeef (none)", "error BADASSOC", summ(LO.ask(1, assoc=0xBEEF)))
for op in (6, 7, 31):
    check("trap opcode %d (SETTRAP/ASYNCMSG/UNSETTRAP, CVE-2016-9310) from loopback" % op,
          "error BADOP", summ(LO.ask(op, "trap=127.0.0.1")))

print("== no remote configuration (CVE-2015-7703, 2014-9293, 2016-2517)")
marker = os.path.join(W, "pwned.pid")
r = LO.xchg(signed(8, "pidfile %s\ndriftfile %s" % (marker, marker), 3, *KEY3))
check("CONFIGURE signed with the control key", "error BADOP", summ(r))
check("a response to a signed request carries key id 3 and a 16-byte MAC (12+4 padding+4+16 bytes)",
      [36, 3], [total(r), struct.unpack("!I", r[0][-20:-16])[0] if r else -1])
check("CONFIGURE unsigned", "error BADOP", summ(LO.ask(8, "pidfile " + marker)))
check("CONFIGURE unsigned from a stranger", "error BADOP", summ(FAR.ask(8, "pidfile " + marker)))
time.sleep(0.2)
check("no file was written by CONFIGURE", False, os.path.exists(marker))
check("WRITEVAR unsigned leap=1", "error PERMISSION", summ(LO.ask(3, "leap=1")))
check("WRITEVAR signed with key 3 (control key) leap=1: nothing is writable",
      "error PERMISSION", summ(LO.xchg(signed(3, "leap=1", 3, *KEY3))))
check("WRITEVAR signed with key 3 nosuchvar=1", "error UNKNOWNVAR",
      summ(LO.xchg(signed(3, "nosuchvar=1", 3, *KEY3))))
check("WRITEVAR signed with key 2 (trusted, not the control key)", "error PERMISSION",
      summ(LO.xchg(signed(3, "leap=1", 2, *KEY2))))
check("WRITEVAR with key id 3 and a wrong secret", "error PERMISSION",
      summ(LO.xchg(signed(3, "leap=1", 3, "AES", bytes(16)))))
check("WRITECLOCK signed with key 3", "error PERMISSION", summ(LO.xchg(signed(5, "x=1", 3, *KEY3))))
check("SETTRAP signed with key 3", "error BADOP", summ(LO.xchg(signed(6, "", 3, *KEY3))))
r = LO.xchg(signed(11, "ifstats", 3, *KEY3))
check("ORDLIST ifstats signed with the control key: answered (the MAC layout is right)", "data", summ(r))
check_true("ORDLIST ifstats lists addr.0", b"addr.0=" in text(r))
check("ORDLIST signed with key id 3 and a wrong secret", "error PERMISSION",
      summ(LO.xchg(signed(11, "ifstats", 3, "AES", bytes(16)))))
check("ORDLIST signed with key 2 (not the control key)", "error PERMISSION",
      summ(LO.xchg(signed(11, "addr_restrictions", 2, *KEY2))))
check("ORDLIST unknown list, signed", "error UNKNOWNVAR", summ(LO.xchg(signed(11, "peers", 3, *KEY3))))
r = LO.xchg(signed(2, "", 3, "AES", bytes(16)))
check("READVAR with a wrong MAC from loopback: answered unsigned (no MAC in the response)",
      ["data", False], [summ(r), any(parse(d)["count"] + 12 + 4 < len(d) for d in r)])
r = FAR.xchg(signed(2, "", 3, "AES", bytes(16)))
check("READVAR with a wrong MAC from a stranger (answer > request): PERMISSION, 12 bytes",
      ["error PERMISSION", 12], [summ(r), total(r)])

print("== READ_MRU (CVE-2015-7855, 2016-7434)")
check("mrulist without nonce", "error PERMISSION", summ(LO.ask(10, "frags=4")))
check("mrulist without data", "error PERMISSION", summ(LO.ask(10)))
forged = "nonce=" + "".join(random.choice("0123456789abcdef") for _ in range(32))
check("mrulist with a forged nonce", "error PERMISSION", summ(LO.ask(10, forged + ", frags=4")))
good = text(LO.ask(12)).decode().strip()
check("mrulist with a nonce's MAC half altered", "error PERMISSION",
      summ(LO.ask(10, good[:-1] + ("0" if good[-1] != "0" else "1") + ", frags=4")))
check("mrulist with a nonce's time half altered", "error PERMISSION",
      summ(LO.ask(10, good[:6] + ("0" if good[6] != "0" else "1") + good[7:] + ", frags=4")))
check("mrulist with a 31-digit nonce", "error PERMISSION", summ(LO.ask(10, good[:-1])))
other = Cli("127.0.0.3", "127.0.0.1")
theirs = text(other.ask(12)).decode().strip()
check("mrulist with a nonce issued to 127.0.0.3, from 127.0.0.1", "error PERMISSION",
      summ(LO.ask(10, theirs + ", frags=4")))
r = LO.ask(10, good + ", frags=4")
t = text(r)
check("mrulist with a valid nonce: data with a new nonce, addr.0 and last.newest",
      ["data", True, True, True], [summ(r), t.startswith(b"nonce="), b"addr.0=" in t, b"last.newest=" in t])
def mru(extra):
    n = text(LO.ask(12)).decode().strip()
    return LO.ask(10, n + ", " + extra)
check("mrulist frags=129 (> 128)", "error BADVALUE", summ(mru("frags=129")))
check("mrulist frags=4294967295", "error BADVALUE", summ(mru("frags=4294967295")))
check("mrulist frags=4294967296 (> 32 bits)", "error BADVALUE", summ(mru("frags=4294967296")))
check("mrulist frags=-1", "error BADVALUE", summ(mru("frags=-1")))
check("mrulist limit=257 (> 256)", "error BADVALUE", summ(mru("limit=257")))
check("mrulist limit=99999999999999999999", "error BADVALUE", summ(mru("limit=99999999999999999999")))
check("mrulist frags=0, limit=0 (the defaults)", "data", summ(mru("frags=0, limit=0")))
r = mru("frags=1")
check("mrulist frags=1: exactly one datagram", ["data", 1], [summ(r), len(r)])
r = mru("limit=1")
check("mrulist limit=1: one entry (addr.0, no addr.1)", [True, False],
      [b"addr.0=" in text(r), b"addr.1=" in text(r)])
check("mrulist resume point for an unknown address", "error UNKNOWNVAR",
      summ(mru("addr.0=10.1.2.3:123, last.0=0xe0000000.00000000")))
check("mrulist addr.0 without last.0 (CVE-2016-7434)", "error UNKNOWNVAR", summ(mru("addr.0=127.0.0.3:123")))
check("mrulist last.0 without addr.0", "error UNKNOWNVAR", summ(mru("last.0=0xe0000000.00000000")))
check("mrulist garbage address (CVE-2015-7855)", "error UNKNOWNVAR",
      summ(mru("addr.0=::ffff:999.1.1.1, last.0=0x1.2")))
check("mrulist address of 300 chars", "error UNKNOWNVAR", summ(mru("addr.0=" + "9" * 300 + ", last.0=0x1.2")))
check("mrulist resume point index 31 for an unknown address", "error UNKNOWNVAR",
      summ(mru("addr.31=10.1.2.3, last.31=0x1.2")))
check("mrulist resume point index 999999 (beyond 32: ignored as unknown names are)", "data",
      summ(mru("addr.999999=127.0.0.3, last.999999=0x1.2")))
check("mrulist unterminated quote", "error BADFMT", summ(mru('addr.0="127.0.0.3')))

print("== proof of address for a stranger")
P = Cli("10.99.0.3", "10.99.0.1")
r = P.ask(12)
check("REQ_NONCE from 10.99.0.3, 12 bytes (answer would be larger): PERMISSION, 12 bytes",
      ["error PERMISSION", 12], [summ(r), total(r)])
r = P.ask(12, " " * 40)
nonce = text(r).decode().strip()
check("REQ_NONCE padded to 52 bytes: the 52-byte nonce answer", ["data", 52], [summ(r), total(r)])
r = P.ask(2)
check("rv from 10.99.0.3 before proof: PERMISSION, 12 bytes", ["error PERMISSION", 12], [summ(r), total(r)])
Q = Cli("10.99.0.4", "10.99.0.1")
r = Q.ask(2, nonce)
check("rv with 10.99.0.3's nonce from 10.99.0.4: not proven, PERMISSION", "error PERMISSION", summ(r))
r = P.ask(10, nonce + ", frags=1")
check("mrulist frags=1 with its nonce from 10.99.0.3: answered", "data", summ(r))
r = P.ask(2)
check("rv from 10.99.0.3 after proof (12 bytes in): the full answer", "data", summ(r))
check_true("rv after proof: more bytes than sent (allowed once proven)", total(r) > 12, total(r))
r = Q.ask(2)
check("rv from 10.99.0.4 (never proven) still PERMISSION", "error PERMISSION", summ(r))
r = FAR.ask(10, forged + ", frags=1")
check("mrulist from a stranger with a forged nonce", ["error PERMISSION", 12], [summ(r), total(r)])
r = FAR.ask(11)
check("ORDLIST from a stranger, unsigned", ["error PERMISSION", 12], [summ(r), total(r)])

S = Cli("10.99.0.5", "10.99.0.1")
for data in (b"", b"x=1,stratum"):
    got = {op: total(S.ask(op, data)) for op in range(32)}
    check("stranger 10.99.0.5, opcodes 0-31 with %d data bytes: 12 bytes each (an error, or an "
          "empty UNSPEC/READSTAT: no association)" % len(data), {op: 12 for op in range(32)}, got)
print("== stale nonce")
left = 16.5 - (time.monotonic() - stale_t)
if left > 0:
    time.sleep(left)
check("mrulist with a nonce older than 16 s", "error PERMISSION", summ(LO.ask(10, stale + ", frags=1")))

print("== counters")
n1 = numctlreq(LO)
LO.ask(2, flags=M)
LO.ask(2, offset=4)
LO.ask(31)
n2 = numctlreq(LO)
check("ss_numctlreq counts every mode-6 datagram, malformed included (3 + the read)", 4, n2 - n1)
print("PYSTATE", n0, n2)
finish()
PY
cat >"$W/m6flood.py" <<'PY'
# The flood: 10,000 mode-6 requests in a few seconds (see mode6.sh's header).
import os, sys, time
sys.path.insert(0, os.path.dirname(sys.argv[0]))
from m6lib import *

LO = Cli("127.0.0.1", "127.0.0.1")


def udp_drops():
    """This namespace's UDP receive-buffer drops (/proc/net/snmp RcvbufErrors)."""
    rows = [l.split() for l in open("/proc/net/snmp") if l.startswith("Udp:")]
    return int(rows[1][rows[0].index("RcvbufErrors")])


n0, d0 = numctlreq(LO), udp_drops()


def flood(c, reqs, pace):
    """Sends reqs (pausing 1 ms every pace), counts every answer until 0.5 s of silence."""
    c.drain()
    c.s.setblocking(False)
    got, nbytes, sizes, t0 = 0, 0, set(), time.monotonic()
    for i, p in enumerate(reqs):
        c.s.sendto(p, c.dst)
        if i % pace == pace - 1:
            time.sleep(0.001)
        try:
            while True:
                d = c.s.recv(4096)
                got, nbytes = got + 1, nbytes + len(d)
                sizes.add(summ([d]) + " %d" % len(d))
        except OSError:
            pass
    dt = time.monotonic() - t0
    c.s.settimeout(0.5)
    try:
        while True:
            d = c.s.recv(4096)
            got, nbytes = got + 1, nbytes + len(d)
            sizes.add(summ([d]) + " %d" % len(d))
    except OSError:
        pass
    return got, nbytes, sorted(sizes), dt


frag = [pkt(2, "version", seq=i & 0xFFFF, flags=M) for i in range(5000)]
frag += [pkt(i % 32, seq=i & 0xFFFF, flags=M | E, count=4, trailer=b"") for i in range(2000)]
got, nb, sizes, dt = flood(LO, frag, 4)
print("# 7000 fragment requests from 127.0.0.1 in %.2f s" % dt)
check("7000 requests with M (and E) set from loopback: no answer", [0, 0], [got, nb])
F = Cli("10.99.0.9", "10.99.0.1")
reqs = [pkt(2, seq=i) for i in range(3000)]
got, nb, sizes, dt = flood(F, reqs, 4)
print("# 3000 READVAR from the stranger 10.99.0.9 in %.2f s: %d answers, %d bytes, kinds %s"
      % (dt, got, nb, sizes))
check("stranger flood: every answer is a 12-byte PERMISSION (never more than it sent)",
      ["error PERMISSION 12"] if got else [], sizes)
check_true("stranger flood: answers bounded by the rate limit (burst 200 + 50/s)",
           0 < got <= 200 + 50 * (dt + 0.6) + 2, "%d answers in %.2f s" % (got, dt))
check("stranger flood: response bytes <= request bytes", True, nb <= 12 * 3000)
n1, d1 = numctlreq(LO), udp_drops()
print("# ntpd counted %d mode-6 datagrams, the kernel dropped %d" % (n1 - n0, d1 - d0))
check("ss_numctlreq moved by the 10,000 flood requests + the read, less kernel drops",
      10001, n1 - n0 + (d1 - d0))
check_true("the kernel dropped under 5%% of the flood", d1 - d0 < 500, d1 - d0)
r = LO.ask(2)
check("after the flood: rv from loopback answered", "data", summ(r))
finish()
PY

py_checks checks "$W/m6checks.py"
alive checks
py_checks flood "$W/m6flood.py"
alive flood
check_nomatch "ntpd logs no crash or assertion" "assert|abort|sanitizer|runtime error" \
  "$(cat "$W/m/ntpd.log")"
ntk_show_log m | tail -n 20
ntk_done
