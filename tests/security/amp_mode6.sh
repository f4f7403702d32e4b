#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Security: the mode-6 amplification table of our ntpd (--observe, port 1123) and, for
# comparison, NTPsec 1.2.2's ntpd (10.99.0.1:123, `restrict default` without noquery and a
# restrict line for 10.99.0.0/24, so it answers the strangers). For every opcode 0-31 and each realistic request (rv empty and with names,
# READSTAT, REQ_NONCE, READ_MRU with a nonce, ordlist ifstats / addr_restrictions unsigned and
# signed) the response bytes against the request bytes: from a stranger (10.99.0.2, never
# proven) ours must answer at most what it received (the answer it would give a proven
# address when that fits, else exactly one 12-byte PERMISSION: daemon/core/ctlsrv.h rule 6);
# from a proven address (10.99.0.3, after a nonce) the full answer, bounded by 128 fragments
# of 480 bytes, READ_MRU by its frags; signed requests get full answers. NTPsec's column is
# informational (what it would reflect), never asserted. The table is printed.
# Usage: amp_mode6.sh OUR_NTPDIG OUR_NTPD   (CTest label security)
# shellcheck source-path=SCRIPTDIR source=../interop/lib.sh
. "$(dirname "$0")/../interop/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
KEYS=$(readlink -f "$(dirname "$0")/../data/symkey.keys")

ip addr add 10.99.0.1/24 dev lo || ntk_fatal "ip addr add 10.99.0.1/24 failed"
# Silent servers: both daemons get one association (READSTAT pairs, rv &assoc). NTPsec 1.2.2
# ignores mode 6 from an address without a restrict line of its own: the /24 gets one.
start_silent 127.0.0.5 123
start_silent 10.99.0.5 123
start_ntpd m 1123 "keys $KEYS" "trustedkey 1 2 3" "controlkey 3" "restrict default nopeer" \
  "server 127.0.0.5 minpoll 4"
start_ntpsec n 10.99.0.1 "keys $KEYS" "trustedkey 1 2 3" "controlkey 3" \
  "server 10.99.0.5 minpoll 4" "restrict default" "restrict 10.99.0.0 mask 255.255.255.0"
for n in $(seq 1 25); do ntk_probe 127.0.0.1 1123 127.0.0.3 >/dev/null && break; sleep 0.2; done
for n in $(seq 1 25); do ntk_probe 10.99.0.1 123 10.99.0.6 >/dev/null && break; sleep 0.2; done
for i in 4 6; do
  ntk_probe 127.0.0.1 1123 "127.0.0.$i" >/dev/null
  ntk_probe 10.99.0.1 123 "10.99.0.$i" >/dev/null
done

# The python helpers and the table (python3, raw sockets).
cp "$(dirname "$0")/m6lib.py" "$W/m6lib.py"
cat >"$W/amp.py" <<'PY'
# The amplification table (see amp_mode6.sh's header).
import os, sys
sys.path.insert(0, os.path.dirname(sys.argv[0]))
import m6lib
from m6lib import *

BOUND = 128 * (12 + 468)  # NTK_CTL_FRAGS_MAX fragments of NTK_CTL_DATA_MAX data
OURS, NTPSEC = int(os.environ["M6_PORT"]), 123


def cli(src, port):
    """A client at src for our ntpd (port OURS) or NTPsec's (NTPSEC), both on 10.99.0.1;
    127.0.0.1 talks to ours over 127.0.0.1."""
    m6lib.PORT = port
    return Cli(src, "127.0.0.1" if src == "127.0.0.1" else "10.99.0.1")


def assoc_of(c):
    """The first association id of READSTAT (0: none)."""
    r = b"".join(parse(d)["data"] for d in c.ask(1))
    return int.from_bytes(r[:2], "big") if len(r) >= 4 else 0


def nonce_of(c):
    return text(c.ask(12, " " * 40)).decode().strip()


def rows(a):
    """(label, request datagram) of the realistic requests; a is an association id."""
    return [("UNSPEC", pkt(0)), ("READSTAT (associations)", pkt(1)),
         ("READSTAT &assoc", pkt(1, assoc=a)), ("rv (READVAR, empty list)", pkt(2)),
         ("rv version,stratum,refid", pkt(2, "version,stratum,refid")),
         ("rv &assoc (peer variables)", pkt(2, assoc=a)), ("READCLOCK", pkt(4)),
         ("WRITEVAR leap=1", pkt(3, "leap=1")), ("SETTRAP", pkt(6)), ("CONFIGURE", pkt(8)),
         ("REQ_NONCE", pkt(12)), ("REQ_NONCE padded to 52", pkt(12, " " * 40)),
         ("READ_MRU frags=32 without nonce", pkt(10, "frags=32")),
         ("ordlist ifstats", pkt(11, "ifstats")),
         ("ordlist addr_restrictions", pkt(11, "addr_restrictions")),
         ("ordlist ifstats, signed key 3", signed(11, "ifstats", 3, *KEY3)),
         ("ordlist addr_restrictions, signed key 3", signed(11, "addr_restrictions", 3, *KEY3)),
         ("rv, signed key 3", signed(2, "", 3, *KEY3))]


def measure(c, p):
    r = c.xchg(p)
    return total(r), len(r), summ(r)


def table(c, a, mru_label):
    out = {}
    for label, p in rows(a):
        out[label] = (len(p),) + measure(c, p)
    n = nonce_of(c)
    p = pkt(10, n + ", frags=32")
    out[mru_label] = (len(p),) + measure(c, p)
    return out


