#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: ntpcap --tls-keylog decrypts NTS-KE (RFC 8915 §4 inside TLS 1.3). Our ntpd serves
# NTS-KE on 127.0.0.1:4460 (`nts enable`, a test CA's certificate for ntske.test); tcpdump
# captures TCP 4460 on the sandbox's lo while two clients run NTS-KE with SSLKEYLOGFILE set:
# our ntpdig (daemon/io/tls.c's key log callback) and chronyd 4.3 (GnuTLS honours the
# variable). ntpcap must decode both connections' records with the key log: status ok,
# next protocol 0, AEAD 15, 8 cookies of the size ntpdig reports; nothing without the key
# log; and tshark -o tls.keylog_file must decrypt the same connections (tls.app_data).
# Usage: ntpcap_nts_keylog.sh OUR_NTPDIG OUR_NTPD   (CTest label interop; our ntpcap is found
# from OUR_NTPD's build directory)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
NTPCAP=$(cd "$(dirname "$NTK_NTPD")/../../cli/ntpcap" 2>/dev/null && pwd)/ntpcap
[ -x "$NTPCAP" ] || ntk_fatal "our ntpcap '$NTPCAP' is not built"
command -v openssl >/dev/null || ntk_skip "missing tool openssl"
command -v tshark >/dev/null || ntk_skip "missing tool tshark"

C=$W/certs
ntk_certs "$C"
ntk_hosts "127.0.0.1 ntske.test"
start_chronyd b 127.0.0.5 4123 2
start_ntpd o 123 "nts enable" "nts cert $C/srv.pem" "nts key $C/srv.key" \
  "nts cookie $W/o-cookies" "server 127.0.0.5 port 4123 iburst minpoll 4 maxpoll 4"
ke_up() {
  "$NTK_PY" -c 'import socket; socket.create_connection(("127.0.0.1", 4460), 0.2).close()' \
    2>/dev/null
}
for _ in $(seq 1 50); do ke_up && break; sleep 0.2; done
ke_up || { ntk_show_log o; ntk_fatal "nothing listens on TCP 127.0.0.1:4460"; }
sleep 0.3
ntk_capture_start "$W/ke.pcap" "tcp port 4460"

echo "== our ntpdig --nts with SSLKEYLOGFILE"
export SSLKEYLOGFILE=$W/keys.log
ntk_run dig ours --nts --nts-ca "$C/ca.pem" -t 3 ntske.test
check_rc "ntpdig --nts ntske.test" 0
check_match "ntpdig: AEAD 15, 8 cookies" 'AEAD: AEAD_AES_SIV_CMAC_256 \(15\), 8 cookies of [0-9]+ bytes' "$OUT"
check_match "ntpdig says key logging is on" 'TLS key logging ON: SSLKEYLOGFILE=' "$ERR"
CLEN=$(sed -n 's/.* 8 cookies of \([0-9]*\) bytes$/\1/p' <<<"$OUT")
check_eq "key log: the four TLS 1.3 traffic secrets of one connection" 4 \
  "$(grep -cE '^(CLIENT|SERVER)_(HANDSHAKE_TRAFFIC_SECRET|TRAFFIC_SECRET_0) [0-9a-f]{64} [0-9a-f]+$' "$W/keys.log")"

echo "== chronyd 4.3 (GnuTLS) as NTS client with SSLKEYLOGFILE"
export SSLKEYLOGFILE=$W/chrony-keys.log
start_chronyd a 127.0.0.3 0 10 "server ntske.test iburst nts minpoll 4 maxpoll 4" \
  "ntstrustedcerts $C/ca.pem"
unset SSLKEYLOGFILE
chrony_ke=0
for _ in $(seq 1 50); do
  n=$(grep -c TRAFFIC_SECRET_0 "$W/chrony-keys.log" 2>/dev/null)
  if [ "${n:-0}" -ge 2 ]; then
    chrony_ke=1
    break
  fi
  sleep 0.2
done
ntk_capture_stop
ntk_log "chronyd key log: $(wc -l <"$W/chrony-keys.log" 2>/dev/null || echo 0) lines"
cat "$W/keys.log" "$W/chrony-keys.log" >"$W/all-keys.log" 2>/dev/null

echo "== ntpcap --tls-keylog"
ntk_run capj "$NTPCAP" -r "$W/ke.pcap" --json --tls-keylog "$W/all-keys.log"
check_rc "ntpcap --tls-keylog --json" 0
KE="[o for o in L if o['type'] == 'exchange' and o['kind'] == 'nts_ke']"
check_json "ntpdig's connection: ok, next protocol 0, AEAD 15, 8 cookies of its size" \
  "$W/capj.out" \
  "[[k['status'], k['next_protocol'], k['aead'], k['cookies'], sorted(set(k['cookie_sizes'])), k['request_aeads'][:1], k['sni'], k['alpn']] for k in [o['nts_ke'] for o in $KE][:1]]" \
  "[[\"ok\", 0, 15, 8, [$CLEN], [15], \"ntske.test\", \"ntske/1\"]]"
