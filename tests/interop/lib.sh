# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# Helpers sourced by the interop tests (tests/interop/ntpdig_*.sh): each test runs in its own
# network, mount, IPC and PID namespace with CAP_SYS_TIME dropped, starts real peers (chronyd
# 4.3, NTPsec ntpd 1.2.2) on loopback, runs our ntpdig and NTPsec's ntpdig against them, and
# checks with assertions that print what differed.
#
# Use:  . "$(dirname "$0")/lib.sh";  ntk_setup "$@";  ...checks...;  ntk_done
# Arguments of every test: OUR_NTPDIG [OUR_NTPDIG_FAKECLK]. Environment: NTK_PEERS (peers
# unpacked by scripts/peers, default /var/cache/ntpkit-peers), NTK_KEEP=1 keeps the temp dir.
# Exit codes: 0 pass, 1 fail, 77 skip (peers or root missing; CI runs scripts/peers first).

set -u
NTK_PEERS=${NTK_PEERS:-/var/cache/ntpkit-peers}
NTK_PY=/usr/bin/python3 # Debian's Python: NTPsec's tools are built for it
NTK_NAME=$(basename "$0" .sh)
NTK_SRC=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC2034 # used by the tests
NTK_DATA=$(cd "$NTK_SRC/../data" && pwd)
CHRONYD=$NTK_PEERS/chrony/usr/sbin/chronyd
CHRONYC=$NTK_PEERS/chrony/usr/bin/chronyc
NTPD=$NTK_PEERS/ntpsec/usr/sbin/ntpd
NTK_PYPATH=$NTK_PEERS/python3-ntp/usr/lib/python3/dist-packages
NTK_CHECKS=0
NTK_FAILS=0
NTK_PIDS=()
# Every key of the ntpdig JSON object (helpers/ntpdig-spec.md).
NTK_JSON_KEYS="schema time offset precision host ip port stratum leap adjusted delay ok error
message kiss_code sync_distance dispersion root_delay root_dispersion refid refid_hex version mode
li precision_log2 poll_log2 authenticated key_id t1 t2 t3 t4 t1_iso t2_iso t3_iso t4_iso sample
selected adjustment"

ntk_log() { echo "# $*"; }

ntk_skip() {
  echo "SKIP $NTK_NAME: $*"
  exit 77
}

ntk_fatal() {
  echo "FATAL $NTK_NAME: $*" >&2
  exit 1
}

# The peers and tools a test needs; their absence is the one reason to skip.
ntk_check_peers() {
  local f
  for f in "$CHRONYD" "$CHRONYC" "$NTPD" "$NTK_PEERS/ntpsec/usr/bin/ntpq" \
    "$NTK_PEERS/ntpsec-ntpdig/usr/bin/ntpdig" "$NTK_PYPATH/ntp/libntpc.so" "$NTK_PY"; do
    [ -e "$f" ] || ntk_skip "missing $f (run scripts/peers)"
  done
  for f in unshare capsh setpriv ip timeout; do
    command -v "$f" >/dev/null || ntk_skip "missing tool $f (run scripts/peers)"
  done
}

# Enter the sandbox: re-exec this script as PID 1 of new network/mount/IPC/PID namespaces,
# under capsh with CAP_SYS_TIME dropped from the bounding set. --kill-child makes the kernel
# kill every process of the test (peers included) if the test itself is killed (CTest TIMEOUT).
ntk_setup() {
  NTK_OURS=${1:-}
  NTK_FAKE=${2:-}
  ntk_check_peers
  [ "$(id -u)" -eq 0 ] || ntk_skip "needs root (network namespaces, peers on port 123)"
  if [ "$$" -ne 1 ] || [ "${NTK_SANDBOX:-}" != 1 ]; then
    export NTK_SANDBOX=1
    local self
    self=$(readlink -f "$0")
    # shellcheck disable=SC2016 # $0 and $@ are for the inner bash
    exec unshare --net --mount --ipc --pid --fork --kill-child --mount-proc -- \
      capsh --drop=cap_sys_time -- -c 'exec "$0" "$@"' "$self" "$@"
  fi
  ntk_assert_no_sys_time
  [ -x "$NTK_OURS" ] || ntk_fatal "our ntpdig '$NTK_OURS' is not an executable"
  ip link set lo up || ntk_fatal "ip link set lo up failed"
  local i
  for i in 2 3 4 5 6; do ip addr add "127.0.0.$i/32" dev lo; done
  # Requests to NTPsec ntpd (bound to 127.0.0.2 only) would otherwise come from 127.0.0.2
  # itself: make the kernel pick source 127.0.0.1 towards it, as the captures did
  # (tests/data/README.md).
  ip route replace local 127.0.0.2 dev lo table local proto kernel scope host src 127.0.0.1
  W=$(mktemp -d "${TMPDIR:-/tmp}/ntk-$NTK_NAME.XXXXXX") || ntk_fatal "mktemp failed"
  chmod 755 "$W"
  trap ntk_cleanup EXIT
  trap 'exit 1' INT TERM
  ntk_log "$NTK_NAME in netns (pid 1), work dir $W, peers $NTK_PEERS"
  ntk_log "ours: $NTK_OURS${NTK_FAKE:+, fakeclk: $NTK_FAKE}"
}

