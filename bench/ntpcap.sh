#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark: ntpcap's full analysis of a synthetic 1,000,000-packet capture (bench/ntpcap-gen:
# client/server exchanges from 20,000 clients, NTS and MAC clients, mode-6 readvar, a few
# anomalies) against tshark's NTP field extraction and tcpdump's plain decoding of the same
# file, side by side in one run. Each command runs RUNS times in turn (output to /dev/null);
# the fastest run gives packets/s, /usr/bin/time -v its CPU time and peak RSS. Prints a Markdown table
# with the ratios and issue 10's targets (ntpcap >= 50x tshark, >= 10x tcpdump).
# Needs tshark, tcpdump and /usr/bin/time; no root, no network.
# Usage: bench/ntpcap.sh [BUILD_DIR]     (default: build/ in the source tree)
# Environment: PACKETS (1000000), RUNS (3), NTK_BENCH_TIMEOUT (per command, 600 s)
# shellcheck disable=SC2016 # backquotes in single quotes are Markdown code spans
set -euo pipefail
export LC_ALL=C
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
packets=${PACKETS:-1000000}
runs=${RUNS:-3}
limit=${NTK_BENCH_TIMEOUT:-600}
ntpcap=$build/cli/ntpcap/ntpcap
gen=$build/bench/ntpcap-gen

die() {
  echo "bench: $*" >&2
  exit 1
}
for t in "$ntpcap" "$gen"; do
  [ -x "$t" ] || die "$t not built (cmake --build $build --target ntpcap ntpcap-gen)"
done
for t in tshark tcpdump /usr/bin/time; do
  command -v "$t" >/dev/null || die "$t not found"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cap=$tmp/ntp.pcap
"$gen" -n "$packets" "$cap" 2>/dev/null || die "ntpcap-gen failed"

# The commands, by name.
names=(ntpcap ntpcap_json tshark tcpdump)
declare -A label cmd
label[ntpcap]='`ntpcap -r F` (full analysis, report)'
label[ntpcap_json]='`ntpcap -r F --json`'
label[tshark]='`tshark -r F -Y ntp -T fields -e frame.number -e ntp.flags.mode -e ntp.stratum -e ntp.org -e ntp.rec -e ntp.xmt`'
label[tcpdump]='`tcpdump -nr F`'
cmd[ntpcap]="$ntpcap -r $cap"
cmd[ntpcap_json]="$ntpcap -r $cap --json"
cmd[tshark]="tshark -r $cap -Y ntp -T fields -e frame.number -e ntp.flags.mode -e ntp.stratum -e ntp.org -e ntp.rec -e ntp.xmt"
cmd[tcpdump]="tcpdump -nr $cap"

declare -A best rss cpus
# One timed run of NAME: wall time from the monotonic clock, peak RSS from time -v.
run_once() {
  local name=$1 t0 t1 kb
  t0=$(date +%s%N)
  # shellcheck disable=SC2086
  if ! timeout "$limit" /usr/bin/time -v -o "$tmp/time.$name" ${cmd[$name]} >/dev/null \
    2>"$tmp/err.$name"; then
    die "$name failed or timed out: $(tail -3 "$tmp/err.$name")"
  fi
  t1=$(date +%s%N)
  kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.$name")
  # CPU seconds (user + system) of the same run: ntpcap reads a file on two threads, so its
  # CPU time exceeds its wall time; the others use one.
  cpu=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "%.3f", u + s}' \
    "$tmp/time.$name")
  local ns=$((t1 - t0))
  if [ -z "${best[$name]:-}" ] || [ "$ns" -lt "${best[$name]}" ]; then
    best[$name]=$ns
    rss[$name]=$kb
    cpus[$name]=$cpu
  fi
}
for ((r = 0; r < runs; r++)); do
  for n in "${names[@]}"; do run_once "$n"; done
done

pps() { awk -v p="$packets" -v ns="$1" 'BEGIN { printf "%.0f", p / (ns / 1e9) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b / a }'; }
echo "ntpcap benchmark: $packets packets ($(du -h "$cap" | cut -f1)), best of $runs runs," \
  "$(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| Command | Time (s) | Packets/s | CPU (s) | Peak RSS (MiB) |"
echo "|---|---:|---:|---:|---:|"
for n in "${names[@]}"; do
  awk -v l="${label[$n]}" -v ns="${best[$n]}" -v p="$(pps "${best[$n]}")" -v kb="${rss[$n]}" \
    -v c="${cpus[$n]}" 'BEGIN { printf "| %s | %.3f | %s | %.3f | %.1f |\n", l, ns / 1e9, p, c, kb / 1024 }'
done
vs_tshark=$(ratio "${best[ntpcap]}" "${best[tshark]}")
vs_tcpdump=$(ratio "${best[ntpcap]}" "${best[tcpdump]}")
ok() { awk -v v="$1" -v t="$2" 'BEGIN { print (v >= t) ? "met" : "NOT met" }'; }
echo
echo "| Ratio | Measured | Target | |"
echo "|---|---:|---:|---|"
echo "| ntpcap vs tshark | ${vs_tshark}x | 50x | $(ok "$vs_tshark" 50) |"
echo "| ntpcap vs tcpdump | ${vs_tcpdump}x | 10x | $(ok "$vs_tcpdump" 10) |"
echo "| ntpcap --json vs tshark | $(ratio "${best[ntpcap_json]}" "${best[tshark]}")x | - | |"
cratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (a > 0 ? b / a : 0) }'; }
echo "| ntpcap vs tshark, CPU seconds | $(cratio "${cpus[ntpcap]}" "${cpus[tshark]}")x | - | |"
