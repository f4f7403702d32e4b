#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: NTS between our ntpd and NTPsec 1.2.2's, both ways, then ours with ours.
#  1. NTPsec ntpd as NTS server (nts enable, on 127.0.0.2:123 and NTS-KE 4460) with a
#     certificate for ntske.test from a test CA; our ntpd (--observe) as its NTS client.
#  2. Our ntpd as NTS server (127.0.0.2:123, NTS-KE 4460, cookie key file); NTPsec ntpd on
#     127.0.0.1 as its NTS client (server ntske.test nts ca CA): NTPsec reaches it (an NTS
#     association counts only authenticated replies) and its ntpq shows cookies for it. It
#     does not select it: our orphan-mode refid is 127.0.0.1, NTPsec's own address (a loop). (NTPsec sends from the interface the kernel's route picks,
#     127.0.0.1 for any 127/8 destination, so that is the one it must listen on.)
#  3. Our ntpd as client of ours: the cookie key file is written 0600 and survives a
#     restart of the server (the client's cookies still open: no NAK), SIGHUP reloads the
#     certificate, and ntsinfo counts the server's side.
# Usage: ntpd_nts_ntpsec.sh OUR_NTPDIG OUR_NTPD   (CTest label interop; NTK_NTPQ in the env)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
[ -x "${NTK_NTPQ:-}" ] || ntk_skip "our ntpq (NTK_NTPQ) is not built"
command -v openssl >/dev/null || ntk_skip "openssl (the CLI) is missing"
C=$W/certs
ntk_certs "$C"
val() { tr ',' '\n' <<<"$OUT" | sed -n "s/^ *$1=//p" | head -n 1 | tr -d ' '; }
# Bounded wait for "rv 0 NAME" of our ntpd at ADDR to reach at least MIN.
wait_var() { # ADDR NAME MIN SECONDS
  local n
  for n in $(seq 1 $(($4 * 2))); do
    ntk_run rv "$NTK_NTPQ" -n -c "rv 0 $2" "$1" >/dev/null
    [ "$(val "$2")" -ge "$3" ] 2>/dev/null && return 0
    sleep 0.5
  done
  return 1
}

echo "== 1. NTPsec's NTS server, our NTS client"
ntk_hosts "127.0.0.2 ntske.test"
start_ntpsec n 127.0.0.2 "nts enable" "nts cert $C/srv.pem" "nts key $C/srv.key" \
  "nts cookie $W/n/nts-keys" "tos orphan 5 orphanwait 1"
npid=$LAST_PID
ntk_wait_ntp 127.0.0.2
start_ntpd o 1123 "server ntske.test nts ca $C/ca.pem iburst minpoll 4 maxpoll 4"
opid=$LAST_PID
if ntk_wait_log "$W/o/ntpd.log" "NTS-KE with ntske.test: TLSv1.3, AEAD_AES_SIV_CMAC_256, 8 cookies" 20; then
  ntk_pass "NTS-KE with NTPsec: TLSv1.3, AEAD_AES_SIV_CMAC_256, 8 cookies"
else
  ntk_show_log o
  ntk_show_log n
  ntk_fail "no NTS-KE with NTPsec within 20 s"
fi
if ntk_wait_log "$W/o/ntpd.log" "synchronised to association" 20; then
  ntk_pass "our ntpd synchronises to NTPsec on NTS-authenticated replies"
else
  ntk_fail "our ntpd did not synchronise to NTPsec within 20 s"
fi
check_nomatch "our ntpd o logs no error" "cannot|error|failed" "$(cat "$W/o/ntpd.log")"
ntk_stop "$opid"
ntk_stop "$npid"

echo "== 2. our NTS server, NTPsec's NTS client"
srv_lines=("interface ignore wildcard" "interface ignore ipv6" "interface ignore 127.0.0.1"
  "interface listen 127.0.0.2" "tos orphan 5 orphanwait 1" "nts enable"
  "nts cert $C/srv.pem" "nts key $C/srv.key" "nts cookie $W/s/nts-keys")
start_ntpd s 123 "${srv_lines[@]}"
spid=$LAST_PID
ntk_wait_ntp 127.0.0.2
check_match "our server logs its NTS-KE port" "NTS-KE server on TCP port 4460" \
  "$(cat "$W/s/ntpd.log")"
check_eq "the cookie key file is written with mode 600" 600 "$(stat -c %a "$W/s/nts-keys")"
start_ntpsec m 127.0.0.1 "server ntske.test nts ca $C/ca.pem iburst minpoll 4 maxpoll 4"
ok=0
for _ in $(seq 1 60); do
  ntk_run mp ntpsec_ntpq -n -p 127.0.0.1
  grep -Eq '^.127\.0\.0\.2 +[^ ]+ +[0-9]+ +[1-8] +[^ ]+ +[^ ]+ +[1-7]+ ' <<<"$OUT" && ok=1 && break
  sleep 0.5
