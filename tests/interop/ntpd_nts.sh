#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: our ntpd (--observe) as an NTS client of chronyd 4.3's NTS server. chronyd A
# serves NTP on 127.0.0.1:123 and NTS-KE on 4460 with a certificate for ntske.test made by a
# test CA; our ntpd on 127.0.0.2:123 has `nts ca CA` (NTPsec's site default, which the
# system store does not have) and `server ntske.test nts`. It must run NTS-KE
# (TLS 1.3, AEAD_AES_SIV_CMAC_256, 8 cookies), synchronise on NTS-authenticated replies, keep
# its cookie jar full, and show it all over mode 6 (our ntpq: peers' t column, rv
# ntscookies, ntsinfo). Then the refusals: chronyd B with an expired certificate, chronyd C
# with a certificate for another name, and a CA that signed neither (the line's own ca, which
# wins over `nts ca`): each NTS-KE fails with
# the reason in the log, is counted (nts_ke_probes_bad), and no time is taken from them.
# Usage: ntpd_nts.sh OUR_NTPDIG OUR_NTPD   (CTest label interop; NTK_NTPQ in the env)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
[ -x "${NTK_NTPQ:-}" ] || ntk_skip "our ntpq (NTK_NTPQ) is not built"
command -v openssl >/dev/null || ntk_skip "openssl (the CLI) is missing"

C=$W/certs
ntk_certs "$C"
ntk_hosts "127.0.0.1 ntske.test"
nts_server() { # CERT-NAME KE-PORT: chronyd's NTS server lines
  printf '%s\n' "ntsservercert $C/$1.pem" "ntsserverkey $C/$1.key" "ntsport $2" \
    "ntsdumpdir $W/dump-$1" "ntsprocesses 0"
}
mkdir -p "$W/dump-srv" "$W/dump-expired" "$W/dump-other"
mapfile -t lines < <(nts_server srv 4460)
start_chronyd a 127.0.0.1 123 2 "${lines[@]}"
ntk_wait_ntp 127.0.0.1
q() { # LABEL ARGS...: our ntpq against our ntpd on 127.0.0.2
  local label=$1
  shift
  ntk_run "$label" "$NTK_NTPQ" -n "$@" 127.0.0.2
}
# The value of NAME in ntpq's "name=value, ..." output in $OUT.
val() { tr ',' '\n' <<<"$OUT" | sed -n "s/^ *$1=//p" | head -n 1; }

start_ntpd o 123 "interface ignore wildcard" "interface ignore ipv6" \
  "interface ignore 127.0.0.1" "interface listen 127.0.0.2" \
  "nts ca $C/ca.pem" "server ntske.test nts iburst minpoll 4 maxpoll 4"

echo "== NTS-KE with chronyd, then NTS-authenticated time"
if ntk_wait_log "$W/o/ntpd.log" "NTS-KE with ntske.test: TLSv1.3, AEAD_AES_SIV_CMAC_256, 8 cookies" 15; then
  ntk_pass "our ntpd logs the NTS-KE: TLSv1.3, AEAD_AES_SIV_CMAC_256, 8 cookies"
else
  ntk_show_log o
  ntk_show_log a
  ntk_fatal "no successful NTS-KE with chronyd within 15 s"
fi
if ntk_wait_log "$W/o/ntpd.log" "synchronised to association" 20; then
  ntk_pass "our ntpd synchronises on NTS-authenticated replies"
else
  ntk_fail "our ntpd did not synchronise within 20 s"
fi
q peers -p
check_rc "ntpq -p" 0
row=$(grep -E '^[*+ #x.-]ntske\.test|^[*+ #x.-]127\.0\.0\.1' <<<"$OUT" | head -n 1)
check_match "ntpq -p: the NTS server is the system peer" '^\*' "$row"
check_match "ntpq -p: its t column is a cookie count (1-8), as NTPsec shows NTS" \
  '^.[^ ]+ +[^ ]+ +[0-9]+ +[1-8] ' "$row"
q rv -c "rv &1 ntscookies,authentic,flash"
check_rc "ntpq rv &1" 0
check_match "rv &1: 7 or 8 cookies in the jar (one spent per request, refilled per reply)" \
  '^[78]$' "$(val ntscookies)"
q ntsinfo -c ntsinfo
check_rc "ntpq ntsinfo" 0
check_match "ntpq ntsinfo: NTPsec's table, with the client's counters" \
  'NTS KE client probes good: +1' "$OUT"
# iburst: 6 requests 2 s apart; wait (bounded) until a few have been answered.
for _ in $(seq 1 40); do
  q rv0 -c "rv 0 nts_client_recv_good"
  [ "$(val nts_client_recv_good | tr -d ' ')" -ge 3 ] 2>/dev/null && break
  sleep 0.5
done
q rv0 -c "rv 0 nts_client_send,nts_client_recv_good,nts_client_recv_bad,nts_ke_probes_good,nts_ke_probes_bad"
check_rc "ntpq rv 0 nts_*" 0
check_eq "ntsinfo: one successful NTS-KE" 1 "$(val nts_ke_probes_good | tr -d ' ')"
check_eq "ntsinfo: no failed NTS-KE" 0 "$(val nts_ke_probes_bad | tr -d ' ')"
sent=$(val nts_client_send | tr -d ' ')
good=$(val nts_client_recv_good | tr -d ' ')
check_match "ntsinfo: NTS requests sent" '^[1-9][0-9]*$' "$sent"
check_match "ntsinfo: authenticated replies received" '^[1-9][0-9]*$' "$good"
check_eq "ntsinfo: no reply refused" 0 "$(val nts_client_recv_bad | tr -d ' ')"
check_nomatch "our ntpd logs no error" "cannot|error|failed" "$(cat "$W/o/ntpd.log")"

echo "== refusals: an expired certificate, another name, an unknown CA"
mapfile -t lines < <(nts_server expired 5460)
start_chronyd b 127.0.0.1 2123 2 "${lines[@]}"
mapfile -t lines < <(nts_server other 6460)
start_chronyd c 127.0.0.1 3123 2 "${lines[@]}"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj /CN=stranger-ca -keyout "$W/stranger.key" -out "$W/stranger.pem" 2>/dev/null
ntk_wait_ntp 127.0.0.1 2123
ntk_wait_ntp 127.0.0.1 3123
start_ntpd p 1123 "server ntske.test nts port 5460 ca $C/ca.pem iburst minpoll 4 maxpoll 4"
start_ntpd r 1124 "server ntske.test nts port 6460 ca $C/ca.pem iburst minpoll 4 maxpoll 4"
start_ntpd s 1125 "nts ca $C/ca.pem" \
  "server ntske.test nts ca $W/stranger.pem iburst minpoll 4 maxpoll 4"
for x in "p:expired:certificate has expired" "r:other name:(hostname mismatch|IP address mismatch|name)" \
  "s:unknown CA:(unable to get local issuer certificate|self.signed|verify failed)"; do
  n=${x%%:*} rest=${x#*:}
  what=${rest%%:*} ere=${rest#*:}
  if ntk_wait_log "$W/$n/ntpd.log" "NTS-KE with ntske.test failed \(tls\): .*$ere" 15; then
    ntk_pass "$what: NTS-KE refused in the TLS stage, the reason in the log"
  else
    ntk_show_log "$n"
    ntk_fail "$what: no 'NTS-KE with ntske.test failed (tls): ...' line matching /$ere/"
  fi
  check_nomatch "$what: never synchronised" "synchronised to association" \
    "$(cat "$W/$n/ntpd.log")"
done
ntk_show_log o
ntk_done
