#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Security: the sandbox of ntpd (daemon/io/sandbox.c), the exporter and ntpcap. Our ntpd
# (--observe) on 127.0.0.2 syncs from chronyd 4.3 on 127.0.0.1. Checks:
# - default mode, as root and with -u nobody: /proc/PID/status of every thread shows
#   Seccomp: 2 (filter) and NoNewPrivs: 1; ntpd still synchronises, serves ntpdig, answers
#   mode 6 (ntpq rv), survives SIGHUP (log, keys, leap file re-read) and exits 0 on SIGTERM;
# - --seccomp-selftest (makes one call off the list, personality, once sandboxed): in the
#   default mode ntpd dies of SIGSYS (status 159) and its log names the call; with
#   --seccomp=log it keeps running (the call ran) and, when the kernel log is readable, the
#   kernel logged it (audit type=1326, syscall=135); --seccomp=off: Seccomp: 0, NoNewPrivs: 1;
#   a bad mode is a usage error (2);
# - ntpkit_exporter -u nobody: every thread's uids are nobody's, CapEff and CapPrm empty,
#   NoNewPrivs 1, Seccomp 2 (its own allow-list), and it still scrapes ntpd (ntpkit_up 1);
# - ntpcap -r FIFO and -r - (the FIFO held open after the pcap header, so the process waits
#   to be inspected) and -i lo -Z nobody: NoNewPrivs 1 and Seccomp 2 (its allow-list; 0 with
#   --seccomp=off), the same report as from the file itself, a live exchange of ntpdig with
#   chronyd seen, exit 0 on SIGINT, no refused call on stderr; a bad mode is exit 2; a
#   generated capture of 50,000 frames through every output format: exit 0, no refused call.
# Usage: sandbox.sh OUR_NTPDIG OUR_NTPD   (CTest label security)
# shellcheck source-path=SCRIPTDIR source=../interop/lib.sh
. "$(dirname "$0")/../interop/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
[ -x "$NTK_NTPD" ] || ntk_fatal "our ntpd '$NTK_NTPD' is not an executable"
NOBODY=$(id -u nobody) || ntk_skip "no user nobody"
BUILD=$(cd "$(dirname "$NTK_NTPD")/../.." && pwd)
EXPORTER=$BUILD/exporters/ntpkit_exporter
NTPCAP=$BUILD/cli/ntpcap/ntpcap

# field STATUS-FILE NAME: the value(s) of NAME: in a /proc status file.
field() { awk -v n="$2:" '$1 == n { $1 = ""; sub(/^ /, ""); print }' "$1" 2>/dev/null; }

# check_threads LABEL PID SECCOMP: Seccomp and NoNewPrivs of every thread of PID.
check_threads() {
  local t n=0
  for t in /proc/"$2"/task/*; do
    [ -e "$t/status" ] || continue
    n=$((n + 1))
    check_eq "$1: thread ${t##*/}: Seccomp" "$3" "$(field "$t/status" Seccomp)"
    check_eq "$1: thread ${t##*/}: NoNewPrivs" 1 "$(field "$t/status" NoNewPrivs)"
  done
  check_ne "$1: threads inspected" 0 "$n"
}

# run_ntpd NAME ADDR ARGS...: our ntpd --observe -n on ADDR:123 syncing from chronyd (by the
# name in SRV, default its address), with ARGS; its log in $W/NAME/ntpd.log. Sets PID.
run_ntpd() {
  local name=$1 addr=$2
  shift 2
  mkdir -m 755 "$W/$name"
  printf '%s\n' "server ${SRV:-127.0.0.1} iburst minpoll 4 maxpoll 4" "interface ignore wildcard" \
    "interface ignore ipv6" "interface ignore 127.0.0.1" "interface listen $addr" \
    "restrict default nopeer" "restrict 127.0.0.1" "keys $W/ntp.keys" "trustedkey 1" \
    "leapfile $NTK_DATA/leap-seconds.list" >"$W/$name/ntp.conf"
  NTK_NTPD_PORT=123 "$NTK_NTPD" --observe -n -c "$W/$name/ntp.conf" -l "$W/$name/ntpd.log" \
    "$@" >"$W/$name/ntpd.out" 2>&1 &
  PID=$!
  NTK_PIDS+=("$PID")
  ntk_log "started our ntpd $name pid $PID on $addr: $*"
}

