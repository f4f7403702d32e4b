#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: ntpkit_exporter's /probe against real servers. chronyd 4.3 on 127.0.0.1 serves NTP
# (local stratum 2) and NTS-KE on 4460 with a certificate for ntske.test / 127.0.0.1 from a
# test CA (ntk_certs); our ntpd (--observe) on 127.0.0.2:123 syncs from it and serves NTS-KE on
# port 4463 with a certificate for ntske2.test from the same CA; a second chronyd on
# 127.0.0.1:1123 serves NTS-KE on 4462 with an expired certificate for ntske.test; a silent
# UDP socket sits on 127.0.0.5:123. The exporter
# (--nts.ca the test CA) must report: SNTP success with stratum 2 from chronyd and stratum 3
# from our ntpd; NTS success with 8 cookies and the certificate's notAfter from both NTS-KE
# servers; the expired certificate as a failed probe that still reports its notAfter; the
# silent server as success 0 with the error "timeout" after the asked timeout; a bad target
# and a bad parameter as 400 with the reason.
# Usage: exporter_probe.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
EXPORTER=$(dirname "$NTK_NTPD")/../../exporters/ntpkit_exporter
[ -x "$EXPORTER" ] || ntk_skip "ntpkit_exporter is not built ($EXPORTER)"
command -v curl >/dev/null || ntk_skip "missing tool curl"
command -v openssl >/dev/null || ntk_skip "missing tool openssl"
command -v promtool >/dev/null || ntk_skip "missing tool promtool (apt-get install prometheus)"

C=$W/certs
ntk_certs "$C"
ntk_hosts "127.0.0.1 ntske.test" "127.0.0.2 ntske2.test"
# Our ntpd's certificate, for ntske2.test, from ntk_certs's CA.
printf 'subjectAltName=DNS:ntske2.test\nextendedKeyUsage=serverAuth\n' >"$C/ours.ext"
if ! openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=ntske2.test \
  -keyout "$C/ours.key" -out "$C/ours.csr" 2>/dev/null ||
  ! openssl x509 -req -in "$C/ours.csr" -CA "$C/ca.pem" -CAkey "$C/ca.key" -CAcreateserial \
    -extfile "$C/ours.ext" -days 20 -out "$C/ours.leaf" 2>/dev/null; then
  ntk_fatal "openssl: cannot make our ntpd's certificate"
fi
cat "$C/ours.leaf" "$C/ca.pem" >"$C/ours.pem"
chmod 644 "$C/ours.pem"
chrony_nts() { # CERT-NAME KE-PORT
  mkdir -p "$W/dump-$1"
  printf '%s\n' "ntsservercert $C/$1.pem" "ntsserverkey $C/$1.key" "ntsport $2" \
    "ntsdumpdir $W/dump-$1" "ntsprocesses 0"
}
mapfile -t lines < <(chrony_nts srv 4460)
start_chronyd a 127.0.0.1 123 2 "${lines[@]}"
mapfile -t lines < <(chrony_nts expired 4462)
start_chronyd x 127.0.0.1 1123 2 "${lines[@]}"
start_silent 127.0.0.5 123
ntk_wait_ntp 127.0.0.1
start_ntpd o 123 "interface ignore wildcard" "interface ignore ipv6" \
  "interface ignore 127.0.0.1" "interface listen 127.0.0.2" \
  "server 127.0.0.1 iburst minpoll 4 maxpoll 4" "nts enable" "nts cert $C/ours.pem" \
  "nts key $C/ours.key" "nts cookie $W/o-cookies" "nts keport 4463"
"$EXPORTER" --web.listen-address=127.0.0.1:10123 --nts.ca="$C/ca.pem" --log.level=debug \
  >"$W/exporter.log" 2>&1 &
EXP_PID=$!
NTK_PIDS+=("$EXP_PID")
ntk_log "started ntpkit_exporter pid $! on 127.0.0.1:10123"
if ntk_wait_log "$W/o/ntpd.log" "synchronised to association" 25; then
  ntk_pass "our ntpd synchronised to chronyd"
else
  ntk_show_log o
  ntk_fail "our ntpd did not synchronise within 25 s"
fi

# probe LABEL QUERY: GET /probe?QUERY into $W/LABEL.{hdr,out}; sets CODE, OUT, HDR.
probe() {
  CODE=$(curl -sS --max-time 40 -D "$W/$1.hdr" -o "$W/$1.out" -w '%{http_code}' \
    "http://127.0.0.1:10123/probe?$2")
  OUT=$(cat "$W/$1.out")
  HDR=$(tr -d '\r' <"$W/$1.hdr")
  echo "-- /probe?$2 -> $CODE"
  grep -v '^#' "$W/$1.out" | sed 's/^/  /'
}
val() { sed -n "s/^$1 //p" <<<"$OUT" | head -n 1; } # value of an unlabelled series
valid_metrics() { # LABEL
  if promtool check metrics <"$W/$1.out" >"$W/$1.promtool" 2>&1; then
    ntk_pass "$1: promtool check metrics"
  else
    ntk_fail "$1: promtool check metrics"
    cat "$W/$1.promtool"
  fi
}
# The exporter listens by now (bounded).
for _ in $(seq 50); do
  curl -s --max-time 1 -o /dev/null http://127.0.0.1:10123/ && break
  sleep 0.1
done

