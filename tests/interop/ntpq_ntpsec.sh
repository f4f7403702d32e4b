#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: our ntpq ($NTK_NTPQ) against NTPsec ntpd 1.2.2 on 127.0.0.2 (a chronyd server on
# 127.0.0.1 as its one association, an SHM refclock as its second, controlkey 3), side by
# side with NTPsec's own ntpq in the same run: for each command both run back to back and
# their outputs must be the same line for line once the numbers that change between two
# queries are masked (every run of digits becomes 9, as does a "when" of "-", runs of spaces
# one space; alignment is the golden test's business). -j output must be valid JSON.
# Usage: ntpq_ntpsec.sh OUR_NTPDIG [OUR_NTPD]   (CTest label interop; NTK_NTPQ in the env)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
[ -x "${NTK_NTPQ:-}" ] || ntk_skip "our ntpq (NTK_NTPQ) is not built"

start_chronyd a 127.0.0.1 123 2
# NTPsec ntpd picks its source address towards chronyd by asking the kernel, which would
# say 127.0.0.1, an address it must not use: make it 127.0.0.2 before ntpd starts (the
# captures' trick, tests/data/README.md).
ip route replace local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.2
start_ntpsec n 127.0.0.2 "server 127.0.0.1 iburst minpoll 4 maxpoll 4 noselect" \
  "refclock shm unit 0 refid SHM0" "keys $NTK_DATA/symkey.keys" "trustedkey 1 2 3" \
  "controlkey 3"
ntk_wait_ntp 127.0.0.1
ntk_wait_ntp 127.0.0.2
# Wait (bounded) until NTPsec ntpd has heard from chronyd: reach no longer 0.
for _ in $(seq 40); do
  ntpsec_ntpq -n -c "rv &1 reach" 127.0.0.2 2>/dev/null | grep -q 'reach=00[1-7]' && break
  sleep 0.25
done

mask() {
  # "when" is "-" until the first packet of an association and a number after it: it may
  # change between the two queries like any other number.
  sed -E 's/(0x)?[0-9a-f]{8}\.[0-9a-f]{8}/TS/g; s/[0-9]+/9/g; s/ +/ /g; s/ - / 9 /g; s/ +$//' "$1"
}

# same LABEL: whether the two outputs of LABEL agree once masked.
same() {
  [ "$(mask "$W/${1}_n.out")" = "$(mask "$W/${1}_o.out")" ] &&
    [ "$(mask "$W/${1}_n.err")" = "$(mask "$W/${1}_o.err")" ]
}

# compare LABEL ARGS...: NTPsec's ntpq and ours with the same arguments, outputs masked.
# The two ntpqs query a running daemon one after the other, so what the daemon says can
# change in between in ways the mask does not hide (a flag word in hex, a new association's
# first sample): when the outputs differ, the difference is logged and both run once more,
# and that second pair decides. A real difference in our output repeats; a change of state
# between the two queries seldom does.
compare() {
  local label=$1
  shift
  ntk_run "${label}_n" ntpsec_ntpq "$@" 127.0.0.2
  local nrc=$RC
  ntk_run "${label}_o" "$NTK_NTPQ" "$@" 127.0.0.2
  if [ "$nrc" != "$RC" ] || ! same "$label"; then
    ntk_log "$label: the outputs differ (exit $nrc and $RC); once more. The difference, masked:"
    diff <(mask "$W/${label}_n.out"; mask "$W/${label}_n.err") \
      <(mask "$W/${label}_o.out"; mask "$W/${label}_o.err") | sed 's/^/#   /' || true
    ntk_run "${label}_n" ntpsec_ntpq "$@" 127.0.0.2
    nrc=$RC
    ntk_run "${label}_o" "$NTK_NTPQ" "$@" 127.0.0.2
  fi
  if grep -q '^Traceback' "$W/${label}_n.err"; then
    # NTPsec 1.2.2's ntpd sends stray bytes in a new association's filter arrays (see
    # ntk_cvar_resync), and with -u its ntpq can die on them (float('0.0,') in fitinfield):
    # there is nothing to compare with then. Ours must still answer.
    ntk_log "$label: NTPsec's ntpq crashed ($(tail -n 1 "$W/${label}_n.err")): not compared"
    check_eq "$label: our exit code (NTPsec's ntpq crashed)" 0 "$RC"
    check_ne "$label: our ntpq said something" "" "$(cat "$W/${label}_o.out")"
    return
  fi
  check_eq "$label: exit code (NTPsec's $nrc)" "$nrc" "$RC"
  check_eq "$label: stdout, numbers masked" "$(mask "$W/${label}_n.out")" \
    "$(mask "$W/${label}_o.out")"
  check_eq "$label: stderr, numbers masked" "$(mask "$W/${label}_n.err")" \
    "$(mask "$W/${label}_o.err")"
  check_ne "$label: NTPsec's ntpq said something" "" "$(cat "$W/${label}_n.out" "$W/${label}_n.err")"
}