# wait_sandboxed NAME MODE: the log line of sandbox_apply.
wait_sandboxed() {
  if ntk_wait_log "$W/$1/ntpd.log" "seccomp allow-list loaded \(--seccomp=$2\)" 10; then
    ntk_pass "$1: the allow-list is loaded (--seccomp=$2)"
  else
    ntk_fail "$1: no 'seccomp allow-list loaded (--seccomp=$2)' within 10 s"
    ntk_show_log "$1"
  fi
}

printf '1 SHA1 0123456789abcdef0123456789abcdef01234567\n' >"$W/ntp.keys"
[ -e "$NTK_DATA/leap-seconds.list" ] || ntk_fatal "no $NTK_DATA/leap-seconds.list"
ntk_hosts "127.0.0.1 chrony.test"
start_chronyd c 127.0.0.1 123 2
ntk_wait_ntp 127.0.0.1

echo "== the default mode, as root"
run_ntpd a 127.0.0.2
A=$PID
wait_sandboxed a kill
check_threads "ntpd (root)" "$A" 2
if ntk_wait_log "$W/a/ntpd.log" "synchronised to association" 20; then
  ntk_pass "sandboxed ntpd synchronised to chronyd"
else
  ntk_fail "sandboxed ntpd did not synchronise within 20 s"
fi
ntk_wait_ntp 127.0.0.2 123
ntk_run dig ours -j -t 2 127.0.0.2
check_rc "our ntpdig -j against the sandboxed ntpd" 0
check_json "our ntpdig: ok, stratum 3" "$W/dig.out" "[S['ok'], S['stratum']]" "[true, 3]"
ntk_run rv ntpsec_ntpq -n -c "rv 0 stratum,refid" 127.0.0.2
check_rc "NTPsec ntpq rv against the sandboxed ntpd" 0
check_match "ntpq rv: stratum 3" 'stratum=3' "$(tr -d '\n' <<<"$OUT")"
kill -HUP "$A"
if ntk_wait_log "$W/a/ntpd.log" "SIGHUP: log reopened" 5; then
  ntk_pass "SIGHUP handled in the sandbox"
else
  ntk_fail "no SIGHUP line within 5 s"
fi
sleep 1
kill -0 "$A" 2>/dev/null
RC=$?
check_rc "ntpd alive after SIGHUP (keys, leap file, log re-read)" 0
ntk_run dig2 ours -j -t 2 127.0.0.2
check_rc "our ntpdig after SIGHUP" 0

echo "== the default mode, with -u nobody, the source by name (the resolver's thread)"
SRV=chrony.test run_ntpd b 127.0.0.3 -u nobody
B=$PID
wait_sandboxed b kill
check_threads "ntpd (-u nobody)" "$B" 2
check_eq "ntpd -u nobody: Uid" "$NOBODY $NOBODY $NOBODY $NOBODY" \
  "$(field "/proc/$B/status" Uid | tr -s ' \t' '  ')"
if ntk_wait_log "$W/b/ntpd.log" "synchronised to association" 20; then
  ntk_pass "ntpd -u nobody synchronised to chrony.test (resolved in the sandbox)"
else
  ntk_fail "ntpd -u nobody did not synchronise to chrony.test within 20 s"
fi
ntk_log "ntpd b threads now: $(ls /proc/"$B"/task | tr '\n' ' ')"
ntk_wait_ntp 127.0.0.3 123
ntk_run dig3 ours -j -t 2 127.0.0.3
check_rc "our ntpdig against ntpd -u nobody (sandboxed)" 0

echo "== the exporter, -u nobody"
if [ -x "$EXPORTER" ] && command -v curl >/dev/null; then
  "$EXPORTER" --web.listen-address=127.0.0.1:10125 --ntp.address=127.0.0.2 -u nobody \
    >"$W/exp.log" 2>&1 &
  E=$!
  NTK_PIDS+=("$E")
  ntk_wait_log "$W/exp.log" "listening on" 10 || ntk_fail "exporter: no 'listening on' in 10 s"
  n=0
  for t in /proc/"$E"/task/*; do
    [ -e "$t/status" ] || continue
    n=$((n + 1))
    check_eq "exporter thread ${t##*/}: Uid" "$NOBODY $NOBODY $NOBODY $NOBODY" \
      "$(field "$t/status" Uid | tr -s ' \t' '  ')"
    check_eq "exporter thread ${t##*/}: CapEff" 0000000000000000 "$(field "$t/status" CapEff)"
    check_eq "exporter thread ${t##*/}: CapPrm" 0000000000000000 "$(field "$t/status" CapPrm)"
    check_eq "exporter thread ${t##*/}: NoNewPrivs" 1 "$(field "$t/status" NoNewPrivs)"
    check_eq "exporter thread ${t##*/}: Seccomp" 2 "$(field "$t/status" Seccomp)"
  done
  check_ne "exporter threads inspected" 0 "$n"
  ntk_run scrape curl -sS --max-time 5 http://127.0.0.1:10125/metrics
  check_eq "exporter (as nobody) scrapes ntpd" "ntpkit_up 1" "$(grep '^ntpkit_up ' <<<"$OUT")"
  ntk_run expbad "$EXPORTER" -u ntk-no-such-user --web.listen-address=127.0.0.1:10126
  check_eq "exporter -u ntk-no-such-user: exit code" 1 "$RC"
  check_match "exporter -u ntk-no-such-user: says why" "no such user" "$ERR"
