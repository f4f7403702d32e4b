#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: our ntpq ($NTK_NTPQ) against OUR ntpd (--observe, on 127.0.0.2, syncing from
# chronyd 4.3 on 127.0.0.1, controlkey 3, a setvar), side by side with NTPsec 1.2.2's ntpq in
# the same run: for each command both run back to back and their outputs must be the same
# line for line once the numbers that change between two queries are masked (as in
# ntpq_ntpsec.sh, which does the same against NTPsec's ntpd). Then ntpq's interactive mode in
# a real terminal (tmux): the prompt, a command, and libedit's history (the up arrow).
# Usage: ntpq_ours.sh OUR_NTPDIG OUR_NTPD   (CTest label interop; NTK_NTPQ in the env)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
[ -x "${NTK_NTPQ:-}" ] || ntk_skip "our ntpq (NTK_NTPQ) is not built"
command -v tmux >/dev/null || ntk_fatal "tmux is not installed (scripts/peers installs it)"
KEYS="$NTK_DATA/symkey.keys"

start_chronyd a 127.0.0.1 123 2
ntk_wait_ntp 127.0.0.1
start_ntpd o 123 "server 127.0.0.1 iburst minpoll 4 maxpoll 4" "keys $KEYS" \
  "trustedkey 1 2 3" "controlkey 3" "interface ignore wildcard" "interface ignore ipv6" \
  "interface ignore 127.0.0.1" "interface listen 127.0.0.2" 'setvar site = "lab 7" default' \
  "restrict default kod limited nomodify" "restrict 127.0.0.0 mask 255.0.0.0"
if ntk_wait_log "$W/o/ntpd.log" "synchronised to association" 20; then
  ntk_pass "our ntpd synchronised to chronyd"
else
  ntk_fail "our ntpd did not synchronise within 20 s"
fi
sleep 1

mask() {
  # "when" is "-" until the first packet of an association and a number after it: it may
  # change between the two queries like any other number.
  sed -E 's/(0x)?[0-9a-f]{8}\.[0-9a-f]{8}/TS/g; s/[0-9]+/9/g; s/ +/ /g; s/ - / 9 /g; s/ +$//' "$1"
}

# compare LABEL ARGS...: NTPsec's ntpq and ours with the same arguments, outputs masked.
# The two queries are not simultaneous: a value that changed width in between (sys_jitter
# 3e-05, then 0.000102) moves rv's line breaks, which masking cannot hide; such a pair is
# asked again (at most three times).
compare() {
  local label=$1 nrc try
  shift
  for try in 1 2 3; do
    ntk_run "${label}_n" ntpsec_ntpq "$@" 127.0.0.2
    nrc=$RC
    ntk_run "${label}_o" "$NTK_NTPQ" "$@" 127.0.0.2
    [ "$(mask "$W/${label}_n.out")" = "$(mask "$W/${label}_o.out")" ] && break
    ntk_log "$label: outputs differ (try $try), asking both again"
  done
  check_eq "$label: exit code (NTPsec's $nrc)" "$nrc" "$RC"
  check_eq "$label: stdout, numbers masked" "$(mask "$W/${label}_n.out")" \
    "$(mask "$W/${label}_o.out")"
  check_eq "$label: stderr, numbers masked" "$(mask "$W/${label}_n.err")" \
    "$(mask "$W/${label}_o.err")"
  check_ne "$label: NTPsec's ntpq said something" "" "$(cat "$W/${label}_n.out" "$W/${label}_n.err")"
}

echo "== our ntpq and NTPsec's against our ntpd"
compare peers -n -p
compare apeers -n -c apeers
compare rv -n -c rv
compare rv1 -n -c "rv &1"
compare rvlist -n -c "rv 0 stratum,refid,leap,site"
compare assoc -n -c as
compare pstats -n -c "pstats &1"
compare sysstats -n -c sysstats
compare sysinfo -n -c sysinfo
compare monstats -n -c monstats
compare iostats -n -c iostats
compare kerninfo -n -c kerninfo
compare mrulist -n -c mrulist
compare ifstats -n -a 3 -k "$KEYS" -c ifstats
compare reslist -n -a 3 -k "$KEYS" -c reslist
# writevar: nothing is writable; both ntpqs print nothing, as NTPsec's does for its ntpd.
ntk_run wv "$NTK_NTPQ" -n -a 3 -k "$KEYS" -c "writevar 0 site=x" -c "rv 0 site" 127.0.0.2
check_match "writevar 0 site=x: the variable is unchanged" 'site="lab 7"' "$OUT"
check_match "rv of our ntpd: the setvar in the default list" 'site="lab 7"' \
  "$(cat "$W/rv_o.out")"

echo "== interactive, in a terminal (tmux): prompt, a command, history"
sock="$W/tmux.sock"
tmux -S "$sock" new-session -d -s q -x 100 -y 40 "$NTK_NTPQ -n 127.0.0.2"
screen() { tmux -S "$sock" capture-pane -p -t q; }
wait_screen() { # ERE: bounded wait until the screen matches
  local i
  for i in $(seq 50); do
    screen | grep -Eq -- "$1" && return 0
    sleep 0.1
  done
  return 1
}
if wait_screen '^ntpq>'; then ntk_pass "interactive: the prompt 'ntpq> '"; else
  ntk_fail "interactive: no prompt: $(screen)"
fi
tmux -S "$sock" send-keys -t q "rv 0 stratum" Enter
if wait_screen '^stratum=3$'; then ntk_pass "interactive: rv 0 stratum answered"; else
  ntk_fail "interactive: rv 0 stratum: $(screen)"
fi
tmux -S "$sock" send-keys -t q Up
if wait_screen '^ntpq> rv 0 stratum$'; then ntk_pass "interactive: the up arrow recalls the command (libedit history)"; else
  ntk_fail "interactive: no history: $(screen)"
fi
tmux -S "$sock" send-keys -t q C-u "quit" Enter
for _ in $(seq 30); do
  tmux -S "$sock" has-session -t q 2>/dev/null || break
  sleep 0.1
done
if tmux -S "$sock" has-session -t q 2>/dev/null; then
  ntk_fail "interactive: quit did not end ntpq"
  tmux -S "$sock" kill-server
else
  ntk_pass "interactive: quit ends ntpq"
fi
ntk_show_log o
ntk_done
