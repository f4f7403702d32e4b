#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: our ntpd's statistics files next to NTPsec 1.2.2's, both clients of chronyd 4.3
# (127.0.0.1) in the same run with the same `statistics`/`filegen` lines (NTPsec's Debian
# ntpviz.conf plus rawstats and protostats): NTPsec on 127.0.0.2, ours (--observe) on
# 127.0.0.3. Every line of ours must have the shape of NTPsec's lines of the same file (the
# same fields, each written the same way; numbers, signs and status words aside), the
# start-up events and the peer events must be those NTPsec writes, and NTPsec's own ntpviz
# must read our directory as it reads NTPsec's: exit 0, the same summary rows and plots,
# every plot drawn (gnuplot refuses a flat series, as our wander was in observe mode).
# sysstats and usestats are hourly in NTPsec: ours (NTK_SYSSTATS_INTERVAL) are checked against
# the field count of NTPsec 1.2.2's formats instead.
# Usage: ntpd_stats_ntpsec.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
NTPVIZ=$NTK_PEERS/ntpsec-ntpviz/usr/bin/ntpviz
[ -e "$NTPVIZ" ] || ntk_skip "missing $NTPVIZ (run scripts/peers)"
command -v gnuplot >/dev/null || ntk_skip "missing tool gnuplot (run scripts/peers)"
export NTK_SYSSTATS_INTERVAL=3

start_chronyd a 127.0.0.1 123 2
ntk_wait_ntp 127.0.0.1
# Both reach chronyd from 127.0.0.2 (NTPsec must not use 127.0.0.1: ntpd_vars_ntpsec.sh).
ip route replace local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.2
FILES=(loopstats peerstats rawstats protostats)
stats_conf() { # DIR: the lines both daemons get
  echo "statsdir $1/"
  echo "statistics ${FILES[*]} sysstats usestats"
  local f
  for f in "${FILES[@]}" sysstats usestats; do echo "filegen $f file $f type day enable"; done
}
mkdir -m 755 "$W/sn" "$W/so"
mapfile -t n_conf < <(stats_conf "$W/sn")
mapfile -t o_conf < <(stats_conf "$W/so")
start_ntpsec n 127.0.0.2 "server 127.0.0.1 iburst minpoll 4 maxpoll 4" "${n_conf[@]}"
start_ntpd o 123 "interface ignore all" "interface listen 127.0.0.3" \
  "server 127.0.0.1 iburst minpoll 4 maxpoll 4" "${o_conf[@]}"

# NTPsec needs several samples before its first loopstats line: wait (bounded) until both
# directories have three lines of loopstats (ours: a wander is computed by then).
for _ in $(seq 90); do
  [ "$(cat "$W/sn/loopstats" 2>/dev/null | wc -l)" -ge 3 ] &&
    [ "$(cat "$W/so/loopstats" 2>/dev/null | wc -l)" -ge 3 ] &&
    [ -s "$W/so/sysstats" ] && [ -s "$W/so/usestats" ] && break
  sleep 1
done
for d in sn so; do
  for f in "${FILES[@]}" sysstats usestats; do
    sed "s/^/  $d $f| /" "$W/$d/$f" 2>/dev/null | head -4
  done
done

# shape FILE [KIND]: each line with every number a 9 (a leading minus dropped) and the
# status word of peerstats and protostats (field 4) an H, unique. KIND: the file's name.
shape() {
  awk -v f="${2:-$(basename "$1")}" '{
      if (f == "peerstats" || f == "protostats") $4 = "H"
      for (i = 1; i <= NF; i++) { gsub(/^-/, "", $i); gsub(/[0-9]+/, "9", $i) }
      print }' "$1" | sort -u
}

echo "== every line of ours has the shape of NTPsec's"
for f in loopstats peerstats rawstats; do
  sn=$(shape "$W/sn/$f")
  so=$(shape "$W/so/$f")
  check_same "$f: one shape, NTPsec's" "$sn" "$so"
  check_eq "$f: NTPsec writes one shape" 1 "$(printf '%s\n' "$sn" | grep -c .)"
done
check_eq "loopstats.YYYYMMDD is what loopstats links to (type day)" \
  "$(stat -c %i "$W/sn/loopstats.$(date -u +%Y%m%d)" 2>/dev/null | sed 's/.*/same/')" \
  "$([ "$(stat -c %i "$W/so/loopstats")" = "$(stat -c %i "$W/so/loopstats.$(date -u +%Y%m%d)" 2>/dev/null)" ] && echo same)"
check_same "rawstats: the local address the replies came to" \
  "$(awk '{ print $4 }' "$W/sn/rawstats" | sort -u)" "$(awk '{ print $4 }' "$W/so/rawstats" | sort -u)"
check_same "rawstats: none lost, none dropped, all accepted" \
  "$(awk '{ print $18, $19, $20 }' "$W/sn/rawstats" | sort -u)" \
  "$(awk '{ print $18, $19, $20 }' "$W/so/rawstats" | sort -u)"
