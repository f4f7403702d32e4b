#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: which addresses our ntpd (--observe, orphan mode so it answers synchronised)
# listens on, under NTPsec's interface/nic rules, -I, -L and -U. Inside the test's network
# namespace: interface d0 with 10.9.0.1, 10.9.0.3 and the alias d0:1 = 10.9.0.2, interface d1
# with 10.9.1.1 and 2001:db8:9::1 (dummy interfaces, or veth pairs where the kernel has no
# dummy driver). Our ntpdig says which addresses answer; `ss -uln` which sockets exist
# (ignore: none; drop: a socket that never answers).
# Usage: ntpd_interfaces.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
[ -x "$NTK_NTPD" ] || ntk_fatal "our ntpd '$NTK_NTPD' is not an executable"
command -v ss >/dev/null || ntk_skip "missing tool ss (iproute2)"

# An interface NAME that is up, without IPv6 link-local addresses (their duplicate address
# detection would make the socket list depend on timing).
add_if() {
  if ! ip link add "$1" type dummy 2>/dev/null; then
    ip link add "$1" type veth peer name "${1}p" || ntk_fatal "cannot create interface $1"
    ip link set "${1}p" addrgenmode none 2>/dev/null
    ip link set "${1}p" up
  fi
  ip link set "$1" addrgenmode none 2>/dev/null ||
    echo 1 >"/proc/sys/net/ipv6/conf/$1/disable_ipv6"
  ip link set "$1" up || ntk_fatal "ip link set $1 up failed"
}
add_if d0
add_if d1
ip addr add 10.9.0.1/24 dev d0
ip addr add 10.9.0.2/24 dev d0 label d0:1
ip addr add 10.9.0.3/24 dev d0
ip addr add 10.9.1.1/24 dev d1
ip addr add 2001:db8:9::1/64 dev d1 nodad
ip -br addr | sed 's/^/  ip| /'

# start_ours NAME PORT 'ARGS' [CONF-LINE...]: lib.sh's start_ntpd with extra arguments; every
# instance runs in orphan mode (answers stratum 5 with no server). Waits until it serves.
start_ours() {
  local name=$1 port=$2 args=$3
  shift 3
  local d=$W/$name
  mkdir -m 750 "$d"
  printf '%s\n' "tos orphan 5 orphanwait 1" "$@" >"$d/ntp.conf"
  # shellcheck disable=SC2086 # ARGS are words
  NTK_NTPD_PORT=$port "$NTK_NTPD" --observe -n -c "$d/ntp.conf" $args >"$d/ntpd.log" 2>&1 &
  LAST_PID=$!
  NTK_PIDS+=("$LAST_PID")
  ntk_log "started our ntpd $name pid $LAST_PID on port $port, args '$args', conf: $(
    tr '\n' ';' <"$d/ntp.conf")"
  ntk_wait_log "$d/ntpd.log" "serving on port" 10 || {
    ntk_show_log "$name"
    ntk_fatal "our ntpd $name did not start"
  }
}

# The local addresses with a UDP socket on PORT, sorted, on one line.
socks() { ss -Huln "sport = :$1" | awk '{ print $4 }' | sort | tr '\n' ' ' | sed 's/ $//'; }

# yes when our ntpdig gets a synchronised answer from ADDR:PORT (within about 2 s), else no.
answers() { # ADDR PORT
  local n
  for n in 1 2; do
    if timeout -k 1 5 "$NTK_OURS" -t 1 --port "$2" "$1" >"$W/dig.out" 2>&1; then
      echo yes
      return
    fi
  done
  echo no
}

check_answers() { # DESC PORT yes|no ADDR...
  local desc=$1 port=$2 want=$3 a
  shift 3
  for a in "$@"; do check_eq "$desc: $a:$port answers" "$want" "$(answers "$a" "$port")"; done
}

echo "== no rule: the wildcards only (our default), every address answers"
start_ours e 5123 ""
ntk_wait_ntp 127.0.0.1 5123
check_eq "no rule: sockets" "0.0.0.0:5123 [::]:5123" "$(socks 5123)"
check_answers "no rule" 5123 yes 10.9.0.1 10.9.0.2 10.9.1.1 2001:db8:9::1
check_match "no rule: NTPsec's log line for the v4 wildcard" \
  "Listen normally on 0 v4wildcard 0\.0\.0\.0 UDP 5123" "$(cat "$W/e/ntpd.log")"

echo "== interface listen d0 + interface drop 10.9.0.3 (the last matching rule wins)"
start_ours a 1123 "" "interface listen d0" "interface drop 10.9.0.3"
ntk_wait_ntp 127.0.0.1 1123
# d0:1 is another label: `d0` does not match it; loopback listens by default; the
# wildcards drop by default.
check_eq "listen d0: sockets (not 10.9.0.2, 10.9.1.1, 127.0.0.2, 2001:db8:9::1)" \
  "0.0.0.0:1123 10.9.0.1:1123 10.9.0.3:1123 127.0.0.1:1123 [::1]:1123 [::]:1123" \
  "$(socks 1123)"
check_answers "listen d0" 1123 yes 10.9.0.1 127.0.0.1 ::1
check_answers "listen d0 (drop, ignored, wildcard drop)" 1123 no 10.9.0.3 10.9.0.2 10.9.1.1 \
  2001:db8:9::1
