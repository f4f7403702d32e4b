#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: errors, next to NTPsec's ntpdig. Bad command lines (exit 2, one line on stderr), a
# name that does not resolve, a server that never answers and a closed port (in the private
# netns), -l, -V and -h.
# Usage: ntpdig_errors.sh OUR_NTPDIG [OUR_NTPDIG_FAKECLK]   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"

# usage CASE ARGS...: ours exits 2 with one "ntpdig: " line on stderr and nothing on stdout.
usage() {
  local what=$1
  shift
  ntk_run usage ours "$@"
  check_rc "ours $* ($what)" 2
  check_lines "ours $* ($what) stderr" 1 "$ERR"
  check_match "ours $* ($what) stderr" '^ntpdig: ' "$ERR"
  check_eq "ours $* ($what) stdout" "" "$OUT"
  ntk_run usage_n ntpsec_ntpdig "$@"
  check_ne "NTPsec ntpdig $* ($what) fails too" 0 "$RC"
}
echo "== usage errors"
usage "unknown option" --bogus 127.0.0.1
usage "unknown option" -x 127.0.0.1
usage "option NTPsec does not have" -w 127.0.0.1
usage "bad number" -t abc 127.0.0.1
usage "bad number" -p 3x 127.0.0.1
usage "bad number" -g fast 127.0.0.1
usage "bad number" -a one -k "$NTK_DATA/symkey.keys" 127.0.0.1
usage "missing argument" -t
usage "missing argument" -k
# Options after a host: ours permutes (getopt_long); NTPsec 1.2.2 stops at the first host and
# takes "-t" for a host name (lookup fails, then a 5 s wait), so it is not run here.
ntk_run perm ours 127.0.0.1 -t
check_rc "ours 127.0.0.1 -t (missing argument after a host)" 2
check_lines "ours 127.0.0.1 -t stderr" 1 "$ERR"

echo "== a name that does not resolve"
ntk_run nx ours -t 1 ntk-nonexistent.invalid
check_rc "ours ntk-nonexistent.invalid" 1
check_match "ours: lookup failure" '^ntpdig: lookup of ntk-nonexistent\.invalid failed: ' "$ERR"
check_match "ours: no eligible servers" '^ntpdig: no eligible servers$' "$ERR"
check_eq "ours ntk-nonexistent.invalid stdout" "" "$OUT"
ntk_run nx_n ntpsec_ntpdig -t 1 ntk-nonexistent.invalid
check_rc "NTPsec ntpdig ntk-nonexistent.invalid" 1
check_match "NTPsec: lookup failure" '^ntpdig: lookup of ntk-nonexistent\.invalid failed' "$ERR"
echo "== one name fails, the next host still answers"
start_chronyd a 127.0.0.1 123 3
ntk_wait_ntp 127.0.0.1
ntk_run nx2 ours -t 1 ntk-nonexistent.invalid 127.0.0.1
check_rc "ours ntk-nonexistent.invalid 127.0.0.1" 0
check_match "ours: lookup failure reported" 'lookup of ntk-nonexistent\.invalid failed' "$ERR"
check_eq "ours: 127.0.0.1 answers" "127.0.0.1 - s3 no-leap" "$(ntk_text_fields "$OUT")"

echo "== a server that never answers (a silent socket on 127.0.0.9:123)"
start_silent 127.0.0.9 123
ntk_run none ours -j -t 0.3 127.0.0.9
check_rc "ours -t 0.3 127.0.0.9" 1
check_json_schema "ours -t 0.3 127.0.0.9" "$W/none.out"
check_json "ours -t 0.3 127.0.0.9: one failed sample" "$W/none.out" \
  "[len(L), L[0]['ok'], L[0]['error'], L[0]['selected'], L[0]['ip'], L[0]['offset'], S]" \
  '[1, false, "timeout", false, "127.0.0.9", null, null]'
check_match "ours: no eligible servers" '^ntpdig: no eligible servers$' "$ERR"
ntk_run none_t ours -t 0.3 127.0.0.9
check_rc "ours -t 0.3 127.0.0.9 (text)" 1
check_eq "ours -t 0.3 127.0.0.9 (text) stdout" "" "$OUT"
check_match "ours: timeout reported" '^ntpdig: 127\.0\.0\.9 \(127\.0\.0\.9\): no reply within 0\.3' \
  "$ERR"
check_match "ours: no eligible servers (text)" '^ntpdig: no eligible servers$' "$ERR"
ntk_run none_n ntpsec_ntpdig -t 1 127.0.0.9
check_rc "NTPsec ntpdig -t 1 127.0.0.9" 1
check_match "NTPsec: no eligible servers" '^ntpdig: no eligible servers$' "$ERR"

echo "== nothing on 127.0.0.8:123 (the kernel answers ICMP port unreachable)"
ntk_run closed ours -j -t 0.3 127.0.0.8
check_rc "ours -t 0.3 127.0.0.8" 1
check_json "ours -t 0.3 127.0.0.8: one failed sample, timeout or unreachable" "$W/closed.out" \
  "[len(L), L[0]['ok'], L[0]['error'] in ('timeout', 'unreachable'), S]" '[1, false, true, null]'
check_match "ours: no eligible servers" '^ntpdig: no eligible servers$' "$ERR"
ntk_run closed_n ntpsec_ntpdig -t 1 127.0.0.8
check_rc "NTPsec ntpdig -t 1 127.0.0.8" 1

echo "== -l: diagnostics to a file"
ntk_run log ours -t 0.3 -l "$W/diag.log" 127.0.0.9
check_rc "ours -l FILE 127.0.0.9" 1
check_eq "ours -l FILE: stderr" "" "$ERR"
check_match "ours -l FILE: the log has it" 'no eligible servers' "$(cat "$W/diag.log")"
ntk_run badlog ours -t 0.3 -l "$W/no/such/dir/diag.log" 127.0.0.1
check_rc "ours -l in a missing directory" 1
check_lines "ours -l in a missing directory: stderr" 1 "$ERR"

echo "== -V and -h"
ntk_run ver ours -V
check_rc "ours -V" 0
check_match "ours -V" '^ntpdig ntpkit-[0-9]+\.[0-9]+' "$OUT"
ntk_run ver_n ntpsec_ntpdig -V
check_rc "NTPsec ntpdig -V" 0
ntk_run help ours -h
check_rc "ours -h" 0
check_match "ours -h: usage on stdout" '[Uu]sage: ntpdig' "$OUT"
check_eq "ours -h: stderr" "" "$ERR"
ntk_run help_long ours --help
check_rc "ours --help" 0

ntk_done
