#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark: NTP server throughput on loopback, side by side in one run: a bare echo server
# (bench/ntpecho, the ceiling of this machine and this generator), our ntpd (--observe,
# orphan mode), chronyd 4.3 (-x, local stratum 1) and NTPsec ntpd 1.2.2 (disable ntp/kernel,
# orphan mode). Every server is pinned to CPU SERVER_CPU and the load generator
# (bench/ntpload: WINDOW requests in flight, origin-checked replies) to CPU LOAD_CPU. Measured
# per server: replies/s, p50/p99 latency, lost replies, the server's CPU time per reply
# (utime+stime of /proc/PID/stat over the run / replies), from one client address and from
# CLIENTS distinct addresses (127.1.0.1 upwards), and at a fixed RATE below every server's
# maximum (where CPU per reply measures the work, not 1 / replies/s), ROUNDS rounds in a rotating order (medians
# reported); idle RSS (VmRSS) of each server once it answers. Rate limiting is configured in
# every server (`restrict default kod limited`, chronyd `ratelimit`) but not triggered: see
# the BENCHMARKS.md section. Prints a Markdown table with the ratios and the targets of
# issue 5. Bounded: the whole script runs under NTK_BENCH_TIMEOUT seconds in a private network
# namespace with CAP_SYS_TIME dropped from the bounding set; the servers are stopped by PID.
# Needs root (unshare -n), taskset, capsh, ip, and the peers unpacked by scripts/peers.
# Usage: bench/ntpd-server.sh [BUILD_DIR]     (default: build/ in the source tree)
# Environment: NTK_PEERS (/var/cache/ntpkit-peers), DURATION (5 s per run), ROUNDS (3),
#   WINDOW (64), CLIENTS (10000), RATE (100000 requests/s for the CPU-per-reply run), SERVER_CPU (0), LOAD_CPU (1), NTK_BENCH_TIMEOUT (900),
#   SERVERS (default "echo ours chronyd ntpsec"), OURS_ARGS (extra options for our ntpd, e.g.
#   --coalesce=0), NTK_KEEP=1 (keep the work dir)
set -euo pipefail
export LC_ALL=C
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
peers=${NTK_PEERS:-/var/cache/ntpkit-peers}
limit=${NTK_BENCH_TIMEOUT:-900}
duration=${DURATION:-5}
rounds=${ROUNDS:-3}
window=${WINDOW:-64}
clients=${CLIENTS:-10000}
rate=${RATE:-100000}
scpu=${SERVER_CPU:-0}
lcpu=${LOAD_CPU:-1}
servers=${SERVERS:-echo ours chronyd ntpsec}
ntpd=$build/daemon/io/ntpd
load=$build/bench/ntpload
echo_bin=$build/bench/ntpecho
chronyd=$peers/chrony/usr/sbin/chronyd
ntpsec=$peers/ntpsec/usr/sbin/ntpd

die() {
  echo "bench: $*" >&2
  exit 1
}

if [ "${NTK_BENCH_INNER:-}" != 1 ]; then
  [ "$(id -u)" -eq 0 ] || die "needs root for unshare -n (a private network namespace)"
  for f in "$ntpd" "$load" "$echo_bin"; do
    [ -x "$f" ] || die "$f not built (cmake --build $build)"
  done
  for f in "$chronyd" "$ntpsec"; do
    [ -x "$f" ] || die "$f missing: run scripts/peers first"
  done
  for c in unshare capsh ip timeout taskset; do
    command -v "$c" >/dev/null || die "$c not found (apt-get install util-linux libcap2-bin iproute2 coreutils)"
  done
  export NTK_BENCH_INNER=1
  exec timeout -k 10 "$limit" unshare -n capsh --drop=cap_sys_time -- "$0" "$build"
fi

