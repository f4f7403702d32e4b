#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: setting the clock, without ever touching it. ntpdig_fakeclk (our ntpdig with a fake
# clock driver) -S / -s / -S -s -M against chronyd: the fake step or slew is reported with the
# measured offset and in the JSON; NTK_FAKECLK_FAIL=1 makes it fail. The real ntpdig -S runs
# only as user nobody with every capability dropped (and CAP_SYS_TIME is already out of the
# bounding set of the whole test): it must fail with exit 1 and name CAP_SYS_TIME.
# Usage: ntpdig_setclock.sh OUR_NTPDIG OUR_NTPDIG_FAKECLK   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
[ -x "$NTK_FAKE" ] || ntk_fatal "ntpdig_fakeclk '$NTK_FAKE' is not an executable"

start_chronyd a 127.0.0.1 123 3
ntk_wait_ntp 127.0.0.1

# fake EXPECTED-ADJUSTMENT FAKECLK-WORD OPTS...: one fakeclk run, JSON and stderr checks.
fake() {
  local adj=$1 word=$2 l off line
  shift 2
  local opts="$*"
  l=fake$((++nfake))
  ntk_run "$l" fakeclk -j -t 2 "$@" 127.0.0.1
  check_rc "fakeclk $opts" 0
  check_json_schema "fakeclk $opts" "$W/$l.out"
  check_json "fakeclk $opts: adjusted, adjustment" "$W/$l.out" \
    "[len(L), S['ok'], S['adjusted'], S['adjustment']]" "[1, true, true, \"$adj\"]"
  line=$(grep '^fakeclk: ' "$W/$l.err")
  check_match "fakeclk $opts: stderr 'fakeclk: $word OFFSET'" "^fakeclk: $word [+-]?[0-9.e+-]+$" \
    "$line"
  off=$(jq_py "$W/$l.out" "S['offset']")
  check_near "fakeclk $opts: the $word is the measured offset" "${line##* }" "$off" 0.000001
}
nfake=0
echo "== -S: step"
fake stepped step -S
echo "== -s: slew"
fake slewed slew -s
echo "== -S -s -M 1000: |offset| <= 1000 ms, so slew"
fake slewed slew -S -s -M 1000
echo "== -S -s (steplimit 0): |offset| > 0, so step"
fake stepped step -S -s

echo "== text output with -S"
ntk_run text fakeclk -t 2 -S 127.0.0.1
check_rc "fakeclk -S (text)" 0
check_eq "fakeclk -S text host ip stratum leap" "127.0.0.1 - s3 no-leap" "$(ntk_text_fields "$OUT")"
check_match "fakeclk -S (text) stderr" '^fakeclk: step ' "$ERR"

for o in -S -s; do
  echo "== NTK_FAKECLK_FAIL=1 $o: the adjustment fails"
  ntk_run "fail$o" env NTK_FAKECLK_FAIL=1 "$NTK_FAKE" -j -t 2 "$o" 127.0.0.1
  check_rc "NTK_FAKECLK_FAIL=1 fakeclk $o" 1
  check_json_schema "NTK_FAKECLK_FAIL=1 fakeclk $o" "$W/fail$o.out"
  check_json "NTK_FAKECLK_FAIL=1 fakeclk $o: sample ok, adjustment failed" "$W/fail$o.out" \
    "[len(L), S['ok'], S['adjusted'], S['adjustment']]" '[1, true, false, "failed"]'
  check_match "NTK_FAKECLK_FAIL=1 fakeclk $o: stderr explains" '^ntpdig: .*(step|slew|adj|clock)' \
    "$(grep -v '^fakeclk: ' "$W/fail$o.err")"
done

echo "== the real ntpdig -S as nobody without any capability"
# A copy in the (world-readable) work dir: the build tree may not be accessible to nobody.
install -m 755 "$NTK_OURS" "$W/ntpdig"
nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all
  --no-new-privs --)
# shellcheck disable=SC2016 # an awk program
ntk_run caps "${nobody[@]}" awk '/^(Uid|Cap(Inh|Prm|Eff|Bnd|Amb)):/ { print $1, $2 }' /proc/self/status
check_eq "setpriv: uid nobody, no capability at all" \
  "Uid: 65534 CapInh: 0000000000000000 CapPrm: 0000000000000000 CapEff: 0000000000000000 CapBnd: 0000000000000000 CapAmb: 0000000000000000" \
  "$(tr '\n' ' ' <"$W/caps.out" | sed 's/ $//')"
if [ "$(tr '\n' ' ' <"$W/caps.out")" = "Uid: 65534 CapInh: 0000000000000000 CapPrm: 0000000000000000 CapEff: 0000000000000000 CapBnd: 0000000000000000 CapAmb: 0000000000000000 " ]; then
  ntk_run real_t "${nobody[@]}" "$W/ntpdig" -t 2 -S 127.0.0.1
  check_rc "nobody: ntpdig -S" 1
  check_match "nobody: ntpdig -S stderr names CAP_SYS_TIME" '^ntpdig: .*CAP_SYS_TIME' "$ERR"
  ntk_run real_j "${nobody[@]}" "$W/ntpdig" -j -t 2 -S 127.0.0.1
  check_rc "nobody: ntpdig -j -S" 1
  check_json "nobody: ntpdig -j -S: sample ok, adjustment failed" "$W/real_j.out" \
    "[len(L), S['ok'], S['adjusted'], S['adjustment']]" '[1, true, false, "failed"]'
  ntk_run real_s "${nobody[@]}" "$W/ntpdig" -t 2 -s 127.0.0.1
  check_rc "nobody: ntpdig -s" 1
  check_match "nobody: ntpdig -s stderr names CAP_SYS_TIME" '^ntpdig: .*CAP_SYS_TIME' "$ERR"
  ntk_run ntpsec "${nobody[@]}" env "PYTHONPATH=$NTK_PYPATH" "$NTK_PY" \
    "$NTK_PEERS/ntpsec-ntpdig/usr/bin/ntpdig" -t 2 -S 127.0.0.1
  check_rc "nobody: NTPsec's ntpdig -S" 1
else
  ntk_log "not running ntpdig -S: the capabilities above are not all gone"
fi

ntk_done
