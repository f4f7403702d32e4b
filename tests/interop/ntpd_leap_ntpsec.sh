#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: leap seconds side by side with NTPsec 1.2.2's ntpd, in the same run.
#  1. A leap file (the real entries plus a leap at the start of next month, as a leap file
#     announces one, hash as NIST's) given to NTPsec (127.0.0.2) and to ours (127.0.0.3),
#     both clients of chronyd 4.3 (127.0.0.1): the same mode-6 `leapsec` and `expire` (NTPsec
#     1.2's "2026-12-01T00:00Z"), the same protostats TAI event ("TAI 38 leap ... expires
#     ...") and leap_armed (a system event: the leap is 28 days away at most), and the same
#     leap indicator: 01 only on the last day of a month, else 00. Then the file is renewed
#     without that leap: ours reads it again by itself (NTK_LEAPFILE_INTERVAL=2: every 2 s,
#     not every hour as NTPsec and ours do) and disarms the leap.
#  2. An expired leap file (the real one, so the servers decide) and one server (127.0.0.1
#     now; leap_tools.py: stratum 1, refid GPS) that sends leap indicator 01, as GPS servers
#     announcing a leap do days or weeks before it. NTPsec (127.0.0.2, its discipline on: it
#     schedules such a leap only on a clock update; without CAP_SYS_TIME it cannot touch the
#     clock) and ours (127.0.0.3): both schedule the leap for the end of the month (ours
#     logs that date), both report leap_armed as the server's peer event, neither passes
#     the bits on to its clients before the month's last day, and both log the expired
#     file's daily error alike. Ours before this test announced the leap at once and armed
#     the kernel for that night's midnight (RFC 5905: the bits mean "the last minute of the
#     current month").
# Usage: ntpd_leap_ntpsec.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
TOOLS=$NTK_SRC/leap_tools.py
NTP_UNIX=2208988800

now=$(date -u +%s)
next=$(date -u -d "$(date -u +%Y-%m-01) +1 month" +%s) # 00:00 UTC on the 1st of next month
tomorrow=$(date -u -d "$(date -u +%Y-%m-%d) +1 day" +%s)
month_start=$(date -u -d "$(date -u +%Y-%m-01)" +%s)
if [ $((next - now)) -lt 600 ] || [ $((now - month_start)) -lt 3900 ]; then
  ntk_skip "within 10 min of a month's end or in a month's first hour: run again later"
fi
last_day=0
[ "$next" -eq "$tomorrow" ] && last_day=1
ntk_log "now $(date -u -d "@$now" +%FT%TZ), next month $(date -u -d "@$next" +%FT%RZ), last day: $last_day"
want_leap=00
[ "$last_day" = 1 ] && want_leap=01
next_txt=$(date -u -d "@$next" +%Y-%m-%dT%H:%MZ)

# protostats lines of FILE whose event text is TEXT: "ADDR CODE" ("0.0.0.0 09").
events() { awk -v t="$2" '$6 == t { print $3, $5 }' "$1" 2>/dev/null; }
wait_event() { # FILE TEXT SECONDS
  local n
  for n in $(seq 1 $(($3 * 5))); do
    [ -n "$(events "$1" "$2")" ] && return 0
    sleep 0.2
  done
  return 1
}
rv() { ntpsec_ntpq -c "rv 0 $2" "$1" 2>/dev/null | tr -d '\r' | tr ',' '\n' | sed 's/^ *//'; }

# ---- 1. a leap file ----
python3 "$TOOLS" file "$NTK_SRC/../data/leap-seconds.list" "$W/leap.list" \
  $((now - 86400 + NTP_UNIX)) $((next + 200 * 86400 + NTP_UNIX)) $((next + NTP_UNIX)):38 ||
  ntk_fatal "could not write the leap file"