capbnd=$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)
(((0x$capbnd >> 25) & 1)) && die "CAP_SYS_TIME is still in the bounding set"
ip link set lo up
ip addr add 127.0.0.2/32 dev lo
tmp=$(mktemp -d)
chmod 755 "$tmp"
declare -A pid addr port rss
cleanup() {
  local p
  for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pid[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${NTK_KEEP:-0}" = 1 ]; then echo "bench: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The same policy everywhere: rate limiting with KoD on by default; the generator's
# addresses (127/8) exempt where the per-client limit cannot be set above the load (ours and
# NTPsec: at most 1 request/s per client with `discard average 0`); chronyd's ratelimit at
# its most permissive (2^-19 s, burst 255) applies to every client.
mkdir "$tmp/ours" "$tmp/chronyd" "$tmp/ntpsec"
cat >"$tmp/ours/ntp.conf" <<EOF
tos orphan 5 orphanwait 1
restrict default kod limited
restrict 127.0.0.0 mask 255.0.0.0
discard average 0 minimum 0
EOF
cat >"$tmp/chronyd/chrony.conf" <<EOF
port 2123
bindaddress 127.0.0.1
local stratum 1
allow all
ratelimit interval -19 burst 255 leak 0
cmdport 0
bindcmdaddress /
pidfile $tmp/chronyd/chronyd.pid
EOF
cat >"$tmp/ntpsec/ntp.conf" <<EOF
disable ntp
disable kernel
interface ignore wildcard
interface ignore ipv6
interface ignore 127.0.0.1
interface listen 127.0.0.2
tos orphan 5 orphanwait 1
restrict default kod limited
restrict 127.0.0.0 mask 255.0.0.0
discard average 0 minimum 0
statsdir $tmp/ntpsec/
EOF

start() { # NAME ADDR PORT CMD...
  local n=$1
  addr[$n]=$2
  port[$n]=$3
  shift 3
  taskset -c "$scpu" "$@" >"$tmp/$n.log" 2>&1 &
  pid[$n]=$!
}

for s in $servers; do
  case $s in
  echo) start echo 127.0.0.1 4123 "$echo_bin" 127.0.0.1 4123 "$limit" ;;
  # shellcheck disable=SC2086 # OURS_ARGS: extra options, split on spaces
  ours) start ours 127.0.0.1 1123 env NTK_NTPD_PORT=1123 "$ntpd" -n --observe -c "$tmp/ours/ntp.conf" ${OURS_ARGS:-} ;;
  chronyd) start chronyd 127.0.0.1 2123 "$chronyd" -d -x -u root -f "$tmp/chronyd/chrony.conf" ;;
  ntpsec) start ntpsec 127.0.0.2 123 "$ntpsec" -n -c "$tmp/ntpsec/ntp.conf" -l "$tmp/ntpsec/ntpd.log" ;;
  *) die "unknown server $s" ;;
  esac
done

# Text output of ntpload: "key value" pairs; field KEY of a line.
field() { awk -v k="$2" '{ for (i = 1; i < NF; i += 2) if ($i == k) print $(i + 1) }' <<<"$1"; }

