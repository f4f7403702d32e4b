#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Benchmark: NTS (RFC 8915) server throughput on loopback, side by side in one run: our ntpd
# (--observe, orphan mode, `nts enable`), chronyd 4.3 (-x, local stratum 1,
# ntsservercert/ntsserverkey, `ntsprocesses 0` so that NTS-KE runs in the one pinned process
# as ours does), and for NTS-NTP a bare echo server (bench/ntsecho: each request sent back
# whole as a mode-4 reply, no cryptography; ntsload -X with made-up keys and cookies as long
# as ours, no Authenticator check): the ceiling of this machine and generator. Every server
# is pinned to CPU SERVER_CPU and the load generator (bench/ntsload) to CPU LOAD_CPU.
# Scenarios, per server:
#   nts max   NTS-protected NTP requests, WINDOW in flight from SOCKETS source ports, as fast
#             as the window allows: replies/s, p50/p99, lost, NAK/KoD, the server's CPU per
#             reply; every reply's origin and Unique Identifier checked, the Authenticator
#             (and the new cookie) of 1 reply in 64 verified;
#   nts RATE  the same at a fixed RATE requests/s (CPU per reply then measures the work);
#   ke max    NTS-KE handshakes (TLS 1.3, ALPN ntske/1, EC P-256 certificate, AEAD 15, 8
#             cookies, keys exported) with CONC sessions at once: handshakes/s,
#             p50/p99, failures, the server's CPU per handshake. The generator's TLS client
#             (OpenSSL 3.0) costs more CPU per handshake than either server, so on a 2-core
#             machine it, not the server, limits handshakes/s: "per CPU-s" (handshakes per
#             second of server CPU, i.e. what one saturated core would do) is the comparison
#             that measures the servers, and both are printed. KE_CLIENT=lean (default:
#             ntsload --ke, no certificate check, about 10 % cheaper for the generator; the
#             server's work is the same) or full (ntsload --ke-full: ntpd's ke_cli, the
#             certificate verified against the CA made here).
# CPU per reply/handshake = the server's utime + stime (/proc/PID/stat) over the run / count;
# the generator's own CPU use is printed too (a generator at 100 % caps the figure).
# ROUNDS rounds in a rotating order, medians. Rate limiting is configured for NTP in both
# servers but not triggered (as bench/ntpd-server.sh); chronyd's NTS-KE rate limiting
# (ntsratelimit) is off by default and left off. Prints a Markdown table with the ratios and
# the targets of issue 7. Bounded: the whole script runs under NTK_BENCH_TIMEOUT seconds in a
# private network namespace with CAP_SYS_TIME dropped from the bounding set; the servers
# are stopped by PID; the clock is never touched (ntpd --observe, chronyd -x).
# Needs root (unshare -n), taskset, capsh, ip, openssl, and chrony unpacked by scripts/peers.
# Usage: bench/nts-server.sh [BUILD_DIR]     (default: build/ in the source tree)
# Environment: NTK_PEERS (/var/cache/ntpkit-peers), DURATION (5 s per run), ROUNDS (3),
#   WINDOW (64), SOCKETS (4), RATE (20000 requests/s), CONC (16 NTS-KE sessions), KE_CLIENT,
#   SERVER_CPU (0), LOAD_CPU (1), NTK_BENCH_TIMEOUT (900), SERVERS ("echo ours chronyd"),
#   SCENARIOS ("nts:0 nts:RATE ke:0"), NTK_KEEP=1 (keep the work dir)
set -euo pipefail
export LC_ALL=C
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
peers=${NTK_PEERS:-/var/cache/ntpkit-peers}
limit=${NTK_BENCH_TIMEOUT:-900}
duration=${DURATION:-5}
rounds=${ROUNDS:-3}
window=${WINDOW:-64}
socks=${SOCKETS:-4}
rate=${RATE:-20000}
conc=${CONC:-16}
keclient=${KE_CLIENT:-lean}
scpu=${SERVER_CPU:-0}
lcpu=${LOAD_CPU:-1}
servers=${SERVERS:-echo ours chronyd}
scenarios=${SCENARIOS:-nts:0 nts:$rate ke:0}
ntpd=$build/daemon/io/ntpd
load=$build/bench/ntsload
echo_bin=$build/bench/ntsecho
chronyd=$peers/chrony/usr/sbin/chronyd