log=$(cat "$W/a/ntpd.log")
check_match "listen d0: log of 10.9.0.1" "Listen normally on [0-9]+ d0 10\.9\.0\.1 UDP 1123" "$log"
check_match "listen d0: log of 10.9.0.3" "Listen and drop on [0-9]+ d0 10\.9\.0\.3 UDP 1123" "$log"
check_match "listen d0: log of the v6 wildcard" "Listen and drop on [0-9]+ v6wildcard :: UDP 1123" \
  "$log"
check_nomatch "listen d0: no error logged" "cannot|error|failed" "$log"

echo "== -L (--novirtualips): every address but the alias d0:1"
start_ours b 2123 "-L"
ntk_wait_ntp 127.0.0.1 2123
check_eq "-L: sockets (not 10.9.0.2)" \
  "0.0.0.0:2123 10.9.0.1:2123 10.9.0.3:2123 10.9.1.1:2123 127.0.0.1:2123 127.0.0.2:2123 127.0.0.3:2123 127.0.0.4:2123 127.0.0.5:2123 127.0.0.6:2123 [2001:db8:9::1]:2123 [::1]:2123 [::]:2123" \
  "$(socks 2123)"
check_answers "-L" 2123 yes 10.9.0.1 10.9.0.3 10.9.1.1 2001:db8:9::1
check_answers "-L (alias: the wildcard drops)" 2123 no 10.9.0.2

echo "== -I 10.9.0.3 (an address): that address (and loopback)"
start_ours d 4123 "-I 10.9.0.3"
ntk_wait_ntp 127.0.0.1 4123
check_eq "-I 10.9.0.3: sockets" "0.0.0.0:4123 10.9.0.3:4123 127.0.0.1:4123 [::1]:4123 [::]:4123" \
  "$(socks 4123)"
check_answers "-I 10.9.0.3" 4123 yes 10.9.0.3
check_answers "-I 10.9.0.3" 4123 no 10.9.0.1

echo "== interface rules together with -L: refused, as NTPsec does"
mkdir -m 750 "$W/f"
printf '%s\n' "interface listen d0" >"$W/f/ntp.conf"
NTK_NTPD_PORT=7123 timeout -k 1 10 "$NTK_NTPD" --observe -n -c "$W/f/ntp.conf" -L \
  >"$W/f/ntpd.log" 2>&1
check_eq "conf rules + -L: exit status" 1 "$?"
check_match "conf rules + -L: the reason" \
  "interface/nic rules are not allowed with --interface \(-I\) or --novirtualips \(-L\)" \
  "$(cat "$W/f/ntpd.log")"

echo "== -I d1 (a name) -U 1: addresses that come and go"
start_ours c 3123 "-I d1 -U 1"
ntk_wait_ntp 127.0.0.1 3123
check_eq "-I d1: sockets" \
  "0.0.0.0:3123 10.9.1.1:3123 127.0.0.1:3123 [2001:db8:9::1]:3123 [::1]:3123 [::]:3123" \
  "$(socks 3123)"
start_ours g 6123 "-U 1" "interface listen d1" "interface drop 10.9.3.3"
ntk_wait_ntp 127.0.0.1 6123
ip addr add 10.9.2.2/24 dev d1
ip addr add 10.9.3.3/24 dev d1
if ntk_wait_log "$W/c/ntpd.log" "Listen normally on [0-9]+ d1 10\.9\.2\.2 UDP 3123" 5; then
  ntk_pass "-U 1: the new address 10.9.2.2 is opened within 5 s"
else
  ntk_fail "-U 1: no 'Listen normally' line for 10.9.2.2 within 5 s"
fi
check_answers "-U 1, after the address was added" 3123 yes 10.9.2.2
if ntk_wait_log "$W/g/ntpd.log" "Listen and drop on [0-9]+ d1 10\.9\.3\.3 UDP 6123" 5; then
  ntk_pass "-U 1: the new address 10.9.3.3 is opened to drop within 5 s"
else
  ntk_fail "-U 1: no 'Listen and drop' line for 10.9.3.3 within 5 s"
fi
check_answers "-U 1, drop" 6123 no 10.9.3.3
ip addr del 10.9.1.1/24 dev d1
ip addr del 10.9.3.3/24 dev d1
if ntk_wait_log "$W/c/ntpd.log" "Deleting interface #[0-9]+ d1, 10\.9\.1\.1#3123" 5; then
  ntk_pass "-U 1: the removed address 10.9.1.1 is closed within 5 s"
else
  ntk_fail "-U 1: no 'Deleting interface' line for 10.9.1.1 within 5 s"
fi
ntk_wait_log "$W/c/ntpd.log" "Deleting interface #[0-9]+ d1, 10\.9\.3\.3#3123" 5
check_eq "-I d1 after the changes: sockets" \
  "0.0.0.0:3123 10.9.2.2:3123 127.0.0.1:3123 [2001:db8:9::1]:3123 [::1]:3123 [::]:3123" \
  "$(socks 3123)"
if ntk_wait_log "$W/g/ntpd.log" "Deleting interface #[0-9]+ d1, 10\.9\.3\.3#6123, interface stats: dropped=[1-9]" 5; then
  ntk_pass "-U 1: the drop socket of 10.9.3.3 is closed, with the requests it dropped counted"
else
  ntk_fail "-U 1: no 'Deleting interface' line with dropped >= 1 for 10.9.3.3 within 5 s"
fi

for n in e a b d c g; do ntk_show_log $n; done
ntk_done