# json LABEL ARGS...: ours with -j prints one valid JSON object per line with our schema.
json() {
  local label=$1
  shift
  ntk_run "${label}_j" "$NTK_NTPQ" -j "$@" 127.0.0.2
  check_rc "$label -j" 0
  local bad=0 lines=0 line
  while IFS= read -r line; do
    lines=$((lines + 1))
    printf '%s' "$line" | "$NTK_PY" -m json.tool >/dev/null 2>&1 || bad=$((bad + 1))
    case $line in *'"schema":"ntpkit-ntpq/1"'*) ;; *) bad=$((bad + 1)) ;; esac
  done <"$W/${label}_j.out"
  check_eq "$label -j: lines that are not JSON with the schema (of $lines)" 0 "$bad"
  check_ne "$label -j: some output" 0 "$lines"
}

echo "== peers, associations, variables"
compare peers -n -p
compare apeers -n -c apeers
compare opeers -n -c opeers
compare rv -n -c rv
compare rv1 -n -c "rv &1"
compare rv2 -n -c "rv &2"
compare rvlist -n -c "rv 0 stratum,refid,leap"
compare assoc -n -c as
compare cv -n -c "cv &2"
compare pstats -n -c "pstats &1"
compare sysstats -n -c sysstats
compare sysinfo -n -c sysinfo
compare monstats -n -c monstats
compare iostats -n -c iostats
compare units -n -u -c peers -c "rv &1" -c sysinfo
compare wide -n -W 100 -w -c peers
compare raw -n -c raw -c rv
compare several -n -c rv -c peers -c "rv &1"
compare twohosts -n -c rv -c peers -c "rv 0 stratum" 127.0.0.2
compare ambiguous -n -c a
compare unknown -n -c frobnicate

echo "== mrulist"
compare mrulist -n -c mrulist
compare mrulist_limit -n -c "mrulist limit=2 sort=addr"

echo "== authenticated: ifstats and reslist with the control key"
compare ifstats -n -a 3 -k "$NTK_DATA/symkey.keys" -c ifstats
compare reslist -n -a 3 -k "$NTK_DATA/symkey.keys" -c reslist
compare noauth -n -c ifstats

echo "== exit codes of usage errors (the usage texts differ)"
for args in "-x" "-a notanumber" "-c"; do
  # shellcheck disable=SC2086 # word splitting wanted
  ntk_run usage_n ntpsec_ntpq $args
  nrc=$RC
  # shellcheck disable=SC2086
  ntk_run usage_o "$NTK_NTPQ" $args
  check_eq "ntpq $args: exit code as NTPsec's" "$nrc" "$RC"
  check_eq "ntpq $args: first line of stderr as NTPsec's" "$(head -1 "$W/usage_n.err")" \
    "$(head -1 "$W/usage_o.err")"
done

echo "== JSON"
json peers -n -p
json rv -n -c rv
json rv1 -n -c "rv &1"
json assoc -n -c as
json cv -n -c "cv &2"
json sysstats -n -c sysstats
json mrulist -n -c mrulist
json ifstats -n -a 3 -k "$NTK_DATA/symkey.keys" -c ifstats

ntk_done