start_chronyd a 127.0.0.1 123 2
pid_a=$LAST_PID
ntk_wait_ntp 127.0.0.1
ip route replace local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.2
mkdir -m 755 "$W/sn" "$W/so"
start_ntpsec n 127.0.0.2 "server 127.0.0.1 iburst minpoll 4 maxpoll 4" "leapfile $W/leap.list" \
  "statsdir $W/sn/" "statistics protostats" "filegen protostats file protostats type none enable"
pid_n=$LAST_PID
export NTK_LEAPFILE_INTERVAL=2 # ours looks at the file every 2 s, not every hour
start_ntpd o 123 "interface ignore all" "interface listen 127.0.0.3" \
  "server 127.0.0.1 iburst minpoll 4 maxpoll 4" "leapfile $W/leap.list" \
  "statsdir $W/so/" "statistics protostats" "filegen protostats file protostats type none enable"
pid_o=$LAST_PID
wait_event "$W/sn/protostats" leap_armed 30 || ntk_fail "NTPsec reported no leap_armed in 30 s"
wait_event "$W/so/protostats" leap_armed 30 || ntk_fail "ours reported no leap_armed in 30 s"
ntk_show_log "$W/o/ntpd.log"
sed 's/^/  NTPsec protostats| /' "$W/sn/protostats"
sed 's/^/  our protostats| /' "$W/so/protostats"
for v in leapsec expire; do
  check_same "file: rv $v" "$(rv 127.0.0.2 "$v")" "$(rv 127.0.0.3 "$v")"
done
check_eq "file: NTPsec's leapsec is next month's start" "leapsec=\"$next_txt\"" "$(rv 127.0.0.2 leapsec)"
check_eq "file: NTPsec's leap bits" "leap=$want_leap" "$(rv 127.0.0.2 leap)"
check_eq "file: our leap bits" "leap=$want_leap" "$(rv 127.0.0.3 leap)"
tai() { awk '$6 == "TAI" { $1 = $2 = $3 = $4 = ""; print }' "$1" | sed 's/^ *//'; }
check_same "file: the TAI event's text" "$(tai "$W/sn/protostats")" "$(tai "$W/so/protostats")"
check_same "file: leap_armed (address, code)" "$(events "$W/sn/protostats" leap_armed)" \
  "$(events "$W/so/protostats" leap_armed)"
check_same "file: the TAI event (address, code)" "$(events "$W/sn/protostats" TAI)" \
  "$(events "$W/so/protostats" TAI)"
# A renewed file without that leap, moved into place as a cron job would: ours reads it
# again by itself (NTPsec too, at its next hourly look), reports the new TAI line and
# disarms the leap (NTPsec's leap_disarmed).
python3 "$TOOLS" file "$NTK_SRC/../data/leap-seconds.list" "$W/leap.new" \
  $((now + NTP_UNIX)) $((next + 100 * 86400 + NTP_UNIX)) || ntk_fatal "could not write the leap file"
mv "$W/leap.new" "$W/leap.list"
wait_event "$W/so/protostats" leap_disarmed 10 || ntk_fail "ours did not disarm in 10 s"
check_eq "file renewed: our leap_disarmed" "0.0.0.0 0a" "$(events "$W/so/protostats" leap_disarmed)"
check_match "file renewed: our new TAI event" "TAI 37 leap 2017-01-01T00:00Z expires " \
  "$(tail -n 2 "$W/so/protostats")"
check_eq "file renewed: our leapsec" 'leapsec="2017-01-01T00:00Z"' "$(rv 127.0.0.3 leapsec)"
check_match "file renewed: our log" "leap.list: changed on disk, reading it again" \
  "$(cat "$W/o/ntpd.log")"

