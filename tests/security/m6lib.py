# SPDX-License-Identifier: BSD-2-Clause
# Raw mode-6 (RFC 9327) client helpers of the mode-6 security tests (mode6.sh, amp_mode6.sh),
# copied beside their checks into the test's work directory.
import hashlib, os, socket, struct, sys, time

PORT = int(os.environ["M6_PORT"])
R, E, M = 0x80, 0x40, 0x20
CERR = {0: "UNSPEC", 1: "PERMISSION", 2: "BADFMT", 3: "BADOP", 4: "BADASSOC",
        5: "UNKNOWNVAR", 6: "BADVALUE", 7: "RESTRICT"}
OK = FAILS = 0


def pkt(op, data=b"", assoc=0, seq=1, status=0, offset=0, count=None, flags=0, vn=2,
        pad=True, trailer=b""):
    """A request datagram: header, data, zero padding to 4, then any trailer."""
    if isinstance(data, str):
        data = data.encode()
    if count is None:
        count = len(data)
    p = struct.pack("!BBHHHHH", (vn << 3) | 6, flags | op, seq, status, assoc, offset,
                    count) + data
    if pad:
        p += b"\0" * (-len(p) % 4)
    return p + trailer


def mac(alg, key, msg):
    if alg == "AES":
        from cryptography.hazmat.primitives.ciphers import algorithms
        from cryptography.hazmat.primitives.cmac import CMAC
        c = CMAC(algorithms.AES(key))
        c.update(msg)
        return c.finalize()
    return hashlib.new(alg.lower(), key + msg).digest()


def signed(op, data, keyid, alg, key, **kw):
    """A request with data padded to 8, key id and MAC (NTPsec's layout)."""
    p = pkt(op, data, **kw)
    p += b"\0" * (-len(p) % 8)
    return p + struct.pack("!I", keyid) + mac(alg, key, p)


KEY3 = ("AES", bytes.fromhex("2450c2ae8f928858877f1b7bf8f6af79"))
KEY2 = ("SHA1", bytes.fromhex("8bb9956fb1c117e638fb115ea395d8b08105ee68"))


class Cli:
    """A UDP socket bound to src that sends to the ntpd under test."""

    def __init__(self, src, dst):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((src, 0))
        self.dst = (dst, PORT)
        self.seq = 0

    def drain(self):
        self.s.setblocking(False)
        try:
            while True:
                self.s.recv(2048)
        except OSError:
            pass
        self.s.setblocking(True)

    def xchg(self, p, wait=0.5):
        """Sends p; returns every datagram received until wait s pass without one (0.05 s
        after a datagram without M, the last of a response)."""
        self.drain()
        self.s.sendto(p, self.dst)
        out, t = [], wait
        while True:
            self.s.settimeout(t)
            try:
                d = self.s.recv(4096)
            except OSError:
                return out
            out.append(d)
            t = 0.05 if len(d) >= 2 and not d[1] & M else wait

    def ask(self, op, data=b"", **kw):
        self.seq += 1
        return self.xchg(pkt(op, data, seq=self.seq, **kw))


def parse(d):
    b0, b1, seq, st, assoc, off, cnt = struct.unpack("!BBHHHHH", d[:12])
    return {"mode": b0 & 7, "r": bool(b1 & R), "e": bool(b1 & E), "m": bool(b1 & M),
            "op": b1 & 31, "seq": seq, "status": st, "assoc": assoc, "off": off,
            "count": cnt, "data": d[12:12 + cnt], "len": len(d)}


def total(resp):
    return sum(len(d) for d in resp)


def summ(resp):
    """'none', 'error NAME', or 'data' (every datagram a response without E)."""
    if not resp:
        return "none"
    ps = [parse(d) for d in resp]
    if len(ps) == 1 and ps[0]["e"]:
        return "error " + CERR.get(ps[0]["status"] >> 8, str(ps[0]["status"] >> 8))
    if all(p["r"] and not p["e"] for p in ps):
        return "data"
    return "odd " + repr([(p["r"], p["e"], p["m"], p["status"]) for p in ps])


def text(resp):
    return b"".join(parse(d)["data"] for d in sorted(resp, key=lambda d: parse(d)["off"]))


def check(desc, want, got):
    global OK, FAILS
    if want == got:
        OK += 1
        print("ok   - %s: %s" % (desc, got))
    else:
        FAILS += 1
        print("FAIL - %s: expected %r, got %r" % (desc, want, got))
    sys.stdout.flush()


def check_true(desc, cond, info=""):
    check(desc + (" (%s)" % info if info else ""), True, bool(cond))


def numctlreq(c):
    """ss_numctlreq (mode-6 datagrams received by ntpd, this request included)."""
    t = text(c.ask(2, "ss_numctlreq")).decode()
    return int(t.split("=")[1]) if t.startswith("ss_numctlreq=") else -1


def finish():
    print("PYCHECKS %d %d" % (OK, FAILS))
