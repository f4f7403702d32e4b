#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: our ntpd's NTS-KE server (daemon/io/ke_srv.c, RFC 8915 §4) on 127.0.0.1:4460 with
# a certificate made here (EC P-256 leaf for ntske.test and 127.0.0.1, signed by a test CA):
#   - chronyd 4.3 as an NTS client (`server ntske.test nts`, `ntstrustedcerts`) completes
#     NTS-KE: `chronyc authdata` shows AEAD 15, 256-bit keys and cookies it accepts
#     (chrony 4.3 drops a cookie whose length is not a multiple of 4);
#   - a raw KE exchange (Python ssl) gets NPN 0, AEAD 15 and 8 cookies, and AEAD 17 when the
#     client puts it first; an unknown critical
#     record gets Error 0, a request without NPN Error 1;
#   - openssl s_client: TLS 1.3 and ALPN ntske/1 with the chain verified for ntske.test; a
#     TLS 1.2-only client and a client without ALPN are refused, each with a log line naming
#     the stage;
#   - a second of NTS requests from bench/ntsload, 64 in flight: every reply authenticated;
#   - SIGHUP reloads `nts cert` / `nts key`: the next handshake shows the new certificate.
#   - chronyd then takes time from our ntpd (itself synchronised to a second chronyd) over
#     NTS-protected NTP: reach, "Authenticated: Yes", no NAK.
# Usage: ntpd_nts_ke.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
command -v openssl >/dev/null || ntk_skip "missing tool openssl"

echo "== certificates (test CA, leaf for ntske.test / 127.0.0.1)"
# make_leaf NAME CN: $W/NAME.pem and $W/NAME.key, signed by the CA.
make_leaf() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/$1.key" \
    -out "$W/$1.csr" -subj "/CN=$2" 2>/dev/null || ntk_fatal "openssl req $1 failed"
  printf '%s\n' "subjectAltName=DNS:ntske.test,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
    "extendedKeyUsage=serverAuth" >"$W/$1.ext"
  openssl x509 -req -in "$W/$1.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial \
    -days 2 -extfile "$W/$1.ext" -out "$W/$1.pem" 2>/dev/null || ntk_fatal "openssl x509 $1"
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/ca.key" \
  -out "$W/ca.pem" -days 2 -subj "/CN=ntpkit test CA" 2>/dev/null || ntk_fatal "CA failed"
make_leaf leaf1 ntske.test
make_leaf leaf2 ntske.test-reloaded
cp "$W/leaf1.pem" "$W/cert.pem"
cp "$W/leaf1.key" "$W/key.pem"
chmod 600 "$W/key.pem"
ntk_hosts "127.0.0.1 ntske.test"

# Our ntpd's own source, so that it answers synchronised (stratum 3).
start_chronyd b 127.0.0.5 4123 2
start_ntpd o 123 "nts enable" "nts cert $W/cert.pem" "nts key $W/key.pem" \
  "nts cookie $W/o-cookies" "server 127.0.0.5 port 4123 iburst minpoll 4 maxpoll 4"
opid=$LAST_PID
# Wait for the KE port (bounded).
ke_up() {
  "$NTK_PY" -c 'import socket; socket.create_connection(("127.0.0.1", 4460), 0.2).close()' \
    2>/dev/null
}
for _ in $(seq 1 50); do ke_up && break; sleep 0.2; done
if ke_up; then
  ntk_pass "our ntpd listens on TCP 127.0.0.1:4460"
else
  ntk_show_log o
  ntk_fail "nothing listens on TCP 127.0.0.1:4460 (is ke_srv wired into ntpd?)"
  ntk_done
fi

echo "== openssl s_client: TLS 1.3, ALPN ntske/1, the chain verified for ntske.test"
s_client() { # ARGS...: openssl s_client to 127.0.0.1:4460, no input; sets OUT and RC
  OUT=$(timeout 10 openssl s_client -connect 127.0.0.1:4460 "$@" </dev/null 2>&1)
  RC=$?
}
s_client -tls1_3 -alpn ntske/1 -CAfile "$W/ca.pem" -servername ntske.test \
  -verify_hostname ntske.test -verify_return_error