MRU = "READ_MRU frags=32 with its nonce (proves)"
lo = cli("127.0.0.1", OURS)
A = assoc_of(lo)
check_true("our ntpd has one association (the silent server)", A != 0, A)
far = cli("10.99.0.2", OURS)
ops_far = {op: measure(far, pkt(op)) for op in range(32)}
T_far = table(far, A, MRU)
prov = cli("10.99.0.3", OURS)
r = prov.ask(2, nonce_of(prov))
check("10.99.0.3 proves its address (rv with its nonce)", "data", summ(r))
ops_prov = {op: measure(prov, pkt(op)) for op in range(32)}
T_prov = table(prov, A, MRU)
ns_lo = cli("10.99.0.7", NTPSEC)
NA = assoc_of(ns_lo)
ns = cli("10.99.0.2", NTPSEC)
T_ns = table(ns, NA, MRU)
ops_ns = {op: measure(ns, pkt(op)) for op in range(32)}


def baf(t, q):
    return "%6.2f" % (t / q)


print("# amplification table: response bytes (datagrams) / request bytes = BAF")
print("# %-42s %4s | %-22s | %-22s | %-22s" % ("request", "req", "ours, stranger",
      "ours, proven", "NTPsec 1.2.2 (10.99.0.2)"))
for label in T_far:
    q = T_far[label][0]
    cells = []
    for T in (T_far, T_prov, T_ns):
        _, t, n, k = T[label]
        cells.append("%5d (%3d) %s %s" % (t, n, baf(t, q), k.split()[-1][:5]))
    print("# %-42s %4d | %s | %s | %s" % (label, q, cells[0], cells[1], cells[2]))
print("# every opcode with no data (12 bytes): ours stranger / ours proven / NTPsec")
for op in range(32):
    print("# op %2d: %5d %-16s %5d %-16s %5d %s" % (op, ops_far[op][0], ops_far[op][2],
          ops_prov[op][0], ops_prov[op][2], ops_ns[op][0], ops_ns[op][2]))

# Ours, from the stranger: never more than it sent; exactly the proven answer when that fits,
# else one 12-byte PERMISSION. Signed requests and the nonce-proving MRU are full answers.
for op in range(32):
    pt, pn, pk = ops_prov[op]
    want = (pt, pn, pk) if pt <= 12 else (12, 1, "error PERMISSION")
    check("stranger op %d (12 bytes): %s" % (op, "as proven" if pt <= 12 else "PERMISSION"),
          want, ops_far[op])
for label, (q, t, n, k) in T_far.items():
    pq, pt, pn, pk = T_prov[label]
    if "signed" in label or label == MRU:
        check("stranger %s: a full answer" % label, "data", k)
        continue
    want = (pt, pn, pk) if pt <= q else (12, 1, "error PERMISSION")
    check("stranger %s (%d bytes): at most the request" % (label, q), want, (t, n, k))
    check_true("stranger %s: BAF <= 1" % label, t <= q, "%d / %d" % (t, q))
check("stranger REQ_NONCE 12 bytes: PERMISSION", (12, 1, "error PERMISSION"), T_far["REQ_NONCE"][1:])
check("stranger REQ_NONCE padded to 52: the nonce in 52 bytes", (52, 1, "data"),
      T_far["REQ_NONCE padded to 52"][1:])
check("stranger rv empty list: PERMISSION", "error PERMISSION", T_far["rv (READVAR, empty list)"][3])
# Ours, proven: full answers, bounded.
for label in ("rv (READVAR, empty list)", "READSTAT (associations)", "rv &assoc (peer variables)",
              "READ_MRU frags=32 with its nonce (proves)"):
    q, t, n, k = T_prov[label]
    check_true("proven %s: a full answer larger than the request" % label, k == "data" and t > q,
               "%s, %d > %d" % (k, t, q))
for label, (q, t, n, k) in T_prov.items():
    check_true("proven %s: within 128 fragments of 480 bytes" % label, t <= BOUND and n <= 128,
               "%d bytes, %d datagrams" % (t, n))
check_true("proven READ_MRU frags=32: at most 32 datagrams", T_prov[MRU][2] <= 32, T_prov[MRU][2])
check("proven, unsigned ordlist ifstats: still PERMISSION (needs the control key)",
      "error PERMISSION", T_prov["ordlist ifstats"][3])
check("proven, WRITEVAR / SETTRAP / CONFIGURE: PERMISSION, BADOP, BADOP",
      ["error PERMISSION", "error BADOP", "error BADOP"],
      [T_prov["WRITEVAR leap=1"][3], T_prov["SETTRAP"][3], T_prov["CONFIGURE"][3]])
worst = max(T_ns.items(), key=lambda kv: kv[1][1] / kv[1][0])
print("# NTPsec 1.2.2 (informational): largest BAF %.1f for %s (%d -> %d bytes); rv %d -> %d"
      % (worst[1][1] / worst[1][0], worst[0], worst[1][0], worst[1][1],
         T_ns["rv (READVAR, empty list)"][0], T_ns["rv (READVAR, empty list)"][1]))
finish()
PY

M6_PORT=1123 timeout -k 2 80 "$NTK_PY" "$W/amp.py" >"$W/amp.out" 2>&1
rc=$?
cat "$W/amp.out"
read -r _ ok fails < <(grep '^PYCHECKS ' "$W/amp.out")
NTK_CHECKS=$((NTK_CHECKS + ${ok:-0} + ${fails:-0}))
NTK_FAILS=$((NTK_FAILS + ${fails:-0}))
if [ "$rc" -ne 0 ] || [ -z "${ok:-}" ]; then ntk_fail "amp.py exited $rc"; fi
ntk_show_log m | tail -n 10
ntk_show_log n | tail -n 30
ntk_done