# CAP_SYS_TIME is bit 25: it must be gone from the bounding, permitted and effective sets
# before any peer or ntpdig starts.
ntk_assert_no_sys_time() {
  local set val
  for set in CapBnd CapPrm CapEff; do
    val=$(awk -v s="$set:" '$1 == s { print $2 }' /proc/self/status)
    [ -n "$val" ] || ntk_fatal "cannot read $set"
    if (((0x$val >> 25) & 1)); then ntk_fatal "CAP_SYS_TIME still in $set ($val)"; fi
  done
  if capsh --has-p=cap_sys_time 2>/dev/null; then ntk_fatal "capsh: cap_sys_time permitted"; fi
}

# Stop every process we started, by PID, then remove the work dir.
ntk_cleanup() {
  local rc=$? p n
  for p in "${NTK_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for n in 1 2 3 4 5 6 7 8 9 10; do
    local alive=0
    for p in "${NTK_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.1
  done
  for p in "${NTK_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ "${NTK_KEEP:-0}" = 1 ]; then ntk_log "kept $W"; else rm -rf "$W"; fi
  exit "$rc"
}

ntk_stop() { # PID
  kill -TERM "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  return 0
}

# Private /etc/hosts (bind mount in our mount namespace): the system's plus the given lines.
ntk_hosts() {
  { cat /etc/hosts; printf '%s\n' "$@"; } >"$W/hosts"
  mount --bind "$W/hosts" /etc/hosts || ntk_fatal "bind mount of /etc/hosts failed"
}

# start_chronyd NAME ADDRS PORT STRATUM [CONF-LINE...]: chronyd -x (never touches the clock)
# as a server on ADDRS (comma-separated, at most one IPv4 and one IPv6) and PORT, answering as
# synchronised with `local stratum STRATUM`. Extra lines: keyfile, ratelimit, ... Sets LAST_PID.
start_chronyd() {
  local name=$1 addrs=$2 port=$3 stratum=$4 a v6=0
  shift 4
  local d=$W/$name
  mkdir -m 750 "$d"
  {
    echo "port $port"
    for a in ${addrs//,/ }; do
      echo "bindaddress $a"
      case $a in *:*) v6=1 ;; esac
    done
    echo "local stratum $stratum"
    echo "allow all"
    echo "pidfile $d/chronyd.pid"
    echo "bindcmdaddress $d/chronyd.sock"
    echo "cmdport 0"
    printf '%s\n' "$@"
  } >"$d/chrony.conf"
  local fam=-4
  [ "$v6" -eq 1 ] && fam=
  # shellcheck disable=SC2086
  "$CHRONYD" $fam -x -d -u root -f "$d/chrony.conf" >"$d/chronyd.log" 2>&1 &
  LAST_PID=$!
  NTK_PIDS+=("$LAST_PID")
  ntk_log "started chronyd $name pid $LAST_PID on $addrs port $port, local stratum $stratum$(
    [ $# -gt 0 ] && printf ', %s' "$@")"
}

# start_ntpsec NAME ADDR [CONF-LINE...]: NTPsec ntpd bound to ADDR:123 only, clock discipline
# off (disable ntp, disable kernel), orphan mode so it answers synchronised at stratum 5.
# Extra lines: keys/trustedkey, restrict default kod limited, limit ... Sets LAST_PID.
start_ntpsec() {
  local name=$1 addr=$2 a
  shift 2
  local d=$W/$name
  mkdir -m 750 "$d"
  {
    echo "disable ntp"
    echo "disable kernel"
    # Only ADDR, none of the test's other 127.0.0.x ("interface ignore all" + "listen" does
    # not do that in NTPsec 1.2.2: it listens everywhere).
    echo "interface ignore wildcard"
    echo "interface ignore ipv6"
    for a in 127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6; do
      [ "$a" != "$addr" ] && echo "interface ignore $a"
    done
    echo "interface listen $addr"
    echo "tos orphan 5 orphanwait 1"
    echo "statsdir $d/"
    [ $# -gt 0 ] && printf '%s\n' "$@"
    case " $* " in *" restrict default"*) ;; *) echo "restrict default" ;; esac
    # Without an entry for the client's address, ntpd 1.2.2 ignores its mode 6 (ntpq) queries.
    case " $* " in *" restrict 127.0.0.1"*) ;; *) echo "restrict 127.0.0.1" ;; esac
  } >"$d/ntp.conf"
  "$NTPD" -n -c "$d/ntp.conf" -l "$d/ntpd.log" -p "$d/ntpd.pid" >"$d/ntpd.out" 2>&1 &
  LAST_PID=$!
  NTK_PIDS+=("$LAST_PID")
  ntk_log "started NTPsec ntpd $name pid $LAST_PID on $addr:123$(
    [ $# -gt 0 ] && printf ', %s' "$@")"
}