check_eq "s_client TLS 1.3 + ALPN: exit code" 0 "$RC"
check_match "s_client: ALPN ntske/1 negotiated" "ALPN protocol: ntske/1" "$OUT"
check_match "s_client: TLSv1.3" "New, TLSv1.3, Cipher is" "$OUT"
check_match "s_client: chain verified" "Verify return code: 0 \(ok\)" "$OUT"
check_match "s_client: the first certificate" "subject=CN ?= ?ntske.test$" \
  "$(printf '%s\n' "$OUT" | grep '^subject=')"

before=$(grep -cE 'NTS-KE: 127\.0\.0\.1:[0-9]+: (TLS handshake|ALPN) failed' "$W/o/ntpd.log")
s_client -tls1_2 -alpn ntske/1
check_ne "a TLS 1.2-only client is refused" 0 "$RC"
check_nomatch "the TLS 1.2 client gets no session" "ALPN protocol: ntske/1" "$OUT"
s_client -tls1_3
check_nomatch "a client without ALPN gets no NTS-KE session" "ALPN protocol: ntske/1" "$OUT"
sleep 0.3
check_eq "two more handshake failures logged with peer and stage" $((before + 2)) \
  "$(grep -cE 'NTS-KE: 127\.0\.0\.1:[0-9]+: (TLS handshake|ALPN) failed' "$W/o/ntpd.log")"

echo "== raw NTS-KE requests (Python ssl)"
# ke REQUEST-HEX: one exchange; prints "records: TYPE[:VALUE] ..." of the response.
ke() {
  "$NTK_PY" - "$1" "$W/ca.pem" <<'PY'
import socket, ssl, struct, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_verify_locations(sys.argv[2])
ctx.set_alpn_protocols(["ntske/1"])
with socket.create_connection(("127.0.0.1", 4460), 5) as raw:
    with ctx.wrap_socket(raw, server_hostname="ntske.test") as s:
        s.sendall(bytes.fromhex(sys.argv[1]))
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ssl.SSLError, OSError):
                break
            if not chunk:
                break
            data += chunk
out, off = [], 0
while off + 4 <= len(data):
    t, n = struct.unpack(">HH", data[off:off + 4])
    body = data[off + 4:off + 4 + n]
    t &= 0x7fff
    if t in (1, 2, 4, 7) and n == 2:
        out.append("%d:%d" % (t, struct.unpack(">H", body)[0]))
    elif t == 5:  # RFC 7822 fields are 4-byte multiples: chrony drops other cookies
        out.append("5:ok" if 0 < n <= 256 and n % 4 == 0 else "5:len%d" % n)
    else:
        out.append("%d" % t)
    off += 4 + n
print(" ".join(out))
PY
}
# NPN {0} critical, AEAD {15} critical, End.
GOOD=80010002000080040002000f80000000
COOKIES8="5:ok 5:ok 5:ok 5:ok 5:ok 5:ok 5:ok 5:ok"
check_eq "good request: NPN 0, AEAD 15, 8 cookies (4-byte multiples, <= 256), End" \
  "1:0 4:15 $COOKIES8 0" "$(ke "$GOOD")"
# AEAD {17, 16, 15}: the first the server allows (all three by default).
check_eq "AEADs 17, 16, 15 offered: 17 chosen" "1:0 4:17 $COOKIES8 0" \
  "$(ke 8001000200008004000600110010000f80000000)"
check_eq "unknown critical record: Error 0, End" "2:0 0" \
  "$(ke 80010002000080040002000f92340002000080000000)"
check_eq "no NTS Next Protocol record: Error 1, End" "2:1 0" "$(ke 80040002000f80000000)"

echo "== chronyd 4.3 as an NTS-KE client"
start_chronyd a 127.0.0.3 0 10 "server ntske.test iburst nts minpoll 4 maxpoll 4" \
  "ntstrustedcerts $W/ca.pem"
authdata() { "$CHRONYC" -h "$W/a/chronyd.sock" -n authdata 2>&1; }
row=
for _ in $(seq 1 50); do
  row=$(authdata | awk '$1 == "127.0.0.1" && $2 == "NTS"')
  # Type 15 (AEAD_AES_SIV_CMAC_256), KLen 256 and a cookie length once KE is done.
  [ -n "$row" ] && [ "$(echo "$row" | awk '{ print $10 }')" != 0 ] && break
  sleep 0.2
