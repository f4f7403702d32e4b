#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: the files our ntpd (--observe) writes while it syncs from chronyd 4.3 on
# 127.0.0.1:123: `statistics loopstats peerstats rawstats sysstats protostats` with `filegen
# ... enable` under `statsdir` (NTPsec 1.2.2's line formats: field counts, rawstats t1 < t4,
# chronyd's and the local address, protostats' start-up events, clock_sync and sys_peer;
# ntpd_stats_ntpsec.sh sets them next to NTPsec's own), `logfile` (lines go there, not to
# stderr), then logrotate's `mv logfile logfile.1; kill -HUP`: new lines go to a new logfile,
# and a key added to the keys file is in use after the SIGHUP (ntpdig -a 2 gets an
# authenticated reply, none before). NTK_SYSSTATS_INTERVAL makes sysstats every 3 s. Last,
# an ntpd started without -p writes the `pidfile` of its configuration and removes it.
# Usage: ntpd_files.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
export NTK_SYSSTATS_INTERVAL=3

start_chronyd a 127.0.0.1 123 2
ntk_wait_ntp 127.0.0.1
S=$W/stats
mkdir -m 755 "$S"
grep -E '^1 ' "$NTK_DATA/symkey.keys" >"$W/ntp.keys"
chmod 600 "$W/ntp.keys"
LOG=$W/o/ntpd-file.log
start_ntpd o 1123 "statsdir $S/" \
  "statistics loopstats peerstats rawstats sysstats protostats" \
  "filegen loopstats file loopstats type day enable" \
  "filegen peerstats type none enable" "filegen rawstats type none enable" \
  "filegen sysstats type none enable" "filegen protostats type none enable" \
  "logfile $LOG" "keys $W/ntp.keys" "trustedkey 1 2" \
  "server 127.0.0.1 iburst minpoll 4 maxpoll 4"
opid=$LAST_PID

echo "== the log goes to the logfile"
if ntk_wait_log "$LOG" "synchronised to association" 20; then
  ntk_pass "our ntpd logs 'synchronised to association' to the logfile within 20 s"
else
  ntk_fail "no 'synchronised to association' in $LOG within 20 s"
fi
check_match "stderr has NTPsec's crumb before the switch" "switching log to file $LOG" \
  "$(cat "$W/o/ntpd.log")"
check_nomatch "stderr has no line after the switch" "synchronised|serving on port" \
  "$(cat "$W/o/ntpd.log")"
check_match "logfile lines carry an ISO 8601 UTC time" \
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z serving on port 1123$' "$(cat "$LOG")"

echo "== the statistics files"
ntk_wait_log "$S/sysstats" "." 10 || true
ntk_wait_log "$S/rawstats" "." 10 || true
for f in loopstats peerstats rawstats sysstats protostats; do
  sed "s/^/  $f| /" "$S/$f" 2>/dev/null | head -5
done
find "$S" -type f -printf "  ls| %n %s %f\n"
# fields FILE N: every line of FILE has N fields (and there is at least one line).
fields() {
  local n
  n=$(awk -v n="$2" 'NF != n { bad++ } END { print (NR > 0 && bad == 0) ? "ok" : NR " lines, " bad+0 " bad" }' "$S/$1" 2>/dev/null)
  check_eq "$1: every line has $2 fields" ok "${n:-missing}"
}
fields loopstats 7
fields peerstats 8
fields rawstats 20
fields sysstats 14
check_eq "loopstats is a link to today's element (filegen type day)" 2 \
  "$(stat -c %h "$S/loopstats" 2>/dev/null)"
check_eq "loopstats.YYYYMMDD exists" 1 "$(find "$S" -name 'loopstats.20[0-9]*' | wc -l)"
check_eq "peerstats lines are about chronyd" "127.0.0.1" \
  "$(awk '{ print $3 }' "$S/peerstats" | sort -u)"
check_eq "rawstats lines are chronyd's replies (address, mode 4, stratum 2)" "127.0.0.1 4 2" \
  "$(awk '{ print $3, $11, $12 }' "$S/rawstats" | sort -u)"
check_eq "rawstats: the local address, none lost, none dropped, all accepted" \
  "127.0.0.1 0 0 0" "$(awk '{ print $4, $18, $19, $20 }' "$S/rawstats" | sort -u)"
check_eq "rawstats: t1 < t2 <= t3 < t4 on a 'now' scale in every line" ok \
  "$(awk '{ if (!($5 + 0 < $8 + 0 && $6 + 0 <= $7 + 0 && $5 > 3.9e9)) bad++ } END { print (NR > 0 && !bad) ? "ok" : "bad" }' "$S/rawstats")"
check_match "protostats: clock_sync (system status: sync_ntp, 1 event, clock_sync)" \
  '^[0-9]+ [0-9.]+ 0\.0\.0\.0 0615 05 clock_sync$' "$(cat "$S/protostats")"