# start_silent ADDR PORT: a UDP socket bound to ADDR:PORT that never reads nor answers (a
# server that drops everything: no ICMP port unreachable either). Sets LAST_PID.
start_silent() {
  rm -f "$W/silent.ready"
  "$NTK_PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
open(sys.argv[3], "w").close()
time.sleep(600)' "$1" "$2" "$W/silent.ready" &
  LAST_PID=$!
  NTK_PIDS+=("$LAST_PID")
  local n
  for n in $(seq 1 50); do
    [ -e "$W/silent.ready" ] && break
    sleep 0.1
  done
  [ -e "$W/silent.ready" ] || ntk_fatal "silent socket on $1:$2 did not start"
  ntk_log "started a silent UDP socket on $1:$2 pid $LAST_PID"
}

# One raw mode-3 request from SRC; prints "li stratum refid-hex" of the reply, fails on none.
ntk_probe() { # ADDR PORT SRC
  "$NTK_PY" - "$@" <<'EOF'
import socket, struct, sys, time
addr, port, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
s.settimeout(0.3)
t = time.time() + 2208988800
s.sendto(struct.pack("!B39xII", 0x23, int(t), int((t % 1) * 2**32)), (addr, port))
try:
    d = s.recv(1024)
except OSError:
    sys.exit(1)
print(d[0] >> 6, d[1], d[12:16].hex())
EOF
}

# Wait (bounded: about 10 s) until ADDR:PORT answers synchronised (LI != 3, stratum 1-15).
# The probes come from SRC (default a probe-only address), so rate limits of 127.0.0.1 are
# untouched.
ntk_wait_ntp() { # ADDR [PORT [SRC]]
  local addr=$1 port=${2:-123} src=${3:-} n r
  [ -n "$src" ] || case $addr in *:*) src=::1 ;; *) src=127.0.0.6 ;; esac
  for n in $(seq 1 40); do
    if r=$(ntk_probe "$addr" "$port" "$src"); then
      local li st ref
      read -r li st ref <<<"$r"
      if [ "$li" -ne 3 ] && [ "$st" -ge 1 ] && [ "$st" -le 15 ]; then
        ntk_log "$addr port $port answers: li $li stratum $st refid $ref (probe $n)"
        return 0
      fi
    fi
    sleep 0.2
  done
  ntk_log "$addr port $port not answering synchronised after $n probes; logs:"
  tail -n 20 "$W"/*/chronyd.log "$W"/*/ntpd.log 2>/dev/null
  ntk_fatal "server $addr:$port did not come up"
}

# The tools by name: ours, fakeclk (our ntpdig_fakeclk), ntpsec_ntpdig, ntpsec_ntpq.
ntk_argv() { # NAME ARGS... -> sets NTK_ARGV
  case $1 in
  ours) NTK_ARGV=("$NTK_OURS") ;;
  fakeclk) NTK_ARGV=("$NTK_FAKE") ;;
  ntpsec_ntpdig) NTK_ARGV=(env "PYTHONPATH=$NTK_PYPATH" "$NTK_PY" "$NTK_PEERS/ntpsec-ntpdig/usr/bin/ntpdig") ;;
  ntpsec_ntpq) NTK_ARGV=(env "PYTHONPATH=$NTK_PYPATH" "$NTK_PY" "$NTK_PEERS/ntpsec/usr/bin/ntpq") ;;
  *) NTK_ARGV=("$1") ;;
  esac
  NTK_ARGV+=("${@:2}")
}
# ntk_capture_start FILE FILTER: tcpdump on lo into FILE (classic pcap); returns once it
# listens (bounded). ntk_capture_stop: flush and stop it.
ntk_capture_start() {
  command -v tcpdump >/dev/null || ntk_skip "missing tool tcpdump (run scripts/peers)"
  NTK_CAP_FILE=$1
  tcpdump -i lo -n -s 0 -U --immediate-mode -Z root -w "$1" "$2" 2>"$1.log" &
  NTK_CAP_PID=$!
  NTK_PIDS+=("$NTK_CAP_PID")
  local n
  for n in $(seq 1 50); do
    grep -q "listening on" "$1.log" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$1.log"
  ntk_fatal "tcpdump did not start"
}