else
  ntk_log "no ntpkit_exporter or curl: exporter checks skipped"
fi

# cap_status LABEL PID SECCOMP: NoNewPrivs and Seccomp of a running ntpcap.
cap_status() {
  check_eq "$1: NoNewPrivs" 1 "$(field "/proc/$2/status" NoNewPrivs)"
  check_eq "$1: Seccomp" "$3" "$(field "/proc/$2/status" Seccomp)"
}

# cap_fifo LABEL SECCOMP ARGS...: ntpcap reading a FIFO (-r FILE, or -r - with the FIFO
# on stdin): the pcap header is written and the FIFO held open, so ntpcap is past opening
# its input (sandboxed) and waits for frames while it is inspected; then one capture's
# frames follow and the report must equal the one from the file itself.
cap_fifo() {
  local label=$1 mode=$2 fifo=$W/$1.fifo
  shift 2
  mkfifo "$fifo"
  if [ "$1" = - ]; then
    "$NTPCAP" -r - --json --seccomp="$mode" <"$fifo" >"$W/$label.json" 2>"$W/$label.err" &
  else
    "$NTPCAP" -r "$fifo" --json --seccomp="$mode" >"$W/$label.json" 2>"$W/$label.err" &
  fi
  local c=$!
  NTK_PIDS+=("$c")
  exec 7>"$fifo"
  head -c 24 "$NTK_DATA/kod.pcap" >&7
  sleep 0.5
  cap_status "ntpcap $label" "$c" "$([ "$mode" = off ] && echo 0 || echo 2)"
  tail -c +25 "$NTK_DATA/kod.pcap" >&7
  exec 7>&-
  wait "$c"
  check_eq "ntpcap $label: exit code" 0 "$?"
  "$NTPCAP" -r "$NTK_DATA/kod.pcap" --json --seccomp=off >"$W/$label.want" 2>/dev/null
  check_eq "ntpcap $label: the report of the file itself" "$(grep -v '"summary"' \
    "$W/$label.want" | md5sum)" "$(grep -v '"summary"' "$W/$label.json" | md5sum)"
  check_nomatch "ntpcap $label: no refused call" "seccomp" "$(cat "$W/$label.err")"
}

