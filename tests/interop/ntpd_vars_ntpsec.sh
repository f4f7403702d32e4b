#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: our ntpd's mode-6 variables next to NTPsec 1.2.2's ntpd, both clients of chronyd
# 4.3 (127.0.0.1) in the same run: NTPsec on 127.0.0.2, ours (--observe) on 127.0.0.3, both
# asked the same variable lists with NTPsec's ntpq. What must agree is what a user or a
# script sees the same whatever the values: which names come back, in which order (NTPsec
# answers in its table's order, each name once, user variables last), the form of a value
# (kstflags a quoted list of flags, mru_enabled hex), ppoll of a server association (99:
# unknown) and the poll column of `ntpq -p` (2^min(ppoll, hpoll)), its dstadr; and iostats
# without "Unknown variable".
# Usage: ntpd_vars_ntpsec.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}

start_chronyd a 127.0.0.1 123 2
ntk_wait_ntp 127.0.0.1
# NTPsec picks its source address towards chronyd by asking the kernel (127.0.0.1, which it
# must not use): make it 127.0.0.2 (ntpq_ntpsec.sh does the same).
ip route replace local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.2
start_ntpsec n 127.0.0.2 "server 127.0.0.1 iburst" 'setvar site = "lab" default' \
  'setvar aaa = "x"'
start_ntpd o 123 "interface ignore all" "interface listen 127.0.0.3" \
  "server 127.0.0.1 iburst" 'setvar site = "lab" default' 'setvar aaa = "x"'
ntk_wait_ntp 127.0.0.2
ntk_wait_ntp 127.0.0.3
# Both must have heard from chronyd (reach no longer 0) before the peer variables compare.
ntk_wait_heard 127.0.0.2 127.0.0.3
nassoc=$(ntpsec_ntpq -n -c as 127.0.0.2 | awk '/^ *1 /{print $2}')

# names HOST ASSOC LIST: the variable names of the answer, in order, one line.
names() {
  ntpsec_ntpq -n -c "rv $2 $3" "$1" 2>&1 |
    grep -oE '(^|, |,\r?$|^\s*)[a-z_0-9]+ ?=' | tr -d ', =\r' | grep . | tr '\n' ' '
}

echo "== the names of an answer, and their order"
for list in "stratum,refid,leap" "tc,tc" "site,stratum,aaa,leap" \
  "ss_processed,ss_uptime,ss_reset,ss_received_r,ss_thisver" \
  "mru_new,mru_enabled,mru_hashslots,mru_depth,mru_exists" \
  "kstflags,koffset,kmaxerr,kesterr,kprecis,kppscalibdur" \
  "io_sent,total_rbuf,io_received,io_wakeups,io_goodwakeups,rbuf_lowater,timer_xmts" \
  "authdecrypts,authkeys,authreset,rootdist,lockclock,clock,version"; do
  n=$(names 127.0.0.2 0 "$list")
  o=$(names 127.0.0.3 0 "$list")
  check_same "rv 0 $list: names as NTPsec's" "$n" "$o"
done
for list in "reach,srcadr,hpoll,stratum,config,reach" "ppoll,hmode,keyid,flash,headway,rec"; do
  n=$(names 127.0.0.2 "$nassoc" "$list")
  o=$(names 127.0.0.3 1 "$list")
  check_same "rv &1 $list: names as NTPsec's" "$n" "$o"
done

echo "== the form of the values"
for host in 127.0.0.2 127.0.0.3; do
  ntk_run "k_$host" ntpsec_ntpq -n -c raw -c "rv 0 kstflags,mru_enabled" "$host"
  check_match "$host: kstflags is a quoted list of flags" 'kstflags="[a-z=B ]*"' "$OUT"
  check_match "$host: mru_enabled is hex" 'mru_enabled=0x[0-9a-f]+' "$OUT"
done
ntk_run ppoll_n ntpsec_ntpq -n -c "rv $nassoc ppoll,hpoll" 127.0.0.2
pn=$OUT
ntk_run ppoll_o ntpsec_ntpq -n -c "rv 1 ppoll,hpoll" 127.0.0.3
check_same "ppoll and hpoll of the server association as NTPsec's" "$pn" "$OUT"
# dstadr: the address chronyd's replies come to (the route above makes it 127.0.0.2 for both;
# ours sends from a wildcard socket and learns it from the replies).
ntk_run dst_n ntpsec_ntpq -n -c "rv $nassoc dstadr" 127.0.0.2
dn=$OUT
ntk_run dst_o ntpsec_ntpq -n -c "rv 1 dstadr" 127.0.0.3
check_same "dstadr of the server association as NTPsec's" "$dn" "$OUT"
poll_col() { ntpsec_ntpq -n -p "$1" | awk '/^[*+ #o-]127\.0\.0\.1 /{print $6}'; }
check_same "ntpq -p: the poll column as NTPsec's" "$(poll_col 127.0.0.2)" \
  "$(poll_col 127.0.0.3)"
ntk_run iostats_o ntpsec_ntpq -n -c iostats 127.0.0.3
check_nomatch "ntpq iostats on ours: every variable known" 'Unknown variable' "$OUT$ERR"
check_nomatch "ntpq iostats on ours: no ? for a missing one" '[:] +\?$' "$OUT"
check_match "ntpq iostats on ours: packets sent are counted" 'packets sent: +[1-9]' "$OUT"

ntk_done
