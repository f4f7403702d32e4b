#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark: ntpkit's ntpq against NTPsec 1.2.2's (Python) and chronyc 4.3, side by side in one
# run, inside a private network namespace with CAP_SYS_TIME dropped. Our ntpd (--observe) on
# 127.0.0.2 has 10 associations (chronyd on 127.0.0.1 and nine silent addresses); a chronyd
# on 127.0.0.3 has the same 10 sources for `chronyc sources`. Measured with hyperfine
# (-N, RUNS runs, interleaved): `ntpq -n -p` and `ntpq -n -c rv` by both ntpqs against our
# ntpd, and `chronyc -n sources` against that chronyd. Then our ntpd's client list is filled
# with MRU_CLIENTS addresses by bench/ntpload (127.1.0.1 upwards) and `ntpq -n -c mrulist` by
# both is timed once each (bounded by MRU_TIMEOUT s; a tool that fails or times out is
# reported as such). Prints a Markdown table with the ratios and issue 6's targets (ours
# >= 30x faster than NTPsec's ntpq, no slower than chronyc; mrulist completes and faster).
# Bounded: the whole script runs under NTK_BENCH_TIMEOUT seconds; daemons stopped by PID.
# Needs root (unshare), capsh, ip, hyperfine, and the peers unpacked by scripts/peers.
# Usage: bench/ntpq.sh [BUILD_DIR]     (default: build/ in the source tree)
# Environment: NTK_PEERS (/var/cache/ntpkit-peers), RUNS (20), MRU_CLIENTS (100000),
#   MRU_TIMEOUT (600), NTK_BENCH_TIMEOUT (1500)
set -euo pipefail
export LC_ALL=C
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
peers=${NTK_PEERS:-/var/cache/ntpkit-peers}
runs=${RUNS:-20}
mru_clients=${MRU_CLIENTS:-100000}
mru_timeout=${MRU_TIMEOUT:-600}
limit=${NTK_BENCH_TIMEOUT:-1500}
ntpq=$build/cli/ntpq/ntpq
ntpd=$build/daemon/io/ntpd
load=$build/bench/ntpload
chronyd=$peers/chrony/usr/sbin/chronyd
chronyc=$peers/chrony/usr/bin/chronyc
theirs=$peers/ntpsec/usr/bin/ntpq
pypath=$peers/python3-ntp/usr/lib/python3/dist-packages
py=/usr/bin/python3

die() {
  echo "bench: $*" >&2
  exit 1
}

if [ "${NTK_BENCH_INNER:-}" != 1 ]; then
  [ "$(id -u)" -eq 0 ] || die "needs root for unshare (a private network namespace)"
  for f in "$ntpq" "$ntpd" "$load"; do [ -x "$f" ] || die "$f not built (cmake --build $build)"; done
  for f in "$theirs" "$chronyd" "$chronyc" "$pypath/ntp/packet.py"; do
    [ -e "$f" ] || die "$f missing: run scripts/peers first"
  done
  for c in unshare capsh ip timeout hyperfine "$py"; do
    command -v "$c" >/dev/null || die "$c not found"
  done
  export NTK_BENCH_INNER=1
  exec timeout -k 10 "$limit" unshare -n -m capsh --drop=cap_sys_time -- "$0" "$build"
fi

capbnd=$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)
(((0x$capbnd >> 25) & 1)) && die "CAP_SYS_TIME is still in the bounding set"
ip link set lo up
for i in 2 3; do ip addr add "127.0.0.$i/32" dev lo; done
tmp=$(mktemp -d)
mkdir -m 700 "$tmp/cmd" # chronyd wants its command socket's directory private
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The sources: chronyd A (reachable) and nine addresses where nothing answers.
silent=()
for i in $(seq 11 19); do silent+=("127.0.0.$i"); done
cat >"$tmp/a.conf" <<EOF
local stratum 1
allow all
bindaddress 127.0.0.1
port 123
cmdport 0
bindcmdaddress /
pidfile $tmp/a.pid
EOF
timeout "$limit" "$chronyd" -d -x -u root -f "$tmp/a.conf" >"$tmp/a.log" 2>&1 &
pids+=($!)
{
  echo "port 0"
  echo "bindcmdaddress $tmp/cmd/b.sock"
  echo "pidfile $tmp/b.pid"
  echo "server 127.0.0.1 iburst minpoll 4 maxpoll 4"
  for a in "${silent[@]}"; do echo "server $a minpoll 4 maxpoll 4"; done
} >"$tmp/b.conf"
timeout "$limit" "$chronyd" -d -x -u root -f "$tmp/b.conf" >"$tmp/b.log" 2>&1 &
pids+=($!)
{
  echo "interface ignore wildcard"
  echo "interface ignore ipv6"
  echo "interface ignore 127.0.0.1"
  echo "interface listen 127.0.0.2"
  echo "restrict default nopeer"
  echo "mru maxdepth $((mru_clients + 1000)) maxmem $(((mru_clients + 1000) / 4 + 1024)) minage 1"
  echo "server 127.0.0.1 iburst minpoll 4 maxpoll 4"
  for a in "${silent[@]}"; do echo "server $a minpoll 4 maxpoll 4"; done
} >"$tmp/ntp.conf"
timeout "$limit" "$ntpd" --observe -n -c "$tmp/ntp.conf" >"$tmp/ntpd.log" 2>&1 &
pids+=($!)

