#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark: one query by ntpkit's ntpdig against one by NTPsec 1.2.2's ntpdig, side by side
# in one run, both asking the same chronyd 4.3 (-x, `local stratum 1`) on 127.0.0.1:123 inside
# a private network namespace, with CAP_SYS_TIME dropped from the bounding set. Measures the
# wall time of one query (RUNS runs each, interleaved; median and p90) with hyperfine when
# installed (in small batches whose order alternates), else with a loop timed by bash's
# $EPOCHREALTIME (no fork per reading), and the peak RSS (/usr/bin/time -f %M, RSS_RUNS runs
# each, interleaved; median). Prints a Markdown table with the ratios and the targets
# (ntpkit >= 20x faster, RSS <= 1/5). Bounded: every run stops by itself, the whole script
# within NTK_BENCH_TIMEOUT seconds; chronyd is stopped by its PID.
# Needs root (unshare -n), capsh, ip, /usr/bin/time, and the peers unpacked by scripts/peers.
# Usage: bench/ntpdig.sh [BUILD_DIR]     (default: build/ in the source tree)
# Environment: NTK_PEERS (default /var/cache/ntpkit-peers), RUNS (30), RSS_RUNS (10),
#   NTK_BENCH_TOOL (hyperfine or loop; default hyperfine when installed), NTK_BENCH_TIMEOUT (900)
set -euo pipefail
export LC_ALL=C
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
peers=${NTK_PEERS:-/var/cache/ntpkit-peers}
runs=${RUNS:-30}
rss_runs=${RSS_RUNS:-10}
limit=${NTK_BENCH_TIMEOUT:-900}
ours=$build/cli/ntpdig/ntpdig
theirs=$peers/ntpsec-ntpdig/usr/bin/ntpdig
chronyd=$peers/chrony/usr/sbin/chronyd
pypath=$peers/python3-ntp/usr/lib/python3/dist-packages
py=/usr/bin/python3 # Debian's, which NTPsec's package is built for

die() {
  echo "bench: $*" >&2
  exit 1
}

# Outside: check what is needed, then run this script again in a new network namespace
# without CAP_SYS_TIME, under a time limit.
if [ "${NTK_BENCH_INNER:-}" != 1 ]; then
  [ "$(id -u)" -eq 0 ] || die "needs root for unshare -n (a private network namespace)"
  [ -x "$ours" ] || die "$ours not built (cmake --build $build)"
  for f in "$theirs" "$chronyd" "$pypath/ntp/packet.py"; do
    [ -e "$f" ] || die "$f missing: run scripts/peers ${NTK_PEERS:-} first"
  done
  for c in unshare capsh ip timeout /usr/bin/time "$py"; do
    command -v "$c" >/dev/null || die "$c not found (apt-get install util-linux libcap2-bin iproute2 coreutils time python3)"
  done
  case "$ours$theirs$py" in *" "*) die "paths with spaces are not supported" ;; esac
  export NTK_BENCH_INNER=1
  exec timeout -k 10 "$limit" unshare -n capsh --drop=cap_sys_time -- "$0" "$build"
fi

