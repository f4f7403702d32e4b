#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: our ntpdig --nts against chronyd 4.3 as an NTS server (RFC 8915): NTS-KE over TLS
# 1.3 on TCP 4460, then one NTS-authenticated NTP exchange; the diagnosis in text and JSON;
# and the refusals: a name the certificate does not carry, no CA, --nts-noval.
# Usage: ntpdig_nts.sh OUR_NTPDIG [OUR_NTPDIG_FAKECLK]   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
command -v openssl >/dev/null || ntk_skip "missing tool openssl"

echo "== certificates: a test CA and a leaf for ntske.test and 127.0.0.1 (EC P-256)"
P=$W/pki
mkdir -m 700 "$P"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/O=ntpkit test/CN=ntpkit NTS test CA" -keyout "$P/ca.key" -out "$P/ca.pem" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  2>"$P/openssl.log" || ntk_fatal "openssl req (CA) failed: $(cat "$P/openssl.log")"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=ntske.test" \
  -keyout "$P/leaf.key" -out "$P/leaf.csr" 2>>"$P/openssl.log" ||
  ntk_fatal "openssl req (leaf) failed"
printf '%s\n' "subjectAltName=DNS:ntske.test,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
  "extendedKeyUsage=serverAuth" >"$P/leaf.ext"
openssl x509 -req -in "$P/leaf.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial \
  -days 20 -extfile "$P/leaf.ext" -out "$P/leaf.pem" 2>>"$P/openssl.log" ||
  ntk_fatal "openssl x509 (leaf) failed: $(cat "$P/openssl.log")"
