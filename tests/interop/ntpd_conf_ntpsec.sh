#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: ntp.conf read by NTPsec 1.2.2's ntpd and by ours, line by line and running.
#
# 1. The corpus tests/data/conf/ntpsec-diff.tsv (every directive and option of NTPsec's
#    grammar and manual, NTP Classic's forms, mistakes): each line alone, after the same
#    header, goes to NTPsec's ntpd (started in this namespace without CAP_SYS_TIME and
#    stopped once it reaches its main loop: it refused the line when it logged a syntax
#    error, a "line N column M" complaint or an unknown name, or exited) and to our
#    ntpd --check-config (refused: exit 1). Each line's pair must be what the corpus says:
#    same, or a difference it gives the reason for. A line NTPsec takes and ours refuses
#    without a reason is a drop-in failure; one NTPsec would refuse and ours takes silently,
#    a trap.
# 2. The command line: NTPsec's options, and servers after them, given to both the same way
#    (ours with --check-config), with the differences listed and why: ntpd [options]
#    [server...] and -m were refused by ours before this test.
# 3. Running: NTPsec and ours (--observe) with the same configuration of the Classic forms
#    the corpus can only check alone (server 127.127.T.U with a fudge before and after it,
#    unpeer of a line above, minpoll above maxpoll, a 1 s refclock poll) against chronyd
#    must show the same associations in `ntpq -p` (remote, refid, stratum, type, poll) and
#    the same fudges in `cv`, the same restrict rules in `reslist` (order and flags as
#    NTPsec writes them); their requests carry the same DSCP (NTPsec's 46) and NTP version
#    (`version 3`).
# Usage: ntpd_conf_ntpsec.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
[ -x "$NTK_NTPD" ] || ntk_fatal "our ntpd '$NTK_NTPD' is not an executable"

echo "== 1. the corpus, line by line"
C=$W/c
mkdir -p "$C/incdir"
install -m 600 "$NTK_DATA/symkey.keys" "$C/ntp.keys"
cp "$NTK_DATA/leap-seconds.list" "$C/leap-seconds.list"
echo "server 192.0.2.9" >"$C/inc.conf"
echo "server 192.0.2.8" >"$C/incdir/a.conf"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$C/key.pem" \
  -out "$C/cert.pem" -subj /CN=localhost -days 30 2>/dev/null || ntk_fatal "openssl req"
cp "$C/cert.pem" "$C/ca.pem"
# A descriptor nothing is ever written to: `read -t` on it is a sleep without a fork.
exec {NAP}<> <(:)
header() { printf 'disable ntp\ndisable kernel\nstatsdir %s/\n' "$C"; }

# ntpsec_verdict CONF LOG [ARG...]: "take" or "refuse" (and NTPsec's messages in $LOG).
ntpsec_verdict() {
  local conf=$1 log=$2
  shift 2
  : >"$log" # NTPsec appends
  "$NTPD" -n -c "$conf" -l "$log" "$@" >"$log.out" 2>&1 &
  local p=$! w='' i
  # its main loop waits in poll(); 3 s at most. Builtins only (read, not cat and sleep): 409
  # lines, each waited for, cost a minute on a VM where a fork takes milliseconds.
  for ((i = 0; i < 300; i++)); do
    kill -0 "$p" 2>/dev/null || break
    w=''
    read -r w <"/proc/$p/wchan" 2>/dev/null || true
    case $w in poll_schedule_timeout* | do_select | core_sys_select) break ;; esac
    read -r -t 0.01 -u "$NAP" _ || true
  done
  local up=0
  if kill -0 "$p" 2>/dev/null; then
    up=1
    kill "$p"
  fi
  wait "$p" 2>/dev/null
  if [ $up = 0 ] ||
    grep -Eq 'syntax error|CONFIG: line [0-9]+ column|Unknown|unknown' "$log" "$log.out"; then
    echo refuse
  else
    echo take
  fi
}

# ours_verdict ARG...: "take" or "refuse" from our ntpd --check-config ARG... (output in
# $C/ours.out).
ours_verdict() {
  if "$NTK_NTPD" --check-config "$@" >"$C/ours.out" 2>&1; then echo take; else echo refuse; fi
}

# judge EXPECT WHY WHAT NTPSEC-VERDICT OUR-VERDICT NTPSEC-LOG: prints the pair, counts in
# $bad a pair that is not what was expected (showing both daemons' words) and a difference
# without its reason.
judge() {
  local got
  if [ "$4" = "$5" ]; then got=same; elif [ "$5" = refuse ]; then got=ours-refuses; else
    got=ours-accepts
  fi
  printf '  %-6s %-6s %-12s %s\n' "$4" "$5" "$got" "$3"
  if [ "$got" != "$1" ]; then
    bad=$((bad + 1))
    ntk_fail "'$3': expected $1, got $got${2:+ ($2)}"
    grep -E 'CONFIG|ERR|AUTH|NTS|REFCLOCK|switch' "$6" "$6.out" | sed 's/^/    ntpsec| /'
    grep -v 'configuration OK' "$C/ours.out" | sed 's/^/    ours| /'
  elif [ "$1" != same ] && [ -z "$2" ]; then
    bad=$((bad + 1))
    ntk_fail "'$3': a difference ($1) without its reason"
  fi
}

