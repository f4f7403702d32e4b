#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: names in our ntpd's configuration, with a private /etc/hosts (lib.sh ntk_hosts).
#  - `server NAME` whose name does not resolve at start: the lookup is retried (16 s) and the
#    association appears once the name is in the hosts file; ntpd then syncs from chronyd.
#  - `restrict default ignore` + `restrict source nomodify`: ntpd still syncs, answers
#    requests from its server's address (once the association exists, not before), and no
#    other address.
#  - `restrict NAME noserve`: requests from that name's address get no answer, other
#    addresses do; a restrict name missing at start is retried like a server name.
#  - the server goes silent and its name now points elsewhere: once the association is
#    unreachable (8 polls) the name is resolved again and the association moves there, with
#    its `restrict source` rule.
# Usage: ntpd_names.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}

ntk_hosts "127.0.0.4 denied.test"
start_chronyd c 127.0.0.1 123 2
cpid=$LAST_PID
ntk_wait_ntp 127.0.0.1

# Answered (stratum) or "none": one request to 127.0.0.1:PORT from SRC.
probe() { # PORT SRC
  local r
  if r=$(ntk_probe 127.0.0.1 "$1" "$2"); then echo "answered stratum $(echo "$r" | cut -d' ' -f2)"; else echo none; fi
}

echo "== a server name that does not resolve yet, restrict default ignore + restrict source"
start_ntpd a 1123 "server timesrv.test iburst minpoll 3 maxpoll 3" "restrict default ignore" \
  "restrict source nomodify"
if ntk_wait_log "$W/a/ntpd.log" "server timesrv.test: .*retrying in 16 s" 10; then
  ntk_pass "our ntpd a reports the failed lookup and a retry in 16 s"
else
  ntk_fail "our ntpd a did not report a failed lookup with a retry in 16 s"
fi
sleep 1
check_eq "before the association exists, 127.0.0.1 is not served (default ignore)" none \
  "$(probe 1123 127.0.0.1)"

echo "== a second ntpd: restrict by name, one name missing at start"
start_ntpd b 2123 "server 127.0.0.1 iburst minpoll 3 maxpoll 4" "restrict denied.test noserve" \
  "restrict late.test noserve"
if ntk_wait_log "$W/b/ntpd.log" "synchronised to association" 15; then
  ntk_pass "our ntpd b synchronised to chronyd"
else
  ntk_fail "our ntpd b did not synchronise within 15 s"
fi
check_match "ntpd b: restrict denied.test became a rule for 127.0.0.4" \
  "restrict denied.test: 127\.0\.0\.4" "$(cat "$W/b/ntpd.log")"
check_match "ntpd b: restrict late.test is retried" "restrict late.test: .*retrying in 16 s" \
  "$(cat "$W/b/ntpd.log")"
check_eq "ntpd b answers 127.0.0.3" "answered stratum 3" "$(probe 2123 127.0.0.3)"
check_eq "ntpd b does not serve 127.0.0.4 (restrict denied.test noserve)" none \
  "$(probe 2123 127.0.0.4)"
check_eq "ntpd b still answers 127.0.0.5 (late.test not in the hosts file yet)" \
  "answered stratum 3" "$(probe 2123 127.0.0.5)"

echo "== the names appear in the hosts file (same inode: the bind mount stays)"
printf '%s\n' "127.0.0.1 timesrv.test" "127.0.0.5 late.test" >>"$W/hosts"
getent hosts timesrv.test late.test
if ntk_wait_log "$W/a/ntpd.log" "server timesrv.test: 127\.0\.0\.1(:123)?, association [0-9]+" 40; then
  ntk_pass "our ntpd a retried and made timesrv.test an association"
else
  ntk_fail "our ntpd a did not take timesrv.test within 40 s"
fi
if ntk_wait_log "$W/a/ntpd.log" "synchronised to association" 20; then
  ntk_pass "our ntpd a synchronised to chronyd despite restrict default ignore"
else
  ntk_fail "our ntpd a did not synchronise within 20 s"
fi
r=none
for _ in $(seq 1 25); do
  r=$(probe 1123 127.0.0.1)
  [ "$r" = "answered stratum 3" ] && break
  sleep 0.2
done
check_eq "ntpd a answers its server's address 127.0.0.1 (restrict source nomodify)" \
  "answered stratum 3" "$r"
check_eq "ntpd a does not answer 127.0.0.3 (restrict default ignore)" none \
  "$(probe 1123 127.0.0.3)"
if ntk_wait_log "$W/b/ntpd.log" "restrict late.test: 127\.0\.0\.5" 40; then
  ntk_pass "ntpd b retried late.test and made it a rule"
else
  ntk_fail "ntpd b did not resolve late.test within 40 s"
fi
check_eq "ntpd b no longer serves 127.0.0.5 (restrict late.test noserve)" none \
  "$(probe 2123 127.0.0.5)"
check_eq "ntpd b still answers 127.0.0.3" "answered stratum 3" "$(probe 2123 127.0.0.3)"

echo "== chronyd c stops, timesrv.test now names 127.0.0.2 (chronyd d)"
start_chronyd d 127.0.0.2 123 2
ntk_wait_ntp 127.0.0.2
{ grep -v timesrv.test "$W/hosts"; echo "127.0.0.2 timesrv.test"; } >"$W/hosts.new"
cat "$W/hosts.new" >"$W/hosts" # in place: the bind mount holds this inode
ntk_stop "$cpid"
t0=$SECONDS
if ntk_wait_log "$W/a/ntpd.log" "association 1 moves to 127\.0\.0\.2" 110; then
  ntk_pass "unreachable: the name was resolved again and association 1 moved to 127.0.0.2 ($((SECONDS - t0)) s)"
else
  ntk_fail "association 1 did not move to 127.0.0.2 within 110 s"
fi
n=0
for _ in $(seq 1 75); do
  n=$(grep -c "synchronised to association: association 1" "$W/a/ntpd.log")
  [ "$n" -ge 2 ] && break
  sleep 0.2
done
check_eq "ntpd a synchronised again, to association 1 at its new address" yes \
  "$([ "$n" -ge 2 ] && echo yes || echo "no ($n sync lines)")"
r=none
for _ in $(seq 1 25); do
  r=$(probe 1123 127.0.0.2)
  [ "$r" = "answered stratum 3" ] && break
  sleep 0.2
done
check_eq "ntpd a answers its server's new address 127.0.0.2 (the source rule moved)" \
  "answered stratum 3" "$r"
check_eq "ntpd a no longer answers 127.0.0.1 (its source rule went)" none "$(probe 1123 127.0.0.1)"
check_nomatch "our ntpd a logs no error" "error|failed" "$(cat "$W/a/ntpd.log")"
check_nomatch "our ntpd b logs no error" "error|failed" "$(cat "$W/b/ntpd.log")"
ntk_show_log a
ntk_show_log b
ntk_done
