#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Package test (ntpd.service is Type=notify): systemd's side of the readiness protocol, played by a datagram socket in $NOTIFY_SOCKET.
# `ntpd -n --observe` in a network namespace of its own must send READY=1 within 10 s, from
# its own pid (what systemd's NotifyAccess=main accepts: no fork in between), and, when
# stopped with SIGTERM, STOPPING=1 before it exits. Skipped (77) when not root or without
# namespaces or python3.
# Usage: notify.sh NTPD
set -euo pipefail
ntpd=$1
if [ "$(id -u)" -ne 0 ] || ! unshare -n true 2>/dev/null; then echo "SKIP: needs root and netns"; exit 77; fi
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
printf 'server 127.0.0.1\nrestrict default kod nomodify nopeer noquery limited\n' >"$tmp/ntp.conf"

# The listener prints "PID MESSAGE" per datagram (the sender's pid from SCM_CREDENTIALS),
# for at most 15 s or until STOPPING=1.
cat >"$tmp/listen.py" <<'PY'
import socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(sys.argv[1])
end = time.monotonic() + 15
while time.monotonic() < end:
    s.settimeout(max(0.01, end - time.monotonic()))
    try:
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    except socket.timeout:
        break
    pid = 0
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", payload[:12])[0]
    print(pid, data.decode(errors="replace"), flush=True)
    if b"STOPPING=1" in data:
        break
PY
cat >"$tmp/run.sh" <<'SH'
set -u
tmp=$1 ntpd=$2
ip link set lo up
python3 "$tmp/listen.py" "$tmp/notify" >"$tmp/msgs" &
l=$!
i=0
while [ ! -S "$tmp/notify" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
NOTIFY_SOCKET=$tmp/notify "$ntpd" -n --observe -c "$tmp/ntp.conf" 2>"$tmp/ntpd.log" &
p=$!
echo "$p" >"$tmp/pid"
i=0
while ! grep -q 'READY=1' "$tmp/msgs" && [ $i -lt 100 ] && kill -0 $p 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
done
kill $p 2>/dev/null
wait $p
echo "$?" >"$tmp/status"
wait $l
SH
unshare -n bash "$tmp/run.sh" "$tmp" "$ntpd" || true
pid=$(cat "$tmp/pid")
grep -qx "$pid READY=1" "$tmp/msgs" ||
    { cat "$tmp/msgs" "$tmp/ntpd.log"; fail "no READY=1 from ntpd's pid $pid"; }
grep -qx "$pid STOPPING=1" "$tmp/msgs" || { cat "$tmp/msgs"; fail "no STOPPING=1 on SIGTERM"; }
[ "$(cat "$tmp/status")" = 0 ] || fail "ntpd exit status $(cat "$tmp/status")"
echo "ntpd sent: $(cut -d' ' -f2- "$tmp/msgs" | tr '\n' ' ')"
