#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The Quick start's first command without a network: scripts/demo, in a network namespace
# with only loopback, must say that no public server answered, start its loopback
# constellation and show the client ntpd synchronised, with NTPsec's peers table.
# Usage: demo_offline.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
[ -x "$NTK_NTPD" ] || ntk_fatal "our ntpd '$NTK_NTPD' is not an executable"
top=$(cd "$(dirname "$0")/../.." && pwd)
# The pool is tried for 30 s first: the whole offline path in one bounded run.
NTPD=$NTK_NTPD DURATION=25 timeout 90 "$top/scripts/demo" >"$W/demo.out" 2>&1
sed 's/^/  demo| /' "$W/demo.out" | tail -25
grep -q "no public NTP server answered" "$W/demo.out" &&
  ntk_pass "the demo said that no public server answered" ||
  ntk_fail "the demo did not report the missing network"
grep -q "synchronised to association" "$W/demo.out" &&
  ntk_pass "the constellation's client synchronised" ||
  ntk_fail "no 'synchronised to association' in the demo's output"
grep -qE '^\*127\.0\.0\.1 +127\.0\.0\.1 +5 u' "$W/demo.out" &&
  ntk_pass "its peers table shows a system peer at stratum 5" ||
  ntk_fail "no system peer row in the peers table"
ntk_done