n=0
bad=0
while IFS=$'\t' read -r expect line why; do
  case $expect in '#'* | '') continue ;; esac
  n=$((n + 1))
  l=${line//@D@/$C}
  { header && printf '%s\n' "$l"; } >"$C/t.conf"
  judge "$expect" "$why" "$l" "$(ntpsec_verdict "$C/t.conf" "$C/t.log")" \
    "$(ours_verdict -c "$C/t.conf")" "$C/t.log"
done <"$NTK_DATA/conf/ntpsec-diff.tsv"
check_eq "corpus: lines whose verdicts are not what the corpus says" 0 "$bad"
if [ "$n" -ge 300 ]; then ntk_pass "corpus: $n lines"; else ntk_fail "corpus: only $n lines"; fi

echo "== 2. the command line: NTPsec's options (and servers after them) to both"
header >"$C/o.conf"
# expect|arguments|why, as in the corpus; arguments split on blanks. Left out: -w (NTPsec's
# parent waits and exits), -u and -i (they need a user and a jail), -q (it waits for
# servers), -l (the harness's own). -a: NTPsec's aborts on purpose (an assertion test),
# ours is unknown: both fail.
bad=0
while IFS='|' read -r expect args why; do
  # shellcheck disable=SC2086 # the arguments are words
  judge "$expect" "$why" "ntpd $args" "$(ntpsec_verdict "$C/o.conf" "$C/o.log" $args)" \
    "$(ours_verdict -c "$C/o.conf" $args)" "$C/o.log"
done <<ARGS
same|-4
same|-6
same|-d
same|-dd
same|-D 3
same|-D3
same|--set-debug-level=3
same|-f $C/drift
same|-g
same|-G
same|-I lo
same|--interface=127.0.0.1
same|-k $C/ntp.keys
same|-L
same|-m
same|--mdns
same|-N
same|-P 10
same|--priority=10
same|-s $C
same|-t 1 -t 2
same|-U 60
same|--updateinterval=60
same|-x
same|-z a=b
same|-Z a=b
same|--var=a=b
same|--dvar=a=b
same|192.0.2.1
same|-n time.example.org 192.0.2.2
same|-y
same|--bogus
same|-t 0
same|-t x
same|-a
ours-refuses|-D x|not a number: NTPsec reads 0
ours-refuses|-P x|not a number: NTPsec reads 0
ours-refuses|-U x|not a number: NTPsec reads 0
ours-refuses|-z a|a variable without a value
ours-accepts|--driftfile=$C/drift|in NTPsec's manual; its 1.2.2 binary lacks the long form
ours-accepts|--wait-sync=5|in NTPsec's manual; its 1.2.2 binary lacks the long form
ARGS
check_eq "command line: arguments whose verdicts are not what the list says" 0 "$bad"

echo "== 3. the Classic forms, running side by side"
start_chronyd a 127.0.0.1 123 2
ntk_wait_ntp 127.0.0.1
# NTPsec picks its source address towards chronyd by asking the kernel (127.0.0.1, which it
# must not use): make it 127.0.0.2 (ntpq_ntpsec.sh does the same).
ip route replace local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.2
# The DSCP of the requests each sends to chronyd (NTPsec's from port 123, ours from an
# ephemeral port): tcpdump on lo, bounded by its count and by the test's end.
tcpdump -i lo -n -v -l -c 12 udp and dst host 127.0.0.1 and dst port 123 >"$W/dump.txt" \
  2>/dev/null &
NTK_PIDS+=($!)
common=("keys $NTK_DATA/symkey.keys" "trustedkey 3" "controlkey 3"
  "restrict default kod nomodify noquery limited"
  "restrict -6 default kod nomodify noquery limited notrust"
  "restrict 127.0.0.0 mask 255.0.0.0" "restrict 127.0.0.1"
  "restrict 10.0.0.0 mask 255.0.0.0 noserve version" "restrict 192.168.0.0/16 ignore"
  "restrict 192.168.1.0/24 ntpport flake" "restrict 2001:db8::/32 nomodify"
  "unrestrict 10.0.0.0 mask 255.0.0.0 version" "restrict 203.0.113.0/24 kod"
  "unrestrict 203.0.113.0/24"
  "fudge 127.127.28.0 refid GPS time1 0.1"
  "server 127.0.0.1 iburst minpoll 10 maxpoll 6 version 3"
  "server 127.127.28.0 minpoll 4 maxpoll 4 prefer"
  "fudge 127.127.28.0 stratum 3"
  "refclock shm unit 1 minpoll 0"
  "server 127.127.28.2" "unpeer 127.127.28.2")
start_ntpsec n 127.0.0.2 "${common[@]}"
start_ntpd o 123 "interface ignore all" "interface listen 127.0.0.3" "${common[@]}"
ntk_wait_ntp 127.0.0.2
ntk_wait_ntp 127.0.0.3
ntk_wait_heard 127.0.0.2 127.0.0.3 # both have heard from chronyd
# NTPsec's ntpq shows the refclock of `server 127.127.28.0` as "127.127.28.0 ... u" until
# NTPsec has set it up (seen once, under load in CI), then as "SHM(0) ... l": wait for that.
for _ in $(seq 40); do
  ntpsec_ntpq -n -p 127.0.0.2 2>/dev/null | grep -q '^ *SHM(0) ' && break
  sleep 0.25
done
# peers HOST: remote refid st t poll of each association, one per line, sorted.
peers() {
  ntpsec_ntpq -n -p "$1" | awk 'NR > 2 { r = $1; sub(/^[*+ #o.x-]/, "", r);
    print r, $2, $3, $4, $6 }' | sort
}
ntk_run p_n ntpsec_ntpq -n -p 127.0.0.2
ntk_run p_o ntpsec_ntpq -n -p 127.0.0.3
pn=$(peers 127.0.0.2)
po=$(peers 127.0.0.3)
check_same "ntpq -p: the same associations, refids, strata, types and polls" "$pn" "$po"
check_match "SHM(0) with the fudge's refid and stratum, polled every 16 s" \
  '^SHM\(0\) \.GPS\. 3 l 16$' "$po"
