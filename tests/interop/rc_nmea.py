#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# A fake NMEA 0183 receiver for refclock_gpsd.sh: serves one GPRMC, GPGGA, GPZDA set a second
# (correct checksums, the time of each set is the whole second at which it is sent) to the
# first TCP client of 127.0.0.1:PORT, and appends every sentence it sends to LOG.
# gpsd 3.22 exports time to NTP for such a tcp:// source, not for gpsfake's pseudo-terminals.
#
# Usage: rc_nmea.py PORT SECONDS LOG   (prints "listening" once bound, then a line a set)
import datetime
import socket
import sys
import time


def sentence(body):
    check = 0
    for ch in body.encode():
        check ^= ch
    return "$%s*%02X\r\n" % (body, check)


def fix_set(sec):
    t = datetime.datetime.fromtimestamp(sec, datetime.timezone.utc)
    hms = t.strftime("%H%M%S.00")
    return (sentence("GPRMC,%s,A,4807.038,N,01131.000,E,000.0,000.0,%s,,,A"
                     % (hms, t.strftime("%d%m%y")))
            + sentence("GPGGA,%s,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,"
                       % hms)
            + sentence("GPZDA,%s,%s,00,00" % (hms, t.strftime("%d,%m,%Y"))))


def main():
    port, seconds, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    srv.settimeout(30)
    print("listening", flush=True)
    conn, _ = srv.accept()
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with open(log, "w", newline="") as out:
        for _ in range(seconds):
            sec = int(time.time()) + 1
            time.sleep(max(0.0, sec - time.time()))
            text = fix_set(sec)
            try:
                conn.sendall(text.encode())
            except OSError as e:
                print("client gone: %s" % e, flush=True)
                return 1
            out.write(text)
            out.flush()
            print("sent %d at %.6f" % (sec, time.time()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