ntk_capture_stop() {
  sleep 0.3 # let the last reply reach the capture
  kill -INT "$NTK_CAP_PID" 2>/dev/null
  wait "$NTK_CAP_PID" 2>/dev/null
  sed 's/^/  tcpdump| /' "$NTK_CAP_FILE.log"
}

# ntk_pcap_ntp FILE: one line per NTP packet of a classic pcap (Ethernet, IPv4, UDP):
# "SRC SPORT DST DPORT MODE STRATUM REFID", REFID as 4 capital letters (a kiss code) or hex.
ntk_pcap_ntp() {
  "$NTK_PY" - "$1" <<'EOF'
import socket, struct, sys
data = open(sys.argv[1], "rb").read()
end = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
off = 24
while off + 16 <= len(data):
    incl = struct.unpack(end + "IIII", data[off:off + 16])[2]
    frame = data[off + 16:off + 16 + incl]
    off += 16 + incl
    if len(frame) < 14 + 20 + 8 + 48 or frame[12:14] != b"\x08\x00":
        continue
    ihl = (frame[14] & 15) * 4
    ip, udp, ntp = frame[14:14 + ihl], frame[14 + ihl:22 + ihl], frame[22 + ihl:]
    sport, dport = struct.unpack("!HH", udp[:4])
    ref = ntp[12:16]
    ref = ref.decode() if all(0x41 <= c <= 0x5A for c in ref) else ref.hex()
    print(socket.inet_ntoa(ip[12:16]), sport, socket.inet_ntoa(ip[16:20]), dport,
          ntp[0] & 7, ntp[1], ref)
EOF
}

ntpsec_ntpdig() { PYTHONPATH=$NTK_PYPATH "$NTK_PY" "$NTK_PEERS/ntpsec-ntpdig/usr/bin/ntpdig" "$@"; }
ntpsec_ntpq() { PYTHONPATH=$NTK_PYPATH "$NTK_PY" "$NTK_PEERS/ntpsec/usr/bin/ntpq" "$@"; }

# ntk_wait_heard HOST...: wait (10 s at most each) until NTPsec's ntpq -p on HOST shows its
# association with chronyd on 127.0.0.1 reached (reach no longer 0).
ntk_wait_heard() {
  local host
  for host in "$@"; do
    for _ in $(seq 40); do
      ntpsec_ntpq -n -p "$host" 2>/dev/null | grep -qE '^[*+ #o-]127\.0\.0\.1 .* [1-7]{1,3} ' &&
        break
      sleep 0.25
    done
  done
}

# ntk_run LABEL TOOL ARGS...: run TOOL (a name of ntk_argv or a command; bounded to 30 s) with
# stdout in $W/LABEL.out and stderr in $W/LABEL.err; print all of it; set RC, OUT, ERR.
ntk_run() {
  local label=$1
  shift
  ntk_argv "$@"
  echo "\$ $*"
  local t0=$EPOCHREALTIME
  timeout -k 2 30 "${NTK_ARGV[@]}" </dev/null >"$W/$label.out" 2>"$W/$label.err"
  RC=$?
  local t1=$EPOCHREALTIME
  # shellcheck disable=SC2034 # OUT and ERR are for the tests
  OUT=$(cat "$W/$label.out")
  # shellcheck disable=SC2034
  ERR=$(cat "$W/$label.err")
  sed 's/^/  out| /' "$W/$label.out"
  sed 's/^/  err| /' "$W/$label.err"
  echo "  rc=$RC ($(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s)"
}

ntk_pass() {
  NTK_CHECKS=$((NTK_CHECKS + 1))
  echo "ok   - $1"
}

NTK_FAILED=()
ntk_fail() {
  NTK_CHECKS=$((NTK_CHECKS + 1))
  NTK_FAILS=$((NTK_FAILS + 1))
  NTK_FAILED+=("$1")
  echo "FAIL - $1"
}

check_eq() { # DESC EXPECTED GOT
  if [ "$2" = "$3" ]; then ntk_pass "$1: $3"; else ntk_fail "$1: expected '$2', got '$3'"; fi
}

check_same() { # DESC NTPSEC-VALUE OUR-VALUE: equal and not empty
  if [ -n "$2" ] && [ "$2" = "$3" ]; then
    ntk_pass "$1: $3"
  else
    ntk_fail "$1: NTPsec '$2', ours '$3'"
  fi
}

