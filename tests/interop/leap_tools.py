#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# Test helpers for ntpd_leap_ntpsec.sh.
#
# leap_tools.py file BASE OUT UPDATED EXPIRES [NTP:TAI ...]
#   Writes a leap-seconds.list: BASE's data lines (the real file), then the extra entries,
#   with #$ UPDATED and #@ EXPIRES (NTP seconds) and the #h hash as NIST computes it (SHA-1
#   over the digits of #$, #@ and the first two fields of each data line).
# leap_tools.py server ADDR PORT LI SECONDS READY
#   A stratum-1 NTP server (refid GPS) answering every mode-3 request with leap indicator LI
#   and the local clock's time, for SECONDS; creates READY once bound. It stands for a GPS
#   server announcing a leap second: no peer we can run sets the bits on a chosen day.
import hashlib
import socket
import struct
import sys
import time

NTP_UNIX = 2208988800


def leap_file(base, out, updated, expires, extra):
    data = [line.split()[:2] for line in open(base) if line[:1].isdigit()]
    data += [e.split(':') for e in extra]
    h = hashlib.sha1()
    for field in [str(updated), str(expires)] + [f for d in data for f in d]:
        h.update(field.encode())
    digest = h.hexdigest()
    words = ' '.join('%x' % int(digest[i:i + 8], 16) for i in range(0, 40, 8))
    with open(out, 'w') as f:
        f.write('#\tleap-seconds.list made by ntpd_leap_ntpsec.sh\n')
        f.write('#$\t%d\n#@\t%d\n' % (updated, expires))
        for ntp, tai in data:
            f.write('%s\t%s\n' % (ntp, tai))
        f.write('#h\t%s\n' % words)


def ntp_ts(t):
    s = int(t)
    return ((s + NTP_UNIX) << 32) | int((t - s) * 2**32)


def server(addr, port, li, seconds, ready):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(1)
    open(ready, 'w').close()
    end = time.time() + seconds
    while time.time() < end:
        try:
            req, peer = s.recvfrom(1024)
        except socket.timeout:
            continue
        rx = time.time()
        if len(req) < 48 or req[0] & 7 != 3:
            continue
        vn = (req[0] >> 3) & 7
        head = struct.pack('!BBbbII4sQQQ', (li << 6) | (vn << 3) | 4, 1, req[2], -20, 0, 16,
                           b'GPS\0', ntp_ts(rx - 8), struct.unpack('!Q', req[40:48])[0],
                           ntp_ts(rx))
        s.sendto(head + struct.pack('!Q', ntp_ts(time.time())), peer)


if __name__ == '__main__':
    a = sys.argv
    if len(a) >= 6 and a[1] == 'file':
        leap_file(a[2], a[3], int(a[4]), int(a[5]), a[6:])
    elif len(a) == 7 and a[1] == 'server':
        server(a[2], int(a[3]), int(a[4]), float(a[5]), a[6])
    else:
        sys.exit('usage: leap_tools.py file BASE OUT UPDATED EXPIRES [NTP:TAI ...] | '
                 'server ADDR PORT LI SECONDS READY')