die() {
  echo "bench: $*" >&2
  exit 1
}

if [ "${NTK_BENCH_INNER:-}" != 1 ]; then
  [ "$(id -u)" -eq 0 ] || die "needs root for unshare -n (a private network namespace)"
  for f in "$ntpd" "$load" "$echo_bin"; do
    [ -x "$f" ] || die "$f not built (cmake --build $build --target ntpd ntsload ntsecho)"
  done
  [ -x "$chronyd" ] || die "$chronyd missing: run scripts/peers first"
  for c in unshare capsh ip timeout taskset openssl; do
    command -v "$c" >/dev/null || die "$c not found"
  done
  export NTK_BENCH_INNER=1
  exec timeout -k 10 "$limit" unshare -n capsh --drop=cap_sys_time -- "$0" "$build"
fi

capbnd=$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)
(((0x$capbnd >> 25) & 1)) && die "CAP_SYS_TIME is still in the bounding set"
ip link set lo up
# This namespace only: room for the TIME_WAIT connections thousands of handshakes leave.
echo "1024 65535" >/proc/sys/net/ipv4/ip_local_port_range
tmp=$(mktemp -d)
chmod 755 "$tmp"
declare -A pid ntp ke
cleanup() {
  local p
  for p in "${pid[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pid[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${NTK_KEEP:-0}" = 1 ]; then echo "bench: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A test CA and a leaf for ntske.test and 127.0.0.1 (EC P-256, as tests/interop/lib.sh's
# ntk_certs); the chain file holds the leaf then the CA, as both servers take it.
P=$tmp/pki
mkdir -m 700 "$P"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj /CN=ntpkit-bench-ca -addext basicConstraints=critical,CA:TRUE \
  -addext keyUsage=critical,keyCertSign,cRLSign -keyout "$P/ca.key" -out "$P/ca.pem" \
  2>/dev/null || die "openssl: cannot make the CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=ntske.test \
  -keyout "$P/leaf.key" -out "$P/leaf.csr" 2>/dev/null || die "openssl: cannot make a key"
printf '%s\n' "subjectAltName=DNS:ntske.test,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
  "extendedKeyUsage=serverAuth" >"$P/leaf.ext"
openssl x509 -req -in "$P/leaf.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial \
  -days 2 -extfile "$P/leaf.ext" -out "$P/leaf.pem" 2>/dev/null ||
  die "openssl: cannot sign the leaf"

mkdir "$tmp/ours" "$tmp/chronyd"
cat >"$tmp/ours/ntp.conf" <<EOF
tos orphan 5 orphanwait 1
restrict default kod limited
restrict 127.0.0.0 mask 255.0.0.0
discard average 0 minimum 0
nts enable
nts cert $P/leaf.pem
nts key $P/leaf.key
nts cookie $tmp/ours/nts-keys
nts keport 1460
EOF
cat >"$tmp/chronyd/chrony.conf" <<EOF
port 2123
bindaddress 127.0.0.1
local stratum 1
allow all
ratelimit interval -19 burst 255 leak 0
cmdport 0
bindcmdaddress /
pidfile $tmp/chronyd/chronyd.pid
ntsservercert $P/leaf.pem
ntsserverkey $P/leaf.key
ntsdumpdir $tmp/chronyd
ntsport 2460
ntsprocesses 0
EOF

start() { # NAME NTP_PORT KE_PORT CMD...
  local n=$1
  ntp[$n]=$2
  ke[$n]=$3
  shift 3
  taskset -c "$scpu" "$@" >"$tmp/$n.log" 2>&1 &
  pid[$n]=$!
}

