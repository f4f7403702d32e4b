#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark: ntpkit_exporter in front of an NTP daemon with 10, 64 and 100 sources, inside a
# private network namespace with CAP_SYS_TIME dropped: our ntpd (--observe) for 10 and 64
# (its limit: 64 server lines), NTPsec 1.2.2's ntpd for 64 and 100. chronyd 4.3 on 127.0.0.1
# is the one source that answers; the others are `server 127.0.1.N` lines where nothing
# listens (a source need not answer to be an association with every variable). Our ntpd takes
# 64 server lines at most and NTPsec refuses 127.x sources other than 127.0.0.1, so the
# 100-source row reads a mode-6 stand-in (Python, below) that answers READSTAT with 100
# associations and READVAR with NTPsec-named variables. For each: the
# latency of SCRAPES scrapes of /metrics by one curl process over one kept-alive connection
# (as Prometheus scrapes; each scrape is a full mode-6 read of the daemon: READSTAT, READVAR
# 0, one READVAR per association, the counters), p50 and p99; then wrk on /metrics for
# WRK_SECONDS s (2 threads, 10 connections); the exporter's RSS (VmRSS after, VmHWM peak).
# Prints a Markdown table with issue 8's targets (a scrape < 5 ms with 100 sources, RSS <
# 10 MB). Bounded: the whole script runs under NTK_BENCH_TIMEOUT s; processes stopped by PID.
# Needs root (unshare), capsh, ip, curl, wrk, python3, and the peers unpacked by scripts/peers.
# Usage: bench/exporter.sh [BUILD_DIR]     (default: build/ in the source tree)
# Environment: NTK_PEERS (/var/cache/ntpkit-peers), SCRAPES (200), WRK_SECONDS (10),
#   NTK_BENCH_TIMEOUT (300), ENTRIES ("10:ours 64:ours 100:standin": SOURCES:DAEMON, DAEMON
#   ours, ntpsec or standin)
set -euo pipefail
export LC_ALL=C
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
peers=${NTK_PEERS:-/var/cache/ntpkit-peers}
scrapes=${SCRAPES:-200}
wrk_s=${WRK_SECONDS:-10}
limit=${NTK_BENCH_TIMEOUT:-300}
ntpd=$build/daemon/io/ntpd
ntpsec=$peers/ntpsec/usr/sbin/ntpd
exporter=$build/exporters/ntpkit_exporter
chronyd=$peers/chrony/usr/sbin/chronyd

die() {
  echo "bench: $*" >&2
  exit 1
}

if [ "${NTK_BENCH_INNER:-}" != 1 ]; then
  [ "$(id -u)" -eq 0 ] || die "needs root for unshare (a private network namespace)"
  for f in "$ntpd" "$exporter"; do [ -x "$f" ] || die "$f not built (cmake --build $build)"; done
  for f in "$chronyd" "$ntpsec"; do [ -x "$f" ] || die "$f missing: run scripts/peers first"; done
  for c in unshare capsh ip timeout curl wrk; do
    command -v "$c" >/dev/null || die "$c not found"
  done
  export NTK_BENCH_INNER=1
  exec timeout -k 10 "$limit" unshare -n -m capsh --drop=cap_sys_time -- "$0" "$build"
fi

