#!/usr/bin/env bash
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
rules=("keys $NTK_DATA/symkey.keys" "trustedkey 1 2 3" "controlkey 3"
 "restrict 127.0.0.0 mask 255.0.0.0"
 "restrict 10.0.0.0/8 flake version ntpport notrust noserve nomodify noquery nopeer notrap kod limited mssntp ignore nomrulist"
 "restrict 10.1.0.0/16 version notrap nomrulist"
 "restrict 10.2.0.0/16 nopeer mssntp"
 "server 127.0.0.1" "restrict source nomodify notrap"
 "restrict -6 default kod nomodify noquery limited notrust")
start_ntpsec n 127.0.0.2 "${rules[@]}"
start_ntpd o 123 "interface ignore all" "interface listen 127.0.0.3" "${rules[@]}"
sleep 3
for h in 127.0.0.2 127.0.0.3; do echo "--- $h"; ntpsec_ntpq -n -a 3 -k "$NTK_DATA/symkey.keys" -c reslist $h; done