for s in $servers; do
  case $s in
  echo) start echo 4123 1 "$echo_bin" 127.0.0.1 4123 "$limit" ;;
  ours) start ours 1123 1460 env NTK_NTPD_PORT=1123 "$ntpd" -n --observe -c "$tmp/ours/ntp.conf" ;;
  chronyd) start chronyd 2123 2460 "$chronyd" -d -x -u root -f "$tmp/chronyd/chrony.conf" ;;
  *) die "unknown server $s" ;;
  esac
done

# Text output of ntsload: "key value" pairs; field KEY of a line.
field() { awk -v k="$2" '{ for (i = 1; i < NF; i += 2) if ($i == k) print $(i + 1) }' <<<"$1"; }
gen() { # SERVER ARGS...: ntsload against SERVER on the load CPU
  local s=$1
  shift
  [ "$s" = echo ] && set -- -X 104 "$@" # no NTS-KE; cookies as long as ours and chrony's
  taskset -c "$lcpu" "$load" -a 127.0.0.1 -H 127.0.0.1 -C "$P/ca.pem" -k "${ke[$s]}" \
    -p "${ntp[$s]}" "$@"
}

# Ready: NTS-KE, then NTS-protected replies, authenticated, synchronised, no NAK or KoD
# (bounded: about 40 s).
for s in $servers; do
  ok=0
  for _ in $(seq 1 100); do
    kill -0 "${pid[$s]}" 2>/dev/null || break
    v=1
    [ "$s" = echo ] && v=0 # its replies carry no valid Authenticator
    out=$(gen "$s" -d 0.1 -w 1 -v "$v" -t 50 2>&1 || true)
    if [ "$(field "$out" replies)" -gt 0 ] 2>/dev/null && [ "$(field "$out" unsync)" = 0 ] &&
      [ "$(field "$out" kod)" = 0 ] && [ "$(field "$out" nak)" = 0 ] &&
      { [ "$s" = echo ] || [ "$(field "$out" verified)" -gt 0 ]; } &&
      [ "$(field "$out" auth_fail)" = 0 ]; then
      ok=1
      break
    fi
    sleep 0.3
  done
  if [ $ok -ne 1 ]; then
    tail -n 20 "$tmp/$s.log" >&2 || true
    die "$s did not answer NTS requests (last: ${out:-none})"
  fi
done
sleep 1

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# One run: NAME SCENARIO (nts:RATE or ke:RATE, 0 = as fast as possible) ROUND -> a line of
# $tmp/results: scenario server round rate p50 p99 cpu_us errors other verified gen_cpu
# capacity (count per server CPU second) server_cpu_pct.
measure() {
  local s=$1 c=$2 r=$3 t0 t1 out
  t0=$(cpu_ticks "${pid[$s]}")
  if [ "${c%:*}" = ke ]; then
    out=$(gen "$s" "$keflag" -c "$conc" -d "$duration" -r "${c#*:}" || true)
  else
    out=$(gen "$s" -d "$duration" -w "$window" -s "$socks" -r "${c#*:}" || true)
  fi
  t1=$(cpu_ticks "${pid[$s]}")
  kill -0 "${pid[$s]}" 2>/dev/null || die "$s died under load"
  echo "# round $r $s $c: $out (cpu ticks $((t1 - t0)))" >&2
  awk -v s="$s" -v c="$c" -v r="$r" -v dt=$((t1 - t0)) -v hz="$hz" -v o="$out" 'BEGIN {
    n = split(o, f, " "); for (i = 1; i < n; i += 2) v[f[i]] = f[i + 1]
    if (c ~ /^ke/) {
      cnt = v["handshakes"]; rt = v["handshakes_per_s"]; p50 = v["p50_ms"] * 1000
      p99 = v["p99_ms"] * 1000; err = v["failed"]; oth = 0; ver = v["handshakes"]
    } else {
      cnt = v["replies"]; rt = v["replies_per_s"]; p50 = v["p50_us"]; p99 = v["p99_us"]
      err = v["lost"] + v["nak"] + v["kod"]
      oth = v["late"] + v["bad"] + v["bad_uid"] + v["auth_fail"] + v["unsync"]
      ver = v["verified"]
    }
    cpu = cnt > 0 ? dt / hz * 1e6 / cnt : 0
    cap = dt > 0 ? cnt / (dt / hz) : 0
    print c, s, r, rt + 0, p50 + 0, p99 + 0, cpu, err + 0, oth + 0, ver + 0, v["gen_cpu_pct"] + 0,
      cap, dt / hz / v["duration_s"] * 100
  }' >>"$tmp/results"
}

