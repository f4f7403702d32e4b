#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Our ntpd --check-config on good and bad ntp.conf files: exit 0 and "configuration OK" for
# good ones (NTPsec syntax as the interop tests use it, comments, an empty file, includefile);
# exit 1 and one "FILE:LINE:COL: error: ..." message per bad line, an included file's errors
# with that file's name, a missing file, a missing or malformed keys file (which ntpd itself
# refuses or complains about at start), servers named after the options. Needs neither root
# nor the peers.
# Usage: ntpd_check_config.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
NTK_NTPD=${2:-}
[ -x "$NTK_NTPD" ] || ntk_fatal "our ntpd '$NTK_NTPD' is not an executable"
W=$(mktemp -d "${TMPDIR:-/tmp}/ntk-$NTK_NAME.XXXXXX") || ntk_fatal "mktemp failed"
trap 'rm -rf "$W"' EXIT
cd "$W" || ntk_fatal "cd $W"

conf() { # FILE LINE...: write an ntp.conf
  local f=$1
  shift
  printf '%s\n' "$@" >"$f"
  sed "s/^/  $f| /" "$f"
}
cc() { # LABEL FILE: ntpd --check-config -c FILE, without the clock or the network
  ntk_run "$1" "$NTK_NTPD" --check-config -c "$2"
  ALL="$OUT$ERR"
}

echo "== good files"
conf good.conf "# the interop tests' directives" "" \
  "server 127.0.0.1 iburst minpoll 4 maxpoll 4 port 10123 key 2" \
  "server 127.0.0.3 iburst prefer" \
  "pool pool.example.org iburst" \
  "restrict default kod limited nomodify noquery" "restrict 127.0.0.1" \
  "restrict 10.0.0.0 mask 255.0.0.0 noserve" "restrict ::1" \
  "discard minimum 2 average 3" "limit average 1 burst 2 kod 1" \
  "tos orphan 5 orphanwait 1 minsane 1" "keys $NTK_DATA/symkey.keys" "trustedkey 1 2 3" \
  "interface listen 127.0.0.2" "interface ignore wildcard" "driftfile $W/ntp.drift" \
  "statsdir $W/" "   # indented comment" "enable stats" "disable kernel"
cc good good.conf
check_rc "good.conf" 0
check_match "good.conf: configuration OK" "configuration OK" "$ALL"
check_nomatch "good.conf: no error, no warning" "error|warning" "$ALL"
conf empty.conf
cc empty empty.conf
check_rc "empty.conf" 0
conf inc-ok.conf "server 127.0.0.5 iburst"
conf main-ok.conf "includefile $W/inc-ok.conf" "restrict default"
cc incok main-ok.conf
check_rc "includefile of a good file" 0

echo "== bad files"
conf bad.conf "server 127.0.0.1 iburst" "bogus directive here" "server 127.0.0.1 minpoll 99" \
  "restrict default frobnicate" "crypto pw foo" "trustedkey 0" "  tos orphan 17" \
  "interface listen" 'server "unterminated' "broadcastclient" "server 127.0.0.1 iburst"
cc bad bad.conf
check_rc "bad.conf" 1
lines=$(grep -Eo 'bad\.conf:[0-9]+:[0-9]+: error' <<<"$ALL" | tr '\n' ' ')
want=
for lc in 2:1 3:26 4:18 5:1 6:12 7:14 8:17 9:8 10:1; do want+="bad.conf:$lc: error "; done
check_eq "bad.conf: one FILE:LINE:COL error per bad line, in order" "$want" "$lines"
for re in "bad\.conf:2:1: error: .*bogus" "bad\.conf:3:26: error: .*minpoll.*99" \
  "bad\.conf:4:18: error: .*frobnicate" "bad\.conf:5:1: error: .*[Aa]utokey" \
  "bad\.conf:6:12: error: .*trustedkey" "bad\.conf:7:14: error: .*orphan.*17" \
  "bad\.conf:8:17: error: .*missing" "bad\.conf:9:8: error: .*unterminated" \
  "bad\.conf:10:1: error: .*broadcast"; do
  check_match "bad.conf: /$re/" "$re" "$ALL"
done
check_match "bad.conf: the error count" "bad\.conf: 9 error\(s\)" "$ALL"
check_nomatch "bad.conf: no 'configuration OK'" "configuration OK" "$ALL"

conf inc-bad.conf "server 127.0.0.1" "foo"
conf main-bad.conf "includefile $W/inc-bad.conf" "server 127.0.0.3 iburst"
cc incbad main-bad.conf
check_rc "includefile of a bad file" 1
check_match "the included file's name and line" "inc-bad\.conf:2:1: error: .*foo" "$ALL"

cc missing "$W/nonexistent.conf"
check_rc "a missing configuration file" 1
check_match "a missing file: named, with the reason" "nonexistent\.conf.*No such file" "$ALL"