# Inside the namespace.
capbnd=$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)
(((0x$capbnd >> 25) & 1)) && die "CAP_SYS_TIME is still in the bounding set"
ip link set lo up
tmp=$(mktemp -d)
cpid=
cleanup() {
  if [ -n "$cpid" ]; then
    kill "$cpid" 2>/dev/null || true
    wait "$cpid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

cat >"$tmp/chrony.conf" <<EOF
local stratum 1
allow 127.0.0.1
bindaddress 127.0.0.1
port 123
cmdport 0
bindcmdaddress /
pidfile $tmp/chronyd.pid
EOF
# -d: foreground, so $! is chronyd itself (under timeout, which passes our TERM on);
# -x: never touch the clock; -u root: no privilege drop to a user that may not exist.
timeout "$limit" "$chronyd" -d -x -u root -f "$tmp/chrony.conf" >"$tmp/chronyd.log" 2>&1 &
cpid=$!

export PYTHONPATH=$pypath
a=("$ours" 127.0.0.1)
b=("$py" "$theirs" 127.0.0.1)
ready=0
for _ in $(seq 50); do
  if "${a[@]}" >/dev/null 2>&1 && "${b[@]}" >/dev/null 2>&1; then
    ready=1
    break
  fi
  sleep 0.1
done
[ "$ready" -eq 1 ] || {
  cat "$tmp/chronyd.log" >&2
  die "chronyd on 127.0.0.1:123 did not answer both clients within 5 s"
}
out_a=$("${a[@]}")
out_b=$("${b[@]}")

# Wall time: one "name<TAB>seconds" line per run in $tmp/times.
batch=5
if [ "${NTK_BENCH_TOOL:-}" != loop ] && command -v hyperfine >/dev/null; then
  tool="hyperfine $(hyperfine --version | cut -d' ' -f2) (-N, batches of $batch, order alternating)"
  for ((i = 0; i * batch < runs; i++)); do
    n=$((runs - i * batch < batch ? runs - i * batch : batch))
    cmds=("${a[*]}" "${b[*]}")
    ((i % 2)) && cmds=("${b[*]}" "${a[*]}")
    # Its warnings (outliers) go to a file, shown only if it fails.
    hyperfine -N --style none --warmup 1 --runs "$n" --export-json "$tmp/h$i.json" \
      "${cmds[@]}" >/dev/null 2>"$tmp/hyperfine.err" || {
      cat "$tmp/hyperfine.err" >&2
      die "hyperfine failed"
    }
  done
  "$py" - "$ours" "$tmp"/h*.json >"$tmp/times" <<'PY'
import json, sys
for f in sys.argv[2:]:
    for r in json.load(open(f))["results"]:
        name = "ours" if r["command"].startswith(sys.argv[1]) else "ntpsec"
        for t in r["times"]:
            print(f"{name}\t{t}")
PY
else
  tool="bash loop timed by \$EPOCHREALTIME (order alternating)"
  "${a[@]}" >/dev/null && "${b[@]}" >/dev/null # warm-up
  for ((i = 0; i < runs; i++)); do
    order=(ours ntpsec)
    ((i % 2)) && order=(ntpsec ours)
    for who in "${order[@]}"; do
      if [ "$who" = ours ]; then cmd=("${a[@]}"); else cmd=("${b[@]}"); fi
      t0=$EPOCHREALTIME
      "${cmd[@]}" >/dev/null 2>&1 || die "${cmd[*]} failed"
      t1=$EPOCHREALTIME
      printf '%s\t%d.%06d\n' "$who" $(((${t1/./} - ${t0/./}) / 1000000)) \
        $(((${t1/./} - ${t0/./}) % 1000000)) >>"$tmp/times"
    done
  done
fi

# Peak RSS in KiB: one "name<TAB>kib" line per run in $tmp/rss.
for ((i = 0; i < rss_runs; i++)); do
  /usr/bin/time -f %M -o "$tmp/m" "${a[@]}" >/dev/null 2>&1 || die "${a[*]} failed"
  printf 'ours\t%s\n' "$(tail -n1 "$tmp/m")" >>"$tmp/rss"
  /usr/bin/time -f %M -o "$tmp/m" "${b[@]}" >/dev/null 2>&1 || die "${b[*]} failed"
  printf 'ntpsec\t%s\n' "$(tail -n1 "$tmp/m")" >>"$tmp/rss"
done

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
ver_a=$("$ours" -V)
ver_b=$("${b[0]}" "${b[1]}" -V)
echo "## ntpdig: one query to chronyd on 127.0.0.1 ($(date -u +%Y-%m-%d))"
echo
echo "Machine: $(nproc) cores, ${cpu:-unknown CPU}, Linux $(uname -r). Server: $("$chronyd" -v |
  cut -d' ' -f1-4) -x, local stratum 1, in a private network namespace; CAP_SYS_TIME dropped."
echo "Clients: \`$ver_a\` ($build), \`$ver_b\` (Python $("$py" -c 'import platform; print(platform.python_version())'))."
echo "Timing: $tool, $runs runs each; RSS: /usr/bin/time -f %M, $rss_runs runs each."
echo
echo "Sample output, ntpkit: \`$out_a\`"
echo "Sample output, NTPsec: \`$out_b\`"
echo
"$py" - "$tmp/times" "$tmp/rss" <<'PY'
import math, sys
def load(path):
    d = {}
    for line in open(path):
        k, v = line.split("\t")
        d.setdefault(k, []).append(float(v))
    return d
def median(v):
    v = sorted(v); n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
def p90(v):
    v = sorted(v)
    return v[max(0, math.ceil(0.9 * len(v)) - 1)]  # nearest rank
t, m = load(sys.argv[1]), load(sys.argv[2])
rows = [
    ("wall time, median", median(t["ours"]) * 1e3, median(t["ntpsec"]) * 1e3, "ms"),
    ("wall time, p90", p90(t["ours"]) * 1e3, p90(t["ntpsec"]) * 1e3, "ms"),
    ("wall time, min", min(t["ours"]) * 1e3, min(t["ntpsec"]) * 1e3, "ms"),
    ("peak RSS, median", median(m["ours"]) / 1024, median(m["ntpsec"]) / 1024, "MiB"),
]
print("| | ntpkit ntpdig | NTPsec 1.2.2 ntpdig | NTPsec / ntpkit |")
print("|---|---:|---:|---:|")
for name, a, b, unit in rows:
    print(f"| {name} | {a:.2f} {unit} | {b:.2f} {unit} | {b / a:.1f}x |")
speed = median(t["ntpsec"]) / median(t["ours"])
mem = median(m["ntpsec"]) / median(m["ours"])
print()
print(f"Targets: ntpkit at least 20x faster (median): {'met' if speed >= 20 else 'NOT met'} "
      f"({speed:.0f}x); peak RSS at most 1/5 of NTPsec's: "
      f"{'met' if mem >= 5 else 'NOT met'} (1/{mem:.1f}).")
PY