echo "== SNTP: chronyd, our ntpd"
probe sntp_chrony 'target=127.0.0.1'
check_eq "chronyd: 200" 200 "$CODE"
check_eq "chronyd: success" 1 "$(val ntpkit_probe_success)"
check_eq "chronyd: stratum 2" 2 "$(val ntpkit_probe_stratum)"
check_eq "chronyd: leap 0" 0 "$(val ntpkit_probe_leap_indicator)"
check_near "chronyd: offset near 0 (same clock)" "$(val ntpkit_probe_offset_seconds)" 0 0.05
valid_metrics sntp_chrony
probe sntp_ours 'target=127.0.0.2:123&timeout=2'
check_eq "our ntpd: success" 1 "$(val ntpkit_probe_success)"
check_eq "our ntpd: stratum 3" 3 "$(val ntpkit_probe_stratum)"
check_near "our ntpd: offset near 0" "$(val ntpkit_probe_offset_seconds)" 0 0.05

echo "== NTS: chronyd, our ntpd, an expired certificate"
notafter=$(date -u -d "$(openssl x509 -enddate -noout -in "$C/srv.leaf" | cut -d= -f2)" +%s)
probe nts_chrony 'target=ntske.test&nts=1'
check_eq "chronyd NTS: success" 1 "$(val ntpkit_probe_success)"
check_eq "chronyd NTS: 8 cookies" 8 "$(val ntpkit_probe_nts_cookies)"
check_near "chronyd NTS: certificate notAfter" \
  "$(val ntpkit_probe_nts_certificate_expiry_timestamp_seconds)" "$notafter" 1
check_eq "chronyd NTS: stratum 2" 2 "$(val ntpkit_probe_stratum)"
valid_metrics nts_chrony
ours_notafter=$(date -u -d "$(openssl x509 -enddate -noout -in "$C/ours.leaf" | cut -d= -f2)" +%s)
probe nts_ours 'target=ntske2.test:4463&nts=1'
check_eq "our ntpd NTS: success" 1 "$(val ntpkit_probe_success)"
check_eq "our ntpd NTS: 8 cookies" 8 "$(val ntpkit_probe_nts_cookies)"
check_near "our ntpd NTS: certificate notAfter" \
  "$(val ntpkit_probe_nts_certificate_expiry_timestamp_seconds)" "$ours_notafter" 1
check_eq "our ntpd NTS: stratum 3 (the NTP server it names is itself)" 3 \
  "$(val ntpkit_probe_stratum)"
probe nts_expired 'target=ntske.test:4462&nts=1'
check_eq "expired certificate: 200" 200 "$CODE"
check_eq "expired certificate: success 0" 0 "$(val ntpkit_probe_success)"
check_match "expired certificate: the reason" 'X-Ntpkit-Probe-Error: nts-ke tls: .*expired' \
  "$HDR"

echo "== a silent server, bad requests"
probe silent 'target=127.0.0.5&timeout=1.5'
check_eq "silent: 200" 200 "$CODE"
check_eq "silent: success 0" 0 "$(val ntpkit_probe_success)"
check_match "silent: error timeout" 'X-Ntpkit-Probe-Error: timeout' "$HDR"
check_match "silent: duration about 1.5 s" '^1\.[5-9]' "$(val ntpkit_probe_duration_seconds)"
check_eq "silent: no stratum series (absent)" "" "$(val ntpkit_probe_stratum)"
valid_metrics silent
probe bad_target 'target=no..such'
check_eq "bad target: 400" 400 "$CODE"
check_eq "bad target: reason" "probe: target: not a valid host name" "$OUT"
probe bad_port 'target=127.0.0.1:70000'
check_eq "bad port: 400" 400 "$CODE"
check_eq "bad port: reason" "probe: target: port must be 1-65535" "$OUT"
probe no_target 'nts=1'
check_eq "no target: 400" 400 "$CODE"
check_eq "no target: reason" "probe: missing target parameter" "$OUT"
probe bad_timeout 'target=127.0.0.1&timeout=60'
check_eq "timeout above 30 s: 400" 400 "$CODE"
probe unknown 'target=127.0.0.5&nts=1&x=y'
check_eq "an NTS probe of a host without NTS-KE: 200" 200 "$CODE"
check_eq "... success 0" 0 "$(val ntpkit_probe_success)"
check_match "... refused by the NTS-KE port" 'X-Ntpkit-Probe-Error: nts-ke' "$HDR"

echo "== SIGTERM stops it cleanly (exit 0)"
kill -TERM "$EXP_PID"
wait "$EXP_PID" && rc=0 || rc=$?
check_eq "exit status after SIGTERM" 0 "$rc"
check_match "it said it stops" 'signal 15: stopping' "$(cat "$W/exporter.log")"

if command -v systemd-socket-activate >/dev/null; then
  echo "== systemd socket activation (LISTEN_FDS), reading our ntpd"
  systemd-socket-activate -l 127.0.0.1:10125 "$EXPORTER" --ntp.address=127.0.0.2 \
    --web.listen-address=127.0.0.1:1 >"$W/activated.log" 2>&1 &
  act=$!
  NTK_PIDS+=("$act")
  m=
  for _ in $(seq 30); do
    m=$(curl -s --max-time 5 http://127.0.0.1:10125/metrics) && break
    sleep 0.2
  done
  check_match "activated: serves /metrics on the passed socket" '(^|[^_])ntpkit_up 1' "$m"
  check_match "activated: says so" 'listening on the socket from systemd' "$(cat "$W/activated.log")"
  kill -TERM "$act"
  wait "$act" && rc=0 || rc=$?
  check_eq "activated: exit status after SIGTERM" 0 "$rc"
fi
ntk_done