check_ne() { # DESC UNEXPECTED GOT
  if [ "$2" != "$3" ]; then ntk_pass "$1: $3"; else ntk_fail "$1: got '$3'"; fi
}

check_match() { # DESC ERE STRING
  if printf '%s' "$3" | grep -Eq -- "$2"; then
    ntk_pass "$1"
  else
    ntk_fail "$1: /$2/ does not match '$3'"
  fi
}

check_nomatch() { # DESC ERE STRING
  if printf '%s' "$3" | grep -Eq -- "$2"; then
    ntk_fail "$1: /$2/ matches '$3'"
  else
    ntk_pass "$1"
  fi
}

check_rc() { check_eq "$1: exit code" "$2" "$RC"; } # DESC EXPECTED (of the last ntk_run)

check_lines() { # DESC EXPECTED-COUNT TEXT
  local n=0
  [ -n "$3" ] && n=$(printf '%s\n' "$3" | wc -l)
  check_eq "$1: line count" "$2" "$n"
}

check_near() { # DESC A B TOLERANCE: |A - B| <= TOLERANCE (decimal numbers)
  if awk -v a="$2" -v b="$3" -v t="$4" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'
  then
    ntk_pass "$1: $2 vs $3 (tolerance $4)"
  else
    ntk_fail "$1: $2 vs $3 differ by more than $4"
  fi
}

# jq_py FILE EXPR: evaluate a Python expression over L, the list of JSON objects of FILE (one
# per line; a line that does not parse fails). Prints the result (JSON for non-strings).
jq_py() {
  "$NTK_PY" - "$@" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1]).read().split("\n") if l != ""]
L = []
for i, l in enumerate(lines):
    try:
        L.append(json.loads(l))
    except ValueError as e:
        print("line %d is not JSON (%s): %s" % (i + 1, e, l))
        sys.exit(2)
sel = [o for o in L if isinstance(o, dict) and o.get("selected") is True]
S = sel[0] if sel else None
try:
    r = eval("(" + sys.argv[2] + "\n)", {"L": L, "S": S, "json": json})
except Exception as e:
    print("error: %s: %s" % (type(e).__name__, e))
    sys.exit(2)
print(r if isinstance(r, str) else json.dumps(r))
EOF
}

check_json() { # DESC FILE EXPR EXPECTED
  local got
  got=$(jq_py "$2" "$3" 2>&1)
  if [ "$got" = "$4" ]; then
    ntk_pass "$1: $got"
  else
    ntk_fail "$1: expected '$4', got '$got' (from: $(tr -s '\n ' '  ' <<<"$3"))"
  fi
}

# Every line of FILE parses as a JSON object with every key of the spec and schema ntpkit.ntpdig/1.
check_json_schema() { # DESC FILE
  local got
  got=$(jq_py "$2" "[i for i, o in enumerate(L) if not isinstance(o, dict)
    or o.get('schema') != 'ntpkit.ntpdig/1'
    or sorted(set('''$NTK_JSON_KEYS'''.split()) - set(o))]" 2>&1)
  if [ "$got" = "[]" ]; then
    ntk_pass "$1: every line is JSON with all $(echo "$NTK_JSON_KEYS" | wc -w) keys and the schema"
  else
    ntk_fail "$1: bad lines (0-based) $got; missing keys: $(jq_py "$2" "[sorted(set('''$NTK_JSON_KEYS'''.split()) - set(o)) for o in L if isinstance(o, dict)]" 2>&1)"
  fi
}

# Our text line and NTPsec's text line, field by field:
# DATE TIME (ZONE) OFFSET +/- ERROR HOST [IP] sSTRATUM LEAP
ntk_text_fields() { # LINE -> "host ip stratum leap" (ip "-" when absent)
  awk '{ ip = (NF == 10) ? $8 : "-"; print $7, ip, $(NF - 1), $NF }' <<<"$1"
}

NTK_TEXT_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)? \([+-][0-9]{4}\) [+-][0-9]+\.[0-9]{6} \+/- [0-9]+\.[0-9]{6} [^ ]+( [^ ]+)? s[0-9]+ (no-leap|add-leap|del-leap|unsync)$'

