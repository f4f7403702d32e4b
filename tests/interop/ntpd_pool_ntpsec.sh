#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: a `pool` line side by side with NTPsec 1.2.2's, both as clients of six chronyd
# (127.0.1.1..6, all named pool.test in a private /etc/hosts), both with the same lines:
# `tos maxclock 4` and `pool pool.test iburst minpoll 1 maxpoll 1`.
#  - the one answer: both take every address (six "mobilize" lines in protostats), where our
#    ntpd used to stop at maxclock members of that pool;
#  - two servers go silent: with more associations than maxclock (NTPsec counts its pool line
#    as one), both drop them within 10 polls or so, each with NTPsec's "restart timeout" and
#    "demobilize" lines, and keep at least minclock (3) servers that answer;
#  - neither looks the name up again (one lookup in 256 s: enough associations and survivors).
#  - the pool line is an association of its own in both (NTPsec's "prototype"): the same
#    `ntpq -p` row (".POOL.", type p, poll 256), status word, variables and protostats line.
# Usage: ntpd_pool_ntpsec.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}

hosts=()
declare -A cpid
for i in 1 2 3 4 5 6; do
  start_chronyd "c$i" "127.0.1.$i" 123 2
  cpid[$i]=$LAST_PID
  hosts+=("127.0.1.$i pool.test")
done
ntk_hosts "${hosts[@]}"
# NTPsec listens on 127.0.0.2 only: make that the source towards the pool's addresses.
ip route replace local 127.0.1.0/24 dev lo table local proto kernel scope host src 127.0.0.2
for i in 1 2 3 4 5 6; do ntk_wait_ntp "127.0.1.$i" >/dev/null; done
common=("tos maxclock 4" "pool pool.test iburst minpoll 1 maxpoll 1"
  "statistics protostats" "filegen protostats type none enable")
start_ntpsec n 127.0.0.2 "${common[@]}"
mkdir -p "$W/ostats"
start_ntpd o 123 "interface ignore all" "interface listen 127.0.0.3" "statsdir $W/ostats/" \
  "${common[@]}"

# The pool members a daemon lists in `ntpq -pn`, sorted ("127.0.1.3 127.0.1.4 ...").
members() {
  ntpsec_ntpq -n -p "$1" 2>/dev/null | awk 'NR > 2 { r = $1; sub(/^[*+ #o.x-]/, "", r);
    if (r ~ /^127\.0\.1\./) print r }' | sort | tr '\n' ' ' | sed 's/ $//'
}
# protostats lines of an event about an address: "ADDR EVENT [EXTRA]" per line.
events() { # FILE EVENT
  awk -v ev="$2" '$6 == ev { x = $3 " " $6; if ($7 != "") x = x " " $7; print x }' "$1" 2>/dev/null |
    sort | tr '\n' ',' | sed 's/,$//'
}
NP=$W/n/protostats
OP=$W/ostats/protostats

echo "== the answer: every address taken"
for _ in $(seq 1 40); do
  [ "$(members 127.0.0.2 | wc -w)" -ge 3 ] && [ "$(members 127.0.0.3 | wc -w)" -ge 3 ] && break
  sleep 0.5
done
sleep 6
ntpsec_ntpq -n -p 127.0.0.2 | sed 's/^/  NTPsec| /'
ntpsec_ntpq -n -p 127.0.0.3 | sed 's/^/  ours  | /'
mob="127.0.1.1 mobilize,127.0.1.2 mobilize,127.0.1.3 mobilize,127.0.1.4 mobilize,127.0.1.5 mobilize,127.0.1.6 mobilize"
# (NTPsec's first mobilize line is its pool line's own: "pool.test ... mobilize")
members_mobilized() { events "$1" mobilize | tr ',' '\n' | grep '^127\.0\.1\.' | sed 's/ assoc//' | paste -sd, -; }
check_eq "NTPsec: one mobilize per address of the answer" "$mob" "$(members_mobilized "$NP")"
check_eq "ours: one mobilize per address of the answer" "$mob" "$(members_mobilized "$OP")"
# The pool line itself, as NTPsec lists it: its ntpq -p row (up to reach), its status word
# and its variables.
pool_row() { ntpsec_ntpq -n -p "$1" | awk '$1 == "pool.test" { print $1, $2, $3, $4, $5, $6, $7 }'; }
check_same "the pool line's ntpq -p row" "$(pool_row 127.0.0.2)" "$(pool_row 127.0.0.3)"
pool_as() { ntpsec_ntpq -n -c as "$1" | awk '$1 == "1" { print $3, $4, $5, $6, $7, $8, $9 }'; }
check_same "the pool line's ntpq as (status conf reach auth condition event count)" \
  "$(pool_as 127.0.0.2)" "$(pool_as 127.0.0.3)"