check_match "SHM(1) with minpoll 0: polled every second" '^SHM\(1\) \.SHM\. 0 l 1$' "$po"
check_match "chronyd with minpoll 10 maxpoll 6: polled every 64 s" '^127\.0\.0\.1 .* u 64$' \
  "$po"
check_nomatch "SHM(2) is gone (unpeer)" 'SHM\(2\)' "$po"
# cv of SHM(0): the fudges as NTPsec shows them.
cvf() {
  local id
  id=$(ntpsec_ntpq -n -c as "$1" | awk '$1 ~ /^[0-9]+$/ { print $2 }' | while read -r a; do
    ntpsec_ntpq -n -c "rv $a srcadr" "$1" | grep -q '127\.127\.28\.0' && echo "$a"
  done | head -1)
  ntpsec_ntpq -n -c "cv $id fudgetime1,stratum" "$1" | tr -d '\r' | tr ' ,' '\n' |
    grep -E '^(fudgetime1|stratum)=' | sort | tr '\n' ' '
}
cn=$(cvf 127.0.0.2)
check_same "cv of SHM(0): fudgetime1 and stratum as NTPsec's" "$cn" "$(cvf 127.0.0.3)"
check_eq "cv of SHM(0): the fudges of both fudge lines" "fudgetime1=100.0 stratum=3 " "$cn"
# reslist: the rules in NTPsec's order with its flags (hits left out); NTPsec's own
# "interface ignore" entry for each of its addresses is its way of not answering itself.
rules() {
  ntpsec_ntpq -n -a 3 -k "$NTK_DATA/symkey.keys" -c reslist "$1" | tr -d '\r' |
    awk 'NR > 3 { if (NR % 2 == 0) a = $2; else { $1 = $1; print a, $0 } }' |
    grep -v ' interface ' || true
}
ntk_run rl_n ntpsec_ntpq -n -a 3 -k "$NTK_DATA/symkey.keys" -c reslist 127.0.0.2
ntk_run rl_o ntpsec_ntpq -n -a 3 -k "$NTK_DATA/symkey.keys" -c reslist 127.0.0.3
rn=$(rules 127.0.0.2)
check_same "reslist: the same rules, in NTPsec's order, with its flags in its order" "$rn" \
  "$(rules 127.0.0.3)"
check_match "reslist: unrestrict took version off 10.0.0.0/8 and removed 203.0.113.0/24" \
  '^10\.0\.0\.0/8 noserve$' "$rn"
grep -E 'IP \(|>' "$W/dump.txt" | sed 's/^/  tcpdump| /'
# tos WHO: the TOS bytes of the requests of ntpsec (source port 123) or ours (any other).
tos() {
  awk -v who="$1" '/ IP \(tos / { match($0, /tos 0x[0-9a-f]+/); t = substr($0, RSTART, RLENGTH) }
    /^ +127\.0\.0\.2\.[0-9]+ > 127\.0\.0\.1\.123:/ { n = split($1, f, ".");
      if ((f[n] == "123") == (who == "ntpsec")) print t }' "$W/dump.txt" | sort -u | tr '\n' ' '
}
check_same "DSCP of the requests to chronyd: NTPsec's and ours" "$(tos ntpsec)" "$(tos ours)"
check_eq "our requests carry DSCP 46 (Expedited Forwarding, NTPsec's default)" "tos 0xb8 " \
  "$(tos ours)"
# vers WHO: the NTP versions of those requests (`version 3` on the server line).
vers() {
  awk -v who="$1" '/^ +127\.0\.0\.2\.[0-9]+ > 127\.0\.0\.1\.123:/ { n = split($1, f, ".");
      if ((f[n] == "123") == (who == "ntpsec")) print $4 }' "$W/dump.txt" | sort -u | tr '\n' ' '
}
check_same "the requests' NTP version (version 3): NTPsec's and ours" "$(vers ntpsec)" \
  "$(vers ours)"
check_eq "our requests are NTPv3" "NTPv3, " "$(vers ours)"

ntk_done