capbnd=$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)
(((0x$capbnd >> 25) & 1)) && die "CAP_SYS_TIME is still in the bounding set"
ip link set lo up
ip addr add 127.0.0.2/32 dev lo
# Our ntpd on 127.0.0.2 reaches chronyd from its own address, the exporter it from 127.0.0.1.
ip route replace local 127.0.0.2 dev lo table local proto kernel scope host src 127.0.0.1
# NTPsec's ntpd must reach chronyd from 127.0.0.2, the address it has (tests/data/README.md).
ip route replace local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.2
tmp=$(mktemp -d)
pids=()
stop() { # PID...
  local p
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  for p in "$@"; do wait "$p" 2>/dev/null || true; done
}
cleanup() {
  stop "${pids[@]}"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

cat >"$tmp/chrony.conf" <<EOF
local stratum 1
allow all
bindaddress 127.0.0.1
port 123
cmdport 0
bindcmdaddress /
pidfile $tmp/chronyd.pid
EOF
"$chronyd" -4 -x -d -u root -f "$tmp/chrony.conf" >"$tmp/chronyd.log" 2>&1 &
pids+=("$!")

# ms_stats FILE: "p50 p99 mean" in ms of the seconds in FILE (one per line).
ms_stats() {
  sort -g "$1" | awk '{ v[NR] = $1 * 1000; s += $1 * 1000 }
    END { i50 = int(NR * 0.50 + 0.5); i99 = int(NR * 0.99 + 0.5); if (i99 > NR) i99 = NR
          printf "%.2f %.2f %.2f\n", v[i50], v[i99], s / NR }'
}

# start_daemon N KIND: our ntpd ("ours") or NTPsec's ("ntpsec") on 127.0.0.2 with N sources;
# sets dpid.
start_daemon() {
  local n=$1 kind=$2 i c=$tmp/ntp-$1-$2.conf
  {
    if [ "$kind" = standin ]; then
      :
    elif [ "$kind" = ours ]; then
      printf '%s\n' "interface ignore wildcard" "interface ignore ipv6" \
        "interface ignore 127.0.0.1" "interface listen 127.0.0.2" "restrict default nopeer"
    else
      printf '%s\n' "disable ntp" "disable kernel" "interface ignore wildcard" \
        "interface ignore ipv6" "interface ignore 127.0.0.1" "interface listen 127.0.0.2" \
        "restrict default"
    fi
    echo "restrict 127.0.0.1"
    echo "server 127.0.0.1 iburst minpoll 4 maxpoll 4"
    for i in $(seq 2 "$n"); do echo "server 127.0.1.$i minpoll 4 maxpoll 4"; done
  } >"$c"
  if [ "$kind" = standin ]; then
    /usr/bin/python3 "$tmp/m6standin.py" 127.0.0.2 "$n" >"$c.log" 2>&1 &
  elif [ "$kind" = ours ]; then
    NTK_NTPD_PORT=123 "$ntpd" --observe -n -c "$c" -p "$c.pid" >"$c.log" 2>&1 &
  else
    "$ntpsec" -n -c "$c" -l "$c.log" -p "$c.pid" >"$c.out" 2>&1 &
  fi
  dpid=$!
  pids+=("$dpid")
}

cat >"$tmp/m6standin.py" <<'PY'
import socket, struct, sys
addr, n = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 123))
SYS = ('version="ntpd stand-in", processor="x86_64", system="Linux", leap=0, stratum=2, '
       'precision=-24, rootdelay=0.123, rootdisp=1.234, refid=127.0.0.1, '
       'reftime=0xed0f5b3a.12345678, clock=0xed0f5b40.12345678, peer=1, tc=6, mintc=3, '
       'offset=0.001234, frequency=-12.345, sys_jitter=0.012, clk_jitter=0.010, '
       'clk_wander=0.001, tai=37, leapsec=201701010000, expire=202612280000')
CTR = ('ss_uptime=1000, ss_received=5000, ss_thisver=4900, ss_oldver=100, ss_badformat=1, '
       'ss_badauth=0, ss_declined=0, ss_restricted=0, ss_limited=0, ss_kodsent=0, '
       'ss_processed=4990, io_received=6000, io_sent=5000, io_sendfailed=0, io_dropped=0, '
       'io_ignored=0, mru_enabled=1, mru_depth=100, mru_deepest=120, mru_mem=10, '
       'mru_maxmem=1024, authdecrypts=0, authencrypts=0, authfails=0, authkeys=0')
def peer(i):
    return ('srcadr=127.0.1.%d, srcport=123, dstadr=127.0.0.2, dstport=123, leap=0, stratum=2, '
            'precision=-24, rootdelay=0.100, rootdisp=0.500, refid=127.0.0.1, '
            'reftime=0xed0f5b3a.12345678, rec=0xed0f5b3a.12345678, reach=0xff, unreach=0, '
            'hmode=3, pmode=4, hpoll=6, ppoll=6, headway=0, flash=0x0, keyid=0, offset=0.123, '
            'delay=0.456, dispersion=1.234, jitter=0.050, xleave=0.010' % i)