done
if [ $ok -eq 1 ]; then
  ntk_pass "NTPsec reaches our ntpd over NTS (reach > 0, cookies in the t column)"
else
  ntk_run srv "$NTK_NTPQ" -n -c ntsinfo -c sysstats 127.0.0.2
  ntk_show_log m
  ntk_fail "NTPsec did not reach our ntpd over NTS within 30 s"
fi
row=$(grep -E '^.127\.0\.0\.2 ' <<<"$OUT" | head -n 1)
check_match "NTPsec's ntpq -p: t column is a cookie count" '^.[^ ]+ +[^ ]+ +[0-9]+ +[1-8] ' \
  "$row"
ntk_run mc ntpsec_ntpq -n -c "rv &1 ntscookies" 127.0.0.1
check_match "NTPsec keeps 7 or 8 of our cookies" 'ntscookies=[78]' "$OUT"
check_nomatch "NTPsec logs no NTS error" "(NTSc|NTS).*(fail|error|bad)" "$(cat "$W/m/ntpd.log")"
ntk_stop "$(cat "$W/m/ntpd.pid" 2>/dev/null || echo 0)"

echo "== 3. ours with ours: the key file survives a restart, SIGHUP reloads the certificate"
start_ntpd c 1123 "server ntske.test nts ca $C/ca.pem iburst minpoll 4 maxpoll 4"
if wait_var 127.0.0.2 nts_server_recv_good 3 30; then
  ntk_pass "our server: authenticated NTS requests from our client"
else
  ntk_show_log c
  ntk_fail "our server saw fewer than 3 good NTS requests in 30 s"
fi
ntk_run rv "$NTK_NTPQ" -n -c "rv 0 nts_ke_serves_good,nts_cookie_make,nts_server_send,nts_cookie_decode_error" 127.0.0.2
check_match "ntsinfo: NTS-KE served (NTPsec's client, then ours)" '^[2-9]$' "$(val nts_ke_serves_good)"
check_match "ntsinfo: cookies made" '^[1-9][0-9]*$' "$(val nts_cookie_make)"
check_match "ntsinfo: NTS replies sent" '^[1-9][0-9]*$' "$(val nts_server_send)"
check_eq "ntsinfo: no cookie failed to open" 0 "$(val nts_cookie_decode_error)"
keys_before=$(cat "$W/s/nts-keys")
kill -HUP "$spid"
if ntk_wait_log "$W/s/ntpd.log" "SIGHUP: NTS certificate and key reloaded" 5; then
  ntk_pass "SIGHUP reloads the NTS certificate and key"
else
  ntk_fail "no 'SIGHUP: NTS certificate and key reloaded' line"
fi
ntk_stop "$spid"
start_ntpd s2 123 "${srv_lines[@]}"
ntk_wait_ntp 127.0.0.2
check_eq "the restarted server keeps the key file as it was" "$keys_before" \
  "$(cat "$W/s/nts-keys")"
if wait_var 127.0.0.2 nts_server_recv_good 1 40; then
  ntk_pass "the client's old cookies open on the restarted server"
else
  ntk_fail "no good NTS request on the restarted server within 40 s"
fi
ntk_run rv "$NTK_NTPQ" -n -c "rv 0 nts_ke_serves_good,nts_cookie_decode_current" 127.0.0.2
check_eq "no new NTS-KE was needed after the restart" 0 "$(val nts_ke_serves_good)"
check_match "cookies decoded with the current key" '^[1-9][0-9]*$' \
  "$(val nts_cookie_decode_current)"
check_nomatch "our client saw no NAK" "NTSN" "$(cat "$W/c/ntpd.log")"

echo "== our ntpdig --nts against our ntpd"
ntk_run dig ours --nts --nts-ca "$C/ca.pem" -t 3 -j ntske.test
check_rc "ours --nts -j ntske.test (our ntpd)" 0
check_json_schema "ours --nts -j (our ntpd)" "$W/dig.out"
check_json "authenticated, from our ntpd on 127.0.0.2" "$W/dig.out" \
  "[S['ok'], S['authenticated'], S['ip'], S['port']]" '[true, true, "127.0.0.2", 123]'
check_json "nts: TLS 1.3, ALPN, verified, AEAD 15, 8 cookies of 104 bytes, one back" \
  "$W/dig.out" "[S['nts'][k] for k in ('tls_version', 'alpn', 'cert_verified', 'aead',
    'cookies', 'cookie_len', 'reply', 'cookies_returned')]" \
  '["TLSv1.3", "ntske/1", true, 15, 8, 104, "ok", 1]'
ntk_show_log s
ntk_done