export PYTHONPATH=$pypath
ours_p=("$ntpq" -n -p 127.0.0.2)
theirs_p=("$py" "$theirs" -n -p 127.0.0.2)
ours_rv=("$ntpq" -n -c rv 127.0.0.2)
theirs_rv=("$py" "$theirs" -n -c rv 127.0.0.2)
chrony_src=("$chronyc" -n -h "$tmp/cmd/b.sock" sources)
ready=0
for _ in $(seq 100); do
  if "${ours_p[@]}" 2>/dev/null | grep -q '^\*127\.0\.0\.1' &&
    "${chrony_src[@]}" 2>/dev/null | grep -q '^\^\* 127\.0\.0\.1'; then
    ready=1
    break
  fi
  sleep 0.2
done
[ "$ready" -eq 1 ] || {
  cat "$tmp/ntpd.log" "$tmp/b.log" >&2
  die "our ntpd or chronyd B did not select 127.0.0.1 within 20 s"
}
"${theirs_p[@]}" >"$tmp/theirs_p.txt" 2>&1 || die "NTPsec's ntpq -p failed: $(cat "$tmp/theirs_p.txt")"
[ "$(grep -c '^[ *+#x.-]1' "$tmp/theirs_p.txt")" -ge 10 ] ||
  die "NTPsec's ntpq -p shows fewer than 10 associations: $(cat "$tmp/theirs_p.txt")"

hyperfine -N --style none --warmup 2 --runs "$runs" --export-json "$tmp/h.json" \
  "${ours_p[*]}" "${theirs_p[*]}" "${ours_rv[*]}" "${theirs_rv[*]}" "${chrony_src[*]}" \
  >/dev/null 2>"$tmp/hyperfine.err" || {
  cat "$tmp/hyperfine.err" >&2
  die "hyperfine failed"
}

# The client list: MRU_CLIENTS addresses, each a few requests.
"$load" -a 127.0.0.2 -p 123 -c "$mru_clients" -r 50000 -d $((mru_clients / 25000 + 2)) -w 64 \
  -t 200 >"$tmp/load.txt" 2>&1 || true
mru_run() { # NAME CMD...: one timed mrulist; "seconds rows" or "failed"/"timeout"
  local name=$1 t0 t1 rc=0
  shift
  t0=$EPOCHREALTIME
  timeout "$mru_timeout" "$@" >"$tmp/mru_$name.txt" 2>"$tmp/mru_$name.err" || rc=$?
  t1=$EPOCHREALTIME
  local rows
  rows=$(grep -c '^ *[0-9]' "$tmp/mru_$name.txt" || true)
  if [ "$rc" -eq 124 ]; then echo "timeout $rows"; elif [ "$rc" -ne 0 ]; then echo "failed $rows"; else
    echo "$(((${t1/./} - ${t0/./}) / 1000)) $rows"
  fi
}
mru_ours=$(mru_run ours "$ntpq" -n -c mrulist 127.0.0.2)
mru_theirs=$(mru_run theirs "$py" "$theirs" -n -c mrulist 127.0.0.2)

echo "## ntpq ($(date -u +%Y-%m-%d))"
echo
echo "Machine: $(nproc) cores, Linux $(uname -r). Our ntpd (--observe) on 127.0.0.2 with 10"
echo "associations; chronyd 4.3 with the same 10 sources for chronyc. hyperfine -N, $runs runs."
echo "Load for the client list: $(tail -n1 "$tmp/load.txt")"
echo
"$py" - "$tmp/h.json" "$mru_ours" "$mru_theirs" "$mru_clients" <<'PY'
import json, statistics, sys
res = json.load(open(sys.argv[1]))["results"]
med = [statistics.median(r["times"]) * 1e3 for r in res]
ours_p, theirs_p, ours_rv, theirs_rv, chrony = med
print("| command | ntpkit ntpq | NTPsec 1.2.2 ntpq | chronyc 4.3 sources | NTPsec / ntpkit | chronyc / ntpkit |")
print("|---|---:|---:|---:|---:|---:|")
print(f"| -p (10 associations), median | {ours_p:.2f} ms | {theirs_p:.1f} ms | {chrony:.2f} ms | {theirs_p/ours_p:.1f}x | {chrony/ours_p:.2f} |")
print(f"| -c rv, median | {ours_rv:.2f} ms | {theirs_rv:.1f} ms | | {theirs_rv/ours_rv:.1f}x | |")
def mru(s):
    t, rows = s.split()
    return (f"{int(t)/1000:.2f} s, {rows} rows" if t.isdigit() else f"{t} ({rows} rows)"), t
a, ta = mru(sys.argv[2]); b, tb = mru(sys.argv[3])
ratio = f"{int(tb)/int(ta):.1f}x" if ta.isdigit() and tb.isdigit() else "-"
print(f"| mrulist ({sys.argv[4]} clients) | {a} | {b} | | {ratio} | |")
print()
ok30 = theirs_p / ours_p >= 30 and theirs_rv / ours_rv >= 30
okc = ours_p <= chrony
okm = ta.isdigit() and (not tb.isdigit() or int(ta) < int(tb))
print(f"Targets: >= 30x faster than NTPsec's ntpq (-p and rv): {'met' if ok30 else 'NOT met'}; "
      f"no slower than chronyc: {'met' if okc else 'NOT met'}; "
      f"mrulist completes and faster than NTPsec's: {'met' if okm else 'NOT met'}.")
PY