# Internal consistency of the selected sample of our JSON FILE: t1..t4 in the spec's formats,
# offset and delay recomputed from them (RFC 5905 section 8), "time" is T3 in local time.
check_sample() { # DESC FILE
  check_json "$1: t1..t4 NTP hex, t1_iso..t4_iso UTC with 9 digits" "$2" "all(
    __import__('re').fullmatch(r'[0-9a-f]{8}[.][0-9a-f]{8}', S['t%d' % i]) and
    __import__('re').fullmatch(r'[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{9}Z',
      S['t%d_iso' % i]) for i in (1, 2, 3, 4))" true
  check_json "$1: offset = ((t2-t1)+(t3-t4))/2 and delay = (t4-t1)-(t3-t2), within 2 us" "$2" \
    "(lambda t: abs(((t[2]-t[1])+(t[3]-t[4]))/2 - S['offset']) < 2e-6
      and abs((t[4]-t[1])-(t[3]-t[2]) - S['delay']) < 2e-6)(
      {i: int(S['t%d' % i].replace('.', ''), 16) / 2**32 for i in (1, 2, 3, 4)})" true
  # `time` has the digits the server's precision justifies (NTPsec's rule: 5 for 2^-19, as a
  # server under valgrind measures itself), truncated: within one unit of the last digit.
  check_json "$1: time is T3 in local time (truncated to its digits, + 2 us)" "$2" "(lambda dt: 0
    <= dt.datetime.strptime(S['t3_iso'][:26] + '+0000', '%Y-%m-%dT%H:%M:%S.%f%z').timestamp() -
    dt.datetime.strptime(S['time'], '%Y-%m-%dT%H:%M:%S.%f%z').timestamp()
    < 10 ** -len(S['time'].split('.')[1][:-5]) + 2e-6)(__import__('datetime'))" true
}

# ntk_jitter ADDR [ARGS...]: 4 of our samples; NTK_TOL = their offset spread + 1 ms, the base
# tolerance of every offset comparison with NTPsec's ntpdig (see ntk_tol).
ntk_jitter() {
  ntk_run jitter ours -j -p 4 -g 20 -t 2 "${@:2}" "$1"
  check_rc "ours -p 4 $1" 0
  local spread
  spread=$(jq_py "$W/jitter.out" "'%.6f' % (max(o['offset'] for o in L if o['ok'])
    - min(o['offset'] for o in L if o['ok']))")
  NTK_TOL=$(awk -v s="$spread" 'BEGIN { printf "%.6f", s + 0.001 }')
  ntk_log "offset spread of our 4 samples: $spread s; offset tolerance $NTK_TOL s"
}

# ntk_tol OUR-ERROR NTPSEC-ERROR: tolerance of one offset comparison = NTK_TOL + the error
# bounds ("+/- x") both tools printed for their sample (a sample delayed by the scheduler on a
# busy machine has a large delay, hence a large bound).
ntk_tol() {
  awk -v t="$NTK_TOL" -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", t + a + b }'
}

# ntk_compare LABEL FIELDS ARGS...: ours and NTPsec's ntpdig with the same ARGS, text then -j:
# both exit 0; text layout; host/ip/stratum/leap equal to NTPsec's and to FIELDS
# ("host ip|- sN leap"); offsets within ntk_tol; our JSON: one line, every key, the schema,
# ok, selected, no error, and consistent. Our JSON stays in $W/LABEL_j.out for more checks.
ntk_compare() {
  local l=$1 fields=$2 t k
  shift 2
  ntk_run "${l}_t" ours -t 2 "$@"
  check_rc "ours $*" 0
  ntk_run "${l}_tn" ntpsec_ntpdig -t 2 "$@"
  check_rc "NTPsec ntpdig $*" 0
  echo "# ours:   $(cat "$W/${l}_t.out")"
  echo "# NTPsec: $(cat "$W/${l}_tn.out")"
  check_lines "ours $* text" 1 "$(cat "$W/${l}_t.out")"
  check_match "ours $* text layout" "$NTK_TEXT_RE" "$(cat "$W/${l}_t.out")"
  check_match "NTPsec $* text layout" "$NTK_TEXT_RE" "$(cat "$W/${l}_tn.out")"
  t=$(ntk_text_fields "$(cat "$W/${l}_t.out")")
  check_same "$* text host ip stratum leap (NTPsec vs ours)" \
    "$(ntk_text_fields "$(cat "$W/${l}_tn.out")")" "$t"
  check_eq "$* text host ip stratum leap" "$fields" "$t"
  check_near "$* text offsets (ours vs NTPsec)" "$(awk '{ print $4 }' "$W/${l}_t.out")" \
    "$(awk '{ print $4 }' "$W/${l}_tn.out")" "$(ntk_tol "$(awk '{ print $6 }' "$W/${l}_t.out")" \
    "$(awk '{ print $6 }' "$W/${l}_tn.out")")"
  check_eq "ours $* stderr" "" "$(cat "$W/${l}_t.err")"

  ntk_run "${l}_j" ours -j -t 2 "$@"
  check_rc "ours -j $*" 0
  ntk_run "${l}_jn" ntpsec_ntpdig -j -t 2 "$@"
  check_rc "NTPsec ntpdig -j $*" 0
  check_lines "ours -j $*" 1 "$(cat "$W/${l}_j.out")"
  check_json_schema "ours -j $*" "$W/${l}_j.out"
  for k in host ip stratum leap adjusted; do
    check_same "-j $* $k (NTPsec vs ours)" "$(jq_py "$W/${l}_jn.out" "L[0]['$k']")" \
      "$(jq_py "$W/${l}_j.out" "L[0]['$k']")"
  done
  check_near "-j $* offsets (ours vs NTPsec)" "$(jq_py "$W/${l}_j.out" "L[0]['offset']")" \
    "$(jq_py "$W/${l}_jn.out" "L[0]['offset']")" "$(ntk_tol \
    "$(jq_py "$W/${l}_j.out" "L[0]['precision']")" "$(jq_py "$W/${l}_jn.out" "L[0]['precision']")")"
  check_json "ours -j $*: ok error selected sample adjustment message" "$W/${l}_j.out" \
    "[S['ok'], S['error'], S['selected'], S['sample'], S['adjustment'], S['message']]" \
    '[true, null, true, 0, "none", null]'
  check_json "ours -j $*: error bound 0..1 s, delay 0..10 ms, li 0, mode 4, version 4" \
    "$W/${l}_j.out" "0 < S['precision'] < 1 and 0 <= S['delay'] < 0.01 and S['li'] == 0
    and S['mode'] == 4 and S['version'] == 4" true
  check_sample "ours -j $*" "$W/${l}_j.out"
  check_json "ours -j $*: time within 5 s of NTPsec's" "$W/${l}_j.out" "(lambda dt, n: abs(
    dt.datetime.strptime(S['time'][:19] + S['time'][-5:], '%Y-%m-%dT%H:%M:%S%z').timestamp() -
    dt.datetime.strptime(n[:19] + n[-5:], '%Y-%m-%dT%H:%M:%S%z').timestamp()) < 5)(
    __import__('datetime'), $(jq_py "$W/${l}_jn.out" "json.dumps(L[0]['time'])"))" true
}

