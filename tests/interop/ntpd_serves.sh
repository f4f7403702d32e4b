#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: our ntpd (--observe) as a server for real clients. Ours syncs from chronyd A (-x,
# local stratum 2, 127.0.0.3:123); chronyd B (-x) with `server 127.0.0.1 port 1123` selects
# ours (chronyc sources: ^*, tracking: stratum 4); NTPsec ntpd 1.2.2 (on 127.0.0.2) with
# `server 127.0.0.1 key 3` (AES-CMAC) selects a second ntpd of ours bound to 127.0.0.1:123
# by `interface listen` (ntpq -p: *127.0.0.1, stratum 3; associations: auth ok). Ours in
# `tos orphan 5 orphanwait 1` mode, with no server or an unreachable one, answers stratum 5.
# Usage: ntpd_serves.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}

start_chronyd a 127.0.0.3 123 2
ntk_wait_ntp 127.0.0.3
start_ntpd o 1123 "server 127.0.0.3 iburst minpoll 4 maxpoll 4"
start_ntpd p 123 "interface listen 127.0.0.1" "keys $NTK_DATA/symkey.keys" "trustedkey 3" \
  "server 127.0.0.3 iburst minpoll 4 maxpoll 4"
start_ntpd r 2123 "tos orphan 5 orphanwait 1"
start_ntpd s 3123 "tos orphan 5 orphanwait 1" "server 127.0.0.5 iburst minpoll 4 maxpoll 4"
for n in o p; do
  if ntk_wait_log "$W/$n/ntpd.log" "synchronised to association" 15; then
    ntk_pass "our ntpd $n synchronised to chronyd A"
  else
    ntk_fail "our ntpd $n did not synchronise within 15 s"
  fi
done
ntk_wait_ntp 127.0.0.1 1123
ntk_wait_ntp 127.0.0.1 123

echo "== chronyd B as a client of ours (port 1123)"
start_chronyd b 127.0.0.4 0 10 "server 127.0.0.1 port 1123 iburst minpoll 1 maxpoll 1"
# chronyd can list the source as selected before its tracking takes it as the reference, and
# right after start-up its tracking can go back to its local reference for a moment (twice in
# CI on one VM: "^*" in sources, 7F7F0101 in tracking, reach 7): the checks read the first
# tracking that names ours, waited for with the selection.
sel=''
trk=''
for i in $(seq 1 25); do
  sel=$("$CHRONYC" -h "$W/b/chronyd.sock" -n sources 2>&1 | grep -E '^\^\* 127\.0\.0\.1 ') &&
    trk=$("$CHRONYC" -h "$W/b/chronyd.sock" -n tracking 2>&1) &&
    grep -q '^Reference ID *: 7F000001' <<<"$trk" && break
  sleep 0.4
done
ntk_run srcs "$CHRONYC" -h "$W/b/chronyd.sock" -n sources
check_match "chronyc sources of B: ours selected (^*), stratum 3" '^\^\* 127\.0\.0\.1 +3 ' "$sel"
ntk_run trk "$CHRONYC" -h "$W/b/chronyd.sock" -n tracking
if grep -q '^Reference ID *: 7F000001' <<<"$trk" && [ "$trk" != "$OUT" ]; then
  grep -q '^Reference ID *: 7F000001' <<<"$OUT" || ntk_log "B's tracking went back to its local reference after taking ours (checked: the one that named ours)"
  OUT=$trk
fi
check_match "chronyc tracking of B: reference 127.0.0.1" \
  '^Reference ID +: 7F000001 \(127\.0\.0\.1\)' "$OUT"
check_match "chronyc tracking of B: stratum 4" '^Stratum +: 4$' "$OUT"
check_match "chronyc tracking of B: leap normal" '^Leap status +: Normal$' "$OUT"
ntk_run ntd "$CHRONYC" -h "$W/b/chronyd.sock" -n ntpdata 127.0.0.1
check_match "chronyc ntpdata: remote address" '^Remote address +: 127\.0\.0\.1 \(7F000001\)' "$OUT"
check_match "chronyc ntpdata: remote port 1123" '^Remote port +: 1123$' "$OUT"
check_match "chronyc ntpdata: mode server, version 4" '^Mode +: Server' "$OUT"
check_match "chronyc ntpdata: version 4" '^Version +: 4$' "$OUT"

echo "== NTPsec ntpd (127.0.0.2) as a client of ours on 127.0.0.1:123"
# As the captures did (shared/data/README.md): NTPsec sends to 127.0.0.1 only from a local
# address it listens on, so the kernel must pick source 127.0.0.2 towards 127.0.0.1.
ip route replace local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.2
start_ntpsec n 127.0.0.2 "keys $NTK_DATA/symkey.keys" "trustedkey 3" \
  "server 127.0.0.1 key 3 iburst minpoll 4 maxpoll 4"
sel=
t0=$SECONDS
for i in $(seq 1 40); do
  sel=$(ntpsec_ntpq -n -p 127.0.0.2 2>&1 | grep -E '^\*127\.0\.0\.1 ') && break
  sleep 0.5
done
ntk_log "NTPsec selected ours after $((SECONDS - t0)) s"
ntk_run peers ntpsec_ntpq -n -p 127.0.0.2
ntk_run as ntpsec_ntpq -n -c associations 127.0.0.2
check_match "ntpq associations: the association to ours is authenticated (auth ok)" \
  ' yes +yes +ok +sys\.peer' "$OUT"
check_match "ntpq -p of NTPsec: ours selected (*), stratum 3" \
  '^\*127\.0\.0\.1 +127\.0\.0\.3 +3 u ' "$sel"
ntk_run rv ntpsec_ntpq -n -c 'rv &1 srcport,stratum,refid,leap,hmode,pmode,keyid,flash' 127.0.0.2
rv=$(tr '\n' ' ' <<<"$OUT")
for f in srcport=123 leap=00 stratum=3 refid=127.0.0.3 pmode=4 keyid=3 "flash=00 ok"; do
  check_match "ntpq rv &1 (NTPsec's view of ours): $f" "(^| )$f(,| |$)" "$rv"
done

echo "== ours in orphan mode (tos orphan 5 orphanwait 1): r without a server (2123), s with"
echo "   an unreachable one (3123)"
for n in r:2123 s:3123; do
  got=
  for i in $(seq 1 30); do
    got=$(ntk_probe 127.0.0.1 "${n#*:}" 127.0.0.6) && [ "${got% *}" = "0 5" ] && break
    sleep 0.2
  done
  check_eq "orphan ntpd ${n%:*}: li stratum refid (raw probe, port ${n#*:})" "0 5 7f000001" "$got"
  ntk_run "orph_${n%:*}" ours -j -t 2 --port "${n#*:}" 127.0.0.1
  check_rc "ours --port ${n#*:} (orphan)" 0
  check_json "ours --port ${n#*:}: orphan answers stratum 5, no-leap, refid 127.0.0.1" \
    "$W/orph_${n%:*}.out" "[S and S['ok'], S and S['stratum'], S and S['leap'], S and S['refid']]" \
    '[true, 5, "no-leap", "127.0.0.1"]'
done

for n in o p r s; do ntk_show_log $n; done
ntk_done