echo "== keys files (ntpd refuses to start without its keys file)"
conf k-missing.conf "keys $W/nonexistent.keys" "trustedkey 1"
cc kmiss k-missing.conf
check_rc "a missing keys file" 1
check_match "a missing keys file: named" "nonexistent\.keys" "$ALL"
printf '%s\n' "1 MD5" "2 FOO 1234" >bad.keys
conf k-bad.conf "keys $W/bad.keys" "trustedkey 1 2"
cc kbad k-bad.conf
check_rc "a keys file with bad lines" 1
check_match "bad.keys: FILE:LINE:COL of line 1" "bad\.keys:1:[0-9]+: error" "$ALL"
check_match "bad.keys: FILE:LINE:COL of line 2" "bad\.keys:2:[0-9]+: error" "$ALL"

echo "== a server key that is not a trusted key of the keys file (ntpd would refuse it)"
conf ku.conf "keys $NTK_DATA/symkey.keys" "trustedkey 1 2" "server 127.0.0.1 key 3"
cc kuntrusted ku.conf
check_rc "server ... key 3 with trustedkey 1 2" 1
check_match "the untrusted key: file, line and why" \
  "ku\.conf:3: error: server 127\.0\.0\.1: key 3 is not a trusted key" "$ALL"
conf kn.conf "server 127.0.0.1 key 1"
cc knokeys kn.conf
check_rc "server ... key 1 without a keys file" 1

echo "== interface lines with -I or -L (NTPsec refuses the mix and exits)"
conf nic.conf "interface listen 127.0.0.1"
ntk_run nicI "$NTK_NTPD" --check-config -c nic.conf -I 127.0.0.1
check_rc "interface lines and -I" 1
check_match "interface lines and -I: why" "not allowed with --interface" "$OUT$ERR"
ntk_run nicL "$NTK_NTPD" --check-config -c nic.conf -L
check_rc "interface lines and -L" 1
conf nonic.conf "server 127.0.0.1"
ntk_run badI "$NTK_NTPD" --check-config -c nonic.conf -I 'bad/name!'
check_rc "an -I that is neither an address nor a name" 1
check_match "a bad -I: named" "bad/name!: neither an address nor an interface name" "$OUT$ERR"

echo "== NTS: the certificate and key load and match, the CA files load"
if command -v openssl >/dev/null; then
  ntk_certs "$W/certs"
  C=$W/certs
  conf nts.conf "nts enable" "nts cert $C/srv.pem" "nts key $C/srv.key" \
    "nts cookie $W/nts-keys" "nts aead AES_SIV_CMAC_256" "nts mintls TLS1.3" \
    "server ntske.test nts ca $C/ca.pem iburst" "pool pool.example.org nts iburst"
  cc nts nts.conf
  check_rc "an NTS server and NTS clients" 0
  check_match "nts.conf: configuration OK" "configuration OK" "$ALL"
  conf nts1.conf "nts enable"
  cc nts1 nts1.conf
  check_rc "nts enable without a certificate" 1
  check_match "nts enable without a certificate: why" \
    'nts enable needs `nts cert FILE` and `nts key FILE`' "$ALL"
  conf nts2.conf "nts enable" "nts cert $W/missing.pem" "nts key $C/srv.key"
  cc nts2 nts2.conf
  check_rc "a missing certificate file" 1
  check_match "a missing certificate file: named, with the reason" \
    "nts cert $W/missing\.pem: No such file or directory" "$ALL"
  conf nts3.conf "nts enable" "nts cert $C/srv.pem" "nts key $C/other.key"
  cc nts3 nts3.conf
  check_rc "a key that is not the certificate's" 1
  check_match "a key that is not the certificate's: why" "does not match the certificate" "$ALL"
  conf nts4.conf "nts enable" "nts cert $C/srv.pem" "nts key $C/srv.key" "nts mintls TLS1.2"
  cc nts4 nts4.conf
  check_rc "nts mintls TLS1.2" 1
  check_match "nts mintls TLS1.2: why" "NTS needs TLS 1.3" "$ALL"
  conf nts5.conf "server ntske.test nts ca $W/missing-ca.pem"
  cc nts5 nts5.conf
  check_rc "a server line whose ca file is missing" 1
  check_match "the missing ca file: line and file" "line 1: ca $W/missing-ca\.pem" "$ALL"
  conf nts6.conf "keys $NTK_DATA/symkey.keys" "trustedkey 1" "server ntske.test nts key 1"
  cc nts6 nts6.conf
  check_rc "nts and key on one server line" 1
  check_match "nts and key: FILE:LINE:COL and why" \
    "nts6\.conf:3:[0-9]+: error: nts and key 1: a server is authenticated one way" "$ALL"
else
  ntk_log "no openssl CLI: the NTS cases are not run"
fi

echo "== servers named on the command line (NTPsec's ntpd [options] [server...]), and -m"
conf cl.conf "server 127.0.0.5 iburst"
ntk_run cmdline "$NTK_NTPD" --check-config -c cl.conf time.example.org -m 192.0.2.1
check_rc "two servers after the options, and -m" 0
check_match "they are server lines with the file's" "configuration OK: 3 server line" "$OUT$ERR"
check_match "-m: said to do nothing" "-m: this ntpd does not register with mDNS" "$OUT$ERR"
ntk_run cmdbad "$NTK_NTPD" --check-config -c cl.conf 'bad!host'
check_rc "a command-line server that is not a host name" 1
check_match "its error names the command line" \
  "\(command line\):1:[0-9]+: error: 'bad!host' is not an address or a host name" "$OUT$ERR"
ntk_done