done
ntk_log "chronyc authdata: $row"
check_eq "chronyd: NTS, AEAD 15, 256-bit key" "NTS 15 256" "$(echo "$row" | awk '{ print $2, $4, $5 }')"
check_eq "chronyd: cookie length a multiple of 4, 4..256 (chrony drops others)" ok \
  "$(echo "$row" | awk '{ print ($10 % 4 == 0 && $10 >= 4 && $10 <= 256) ? "ok" : $10 }')"
check_match "chronyd holds cookies from us" "^[1-8]$" "$(echo "$row" | awk '{ print $9 }')"
check_nomatch "chronyd logs no NTS-KE failure" "TLS|NTS-KE.*(fail|error)|certificate" \
  "$(cat "$W/a/chronyd.log")"

echo "== chronyd synchronises over NTS-protected NTP"
if ntk_wait_log "$W/o/ntpd.log" "synchronised to association" 15; then
  ntk_pass "our ntpd synchronised to chronyd b"
else
  ntk_fail "our ntpd did not synchronise to chronyd b within 15 s"
fi
reach=
for _ in $(seq 1 200); do
  reach=$("$CHRONYC" -h "$W/a/chronyd.sock" -n sources 2>&1 | awk '$2 == "127.0.0.1" { print $5 }')
  [ -n "$reach" ] && [ "$reach" != 0 ] && break
  sleep 0.2
done
check_ne "chronyd reaches our ntpd over NTS (reach register)" 0 "${reach:-0}"
ntpdata=$("$CHRONYC" -h "$W/a/chronyd.sock" -n ntpdata 127.0.0.1 2>&1)
check_match "chronyd: the replies are authenticated" "Authenticated *: Yes" "$ntpdata"
check_match "chronyd: stratum 3 from our ntpd" "Stratum *: 3" "$ntpdata"
check_eq "no NTS NAK at chronyd" 0 "$(authdata | awk '$1 == "127.0.0.1" { print $8 }')"

echo "== a burst of NTS requests, many in flight (bench/ntsload)"
# ntpd answers a batch of NTS requests in groups (dlisten.c: sent every 8 sealed replies):
# 64 requests in flight from 4 ports for a second, each asking for 2 more cookies, every
# reply's Unique Identifier, Authenticator and new cookies checked.
ntsload=${NTK_NTSLOAD:-$(dirname "$NTK_NTPD")/../../bench/ntsload}
if [ -x "$ntsload" ]; then
  burst=$("$ntsload" -a 127.0.0.1 -k 4460 -H ntske.test -C "$W/ca.pem" -d 1 -w 64 -s 4 \
    -v 1 -P 2 -t 2000 2>&1)
  bf() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$burst"; }
  check_match "ntsload: replies" "^[1-9][0-9]{2,}$" "$(bf replies)"
  check_eq "ntsload: every reply authenticated" "$(bf replies)" "$(bf verified)"
  check_eq "ntsload: lost, NAK, KoD, late, bad, wrong UID, unauthentic" "0 0 0 0 0 0 0" \
    "$(bf lost) $(bf nak) $(bf kod) $(bf late) $(bf bad) $(bf bad_uid) $(bf auth_fail)"
else
  ntk_fail "bench/ntsload not built next to ntpd ($ntsload)"
fi

echo "== SIGHUP reloads the certificate and key"
cp "$W/leaf2.pem" "$W/cert.pem"
cp "$W/leaf2.key" "$W/key.pem"
kill -HUP "$opid"
sleep 0.5
s_client -tls1_3 -alpn ntske/1 -CAfile "$W/ca.pem" -servername ntske.test \
  -verify_hostname ntske.test -verify_return_error
check_eq "s_client after SIGHUP: exit code" 0 "$RC"
check_match "after SIGHUP the new certificate is served" "subject=CN ?= ?ntske.test-reloaded" \
  "$(printf '%s\n' "$OUT" | grep '^subject=')"
check_eq "a raw KE exchange still works after SIGHUP" "1:0 4:15 $COOKIES8 0" "$(ke "$GOOD")"

kill -TERM "$opid"
wait "$opid"
check_eq "our ntpd exits 0 on SIGTERM" 0 "$?"
check_nomatch "our ntpd logs no error" "cannot|error" "$(grep -v 'NTS-KE: 127' "$W/o/ntpd.log")"
ntk_show_log o
ntk_show_log a
ntk_done