case $keclient in lean) keflag=--ke ;; full) keflag=--ke-full ;; *) die "KE_CLIENT: lean or full" ;; esac
read -r -a order <<<"$servers"
for r in $(seq 1 "$rounds"); do
  for c in $scenarios; do
    for s in "${order[@]}"; do
      [ "$s" = echo ] && [ "${c%:*}" = ke ] && continue # no NTS-KE in the echo server
      measure "$s" "$c" "$r"
    done
  done
  order=("${order[@]:1}" "${order[0]}") # rotate, so no server always runs first
done

med() { # SCENARIO SERVER COLUMN
  awk -v c="$1" -v s="$2" -v k="$3" '$1 == c && $2 == s { print $k }' "$tmp/results" |
    sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
sum() { awk -v c="$1" -v s="$2" -v k="$3" '$1 == c && $2 == s { t += $k } END { print t + 0 }' "$tmp/results"; }
label() {
  case $1 in echo) echo "bare echo (ntsecho)" ;; ours) echo "ntpkit ntpd" ;; chronyd) echo "chronyd 4.3" ;; esac
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }
# SCENARIO COLUMN FACTOR: ours / chronyd in each round (the two ran next to each other, so a
# machine that speeds up or slows down between rounds moves both): "min-max, met in k of n"
# (met: ratio >= FACTOR).
rounds() {
  awk -v c="$1" -v k="$2" -v f="$3" '$1 == c && $2 == "ours" { o[$3] = $k }
    $1 == c && $2 == "chronyd" { e[$3] = $k }
    END { n = 0; m = 0; lo = ""; hi = ""
      for (r in o) if ((r in e) && e[r] > 0) { x = o[r] / e[r]; n++; m += x >= f
        if (lo == "" || x < lo) lo = x; if (hi == "" || x > hi) hi = x }
      if (n) printf "%.3f-%.3f, met in %d of %d", lo, hi, m, n; else print "-" }' "$tmp/results"
}
verdict() { awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN {
  ok = (op == ">=") ? a >= b : a <= b; print ok ? "met" : "missed" }'; }
scen() { # SCENARIO -> a table cell
  local what=NTS-NTP
  [ "${1%:*}" = ke ] && what="NTS-KE, $conc at once"
  if [ "${1#*:}" = 0 ]; then echo "$what, max"; else echo "$what, ${1#*:}/s"; fi
}
unit() { if [ "${1%:*}" = ke ]; then echo handshakes/s; else echo replies/s; fi; }

echo "Server pinned to CPU $scpu, ntsload to CPU $lcpu; NTS-NTP: $window requests in flight"
echo "from $socks source ports, AEAD_AES_SIV_CMAC_256, one cookie back per request; NTS-KE:"
echo "$conc sessions at once ($keclient client), TLS 1.3, EC P-256 certificate, 8 cookies;"
echo "$duration s per run, median of $rounds rounds; CPU per op = server (utime + stime) / count;"
echo "\"errors\" = lost + NAK + KoD (NTP) or failed handshakes (KE), \"other\" = late, bad,"
echo "wrong UID, unauthentic, unsynchronised; \"verified\" = Authenticators checked (NTP, 1 in"
echo "64) or handshakes completed (KE); \"per CPU-s\" = count / server CPU seconds (what one"
echo "fully busy core would do); \"server CPU\", \"gen CPU\" = CPU use of the server and of"
echo "the generator over the run."
echo
echo "| server | load | rate | p50 | p99 | CPU per op | per CPU-s | server CPU | gen CPU | errors | other | verified |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for c in $scenarios; do
  for s in $servers; do
    [ "$s" = echo ] && [ "${c%:*}" = ke ] && continue
    printf '| %s | %s | %.0f %s | %.1f µs | %.1f µs | %.1f µs | %.0f | %.0f %% | %.0f %% | %s | %s | %s |\n' \
      "$(label "$s")" "$(scen "$c")" "$(med "$c" "$s" 4)" "$(unit "$c")" "$(med "$c" "$s" 5)" \
      "$(med "$c" "$s" 6)" "$(med "$c" "$s" 7)" "$(med "$c" "$s" 12)" "$(med "$c" "$s" 13)" \
      "$(med "$c" "$s" 11)" "$(sum "$c" "$s" 8)" "$(sum "$c" "$s" 9)" "$(sum "$c" "$s" 10)"
  done
done
[ -n "${pid[ours]:-}" ] && [ -n "${pid[chronyd]:-}" ] || exit 0
echo
echo "| target (issue 7) | load | ntpkit | chronyd 4.3 | ratio | | each round |"
echo "|---|---|---:|---:|---:|---|---|"
for c in $scenarios; do
  o=$(med "$c" ours 4) e=$(med "$c" chronyd 4)
  oc=$(med "$c" ours 12) ec=$(med "$c" chronyd 12)
  if [ "$c" = nts:0 ] && [ -n "${pid[echo]:-}" ]; then
    x=$(med "$c" echo 4)
    printf '| ceiling: bare echo vs chronyd (no target) | %s | %.0f (echo) | %.0f | %s | | |\n' \
      "$(scen "$c")" "$x" "$e" "$(ratio "$x" "$e")"
  fi
  if [ "$c" = nts:0 ]; then
    printf '| NTS replies/s ≥ 1.5× chronyd | %s | %.0f | %.0f | %s | %s | %s |\n' "$(scen "$c")" \
      "$o" "$e" "$(ratio "$o" "$e")" "$(verdict "$o" ">=" "$(awk -v e="$e" 'BEGIN { print e * 1.5 }')")" \
      "$(rounds "$c" 4 1.5)"
    printf '| NTS replies per CPU-s ≥ 1.5× chronyd | %s | %.0f | %.0f | %s | %s | %s |\n' \
      "$(scen "$c")" "$oc" "$ec" "$(ratio "$oc" "$ec")" \
      "$(verdict "$oc" ">=" "$(awk -v e="$ec" 'BEGIN { print e * 1.5 }')")" "$(rounds "$c" 12 1.5)"
  elif [ "$c" = ke:0 ]; then
    printf '| NTS-KE handshakes/s ≥ chronyd | %s | %.1f | %.1f | %s | %s | %s |\n' "$(scen "$c")" \
      "$o" "$e" "$(ratio "$o" "$e")" "$(verdict "$o" ">=" "$e")" "$(rounds "$c" 4 1)"
    printf '| NTS-KE handshakes per CPU-s ≥ chronyd | %s | %.0f | %.0f | %s | %s | %s |\n' \
      "$(scen "$c")" "$oc" "$ec" "$(ratio "$oc" "$ec")" "$(verdict "$oc" ">=" "$ec")" \
      "$(rounds "$c" 12 1)"
  fi
  o=$(med "$c" ours 7) e=$(med "$c" chronyd 7)
  printf '| CPU per op (for information) | %s | %.1f µs | %.1f µs | %s | | |\n' "$(scen "$c")" \
    "$o" "$e" "$(ratio "$o" "$e")"
done
