#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: our ntpmon in a real terminal (tmux), against our ntpd (--observe, 127.0.0.3) and
# NTPsec 1.2.2's ntpd (127.0.0.2), both syncing from chronyd 4.3 (127.0.0.1). tmux
# capture-pane is asserted: the header, the peers rows, the status line and the key bar;
# every key of mon_model.h and of NTPsec's ntpmon with what it changes on screen; resizes to
# 60x15 and 200x50 with no line wider than the window and the table laid out again; the
# empty states (no associations, nothing answering, queries dropped by `restrict default
# noquery`, an error response); a reply with control characters in its variables (a small
# Python mode-6 responder) that must reach the screen as '?' and never raw; Ctrl-C, q, x and
# F10 leave the terminal in cooked mode. Then NTPsec's ntpmon (Python, curses) against our
# ntpd: our mode 6 in their monitor.
# Usage: ntpmon_tmux.sh OUR_NTPDIG OUR_NTPD  (CTest label interop; our ntpmon is found beside
# ntpd in the build tree: $(dirname OUR_NTPD)/../../cli/ntpmon/ntpmon)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
MON=$(dirname "$NTK_NTPD")/../../cli/ntpmon/ntpmon
[ -x "$MON" ] || ntk_skip "our ntpmon ($MON) is not built"
MON=$(readlink -f "$MON")
command -v tmux >/dev/null || ntk_fatal "tmux is not installed (scripts/peers installs it)"
LONG="a-very-long-server-name-for-the-wide-mode.test" # 45 characters: cut unless wide
ntk_hosts "127.0.0.1 chrony.test" "127.0.0.9 $LONG"

# NTPsec ntpd (127.0.0.2) must reach chronyd from its own address (tests/data/README.md).
ip route replace local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.2
# 10.99.0.1 (a source address that is not loopback) and 127.0.0.8: the noquery daemon's.
ip addr add 10.99.0.1/24 dev lo || ntk_fatal "ip addr add 10.99.0.1/24 failed"
ip addr add 127.0.0.8/32 dev lo || ntk_fatal "ip addr add 127.0.0.8/32 failed"
start_chronyd a 127.0.0.1 123 2
ntk_wait_ntp 127.0.0.1
start_ntpsec n 127.0.0.2 "server 127.0.0.1 iburst minpoll 4 maxpoll 4" \
  "interface ignore 10.99.0.1" "interface ignore 127.0.0.8"
ours_conf() { # ADDR...: our ntpd listening on these addresses only
  printf '%s\n' "interface ignore wildcard" "interface ignore ipv6"
  local a
  for a in 127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6 127.0.0.8 10.99.0.1; do
    case " $* " in *" $a "*) echo "interface listen $a" ;; *) echo "interface ignore $a" ;; esac
  done
}
mapfile -t conf_o < <(ours_conf 127.0.0.3)
start_ntpd o 123 "${conf_o[@]}" "server chrony.test iburst minpoll 4 maxpoll 4" \
  "server $LONG minpoll 4 maxpoll 4" "restrict default kod limited nomodify" \
  "restrict 127.0.0.0 mask 255.0.0.0"
# The empty states: no associations (127.0.0.4), and noquery for all but loopback (10.99.0.1).
mapfile -t conf_e < <(ours_conf 127.0.0.4)
start_ntpd e 123 "${conf_e[@]}" "restrict default kod limited nomodify" \
  "restrict 127.0.0.0 mask 255.0.0.0"
mapfile -t conf_q < <(ours_conf 10.99.0.1 127.0.0.8)
start_ntpd q 123 "${conf_q[@]}" "restrict default noquery" "restrict 127.0.0.0 mask 255.0.0.0"
start_silent 127.0.0.7 123

# A mode-6 responder: "evil" answers with control characters in the variables, "refuse"
# answers every request with an error (code 7, administratively prohibited).
start_m6() { # ADDR MODE
  rm -f "$W/m6.ready"
  "$NTK_PY" - "$1" "$2" "$W/m6.ready" <<'EOF' &
import socket, struct, sys, time
addr, mode, ready = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 123))
open(ready, "w").close()
E = "\x1b"
now = time.time() + 2208988800
ts = "0x%08x.%08x" % (int(now) & 0xFFFFFFFF, 0)
SYS = ('version="evil%s[31mRED%s]0;pwned\x07BEL\rCR", leap=0, stratum=2, precision=-20, '
       'rootdelay=1.000, rootdisp=2.000, refid=%s[31mX, reftime=%s, peer=7, tc=4, '
       'offset=0.100, frequency=1.000, sys_jitter=0.100, clk_jitter=0.100') % (E, E, E, ts)