# ---- 2. a server's leap bits, no leap file ----
# The server must be 127.0.0.1: NTPsec refuses every other 127.x address on a server line
# ("attempt to configure invalid address"). So part 1's daemons go.
for p in "$pid_o" "$pid_n" "$pid_a"; do ntk_stop "$p"; done
rm -f "$W/li.ready"
python3 "$TOOLS" server 127.0.0.1 123 1 120 "$W/li.ready" &
NTK_PIDS+=("$!")
for n in $(seq 1 50); do [ -e "$W/li.ready" ] && break; sleep 0.1; done
[ -e "$W/li.ready" ] || ntk_fatal "the leap-bit server did not start"
mkdir -m 755 "$W/n2" "$W/sn2" "$W/so2"
EXPIRED=$NTK_SRC/../data/leap-seconds.list # the real file: it expired on 2026-06-28
echo 0.000 >"$W/n2/drift"
# NTPsec's own lines: start_ntpsec's `disable ntp` would keep its clock_update from ever
# reaching the leap vote (that needs a discipline that took the sample).
cat >"$W/n2/ntp.conf" <<EOF
interface ignore wildcard
interface ignore ipv6
interface ignore 127.0.0.1
interface ignore 127.0.0.3
interface listen 127.0.0.2
driftfile $W/n2/drift
leapfile $EXPIRED
server 127.0.0.1 iburst minpoll 4 maxpoll 4
statsdir $W/sn2/
statistics protostats
filegen protostats file protostats type none enable
restrict default
restrict 127.0.0.1
EOF
"$NTPD" -n -c "$W/n2/ntp.conf" -l "$W/n2/ntpd.log" -p "$W/n2/ntpd.pid" >"$W/n2/ntpd.out" 2>&1 &
NTK_PIDS+=("$!")
ntk_log "started NTPsec ntpd n2 pid $! on 127.0.0.2:123 (discipline on, no CAP_SYS_TIME)"
start_ntpd o2 123 "interface ignore all" "interface listen 127.0.0.3" \
  "server 127.0.0.1 iburst minpoll 4 maxpoll 4" "leapfile $EXPIRED" \
  "statsdir $W/so2/" "statistics protostats" "filegen protostats file protostats type none enable"
wait_event "$W/sn2/protostats" leap_armed 40 || ntk_fail "NTPsec reported no leap_armed in 40 s"
wait_event "$W/so2/protostats" leap_armed 40 || ntk_fail "ours reported no leap_armed in 40 s"
ntk_show_log "$W/o2/ntpd.log"
grep -v "^#" "$W/n2/ntpd.log" | sed "s/^/  NTPsec log| /"
sed 's/^/  NTPsec protostats| /' "$W/sn2/protostats"
sed 's/^/  our protostats| /' "$W/so2/protostats"
check_same "bits: leap_armed (address, code)" "$(events "$W/sn2/protostats" leap_armed)" \
  "$(events "$W/so2/protostats" leap_armed)"
check_eq "bits: leap_armed is the server's peer event" "127.0.0.1 89" \
  "$(events "$W/so2/protostats" leap_armed)"
check_eq "bits: NTPsec's leap bits" "leap=$want_leap" "$(rv 127.0.0.2 leap)"
check_eq "bits: our leap bits" "leap=$want_leap" "$(rv 127.0.0.3 leap)"
check_match "bits: ours schedules the month's end" "leap second armed: association 1, value 1, insert at $next_txt, voted by the servers" \
  "$(cat "$W/o2/ntpd.log")"
expired() { grep -o "leapsecond file ('.*'): expired less than [0-9]* days\? ago" "$1" | head -n 1; }
check_same "bits: the expired file's daily error" "$(expired "$W/n2/ntpd.log")" \
  "$(expired "$W/o2/ntpd.log")"
# What clients see: the leap indicator of a reply (our ntpdig, JSON).
ntk_run dig "$NTK_OURS" --json 127.0.0.3
want_word=no-leap
[ "$want_leap" = 01 ] && want_word=add-leap
check_match "bits: a client of ours gets $want_word" "\"leap\": *\"$want_word\"" "$OUT"
ntk_done