ntk_done() {
  ntk_valgrind_check # valgrind: every memcheck'd ntpd stopped and its report checked
  # The failed checks once more at the end, where a truncated CI log still shows them.
  local f
  for f in "${NTK_FAILED[@]}"; do echo "failed: ${f:0:300}"; done
  echo "$NTK_NAME: $NTK_CHECKS checks, $NTK_FAILS failed, ${SECONDS}s"
  [ "$NTK_FAILS" -eq 0 ] || exit 1
  exit 0
}

# ---- our ntpd (tests/interop/ntpd_*.sh: arguments OUR_NTPDIG OUR_NTPD) ----

# start_ntpd NAME PORT [CONF-LINE...]: our ntpd (NTK_NTPD) with --observe -n (never touches
# the clock; CAP_SYS_TIME is dropped anyway), the given ntp.conf lines in $W/NAME/ntp.conf,
# serving on PORT (NTK_NTPD_PORT), logging to $W/NAME/ntpd.log. Sets LAST_PID.
start_ntpd() {
  local name=$1 port=$2
  shift 2
  local d=$W/$name
  [ -x "${NTK_NTPD:-}" ] || ntk_fatal "our ntpd '${NTK_NTPD:-}' is not an executable"
  mkdir -m 750 "$d"
  printf '%s\n' "$@" >"$d/ntp.conf"
  sed 's/^/  ntp.conf| /' "$d/ntp.conf"
  local vg=() vgopt=()
  if [ "${NTK_VALGRIND:-0}" = 1 ]; then # valgrind: the wrapper below
    vg=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
      --show-leak-kinds=definite --track-fds=no -q --num-callers=30 --vgdb=no
      --suppressions="$NTK_SRC/../valgrind.supp" --log-file="$d/valgrind.log")
    vgopt=(--seccomp=off) # memcheck's own system calls are not on ntpd's allow-list
  fi
  NTK_NTPD_PORT=$port "${vg[@]}" "$NTK_NTPD" --observe -n "${vgopt[@]}" -c "$d/ntp.conf" \
    -p "$d/ntpd.pid" >"$d/ntpd.log" 2>&1 &
  LAST_PID=$!
  NTK_PIDS+=("$LAST_PID")
  [ ${#vg[@]} -eq 0 ] || NTK_VG+=("$LAST_PID:$name")
  ntk_log "started our ntpd $name pid $LAST_PID on port $port${vg:+ under valgrind memcheck}"
}

# valgrind: NTK_VALGRIND=1 runs every start_ntpd daemon under valgrind memcheck (the CTest
# label valgrind; --seccomp=off, as memcheck makes calls ntpd does not). ntk_done then stops
# each with SIGTERM (bounded: 60 s, memcheck is slow to exit), so the leak check runs, and
# fails the test when memcheck reported anything (exit 99, or its -q log is not empty):
# invalid reads and writes, uses of uninitialised values, definite leaks. Suppressions (only
# documented false positives of glibc and OpenSSL): tests/valgrind.supp. --vgdb=no: no gdbserver
# FIFOs in /tmp, named by the PID, which tests in other PID namespaces reuse.
NTK_VG=()
ntk_valgrind_check() {
  local e pid name n rc
  for e in "${NTK_VG[@]}"; do
    pid=${e%%:*} name=${e#*:}
    kill -TERM "$pid" 2>/dev/null
    for n in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    wait "$pid" 2>/dev/null
    rc=$?
    if [ "$rc" -ne 99 ] && [ -e "$W/$name/valgrind.log" ] && [ ! -s "$W/$name/valgrind.log" ]; then
      ntk_pass "valgrind memcheck: ntpd $name clean (exit $rc)"
    else
      ntk_fail "valgrind memcheck: ntpd $name reported errors (exit $rc)"
      sed "s/^/  valgrind $name| /" "$W/$name/valgrind.log" 2>/dev/null
    fi
  done
  NTK_VG=()
}

# ntk_wait_log FILE ERE SECONDS: wait (bounded) until a line of FILE matches ERE; 0 if it
# did, 1 if not (the caller checks).
ntk_wait_log() {
  local n
  for n in $(seq 1 $(($3 * 5))); do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

# ntk_show_log NAME: the log of peer NAME ($W/NAME/ntpd.log or chronyd.log), prefixed.
ntk_show_log() {
  local f
  for f in "$W/$1/ntpd.log" "$W/$1/chronyd.log"; do
    [ -e "$f" ] && sed "s/^/  $1| /" "$f"
  done
  return 0
}

# ntk_certs DIR: a test CA (DIR/ca.pem) and leaf certificates signed by it, EC P-256, made
# with the openssl CLI: DIR/srv.{pem,key} for DNS:ntske.test and IP:127.0.0.1, valid 30
# days; DIR/other.{pem,key} for DNS:other.test only (a wrong name); DIR/expired.{pem,key} for
# ntske.test and 127.0.0.1 whose validity ended yesterday. srv.pem holds the chain (leaf,
# then CA), as `nts cert` and chronyd's ntsservercert take it.
ntk_certs() {
  local d=$1 n
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj /CN=ntpkit-test-ca -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign \
    -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null || ntk_fatal "openssl: cannot make the CA"
  leaf() { # NAME SAN DAYS-FLAGS...
    local name=$1 san=$2
    shift 2
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=${san#*:}" \
      -keyout "$d/$name.key" -out "$d/$name.csr" 2>/dev/null &&
      printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" >"$d/$name.ext" &&
      openssl x509 -req -in "$d/$name.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
        -CAcreateserial -extfile "$d/$name.ext" "$@" -out "$d/$name.leaf" 2>/dev/null &&
      cat "$d/$name.leaf" "$d/ca.pem" >"$d/$name.pem" ||
      ntk_fatal "openssl: cannot make the $name certificate"
  }
  leaf srv "DNS:ntske.test,IP:127.0.0.1" -days 30
  leaf other "DNS:other.test" -days 30
  # x509 -req has no start date option in OpenSSL 3.0: sign with `openssl ca`, whose
  # -startdate/-enddate set a validity in the past.
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=ntske.test \
    -keyout "$d/expired.key" -out "$d/expired.csr" 2>/dev/null
  mkdir -p "$d/ca.db"
  : >"$d/ca.db/index"
  echo 01 >"$d/ca.db/serial"
  cat >"$d/ca.cnf" <<CNF
[ca]
default_ca = t
[t]
database = $d/ca.db/index
serial = $d/ca.db/serial
new_certs_dir = $d/ca.db
default_md = sha256
policy = p
copy_extensions = none
x509_extensions = x
[p]
commonName = supplied
[x]
subjectAltName = DNS:ntske.test,IP:127.0.0.1
extendedKeyUsage = serverAuth
CNF
  n=$(date -u -d '-3 days' +%Y%m%d%H%M%SZ)
  openssl ca -batch -config "$d/ca.cnf" -cert "$d/ca.pem" -keyfile "$d/ca.key" \
    -startdate "$n" -enddate "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)" \
    -in "$d/expired.csr" -out "$d/expired.leaf" >/dev/null 2>&1 ||
    ntk_fatal "openssl: cannot make the expired certificate"
  cat "$d/expired.leaf" "$d/ca.pem" >"$d/expired.pem"
  chmod 644 "$d"/*.pem "$d"/*.key
}