check_match "protostats: chronyd reachable, then sys_peer" \
  '^[0-9]+ [0-9.]+ 127\.0\.0\.1 b[0-9a-f]{3} 8a sys_peer$' "$(cat "$S/protostats")"
check_match "protostats: start-up as NTPsec's (no drift file)" \
  '^[0-9]+ [0-9.]+ 0\.0\.0\.0 c011 01 freq_not_set
[0-9]+ [0-9.]+ 0\.0\.0\.0 c016 06 restart
[0-9]+ [0-9.]+ 127\.0\.0\.1 8011 81 mobilize assoc 1$' "$(head -3 "$S/protostats")"
check_match "protostats: chronyd reachable" \
  '^[0-9]+ [0-9.]+ 127\.0\.0\.1 b[0-9a-f]{3} 84 reachable$' "$(cat "$S/protostats")"
check_eq "sysstats: each line covers about 3 s (NTK_SYSSTATS_INTERVAL)" ok \
  "$(awk '{ if ($3 < 3 || $3 > 5) bad++ } END { print (NR > 0 && !bad) ? "ok" : "bad" }' "$S/sysstats")"
check_eq "sysstats: packets received counted (our requests' replies)" ok \
  "$(awk '{ s += $4 } END { print (s > 0 ? "ok" : "none") }' "$S/sysstats")"

echo "== key 2 is not in use yet: ntpdig -a 2 gets no reply"
ntk_run k0 ours -j -t 1 --port 1123 -a 2 -k "$NTK_DATA/symkey.keys" 127.0.0.1
check_rc "ours -a 2 before the SIGHUP (dropped)" 1

echo "== logrotate: mv logfile logfile.1; add key 2; kill -HUP"
mv "$LOG" "$LOG.1"
grep -E '^2 ' "$NTK_DATA/symkey.keys" >>"$W/ntp.keys"
kill -HUP "$opid"
if ntk_wait_log "$LOG" "SIGHUP: log reopened" 5; then
  ntk_pass "after SIGHUP a new logfile gets the lines"
else
  ntk_fail "no new logfile with 'SIGHUP: log reopened' within 5 s"
fi
check_nomatch "the old logfile.1 got nothing after the SIGHUP" "SIGHUP" "$(cat "$LOG.1")"
check_match "the new logfile names the key added" \
  "SIGHUP: .*ntp.keys re-read: 2 key\(s\) in use; 1 added: 2, 0 removed" "$(cat "$LOG" 2>/dev/null)"
ntk_run k2 ours -j -t 2 --port 1123 -a 2 -k "$NTK_DATA/symkey.keys" 127.0.0.1
check_rc "ours -a 2 after the SIGHUP" 0
check_json "ours -a 2 after the SIGHUP: an authenticated reply with key 2" "$W/k2.out" \
  "[S and S['ok'], S and S['authenticated'], S and S['key_id']]" '[true, true, 2]'
ntk_run k1 ours -j -t 2 --port 1123 -a 1 -k "$NTK_DATA/symkey.keys" 127.0.0.1
check_json "ours -a 1 after the SIGHUP: key 1 still works" "$W/k1.out" \
  "[S and S['ok'], S and S['authenticated'], S and S['key_id']]" '[true, true, 1]'
n1=$(wc -l <"$S/rawstats")
sleep 4
check_eq "statistics files still written after the SIGHUP" yes \
  "$([ "$(wc -l <"$S/sysstats")" -ge 2 ] && [ -s "$S/rawstats" ] && echo yes)"
ntk_log "rawstats lines: $n1 before the SIGHUP, $(wc -l <"$S/rawstats") now"
check_nomatch "our ntpd logs no error" "cannot|error|failed" "$(cat "$LOG.1" "$LOG")"
kill -TERM "$opid"
wait "$opid"
check_eq "our ntpd exits 0 on SIGTERM" 0 "$?"
sed 's/^/  logfile.1| /' "$LOG.1"
sed 's/^/  logfile| /' "$LOG"
ntk_show_log o

echo "== the pidfile directive (no -p): written with the pid, removed at exit"
mkdir -m 750 "$W/q"
printf '%s\n' "interface ignore all" "pidfile $W/q/conf.pid" >"$W/q/ntp.conf"
NTK_NTPD_PORT=1124 "$NTK_NTPD" --observe -n -c "$W/q/ntp.conf" >"$W/q/ntpd.log" 2>&1 &
qpid=$!
NTK_PIDS+=("$qpid")
for _ in $(seq 50); do
  [ -s "$W/q/conf.pid" ] && break
  sleep 0.1
done
check_eq "pidfile: holds the pid of ntpd" "$qpid" "$(tr -d ' \n' <"$W/q/conf.pid" 2>/dev/null)"
ntk_stop "$qpid"
check_eq "pidfile: removed at exit" no "$([ -e "$W/q/conf.pid" ] && echo yes || echo no)"
ntk_done