PEER = ('srcadr=127.0.0.99, srcport=123, srchost="%s[2J%s[31mevil\x07host\r", '
        'refid=%s[31mZ\x07, stratum=1, hmode=3, leap=0, hpoll=4, ppoll=4, reach=0xff, '
        'offset=0.500, delay=1.000, dispersion=0.500, jitter=0.100, rec=%s, '
        'rootdelay=0.000, rootdisp=0.000') % (E, E, E, ts)
def reply(op, seq, st, assoc, data=b"", err=0):
    flags = (0xC0 if err else 0x80) | op
    hdr = struct.pack("!BBHHHHH", 0x26, flags, seq, err << 8 if err else st, assoc, 0,
                      len(data))
    s.sendto(hdr + data + b"\0" * (-len(data) % 4), peer)
for _ in range(100000):
    req, peer = s.recvfrom(2048)
    if len(req) < 12 or req[0] & 7 != 6:
        continue
    op = req[1] & 0x1F
    seq, _st, assoc, _off, cnt = struct.unpack("!HHHHH", req[2:12])
    if mode == "refuse":
        reply(op, seq, 0, assoc, err=7)
    elif op == 1:
        reply(op, seq, 0x0615, assoc, struct.pack("!HH", 7, 0x961A))
    elif op == 2 and assoc == 0:
        reply(op, seq, 0x0615, assoc, (SYS if not req[12:12 + cnt].strip() else "").encode())
    elif op == 2 and assoc == 7:
        reply(op, seq, 0x961A, assoc, PEER.encode())
    else:
        reply(op, seq, 0, assoc, err=3)
EOF
  LAST_PID=$!
  NTK_PIDS+=("$LAST_PID")
  local n
  for n in $(seq 50); do
    [ -e "$W/m6.ready" ] && break
    sleep 0.1
  done
  [ -e "$W/m6.ready" ] || ntk_fatal "the mode-6 responder on $1 did not start"
  ntk_log "started a mode-6 responder ($2) on $1:123 pid $LAST_PID"
}
start_m6 127.0.0.5 evil
start_m6 127.0.0.6 refuse

ntk_wait_log "$W/o/ntpd.log" "synchronised to association" 20 ||
  ntk_fatal "our ntpd did not synchronise within 20 s"
ntk_pass "our ntpd synchronised to chronyd"
for _ in $(seq 120); do
  ntpsec_ntpq -n -p 127.0.0.2 2>/dev/null | grep -q '^\*127\.0\.0\.1' && break
  sleep 0.25
done
check_match "NTPsec's ntpd selected chronyd" '^\*127\.0\.0\.1' "$(ntpsec_ntpq -n -p 127.0.0.2 2>&1)"