# Ready: one request at a time answered, synchronised, no KoD (bounded: 40 s).
for s in $servers; do
  ok=0
  for _ in $(seq 1 200); do
    kill -0 "${pid[$s]}" 2>/dev/null || break
    out=$(taskset -c "$lcpu" "$load" -a "${addr[$s]}" -p "${port[$s]}" -d 0.1 -w 1 -t 50 || true)
    if [ "$(field "$out" replies)" -gt 0 ] 2>/dev/null && [ "$(field "$out" unsync)" = 0 ] &&
      [ "$(field "$out" kod)" = 0 ]; then
      ok=1
      break
    fi
    sleep 0.1
  done
  if [ $ok -ne 1 ]; then
    cat "$tmp/$s.log" "$tmp/$s"/*.log 2>/dev/null | tail -n 20 >&2 || true
    die "$s did not answer synchronised (last: ${out:-none})"
  fi
done
sleep 2
for s in $servers; do
  rss[$s]=$(awk '$1 == "VmRSS:" { printf "%.1f", $2 / 1024 }' "/proc/${pid[$s]}/status")
done

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# One run: NAME SCENARIO (CLIENTS:RATE, 0 = as fast as possible) ROUND -> a line of
# $tmp/results.
measure() {
  local s=$1 c=$2 r=$3 t0 t1 out
  t0=$(cpu_ticks "${pid[$s]}")
  out=$(taskset -c "$lcpu" "$load" -a "${addr[$s]}" -p "${port[$s]}" -d "$duration" \
    -w "$window" -c "${c%:*}" -r "${c#*:}")
  t1=$(cpu_ticks "${pid[$s]}")
  kill -0 "${pid[$s]}" 2>/dev/null || die "$s died under load"
  echo "# round $r $s clients $c: $out (cpu ticks $((t1 - t0)))" >&2
  awk -v s="$s" -v c="$c" -v r="$r" -v dt=$((t1 - t0)) -v hz="$hz" -v o="$out" 'BEGIN {
    n = split(o, f, " "); for (i = 1; i < n; i += 2) v[f[i]] = f[i + 1]
    cpu = v["replies"] > 0 ? dt / hz * 1e6 / v["replies"] : 0
    print c, s, r, v["replies_per_s"], v["p50_us"], v["p99_us"], cpu, v["lost"], v["kod"],
      v["unsync"] + v["late"] + v["bad"] }' >>"$tmp/results"
}

read -r -a order <<<"$servers"
for r in $(seq 1 "$rounds"); do
  for c in 1:0 "$clients:0" "1:$rate"; do
    for s in "${order[@]}"; do measure "$s" "$c" "$r"; done
  done
  order=("${order[@]:1}" "${order[0]}") # rotate, so no server always runs first
done

# Medians over the rounds: scenario server -> rps p50 p99 cpu, and the sums of lost/kod/other.
med() { # CLIENTS SERVER COLUMN
  awk -v c="$1" -v s="$2" -v k="$3" '$1 == c && $2 == s { print $k }' "$tmp/results" |
    sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
sum() { awk -v c="$1" -v s="$2" -v k="$3" '$1 == c && $2 == s { t += $k } END { print t + 0 }' "$tmp/results"; }
label() {
  case $1 in
  echo) echo "bare echo (ntpecho)" ;; ours) echo "ntpkit ntpd" ;; chronyd) echo "chronyd 4.3" ;;
  ntpsec) echo "NTPsec ntpd 1.2.2" ;; esac
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }
verdict() { awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {
  ok = (op == ">=") ? a >= b : a <= b; print ok ? "met" : "missed" }'; }

scen() { # CLIENTS:RATE -> a table cell
  if [ "${1#*:}" = 0 ]; then echo "${1%:*} addr., max"; else echo "${1%:*} addr., ${1#*:}/s"; fi
}
echo "Server pinned to CPU $scpu, ntpload to CPU $lcpu, $window requests in flight, $duration s per"
echo "run, median of $rounds rounds; CPU per reply = (utime + stime) / replies; load \"max\" = as"
echo "fast as the window allows, \"N/s\" = a fixed request rate."
echo
echo "| server | load | replies/s | p50 | p99 | CPU per reply | lost | KoD | idle RSS |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
for c in 1:0 "$clients:0" "1:$rate"; do
  for s in $servers; do
    printf '| %s | %s | %.0f | %.1f µs | %.1f µs | %.2f µs | %s | %s | %s MiB |\n' "$(label "$s")" \
      "$(scen "$c")" "$(med "$c" "$s" 4)" "$(med "$c" "$s" 5)" "$(med "$c" "$s" 6)" \
      "$(med "$c" "$s" 7)" "$(sum "$c" "$s" 8)" "$(sum "$c" "$s" 9)" "${rss[$s]}"
  done
done
[ -n "${pid[ours]:-}" ] && [ -n "${pid[chronyd]:-}" ] || exit 0
echo
echo "| target (issue 5) | load | ntpkit | reference | ratio | |"
echo "|---|---|---:|---:|---:|---|"
for c in 1:0 "$clients:0" "1:$rate"; do
  o=$(med "$c" ours 4) e=$(med "$c" echo 4)
  if [ -n "${pid[echo]:-}" ] && [ "${c#*:}" = 0 ]; then
    printf '| replies/s ≥ 90 %% of echo | %s | %.0f | %.0f | %s | %s |\n' "$(scen "$c")" "$o" \
      "$e" "$(ratio "$o" "$e")" "$(verdict "$o" ">=" "$(awk -v e="$e" 'BEGIN { print e * 0.9 }')")"
  fi
  o=$(med "$c" ours 7) e=$(med "$c" chronyd 7)
  printf '| CPU/reply ≤ 0.6× chronyd | %s | %.2f µs | %.2f µs | %s | %s |\n' "$(scen "$c")" \
    "$o" "$e" "$(ratio "$o" "$e")" "$(verdict "$o" "<=" "$(awk -v e="$e" 'BEGIN { print e * 0.6 }')")"
  o=$(med "$c" ours 6) e=$(med "$c" chronyd 6)
  printf '| p99 ≤ chronyd | %s | %.1f µs | %.1f µs | %s | %s |\n' "$(scen "$c")" "$o" "$e" \
    "$(ratio "$o" "$e")" "$(verdict "$o" "<=" "$e")"
done
printf '| idle RSS ≤ chronyd | idle | %s MiB | %s MiB | %s | %s |\n' "${rss[ours]}" \
  "${rss[chronyd]}" "$(ratio "${rss[ours]}" "${rss[chronyd]}")" \
  "$(verdict "${rss[ours]}" "<=" "${rss[chronyd]}")"