pool_rv() {
  ntpsec_ntpq -n -c "rv &1 srcadr,srcport,dstadr,leap,hmode,stratum,hpoll,refid,reach,srchost" "$1" |
    tr -d '\n' | sed 's/^associd=[0-9]* //'
}
check_same "the pool line's variables" "$(pool_rv 127.0.0.2)" "$(pool_rv 127.0.0.3)"
pool_mob() { awk '$3 == "pool.test" { print $3, $4, $5, $6 }' "$1"; }
check_same "the pool line's mobilize line in protostats" "$(pool_mob "$NP")" "$(pool_mob "$OP")"

echo "== 127.0.1.1 and 127.0.1.2 go silent"
ntk_stop "${cpid[1]}"
ntk_stop "${cpid[2]}"
gone() { ! members "$1" | grep -q -E '127\.0\.1\.[12]( |$)'; }
for _ in $(seq 1 120); do
  gone 127.0.0.2 && gone 127.0.0.3 && break
  sleep 0.5
done
ntpsec_ntpq -n -p 127.0.0.2 | sed 's/^/  NTPsec| /'
ntpsec_ntpq -n -p 127.0.0.3 | sed 's/^/  ours  | /'
nm=$(members 127.0.0.2)
om=$(members 127.0.0.3)
check_nomatch "NTPsec dropped both" '127\.0\.1\.[12]( |$)' "$nm"
check_nomatch "ours dropped both" '127\.0\.1\.[12]( |$)' "$om"
for x in NTPsec:"$nm" ours:"$om"; do
  n=$(echo "${x#*:}" | wc -w)
  check_eq "${x%%:*} keeps at least minclock (3) answering servers, at most four" yes \
    "$([ "$n" -ge 3 ] && [ "$n" -le 4 ] && echo yes || echo "no: $n")"
done
dem="127.0.1.1 demobilize,127.0.1.2 demobilize"
res="127.0.1.1 restart timeout,127.0.1.2 restart timeout"
# "ADDR WORD CODE" of the silent ones' lines of an event (the word: pool member, heard). The
# word's selection digit is masked: NTPsec's keeps the last status the selection gave the
# peer while it still answered (seen: 2615 for its former system peer), ours says reject.
words() { # FILE EVENT
  awk -v ev="$2" '$6 == ev && $3 ~ /^127\.0\.1\.[12]$/ {
    print $3, substr($4, 1, 1) "x" substr($4, 3), $5 }' "$1" | sort | tr '\n' ',' | sed 's/,$//'
}
check_eq "NTPsec: restart timeout, then demobilize, for each silent one" "$res|$dem" \
  "$(events "$NP" restart | grep -o '127\.0\.1\.[12] restart timeout' | sort | tr '\n' ',' | sed 's/,$//')|$(events "$NP" demobilize | grep -o '127\.0\.1\.[12] demobilize' | sort | tr '\n' ',' | sed 's/,$//')"
check_eq "ours: restart timeout, then demobilize, for each silent one" "$res|$dem" \
  "$(events "$OP" restart | grep -o '127\.0\.1\.[12] restart timeout' | sort | tr '\n' ',' | sed 's/,$//')|$(events "$OP" demobilize | grep -o '127\.0\.1\.[12] demobilize' | sort | tr '\n' ',' | sed 's/,$//')"
check_same "their status words and codes (restart)" "$(words "$NP" restart)" "$(words "$OP" restart)"
check_same "their status words and codes (demobilize)" "$(words "$NP" demobilize)" "$(words "$OP" demobilize)"
sed 's/^/  NTPsec protostats| /' "$NP" | grep -E 'mobilize|restart t' || true
sed 's/^/  our protostats| /' "$OP" | grep -E 'mobilize|restart t' || true
check_eq "NTPsec looked the name up once" 1 "$(grep -c 'dns_probe: pool.test' "$W/n/ntpd.log")"
check_eq "ours looked the name up once" 1 "$(grep -c 'pool pool\.test: resolved to 6 addresses' "$W/o/ntpd.log" || true)"
check_nomatch "our ntpd logs no error" "cannot|error|failed" "$(grep -v 'v4wildcard' "$W/o/ntpd.log")"
ntk_done