# ---- tmux ----
SOCK=$W/tmux.sock
tx() { tmux -S "$SOCK" "$@"; }
# mon SESSION WIDTH HEIGHT CMD...: runs CMD in a new detached session; when it ends the pane
# prints its exit code and whether the terminal is in cooked mode (icanon and echo on).
mon() {
  local s=$1 w=$2 h=$3
  shift 3
  printf '%q ' "$@" >"$W/$s.cmd"
  tx new-session -d -s "$s" -x "$w" -y "$h" -c "$W" "env LANG=C.UTF-8 LC_ALL=C.UTF-8 $(cat "$W/$s.cmd");
    echo \"EXITED rc=\$?\"; stty -a | tr ' ;' '\n\n' | grep -Ex -- '-?(icanon|echo)' | tr '\n' ' ';
    echo; sleep 600"
  ntk_log "tmux $s ${w}x$h: $*"
}
scr() { tx capture-pane -p -t "$1"; }
scr_e() { tx capture-pane -p -e -t "$1"; }
# wait_scr SESSION ERE [TENTHS]: bounded wait until the screen matches (default 10 s: on CI's
# two busy cores a fetch of 8 READVARs has taken seconds).
wait_scr() {
  local i
  for i in $(seq "${3:-100}"); do
    scr "$1" | grep -Eq -- "$2" && return 0
    sleep 0.1
  done
  return 1
}
wait_no_scr() { # SESSION ERE [TENTHS]: until the screen does not match (default 10 s)
  local i
  for i in $(seq "${3:-100}"); do
    scr "$1" | grep -Eq -- "$2" || return 0
    sleep 0.1
  done
  return 1
}
shows() { # DESC SESSION ERE [TENTHS]
  if wait_scr "$2" "$3" "${4:-}"; then ntk_pass "$1"; else
    ntk_fail "$1: /$3/ not on the screen:"
    scr "$2" | sed 's/^/  screen| /'
  fi
}
hides() { # DESC SESSION ERE [TENTHS]
  if wait_no_scr "$2" "$3" "${4:-}"; then ntk_pass "$1"; else
    ntk_fail "$1: /$3/ still on the screen:"
    scr "$2" | sed 's/^/  screen| /'
  fi
}
# on_line DESC SESSION N ERE: bounded wait (10 s: a fetch may be running) until line N of
# the screen matches.
on_line() {
  local i
  for i in $(seq 100); do
    line "$2" "$3" | grep -Eq -- "$4" && break
    sleep 0.1
  done
  check_match "$1" "$4" "$(line "$2" "$3")"
}
key() { # SESSION KEY...
  local s=$1
  shift
  tx send-keys -t "$s" "$@"
}
line() { scr "$1" | sed -n "${2}p"; } # SESSION N: line N of the screen
# The line of the table's heading (starts with " remote" or, in rpeers mode, "st").
heading() { scr "$1" | grep -E '^( remote| *st +t +when)' | head -n1; }
# The peers rows in screen order (a tally character then a name), names only.
rows() { scr "$1" | grep -E '^[ *+#x.o-][a-z0-9][a-z0-9.:-]+ ' | cut -c2- | awk '{ print $1 }' |
  tr '\n' ' '; }