cat "$P/leaf.pem" "$P/ca.pem" >"$P/chain.pem"
chmod 644 "$P"/*.pem "$P"/*.key

ntk_hosts "127.0.0.1 ntske.test" "127.0.0.1 wrong.test"
mkdir -m 700 "$W/ntsdump"
start_chronyd nts 127.0.0.1 123 1 "ntsservercert $P/chain.pem" "ntsserverkey $P/leaf.key" \
  "ntsdumpdir $W/ntsdump" "ntsport 4460"
ntk_wait_ntp 127.0.0.1
for n in $(seq 1 50); do
  (exec 3<>/dev/tcp/127.0.0.1/4460) 2>/dev/null && break
  sleep 0.1
done
ntk_log "chronyd NTS-KE port 4460 open after $n tries"

echo "== --nts ntske.test with the test CA: text"
ntk_run nts ours --nts --nts-ca "$P/ca.pem" -t 3 ntske.test
check_rc "ours --nts ntske.test" 0
check_match "KE line" '^NTS-KE ntske.test port 4460 \(127\.0\.0\.1\): ok in [0-9.]+ ms$' \
  "$(sed -n 1p <<<"$OUT")"
check_match "TLS 1.3, ALPN ntske/1" '^  TLS: TLSv1\.3 TLS_[A-Z0-9_]+, ALPN ntske/1$' "$OUT"
check_match "certificate subject" '^  certificate: CN=ntske\.test$' "$OUT"
check_match "issuer" '^  issuer: CN=ntpkit NTS test CA,O=ntpkit test$' "$OUT"
check_match "validity" '^  valid until: [0-9-]{10} [0-9:]{8} UTC \((19|20) days left\)$' "$OUT"
check_match "SAN matches" '^  SAN: DNS:ntske\.test,IP:127\.0\.0\.1 \(matches ntske\.test\)$' \
  "$OUT"
check_match "verified" '^  verified: yes$' "$OUT"
check_match "AEAD 15, 8 cookies" \
  '^  AEAD: AEAD_AES_SIV_CMAC_256 \(15\), 8 cookies of [0-9]+ bytes$' "$OUT"
check_match "NTP server" '^  NTP server: ntske\.test port 123 \((default|negotiated)\)$' "$OUT"
check_match "NTS reply authenticated" '^NTS reply: authenticated, 1 new cookie$' "$OUT"
check_match "time line" "$NTK_TEXT_RE" "$(tail -n 1 <<<"$OUT")"
check_eq "time line host ip stratum leap" "ntske.test 127.0.0.1 s1 no-leap" \
  "$(ntk_text_fields "$(tail -n 1 <<<"$OUT")")"
check_eq "stderr" "" "$ERR"
CLEN=$(sed -n 's/.* cookies of \([0-9]*\) bytes$/\1/p' <<<"$OUT")

echo "== --nts -j"
ntk_run ntsj ours --nts --nts-ca "$P/ca.pem" -t 3 -j ntske.test
check_rc "ours --nts -j ntske.test" 0
check_lines "ours --nts -j" 1 "$OUT"
check_json_schema "ours --nts -j" "$W/ntsj.out"
check_json "ok, authenticated, selected, stratum" "$W/ntsj.out" \
  "[S['ok'], S['authenticated'], S['selected'], S['stratum'], S['ip'], S['port'], S['error']]" \
  '[true, true, true, 1, "127.0.0.1", 123, null]'
check_json "nts: KE" "$W/ntsj.out" \
  "[S['nts'][k] for k in ('ke_host', 'ke_ip', 'ke_port', 'ke_ok', 'ke_stage', 'ke_error',
    'tls_version', 'alpn', 'cert_subject', 'cert_san', 'cert_name_match', 'cert_verified',
    'cert_verify_error', 'noval')]" \
  '["ntske.test", "127.0.0.1", 4460, true, "done", null, "TLSv1.3", "ntske/1", "CN=ntske.test", "DNS:ntske.test,IP:127.0.0.1", true, true, null, false]'
check_json "nts: AEAD, cookies, NTP server, reply" "$W/ntsj.out" \
  "[S['nts'][k] for k in ('aead', 'aead_name', 'cookies', 'ntp_server', 'ntp_port', 'reply',
    'cookies_returned')]" \
  '[15, "AEAD_AES_SIV_CMAC_256", 8, "ntske.test", 123, "ok", 1]'
check_json "nts: cookie length as in the text run, KE time 0..3 s, days left 19..20" \
  "$W/ntsj.out" "[S['nts']['cookie_len'] == $CLEN, 0 < S['nts']['ke_time'] < 3,
    19 <= S['nts']['cert_days_left'] <= 20, S['nts']['tls_cipher'].startswith('TLS_')]" \
  '[true, true, true, true]'
check_sample "ours --nts -j" "$W/ntsj.out"
check_json "offset within 10 ms (same clock)" "$W/ntsj.out" "abs(S['offset']) < 0.01" true
ntk_log "chronyd sent AEAD $(jq_py "$W/ntsj.out" "S['nts']['aead']"), $(jq_py "$W/ntsj.out" \
  "S['nts']['cookies']") cookies of $CLEN bytes; KE took $(jq_py "$W/ntsj.out" \
  "'%.1f ms' % (S['nts']['ke_time'] * 1e3)"); NTS request $(jq_py "$W/ntsj.out" \
  "S['nts']['request_len']") bytes"

echo "== --nts 127.0.0.1 (IP SAN), --nts-port, --nts-aead"
ntk_run ntsip ours --nts --nts-ca "$P/ca.pem" --nts-port 4460 --nts-aead AES_SIV_CMAC_256 \
  -t 3 127.0.0.1
check_rc "ours --nts 127.0.0.1" 0
check_match "IP SAN matches" '\(matches 127\.0\.0\.1\)' "$OUT"

echo "== refusals"
ntk_run wrong ours --nts --nts-ca "$P/ca.pem" -t 3 wrong.test
check_rc "ours --nts wrong.test (name not in the certificate)" 1
check_match "wrong name: the verify error" \
  'wrong\.test.*NTS-KE with 127\.0\.0\.1 port 4460 failed in tls: certificate verify failed: hostname mismatch' \
  "$ERR"
check_match "wrong name: SAN does not match" '\(does NOT match wrong\.test\)' "$OUT"
check_nomatch "wrong name: no time line" 's1 no-leap' "$OUT"
ntk_run wrongj ours --nts --nts-ca "$P/ca.pem" -t 3 -j wrong.test
check_rc "ours --nts -j wrong.test" 1
check_json "wrong name -j: error, nts ke_stage, ke_error" "$W/wrongj.out" \
  "[L[0]['ok'], L[0]['error'], L[0]['nts']['ke_ok'], L[0]['nts']['ke_stage'],
    L[0]['nts']['ke_error'], L[0]['nts']['cert_name_match']]" \
  '[false, "nts_ke", false, "tls", "certificate verify failed: hostname mismatch", false]'

ntk_run noca ours --nts -t 3 ntske.test
check_rc "ours --nts without the CA" 1
check_match "no CA: the verify error" \
  'failed in tls: certificate verify failed: (unable to get local issuer certificate|self-signed certificate in certificate chain)' \
  "$ERR"

ntk_run noval ours --nts --nts-noval -t 3 wrong.test
check_rc "ours --nts --nts-noval wrong.test" 0
check_match "noval: a warning" 'warning: wrong\.test: server certificate NOT verified \(--nts-noval\)' \
  "$ERR"
check_match "noval: verified NO" '^  verified: NO \(--nts-noval\)' "$OUT"
check_match "noval: authenticated reply" '^NTS reply: authenticated' "$OUT"
check_match "noval: time line" "$NTK_TEXT_RE" "$(tail -n 1 <<<"$OUT")"

ntk_run badport ours --nts --nts-ca "$P/ca.pem" --nts-port 4461 -t 2 ntske.test
check_rc "ours --nts to a closed KE port" 1
check_match "closed port: connection refused" \
  'failed in connect: connect to 127\.0\.0\.1:4461: Connection refused' "$ERR"

ntk_run usage ours --nts -a 1 -k /dev/null ntske.test
check_rc "ours --nts -a" 2
ntk_run usage2 ours --nts-ca "$P/ca.pem" ntske.test
check_rc "ours --nts-ca without --nts" 2
ntk_run usage3 ours --nts --nts-aead 99 ntske.test
check_rc "ours --nts --nts-aead 99" 2

ntk_show_log nts | grep -i -E "nts|error|warn" | head -n 20
ntk_done