check_json "every KE object names a TLS 1.3 suite and decrypted records both ways" \
  "$W/capj.out" \
  "all(o['nts_ke']['cipher_suite_name'].startswith('TLS_') and o['nts_ke']['records_c2s'] >= 2 and o['nts_ke']['records_s2c'] >= 3 for o in $KE)" \
  true
check_json "no cookie bytes and no key material in the output" "$W/capj.out" \
  "any(len(str(v)) >= 64 and all(c in '0123456789abcdef' for c in str(v)) for o in L for v in (o.get('nts_ke') or {}).values())" \
  false
if [ "$chrony_ke" -eq 1 ]; then
  check_json "chronyd's connection decoded too: ok, AEAD 15, 8 cookies" "$W/capj.out" \
    "[(o['nts_ke']['status'], o['nts_ke']['aead'], o['nts_ke']['cookies']) for o in $KE][1:2]" \
    '[["ok", 15, 8]]'
else
  ntk_log "chronyd wrote no TLS 1.3 secrets (GnuTLS without SSLKEYLOGFILE support?): one connection only"
fi
NCONN=$(jq_py "$W/capj.out" "len($KE)")
ntk_run capt "$NTPCAP" -r "$W/ke.pcap" --tls-keylog "$W/all-keys.log"
check_rc "ntpcap --tls-keylog (report)" 0
check_match "report line: NTS-KE ok, next protocol 0, AEAD 15, 8 cookies of $CLEN B" \
  "NTS-KE ok TLS_[A-Z0-9_]+, [0-9]+/[0-9]+ records, next protocol 0, AEAD 15, 8 cookies of $CLEN B" \
  "$OUT"
ntk_run capn "$NTPCAP" -r "$W/ke.pcap" --json
check_json "without a key log: no NTS-KE exchange" "$W/capn.out" "len($KE)" 0
sed -E 's/[0-9a-f]{8}$/deadbeef/' "$W/keys.log" >"$W/bad-secret.log"
ntk_run capb "$NTPCAP" -r "$W/ke.pcap" --json --tls-keylog "$W/bad-secret.log"
check_json "wrong secrets: decrypt_failed, nothing decoded" "$W/capb.out" \
  "[(o['nts_ke']['status'], o['nts_ke']['response_decoded']) for o in $KE][:1]" \
  '[["decrypt_failed", false]]'

echo "== tshark decrypts the same connections"
# Per TCP stream: decrypted records (opaque type 23 entries, less the closing alerts, which
# come after the server's message) and the plaintext lengths of the client's and the
# server's application data: the KE messages.
tshark_ke() { # OUTFILE [TSHARK OPTIONS...]
  local out=$1
  shift
  tshark -r "$W/ke.pcap" "$@" -T fields -E separator=/t -e tcp.stream -e tcp.dstport \
    -e tls.record.opaque_type -e tls.record.content_type -e data.len >"$W/$out.tsv" \
    2>"$W/$out.err"
  "$NTK_PY" - "$W/$out.tsv" >"$W/$out.txt" <<'PY'
import sys
st = {}
for line in open(sys.argv[1]):
    f = (line.rstrip("\n").split("\t") + [""] * 5)[:5]
    if not f[0]:
        continue
    s = st.setdefault(int(f[0]), [0, 0, 0])
    opaque = [x for x in f[2].split(",") if x]
    alerts = f[3].split(",").count("21") if opaque else 0
    s[0] += len(opaque) - alerts
    for n in [int(x) for x in f[4].split(",") if x]:
        s[1 if f[1] == "4460" else 2] += n
print(" ".join("%d:%d/%d/%d" % (k, *v) for k, v in sorted(st.items())))
PY
}
tshark_ke tshark -o "tls.keylog_file:$W/all-keys.log"
sed 's/^/  tshark| /' "$W/tshark.err" "$W/tshark.txt"
ours=$(jq_py "$W/capj.out" "' '.join('%d:%d/%d/%d' % (i, o['nts_ke']['records_c2s'] + o['nts_ke']['records_s2c'], o['nts_ke']['request_length'], o['nts_ke']['response_length']) for i, o in enumerate($KE))")
check_eq "tshark: as many TCP streams as ntpcap's NTS-KE exchanges" "$NCONN" \
  "$(wc -w <"$W/tshark.txt")"
check_eq "tshark and ntpcap: per connection, decrypted records / request / response bytes" \
  "$(cat "$W/tshark.txt")" "$ours"
check_match "the request is 16 bytes (NPN, AEAD, End), the response 880 (8 cookies)" \
  '^0:7/16/880( |$)' "$ours"
tshark_ke nokey
check_match "tshark without the key log: no plaintext in either connection" \
  '^0:[0-9]+/0/0 1:[0-9]+/0/0$' "$(cat "$W/nokey.txt")"
ntk_done