# The name on the selected row: the row painted in the selected colours (white on blue).
selected() {
  scr_e "$1" | grep -E $'\e\\[([0-9;]*;)?44(;[0-9;]*)?m' | sed -E $'s/\e\\[[0-9;]*m//g' |
    grep -E '^[ *+#x.o-][a-z0-9]' | cut -c2- | awk '{ print $1 }' | head -n1
}
# fits SESSION W H: H lines, none wider than W cells, and none wrapped (tmux joins wrapped
# lines with -J: as many lines with and without).
fits() {
  local s=$1 w=$2 h=$3 got
  got=$("$NTK_PY" -c 'import sys, unicodedata
lines = sys.stdin.read().split("\n")[:-1]
cells = lambda l: sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in l)
print(len(lines), max(cells(l) for l in lines))' < <(scr "$s"))
  local n=${got% *} widest=${got#* }
  check_eq "$s ${w}x$h: lines on the screen" "$h" "$n"
  if [ "$widest" -le "$w" ]; then ntk_pass "$s ${w}x$h: widest line $widest <= $w cells"; else
    ntk_fail "$s ${w}x$h: a line of $widest cells"
  fi
  check_eq "$s ${w}x$h: no wrapped line (capture -J joins none)" "$n" \
    "$(tx capture-pane -p -J -t "$s" | wc -l)"
}
# quits SESSION [KEY...]: the keys (or a signal sent before) end ntpmon with status 0 and
# a cooked terminal.
quits() {
  local s=$1
  shift
  [ $# -gt 0 ] && key "$s" "$@"
  set -- "${@:-the signal}"
  if wait_scr "$s" '^EXITED rc=' 50; then
    # The pane prints the stty line just after EXITED: wait for it too (a busy machine has
    # shown the screen between the two).
    local i
    for i in $(seq 50); do
      [ -n "$(scr "$s" | grep -A1 '^EXITED' | sed -n 2p | tr -d ' ')" ] && break
      sleep 0.1
    done
    check_eq "$s: '$*' quits with status 0" "EXITED rc=0" "$(scr "$s" | grep -m1 '^EXITED')"
    check_eq "$s: after '$*' the terminal is cooked (icanon, echo)" "icanon echo" \
      "$(scr "$s" | grep -A1 '^EXITED' | tail -n1 | sed 's/ *$//')"
  else
    ntk_fail "$s: '$*' did not end ntpmon"
    scr "$s" | sed 's/^/  screen| /'
  fi
}

echo "== our ntpmon against our ntpd (120x40)"
mon o 120 40 "$MON" --delay 1 127.0.0.3
shows "header: host, sync state, stratum, refid, offset ± bound, frequency" o \
  '^127\.0\.0\.3 synchronised +st 3 +refid 127\.0\.0\.1 +offset [+-][0-9.]+(ns|µs|ms|s)? ±[0-9.]+(ns|µs|ms|s)? +freq [+-][0-9.]+ ppm' 100
shows "header line 2: leap, leap file, NTS, sources" o \
  '^leap none +leapfile .* +NTS off +sources 2 \(1 reachable, 0 authenticated\)' 50
shows "chronyd's row: tally '*', its name, refid 127.127.1.1, stratum 2, t u, reach" o \
  '^\*chrony\.test +127\.127\.1\.1 +2 u +[0-9-]+ +16 +[0-7]+ ' 100
shows "the silent server's row: refid .INIT. (our ntpd: '..'), reach 0, its name cut" o \
  '^ a-very-long-server-name-for-the-wide-[a-z]* +\.(INIT)?\. +16 u +- +16 +0 '
check_match "column headings (NTPsec's peers columns, then the history)" \
  '^ remote +refid +st +t +when +poll +reach +delay +offset +jitter +history' "$(heading o)"
shows "status line: version, Updated: time, refresh interval" o \
  '^ntpd ntpkit-[0-9.]+ +Updated: [0-9]{2}:[0-9]{2}:[0-9]{2} \(every 1s\)'
check_match "the key bar is the last line" '^F1 Help +F10 Quit +/ Filter +< > Sort' \
  "$(line o 40)"
check_match "the status line is the second last" 'Updated:' "$(line o 39)"
check_match "colours: the status line is black on cyan" $'\e\\[[0-9;]*(30;46|46;30)|\e\\[30m\e\\[46m' \
  "$(scr_e o | sed -n 39p)"
check_match "colours: 'synchronised' in green" $'\e\\[32m(\e\\[[0-9;]*m)* ?synchronised' "$(scr_e o)"
sleep 2.2
shows "the sparkline (history column) has samples" o '^\*chrony\.test .*[▁▂▃▄▅▆▇█]' 30

echo "== keys (our ntpd)"
key o a
shows "a: apeers, an assid column" o '^ remote +refid +assid +st'
key o o
shows "o: opeers, local and disp columns" o '^ remote +local +st .* +offset +disp'
key o r
shows "r: rpeers, the address columns last" o '^ *st +t +when .* +refid +remote *$'
key o p
shows "p: back to peers" o '^ remote +refid +st +t +when +poll +reach +delay +offset +jitter'
key o Space
shows "space: peers -> apeers" o '^ remote +refid +assid'
key o Space
shows "space: apeers -> opeers" o '^ remote +local '
key o Space
shows "space: opeers -> rpeers" o '^ *st +t +when '
key o Space
shows "space: rpeers -> peers" o '^ remote +refid +st '
key o h
shows "h: the help screen" o '^ntpmon help \(any key returns\)'
check_match "help: lists the keys" 'q x F10 \^C +quit' "$(scr o)"
key o z
shows "help: any key returns" o '^ remote +refid'
key o h
shows "h again: the help screen" o '^ntpmon help'
key o F5
shows "help: F5 (a key ntpmon has no use for) returns too" o '^ remote +refid'
key o '?'
shows "?: the help screen" o '^ntpmon help'
key o Escape
shows "help: Esc returns" o '^ remote +refid'
key o F1
shows "F1: the help screen" o '^ntpmon help'
key o Enter
shows "help: Enter returns" o '^ remote +refid'
sel_is() { # DESC SESSION ERE: the selected row's name matches (bounded wait)
  local i got
  for i in $(seq 30); do
    got=$(selected "$2")
    printf '%s' "$got" | grep -Eq -- "$3" && break
    sleep 0.1
  done
  check_match "$1 (selected: '$got')" "$3" "$got"
}
sel_is "selection: the first row at start" o '^chrony\.test$'
key o j
sel_is "j: the next row is selected" o '^a-very-long-server'
key o k
sel_is "k: the previous row again" o '^chrony\.test$'
key o Down
sel_is "Down: the next row" o '^a-very-long-server'
key o Up
sel_is "Up: the previous row" o '^chrony\.test$'
key o End
sel_is "End: the last row" o '^a-very-long-server'
key o Home
sel_is "Home: the first row" o '^chrony\.test$'
key o NPage
sel_is "PgDn: a page down (to the last row)" o '^a-very-long-server'
key o PPage
sel_is "PgUp: a page up (to the first row)" o '^chrony\.test$'
check_match "colours: the system peer's row is green when not selected" \
  $'\e\\[32m(\e\\[[0-9;]*m)*\\*chrony' "$(key o j; sleep 0.3; scr_e o; key o k)"
key o d
shows "d: the detail pane of the selected source" o '^detail: +srcadr=127\.0\.0\.1:123 +srchost=chrony\.test'
key o j
shows "detail follows the selection" o '^detail: +srcadr=127\.0\.0\.9:123'
key o k d
hides "d again: no detail pane" o '^detail: '
key o Enter
shows "Enter: the detail pane" o '^detail: '
key o Enter
hides "Enter again: no detail pane" o '^detail: '
key o n
shows "n: numeric addresses" o '^\*127\.0\.0\.1 +127\.127\.1\.1'
key o n
shows "n again: names" o '^\*chrony\.test'
key o w
shows "w: wide, the full name" o "^ $LONG +\\.(INIT)?\\."
key o w
shows "w again: the name cut" o '^ a-very-long-server-name-for-the-wide-[a-z]* +\.(INIT)?\.'
key o u
shows "u: units on delay, offset, jitter" o '^\*chrony\.test .* [+-]?[0-9.]+(ns|µs|ms|s) +[0-9.]+(ns|µs|ms|s) '
key o u
shows "u again: plain milliseconds" o '^\*chrony\.test +127\.127\.1\.1 +2 u +[0-9-]+ +16 +[0-7]+ +[0-9]+\.[0-9]+ '
key o s
hides "s: reachable sources only (the silent one goes)" o '^ a-very-long'
check_match "s: chronyd stays" '^\*chrony\.test' "$(scr o)"
key o s
shows "s again: every source" o '^ a-very-long'
key o '>'
shows "'>': sort by remote, the heading marks it" o '^ remote↑ '
check_match "'>': the status line says so" 'sort remote' "$(line o 39)"
check_match "'>': rows sorted by name" '^a-very-long-[^ ]* chrony\.test $' "$(rows o)"
key o i
shows "i: reverse sort" o '^ remote↓ '
check_match "i: rows in reverse order" '^chrony\.test a-very-long-[^ ]* $' "$(rows o)"
key o '>'
shows "'>' again: next column (refid)" o '^ remote +refid↓ '
key o '<' '<'
shows "'<' twice: back to the daemon's order" o '^ remote +refid +st '
check_match "no sort in the status line" '^ntpd ntpkit-[0-9.]+ +Updated: [0-9:]+ \(every 1s\) *$' \
  "$(line o 39)"
key o i
key o /
shows "/: filter editing in the status line and the key bar" o 'filter: _'
check_match "/: the key bar explains the filter keys" '^Filter: type text +Enter keep +Esc clear' \
  "$(line o 40)"
key o -l longx
shows "filter: typed text shown" o 'filter: longx_'
key o BSpace
shows "Backspace: deletes the last character" o 'filter: long_'
key o Enter
shows "Enter: keeps the filter" o 'filter: long *$'
hides "the filter narrows the rows (chronyd goes)" o '^\*chrony'
check_match "the filter keeps the matching row" '^ a-very-long' "$(scr o)"
key o / Escape
hides "Esc: clears the filter" o 'filter:'
shows "every row again" o '^\*chrony'
key o P
shows "P: paused" o 'PAUSED'
t1=$(line o 39 | grep -Eo 'Updated: [0-9:]+')
sleep 2.2
check_eq "paused: no refresh (Updated: unchanged)" "$t1" "$(line o 39 | grep -Eo 'Updated: [0-9:]+')"
key o P
hides "P again: running" o 'PAUSED'
hides "running: refreshed again" o "${t1}" 30
key o m
shows "m: MRU list only (MRU headings)" o '^lstint avgint rstr m v +count rport remote address'
hides "m: the peers table goes" o '^ remote +refid'
key o m
shows "m again: the peers table" o '^ remote +refid'
key o M
shows "M: the MRU pane under the peers" o '^lstint avgint rstr'
check_match "M: the peers table stays" '^ remote +refid' "$(scr o)"
shows "M: MRU rows (our ntpmon's own address among them)" o '^ *[0-9]+ +[0-9.]+ +[0-9a-f]+ +[0-9] [0-9] +[0-9]+ +[0-9]+ 127\.0\.0\.3' 150
key o M
hides "M again: no MRU pane" o '^lstint'
key o + + -
shows "+ + -: the debug level changes nothing on screen, ntpmon stays" o '^\*chrony\.test'
check_eq "+: debug output goes to ntpmon.log (NTPsec's file), not the screen" yes \
  "$([ -e "$W/ntpmon.log" ] && echo yes || echo no)"
key o - -
check_match "'-' below zero: no crash (NTPsec 1.2.2 crashed)" '^\*chrony' "$(sleep 0.3; scr o)"

echo "== resize"
tx resize-window -t o -x 60 -y 15
on_line "60x15: the key bar on line 15" o 15 '^F1 Help'
fits o 60 15
check_match "60x15: the table re-laid (remote, offset kept; history dropped)" \
  '^ remote +.*offset' "$(heading o)"
check_nomatch "60x15: no history column" 'history' "$(heading o)"
tx resize-window -t o -x 200 -y 50
on_line "200x50: the key bar on line 50" o 50 '^F1 Help'
fits o 200 50
check_match "200x50: every column and the history" \
  '^ remote +refid +st +t +when +poll +reach +delay +offset +jitter +history' "$(heading o)"
check_match "200x50: the status line is line 49" 'Updated:' "$(line o 49)"
tx resize-window -t o -x 120 -y 40
on_line "120x40 again: the key bar on line 40" o 40 '^F1 Help'
fits o 120 40
quits o q

echo "== any other key polls now (--delay 60)"
mon z 100 30 "$MON" --delay 60 127.0.0.3
shows "--delay 60: the table" z '^\*chrony' 100
for k in z F5; do
  t1=$(scr z | grep -Eo 'Updated: [0-9:]+')
  sleep 1.1
  key z "$k"
  hides "$k (bound to nothing) polls now: Updated: changes" z "$t1" 50
done
check_match "--delay 60: the status line says so" '\(every 60s\)' "$(scr z)"
quits z q

echo "== two hosts: Tab"
mon t 120 40 "$MON" -n --delay 1 127.0.0.3 127.0.0.2
shows "two hosts: the first (ours), host 1/2" t 'host 1/2' 50
check_match "two hosts: our ntpd's header" '^127\.0\.0\.3 ' "$(line t 1)"
key t Tab
shows "Tab: the second host (NTPsec's ntpd), host 2/2" t 'host 2/2'
shows "Tab: NTPsec's header: synchronised, stratum 3, refid chronyd" t \
  '^127\.0\.0\.2 synchronised +st 3 +refid 127\.0\.0\.1 +offset ' 50
shows "Tab: NTPsec's peers row, '*' for chronyd" t '^\*127\.0\.0\.1 +127\.127\.1\.1 +2 u ' 50
shows "Tab: NTPsec's version in the status line" t '^ntpd ntpsec-1\.2\.2 +Updated:' 50
key t Tab
shows "Tab again: back to the first" t 'host 1/2'
quits t x
# NTPsec's own view whenever a check of its rows failed (CI has seen it answer READSTAT with
# no association while its system variables still said synchronised).
diag_ntpsec() {
  echo "# NTPsec's ntpq -n -c as -c pe 127.0.0.2:"
  ntpsec_ntpq -n -c as -c pe 127.0.0.2 2>&1 | sed 's/^/  ntpsec ntpq| /'
  local a
  for a in $(ntpsec_ntpq -n -c as 127.0.0.2 2>/dev/null | awk '$1 ~ /^[0-9]+$/ { print $2 }'); do
    echo "# NTPsec's ntpq rv $a, then our ntpmon --json:"
    ntpsec_ntpq -n -c "rv $a" 127.0.0.2 2>&1 | sed 's/^/  ntpsec rv| /'
  done
  "$MON" --json -n 127.0.0.2 2>&1 | head -c 3000 | sed 's/^/  json| /'
  ntk_show_log n | tail -n 30
}
fails_before=$NTK_FAILS

echo "== our ntpmon against NTPsec's ntpd"
mon s 120 40 "$MON" -n --delay 1 127.0.0.2
shows "NTPsec: header" s '^127\.0\.0\.2 synchronised +st 3 +refid 127\.0\.0\.1 +offset [+-]' 100
shows "NTPsec: chronyd's row with tally '*'" s '^\*127\.0\.0\.1 +127\.127\.1\.1 +2 u +[0-9-]+ +16 +[0-7]+ '
shows "NTPsec: status line" s '^ntpd ntpsec-1\.2\.2 +Updated: [0-9:]+ \(every 1s\)'
check_match "NTPsec: key bar" '^F1 Help +F10 Quit' "$(line s 40)"
key s a
shows "NTPsec: a (assid column)" s '^ remote +refid +assid'
key s o
shows "NTPsec: o (local, disp)" s '^ remote +local .* disp'
key s p d
shows "NTPsec: d (detail pane)" s '^detail: +srcadr=127\.0\.0\.1:123'
key s d u
shows "NTPsec: u (units)" s '^\*127\.0\.0\.1 .*[0-9](ns|µs|ms|s) '
key s u M
shows "NTPsec: M (the MRU pane)" s '^lstint avgint'
key s M F1
shows "NTPsec: F1 (help)" s '^ntpmon help'
key s Escape
[ "$NTK_FAILS" -eq "$fails_before" ] || diag_ntpsec
tx resize-window -t s -x 60 -y 15
on_line "NTPsec 60x15: key bar on line 15" s 15 '^F1 Help'
fits s 60 15
tx resize-window -t s -x 200 -y 50
on_line "NTPsec 200x50: key bar on line 50" s 50 '^F1 Help'
fits s 200 50
quits s F10

echo "== signals: SIGTERM and SIGHUP end ntpmon cleanly"
for sig in TERM HUP; do
  mon "k$sig" 100 30 "$MON" --delay 1 127.0.0.3
  shows "SIG$sig: the table first" "k$sig" '^\*chrony' 100
  pp=$(tx display-message -p -t "k$sig" '#{pane_pid}')
  mp=$(pgrep -P "$pp" -x ntpmon)
  check_ne "SIG$sig: ntpmon's pid found" "" "$mp"
  [ -n "$mp" ] && kill "-$sig" "$mp"
  quits "k$sig"
done

echo "== colours off: --no-color and NO_COLOR"
mon c 100 30 "$MON" --no-color --delay 1 127.0.0.3
shows "--no-color: the table" c '^\*chrony' 100
check_nomatch "--no-color: no colour escape on screen" $'\e\\[[0-9;]*(3[0-7]|4[0-7])m' "$(scr_e c)"
check_match "--no-color: the status line in reverse video" $'\e\\[[0-9;]*7m' "$(scr_e c | sed -n 29p)"
quits c C-c
mon c2 100 30 env NO_COLOR=1 "$MON" --delay 1 127.0.0.3
shows "NO_COLOR=1: the table" c2 '^\*chrony' 100
check_nomatch "NO_COLOR=1: no colour escape on screen" $'\e\\[[0-9;]*(3[0-7]|4[0-7])m' "$(scr_e c2)"
quits c2 q
echo "== ASCII: a locale that is not UTF-8"
mon l 100 30 env LANG=C LC_ALL=C "$MON" --delay 1 127.0.0.3
shows "C locale: the table" l '^\*chrony' 100
shows "C locale: '+/-' instead of '±'" l 'offset [+-][0-9.]+(ns|us|ms|s)? \+/-[0-9]'
LC_ALL=C check_nomatch "C locale: nothing but ASCII on screen" $'[\x80-\xff]' "$(scr l | LC_ALL=C cat)"
key l '>'
shows "C locale: the sort mark in ASCII" l '^ remote\^ '
quits l C-c
mon la 100 30 "$MON" --ascii --delay 1 127.0.0.3
shows "--ascii in a UTF-8 locale: the table" la '^\*chrony' 100
shows "--ascii: '+/-' and an ASCII sparkline" la 'offset [+-][0-9.]+(ns|us|ms|s)? \+/-[0-9]'
LC_ALL=C check_nomatch "--ascii: nothing but ASCII on screen" $'[\x80-\xff]' "$(scr la | LC_ALL=C cat)"
quits la q

echo "== empty states"
mon e 100 30 "$MON" --delay 1 127.0.0.4
shows "no associations: its screen" e '^No associations: the daemon has no sources \(yet\)\.' 100
check_match "no associations: the header still there" '^127\.0\.0\.4 unsynchronised' "$(line e 1)"
sleep 3
check_match "no associations: still running after 3 s (NTPsec's exits)" 'No associations' "$(scr e)"
quits e q
mon u 100 30 "$MON" --delay 1 --timeout 500 127.0.0.7
shows "nothing answers: the unreachable screen" u \
  '^127\.0\.0\.7 is not answering since [0-9:]+ \([0-9]+ s\): timeout' 100
check_match "nothing answers: retrying" '^Retrying\.' "$(scr u)"
sleep 3
shows "nothing answers: still running, the age grows" u 'not answering since [0-9:]+ \(([3-9]|[1-9][0-9]) s\)' 50
key u h
shows "nothing answers: keys still work (help)" u '^ntpmon help'
quits u q
# Our ntpd with `restrict default noquery` (loopback excepted) asked from 10.99.0.1: it drops
# the queries without an answer (as NTPsec's does), so the screen is the unreachable one; our
# ntpq from loopback still gets answers from the same daemon.
mon qn 100 30 "$MON" --delay 1 --timeout 500 10.99.0.1
shows "noquery: queries from 10.99.0.1 dropped, the not-answering screen" qn \
  '^10\.99\.0\.1 is not answering since .*: timeout' 100
check_match "noquery: the same daemon answers loopback (ntpq rv 0 stratum, 127.0.0.8)" \
  'stratum=16' "$(ntpsec_ntpq -n -c 'rv 0 stratum' 127.0.0.8 2>&1)"
check_nomatch "noquery: and drops NTPsec's ntpq from 10.99.0.1 too" 'stratum=' \
  "$(ntpsec_ntpq -n -c 'rv 0 stratum' 10.99.0.1 2>&1)"
quits qn q
mon rf 100 30 "$MON" --delay 1 --timeout 500 127.0.0.6
shows "refused (an error response): its screen with the error code" rf \
  '^127\.0\.0\.6 refused the mode-6 queries \(refused: error code 7\) since ' 100
check_match "refused: the restrict line that allows the queries" \
  '^  restrict 127\.0\.0\.1 nomodify nopeer notrap' "$(scr rf)"
sleep 2
check_match "refused: still running" 'refused the mode-6' "$(scr rf)"
quits rf q

echo "== escapes: control characters from the wire"
mon x 120 40 "$MON" --delay 1 127.0.0.5
shows "escape: the evil daemon's screen" x '^127\.0\.0\.5 synchronised' 100
raw=$(scr_e x)
echo "$raw" | sed -n '1,3p;/evil/p' | cat -v | sed 's/^/  screen -e| /'
check_match "escape: refid ESC[31mX shown as ?[31mX" 'refid \?\[31mX' "$(scr x)"
check_match "escape: version's ESC, BEL, CR shown as '?'" 'evil\?\[31mRED\?\]0;pwned\?BEL\?CR' "$(scr x)"
check_match "escape: srchost ESC[2J ESC[31m BEL CR as '?'" '^\*\?\[2J\?\[31mevil\?host\?' "$(scr x)"
check_match "escape: refid of the source" '\?\[31mZ\?' "$(scr x)"
check_nomatch "escape: no red text from the wire (no SGR 31 before RED, X, Z or evil)" \
  $'\e\\[[0-9;]*31m(RED|X|Z|evil)' "$raw"
check_nomatch "escape: the screen was not cleared by ESC[2J (header on line 1)" '^$' "$(line x 1)"
check_ne "escape: the window title was not set by OSC 0" "pwned" \
  "$(tx display-message -p -t x '#{pane_title}')"
quits x q

echo "== NTPsec's ntpmon (Python, curses) against our ntpd"
tx new-session -d -s ns -x 120 -y 40 "env LANG=C.UTF-8 PYTHONPATH=$NTK_PYPATH $NTK_PY \
  $NTK_PEERS/ntpsec/usr/bin/ntpmon -n 127.0.0.3; echo \"EXITED rc=\$?\"; sleep 600"
shows "NTPsec's ntpmon: our chronyd row with '*'" ns '^\*127\.0\.0\.1 +127\.127\.1\.1 +2 u ' 100
shows "NTPsec's ntpmon: our silent source, .INIT." ns '^ 127\.0\.0\.9 +\.(INIT)?\. +16 u '
shows "NTPsec's ntpmon: our version in its status line" ns '^ntpd ntpkit-[0-9.]+ +Updated: '
shows "NTPsec's ntpmon: our MRU list in its pane" ns '^ *[0-9]+ +[0-9.]+ +[0-9a-f]+ \. [0-9] [0-9] +[0-9]+ .*127\.0\.0\.'
key ns q
shows "NTPsec's ntpmon: q quits" ns '^EXITED rc=0'

tx kill-server
ntk_show_log o | tail -n 20
ntk_done
