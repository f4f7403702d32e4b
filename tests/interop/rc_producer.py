#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# Test producer for ntpd's reference clocks (tests/interop/refclock_*.sh): writes samples with
# a known offset and jitter into the ntpd SHM segment (key 0x4e545030 + unit, struct shmTime,
# modes 0 and 1) or as chrony's SOCK datagrams (struct sock_sample) to a socket, and bad ones
# on demand. Each sample's reference time is the local time plus OFFSET plus a uniform jitter
# in [-JITTER, +JITTER].
#
# Usage: rc_producer.py shm UNIT KIND SECONDS [OFFSET JITTER]
#        rc_producer.py sock PATH KIND SECONDS [OFFSET JITTER]
# KIND (shm): good0 good1 (mode 0 / 1), badmode (mode 2), wild (microseconds 2000000), far
#   (the reference 5 h from the receive time), none (valid left 0). (A count moving while
#   ntpd reads needs a writer faster than Python: refclock_shm.sh compiles one.)
# KIND (sock): good, badmagic, badsize (39 bytes), wild (tv_usec 2000000), leap (leap 7),
#   none (nothing sent).
# One sample per second for SECONDS; prints a line per sample to stdout.
import ctypes
import random
import socket
import struct
import sys
import time

KEY = 0x4E545030


class ShmTime(ctypes.Structure):
    # The native layout (LP64, 64-bit time_t), as gpsd's and NTPsec's ntpshm.h.
    _fields_ = [
        ("mode", ctypes.c_int),
        ("count", ctypes.c_int),
        ("clockTimeStampSec", ctypes.c_long),
        ("clockTimeStampUSec", ctypes.c_int),
        ("receiveTimeStampSec", ctypes.c_long),
        ("receiveTimeStampUSec", ctypes.c_int),
        ("leap", ctypes.c_int),
        ("precision", ctypes.c_int),
        ("nsamples", ctypes.c_int),
        ("valid", ctypes.c_int),
        ("clockTimeStampNSec", ctypes.c_uint),
        ("receiveTimeStampNSec", ctypes.c_uint),
        ("dummy", ctypes.c_int * 8),
    ]


def attach(unit):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmget.restype = ctypes.c_int
    libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    perm = 0o600 if unit < 2 else 0o666
    shmid = libc.shmget(KEY + unit, ctypes.sizeof(ShmTime), 0o1000 | perm)  # IPC_CREAT
    if shmid < 0:
        sys.exit("shmget: errno %d" % ctypes.get_errno())
    p = libc.shmat(shmid, None, 0)
    if p in (None, ctypes.c_void_p(-1).value):
        sys.exit("shmat: errno %d" % ctypes.get_errno())
    return ShmTime.from_address(p)


def split(t):
    sec = int(t // 1)
    ns = int(round((t - sec) * 1e9))
    if ns >= 1000000000:
        sec, ns = sec + 1, ns - 1000000000
    return sec, ns


def shm_write(seg, kind, offset, jitter):
    local = time.time()
    ref = local + offset + random.uniform(-jitter, jitter)
    if kind == "far":
        ref += 5 * 3600
    rs, rns = split(local)
    cs, cns = split(ref)
    mode = {"good1": 1, "badmode": 2}.get(kind, 0)
    seg.valid = 0
    seg.count += 1
    seg.mode = mode
    seg.clockTimeStampSec, seg.clockTimeStampNSec = cs, cns
    seg.clockTimeStampUSec = 2000000 if kind == "wild" else cns // 1000
    seg.receiveTimeStampSec, seg.receiveTimeStampNSec = rs, rns
    seg.receiveTimeStampUSec = rns // 1000
    seg.leap, seg.precision, seg.nsamples = 0, -20, 3
    seg.count += 1
    if kind != "none":
        seg.valid = 1
    return ref - local


def run_shm(unit, kind, seconds, offset, jitter):
    seg = attach(unit)
    end = time.time() + seconds
    while time.time() < end:
        d = shm_write(seg, kind, offset, jitter)
        print("shm unit %d %s offset %+.9f" % (unit, kind, d), flush=True)
        time.sleep(1)


def run_sock(path, kind, seconds, offset, jitter):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    end = time.time() + seconds
    while time.time() < end:
        local = time.time()
        sec, ns = split(local)
        off = offset + random.uniform(-jitter, jitter)
        usec = 2000000 if kind == "wild" else ns // 1000
        leap = 7 if kind == "leap" else 0
        magic = 0x4B434F53 if kind == "badmagic" else 0x534F434B
        d = struct.pack("=qqdiiii", sec, usec, off, 0, leap, 0, magic)
        if kind == "badsize":
            d = d[:39]
        try:
            if kind != "none":
                s.sendto(d, path)
        except OSError as e:
            print("sendto %s: %s" % (path, e), flush=True)
        else:
            print("sock %s %s offset %+.9f" % (path, kind, off), flush=True)
        time.sleep(1)


def main():
    a = sys.argv[1:]
    if len(a) not in (4, 6) or a[0] not in ("shm", "sock"):
        sys.exit(__doc__ if __doc__ else "usage: see the header")
    offset, jitter = (float(a[4]), float(a[5])) if len(a) == 6 else (0.0025, 20e-6)
    if a[0] == "shm":
        run_shm(int(a[1]), a[2], float(a[3]), offset, jitter)
    else:
        run_sock(a[1], a[2], float(a[3]), offset, jitter)


main()