def reply(req, opcode, assoc, data, status=0x0615):
    out = []
    data = data.encode() if isinstance(data, str) else data
    off = 0
    while True:
        chunk = data[off:off + 468]
        more = 0x20 if off + len(chunk) < len(data) else 0
        hdr = struct.pack('!BBHHHHH', 0x16, 0x80 | more | opcode, req, status, assoc, off, len(chunk))
        pkt = hdr + chunk + b'\0' * (-len(chunk) % 4)
        out.append(pkt)
        off += len(chunk)
        if not more:
            return out
while True:
    d, a = s.recvfrom(2048)
    if len(d) < 12:
        continue
    _, op, seq, _, assoc, _, cnt = struct.unpack('!BBHHHHH', d[:12])
    op &= 0x1f
    body = d[12:12 + cnt]
    if op == 1:
        data = b''.join(struct.pack('!HH', i + 1, 0x9614 if i == 0 else 0x8011) for i in range(n))
    elif op == 2 and assoc == 0:
        data = CTR if body.strip() else SYS
    elif op == 2 and 1 <= assoc <= n:
        data = peer(assoc)
    else:
        continue
    for p in reply(seq, op, assoc, data):
        s.sendto(p, a)
PY

rows=()
for entry in ${ENTRIES:-10:ours 64:ours 100:standin}; do
  n=${entry%:*}
  kind=${entry#*:}
  start_daemon "$n" "$kind"
  "$exporter" --web.listen-address=127.0.0.1:10123 --ntp.address=127.0.0.2 \
    --log.level=warn >"$tmp/exporter-$n.log" 2>&1 &
  epid=$!
  pids+=("$epid")
  # Wait (bounded, 30 s) for every association and a reached chronyd.
  ok=0
  for _ in $(seq 150); do
    m=$(curl -s --max-time 3 http://127.0.0.1:10123/metrics || true)
    k=$(grep -c '^ntpkit_source_reach_ratio{' <<<"$m" || true)
    if [ "$k" -eq "$n" ] && grep -q '^ntpkit_source_reachable{[^}]*} 1$' <<<"$m"; then
      ok=1
      break
    fi
    sleep 0.2
  done
  [ "$ok" -eq 1 ] || die "$entry: the exporter shows $k associations, not $n ($(tail -n 3 "$tmp/ntp-$n-$kind.conf.log"); $(grep -E "^ntpkit_up" <<<"$m"); $(tail -n 3 "$tmp/exporter-$n.log"))"
  bytes=$(printf '%s\n' "$m" | wc -c)
  urls=()
  for _ in $(seq "$scrapes"); do urls+=(-o /dev/null http://127.0.0.1:10123/metrics); done
  curl -s -w '%{time_total}\n' "${urls[@]}" >"$tmp/lat-$n.txt"
  ups=$(curl -s http://127.0.0.1:10123/metrics | grep -c '^ntpkit_up 1$' || true)
  read -r p50 p99 mean < <(ms_stats "$tmp/lat-$n.txt")
  wrk -t2 -c10 -d"${wrk_s}s" --timeout 5s http://127.0.0.1:10123/metrics >"$tmp/wrk-$n.txt" 2>&1
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$tmp/wrk-$n.txt")
  errs=$(awk '/Non-2xx|Socket errors/ { print }' "$tmp/wrk-$n.txt" | tr '\n' ' ')
  up_after=$(curl -s http://127.0.0.1:10123/metrics | grep -c '^ntpkit_up 1$' || true)
  rss=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$epid/status")
  hwm=$(awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$epid/status")
  anon=$(awk '/^RssAnon:/ { printf "%.1f", $2 / 1024 }' "/proc/$epid/status")
  echo "# $n sources ($kind): $bytes bytes per scrape, ntpkit_up 1 before/after wrk: $ups/$up_after${errs:+; wrk: $errs}" >&2
  rows+=("| $n | $kind | $bytes | $p50 | $p99 | $mean | $rps | $rss | $anon | $hwm |")
  stop "$epid" "$dpid"
done

echo
echo "ntpkit_exporter, $scrapes scrapes of /metrics per size (one kept-alive connection), wrk -t2 -c10 ${wrk_s}s:"
echo
echo "| sources | daemon | bytes | scrape p50 (ms) | scrape p99 (ms) | mean (ms) | wrk req/s | RSS after (MB) | of it anonymous (MB) | RSS peak (MB) |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "Targets (issue 8): scrape < 5 ms with 100 sources; RSS < 10 MB."