echo "== ntpcap: NoNewPrivs and its allow-list"
if [ -x "$NTPCAP" ] && [ -e "$NTK_DATA/kod.pcap" ]; then
  cap_fifo cap-r kill "$W/cap-r.fifo"
  cap_fifo cap-stdin kill -
  cap_fifo cap-log log -
  cap_fifo cap-off off -
  # live on the sandbox's lo, as nobody, while ntpdig asks chronyd
  "$NTPCAP" -i lo -Z nobody --json >"$W/cap-live.json" 2>"$W/cap-live.err" &
  C=$!
  NTK_PIDS+=("$C")
  for _ in $(seq 1 50); do
    [ "$(field "/proc/$C/status" Seccomp)" = 2 ] && break
    sleep 0.1
  done
  cap_status "ntpcap -i lo" "$C" 2
  check_eq "ntpcap -i lo: runs as nobody" "$NOBODY" "$(field "/proc/$C/status" Uid | awk '{ print $1 }')"
  ntk_run cap-dig ours 127.0.0.1
  check_rc "ntpdig while ntpcap captures" 0
  sleep 0.3
  kill -INT "$C"
  wait "$C"
  check_eq "ntpcap -i lo: exits 0 on SIGINT (sandboxed)" 0 "$?"
  check_json "ntpcap -i lo: the exchange was seen, as nobody" "$W/cap-live.json" \
    '[L[-1]["type"], L[-1]["user"], L[-1]["exchanges"] >= 1]' '["summary", "nobody", true]'
  check_nomatch "ntpcap -i lo: no refused call" "seccomp" "$(cat "$W/cap-live.err")"
  ntk_run cap-bad "$NTPCAP" -r "$NTK_DATA/kod.pcap" --seccomp=maybe
  check_rc "ntpcap --seccomp=maybe" 2
  # A large capture, every output under the default filter: glibc's qsort of more than 1 KiB
  # (the --summary tables) asks for the memory size (sysinfo), which once killed ntpcap.
  GEN=$BUILD/bench/ntpcap-gen
  if [ -x "$GEN" ] && "$GEN" -n 50000 "$W/big.pcap" 2>/dev/null; then
    for out in "" --summary --json --csv --csv=flows "-v --summary"; do
      # shellcheck disable=SC2086 # out holds zero, one or two options
      "$NTPCAP" -r "$W/big.pcap" $out >/dev/null 2>"$W/big.err"
      check_eq "ntpcap -r (50,000 frames) ${out:-(report)}: exit code" 0 "$?"
      check_nomatch "ntpcap -r (50,000 frames) ${out:-(report)}: no refused call" "seccomp" \
        "$(cat "$W/big.err")"
    done
  else
    ntk_log "no bench/ntpcap-gen: the large-capture checks are skipped"
  fi
else
  ntk_log "no ntpcap or tests/data/kod.pcap: skipped"
fi

echo "== a call off the list (--seccomp-selftest)"
run_ntpd k 127.0.0.4 --seccomp-selftest
K=$PID
for _ in $(seq 1 50); do
  kill -0 "$K" 2>/dev/null || break
  sleep 0.2
done
wait "$K"
RC=$?
check_eq "default mode: ntpd killed by SIGSYS (128 + 31)" 159 "$RC"
check_match "its log names the call" \
  "seccomp: system call [0-9]+ \(personality\) is not on the allow-list" \
  "$(cat "$W/k/ntpd.log")"

echo "== --seccomp=log"
before=$(dmesg 2>/dev/null | grep -c "type=1326.*exe=\"$NTK_NTPD\".*syscall=135 ")
dmesg_ok=$?
run_ntpd l 127.0.0.5 --seccomp=log -u nobody --seccomp-selftest
L=$PID
wait_sandboxed l log
if ntk_wait_log "$W/l/ntpd.log" "self-test: personality returned" 10; then
  ntk_pass "log mode: the refused call ran and ntpd went on"
else
  ntk_fail "log mode: no 'self-test: personality returned' within 10 s"
fi
check_threads "ntpd --seccomp=log" "$L" 2
if [ "$dmesg_ok" -le 1 ]; then
  n=0
  for _ in $(seq 1 10); do
    n=$(dmesg | grep -c "type=1326.*exe=\"$NTK_NTPD\".*syscall=135 ")
    [ "$n" -gt "$before" ] && break
    sleep 0.3
  done
  if [ "$n" -gt "$before" ]; then
    ntk_pass "log mode: the kernel logged syscall 135 (personality) of ntpd"
  else
    ntk_fail "log mode: no audit record of syscall 135 in the kernel log"
  fi
else
  ntk_log "the kernel log is not readable here: its audit record is not checked"
fi

echo "== --seccomp=off, and a bad mode"
run_ntpd o 127.0.0.6 --seccomp=off
O=$PID
ntk_wait_log "$W/o/ntpd.log" "seccomp off" 10 || ntk_fail "--seccomp=off: no 'seccomp off'"
check_eq "--seccomp=off: Seccomp" 0 "$(field "/proc/$O/status" Seccomp)"
check_eq "--seccomp=off: NoNewPrivs still set" 1 "$(field "/proc/$O/status" NoNewPrivs)"
ntk_run badmode env NTK_NTPD_PORT=1123 "$NTK_NTPD" --observe -n --seccomp=maybe
check_eq "--seccomp=maybe: usage error" 2 "$RC"

echo "== SIGTERM in the sandbox"
for p in "$A" "$B" "$L" "$O"; do
  kill -TERM "$p"
  wait "$p"
  RC=$?
  check_eq "ntpd pid $p exits 0 on SIGTERM" 0 "$RC"
done
for n in a b; do
  check_nomatch "$n: no refused call in the log" "is not on the allow-list" \
    "$(cat "$W/$n/ntpd.log")"
done
ntk_done