# sysstats: NTPsec 1.2.2 writes "%s %u" and eleven "%lu" (MJD and seconds, then 12 numbers).
# usestats: "%s %u %.3f %.3f" and nine "%ld", the last the resident set's high-water mark.
for f in sysstats usestats; do
  check_eq "$f: every line has NTPsec 1.2.2's 14 fields" ok \
    "$(awk 'NF != 14 { bad++ } END { print (NR > 0 && !bad) ? "ok" : NR " lines, " bad+0 " bad" }' "$W/so/$f")"
done
check_eq "usestats: CPU seconds with 3 decimals, a resident set of some MiB" ok \
  "$(awk '$4 !~ /^[0-9]+\.[0-9][0-9][0-9]$/ || $5 !~ /^[0-9]+\.[0-9][0-9][0-9]$/ || $14 < 1024 { bad++ }
      END { print (NR > 0 && !bad) ? "ok" : "bad" }' "$W/so/usestats")"

echo "== protostats: the events NTPsec writes, in its form"
# event FILE NAME: the shape of the first line with event NAME.
event() {
  shape <(grep -m1 -E "^[0-9]+ [0-9.]+ [^ ]+ [0-9a-f]+ [0-9a-f]{2} $2( |$)" "$1") protostats
}
for e in restart freq_not_set mobilize reachable sys_peer; do
  check_same "protostats $e" "$(event "$W/sn/protostats" $e)" "$(event "$W/so/protostats" $e)"
done
check_same "protostats restart: the system status word after start-up" \
  "$(awk '$6 == "restart" { print $4 }' "$W/sn/protostats")" \
  "$(awk '$6 == "restart" { print $4 }' "$W/so/protostats")"
check_same "peerstats: the status word once synchronised (the last line)" \
  "$(tail -n1 "$W/sn/peerstats" | awk '{ print $4 }')" "$(tail -n1 "$W/so/peerstats" | awk '{ print $4 }')"
check_same "protostats mobilize: a new association's status word" \
  "$(awk '$6 == "mobilize" { print $4 }' "$W/sn/protostats")" \
  "$(awk '$6 == "mobilize" { print $4 }' "$W/so/protostats")"

echo "== loopstats: the jitter is clk_jitter, as NTPsec's clock_jitter"
# The last line against mode 6 between two clock updates (a line written meanwhile: again).
for _ in 1 2 3; do
  before=$(tail -n1 "$W/so/loopstats")
  cj=$(ntpsec_ntpq -n -c raw -c "rv 0 clk_jitter" 127.0.0.3 2>&1 | sed -n 's/.*clk_jitter=\([0-9.]*\).*/\1/p')
  [ "$(tail -n1 "$W/so/loopstats")" = "$before" ] && break
done
check_eq "loopstats: the last line's jitter (s) is rv clk_jitter (ms)" "$cj" \
  "$(printf '%s\n' "$before" | awk '{ printf "%.6f", $5 * 1000 }')"

echo "== loopstats: the wander of observe mode moves"
check_eq "loopstats: a non-zero wander (column 6) once the frequency estimate moved" yes \
  "$(awk '$6 + 0 > 0 { y = 1 } END { print y ? "yes" : "no" }' "$W/so/loopstats")"

echo "== NTPsec's ntpviz reads both directories"
viz() { # NAME: ntpviz over $W/NAME into $W/viz_NAME
  PYTHONPATH=$NTK_PYPATH timeout 120 "$NTK_PY" "$NTPVIZ" -d "$W/$1" -o "$W/viz_$1" -p 1 \
    -D 1 >"$W/viz_$1.log" 2>&1
}
viz sn
nrc=$?
viz so
orc=$?
sed 's/^/  ntpviz ours| /' "$W/viz_so.log"
check_eq "ntpviz exits 0 on NTPsec's directory" 0 "$nrc"
check_eq "ntpviz exits 0 on ours" 0 "$orc"
rows() { cut -d, -f1 "$W/viz_$1/summary.csv" 2>/dev/null | sort; }
check_same "ntpviz summary.csv: the same rows" "$(rows sn | tr '\n' '|')" \
  "$(rows so | tr '\n' '|')"
check_match "ntpviz summary.csv: our server's offsets" '^Server Offset 127\.0\.0\.1,' \
  "$(cat "$W/viz_so/summary.csv" 2>/dev/null)"
# A plot gnuplot refused is a stub of a few hundred bytes. NTPsec's own, with `disable ntp`,
# has a flat frequency and wander: those two are not drawn, every other one is.
pngs() { (cd "$W/viz_$1" 2>/dev/null && find . -name '*.png' -size +2k | sort | tr '\n' ' '); }
check_eq "ntpviz: every plot of ours drawn" "./local-jitter.png ./local-offset-histogram.png \
./local-offset.png ./local-stability.png ./peer-jitter-127.0.0.1.png ./peer-jitters.png \
./peer-offset-127.0.0.1.png ./peer-offsets.png " "$(pngs so)"
check_eq "ntpviz: NTPsec's drawn plots are among ours" "" \
  "$(comm -23 <(pngs sn | tr ' ' '\n' | grep .) <(pngs so | tr ' ' '\n' | grep .))"
check_nomatch "ntpviz: gnuplot refused none of our series" "plot returned|empty y" \
  "$(cat "$W/viz_so.log")"
check_match "ntpviz: the page names our server" "127\.0\.0\.1" \
  "$(cat "$W/viz_so/index.html" 2>/dev/null)"
ntk_show_log o
ntk_done
