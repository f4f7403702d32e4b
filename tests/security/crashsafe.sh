#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Faults: our ntpd (--observe) killed with SIGKILL while it writes its state files; on restart
# nothing is corrupt or lost.
#   - NTS cookie key file (`nts cookie FILE`, written atomically at start when it is missing
#     or its newest key is a day old, and at each daily rotation): NTS_KILLS starts, each
#     killed after 0-12 ms (adapted), from no file (it must then be absent or complete) or from a file
#     with a two-day-old key (it must then be the old file or the new one: the old key kept and
#     a new one after it, never less); a restarted ntpd loads the survivor and serves NTS-KE.
#     Temp files left beside it by a kill ("FILE.<pid>.<n>.tmp") are counted and reported.
#   - drift file: --observe never writes it (daemon/io/dfiles.c dfiles_save_drift), so kills
#     must leave it byte for byte as it was, and the restart reads its frequency;
#     files_write_atomic itself is SIGKILLed 400 times by tests/unit/test_files_crash.c.
#   - statistics files (append-only, one write() per line): STATS_KILLS runs syncing from
#     chronyd (iburst), each killed after 1-5 s; every line of every file must be complete
#     (its field count) apart from possibly a torn last line. Then a torn last line is planted
#     (as a power loss or a full disk leaves one) and a restart shows what the next writer does
#     with it: reported, not asserted (NTPsec appends after it too).
# Usage: crashsafe.sh OUR_NTPDIG OUR_NTPD   (CTest label security)
# Environment: NTS_KILLS (100), STATS_KILLS (8)
# shellcheck source-path=SCRIPTDIR source=../interop/lib.sh
. "$(dirname "$0")/../interop/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
NTS_KILLS=${NTS_KILLS:-100}
STATS_KILLS=${STATS_KILLS:-8}
command -v openssl >/dev/null || ntk_skip "missing tool openssl"
[ -x "$NTK_NTPD" ] || ntk_fatal "our ntpd '$NTK_NTPD' is not an executable"

# run_killed DIR DELAY-S CONF-FILE: our ntpd (--observe -n) started and SIGKILLed after
# DELAY-S seconds; its output appended to DIR/ntpd.log.
run_killed() {
  NTK_NTPD_PORT=123 "$NTK_NTPD" --observe -n -c "$3" >>"$1/ntpd.log" 2>&1 &
  local p=$!
  sleep "$2"
  kill -KILL "$p" 2>/dev/null
  wait "$p" 2>/dev/null
  return 0
}

# rnd_delay MAX-MS: a random delay in seconds, 0..MAX-MS ms.
rnd_delay() { awk -v r="$RANDOM" -v m="$1" 'BEGIN { printf "%.3f", (r % (m + 1)) / 1000 }'; }

# ---------------------------------------------------------------------------------------------
echo "== NTS cookie key file: $NTS_KILLS starts killed after 0-12 ms"
ntk_certs "$W/certs"
K=$W/nts
mkdir -m 700 "$K"
cat >"$K/ntp.conf" <<EOF
nts enable
nts cert $W/certs/srv.pem
nts key $W/certs/srv.key
nts cookie $K/keys
nts keport 4460
EOF
# keyfile_check FILE: "absent", "ok N ID... mode M" (N well-formed keys, their ids oldest
# first), or "corrupt: why".
KEYFILE_PY='
import os, re, sys
def check(p):
    if not os.path.exists(p):
        return "absent"
    data = open(p, "rb").read()
    if not data.endswith(b"\n"):
        return "corrupt: no final newline (%d bytes)" % len(data)
    ids = []
    for l in data.decode("ascii", "replace").split("\n")[:-1]:
        if l.startswith("#") or l.strip() == "":
            continue
        if not re.fullmatch(r"[0-9a-f]{8} [0-9]+ [0-9a-f]{64}", l):
            return "corrupt: bad line %r" % l[:80]
        ids.append(l.split()[0])
    if not ids:
        return "corrupt: no key"
    return "ok %d %s mode %o" % (len(ids), " ".join(ids), os.stat(p).st_mode & 0o777)
'
keyfile_check() { "$NTK_PY" -c "$KEYFILE_PY"'
print(check(sys.argv[1]))' "$1"; }
OLD_ID=0badc0de
printf '%s %d %s\n' "$OLD_ID" $(($(date +%s) - 2 * 86400)) "$(openssl rand -hex 32)" >"$K/old"
chmod 600 "$K/old"
# The kills: ntpd writes the file 3-8 ms after its start here, so the delays are drawn in
# 0-12 ms by one Python process (a shell's sleep is too coarse); every 10 kills the range
# shrinks if none landed before the write, or doubles if none landed after it.
"$NTK_PY" -c "$KEYFILE_PY"'
import glob, random, shutil, subprocess, time
ntpd, k, kills, old_id = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
env = dict(os.environ, NTK_NTPD_PORT="123")
n = {"absent": 0, "old": 0, "new": 0, "bad": 0, "tmp": 0}
seen = set()  # temp files left so far: kept, as nothing at a restart removes them
span = 0.012  # kill delays are drawn in 0..span seconds
block = {"before": 0, "after": 0}
for i in range(1, kills + 1):
    if os.path.exists(k + "/keys"):
        os.unlink(k + "/keys")
    start = "old" if i % 2 == 0 else "none"
    if start == "old":
        shutil.copy2(k + "/old", k + "/keys")
    if i > 1 and (i - 1) % 10 == 0:  # adapt the range to the start-up time here
        if block["before"] == 0:
            span *= 0.6
        elif block["after"] == 0:
            span = min(span * 2, 0.5)
        block = {"before": 0, "after": 0}
    d = random.uniform(0, span)
    with open(k + "/ntpd.log", "ab") as log:
        p = subprocess.Popen([ntpd, "--observe", "-n", "-c", k + "/ntp.conf"], env=env,
                             stdout=log, stderr=log)
        time.sleep(d)
        p.kill()
        p.wait()
    r = check(k + "/keys")
    block["before" if r == "absent" or r == "ok 1 %s mode 600" % old_id else "after"] += 1
    if start == "none" and r == "absent":
        n["absent"] += 1
    elif start == "old" and r == "ok 1 %s mode 600" % old_id:
        n["old"] += 1
    elif r.startswith("ok 1 " if start == "none" else "ok 2 %s " % old_id) and r.endswith("mode 600"):
        n["new"] += 1
    else:
        n["bad"] += 1
        print("# kill %d (from %s, after %.1f ms): %s" % (i, start, d * 1e3, r))
    for t in sorted(set(glob.glob(k + "/keys.*.tmp")) - seen):
        seen.add(t)
        st = os.stat(t)
        print("# kill %d (from %s, after %.1f ms) left %s: %d bytes, mode %o" % (
            i, start, d * 1e3, os.path.basename(t), st.st_size, st.st_mode & 0o777))
        n["tmp"] += 1
print("# kill delays drawn in 0..%.1f ms at the end" % (span * 1e3))
print("result absent %(absent)d old %(old)d new %(new)d bad %(bad)d tmp %(tmp)d" % n)
' "$NTK_NTPD" "$K" "$NTS_KILLS" "$OLD_ID" >"$K/kills.out" 2>&1
cat "$K/kills.out"
read -r _ _ n_abs _ n_old _ n_new _ n_bad _ n_tmp <<<"$(grep '^result' "$K/kills.out")"
ntk_log "cookie key file after $NTS_KILLS kills: absent $n_abs, old $n_old, new $n_new, corrupt or lost $n_bad; temp files left $n_tmp"
check_eq "cookie key file: every kill left it absent (from none), old or new, complete, mode 600" 0 "${n_bad:-?}"
if [ $((n_new > 0 && n_abs + n_old > 0)) -eq 1 ]; then
  ntk_pass "the kills landed both before and after the write ($((n_abs + n_old)) / $n_new)"
else
  ntk_fail "the kills did not straddle the write (before $((n_abs + n_old)), after $n_new): retune the delays"
fi
if [ "${n_tmp:-0}" -gt 0 ]; then
  ntk_log "NOT CRASH-SAFE (litter): $n_tmp temp file(s) with (partial) master keys stay beside the key file; nothing removes them (daemon/io/files.c files_write_atomic, create_temp)"
fi
echo "== a restarted ntpd loads the surviving key file (temp files still there) and serves NTS-KE"
[ -e "$K/keys" ] || cp -p "$K/old" "$K/keys"
before=$(keyfile_check "$K/keys")
start_ntpd nts2 123 "nts enable" "nts cert $W/certs/srv.pem" "nts key $W/certs/srv.key" \
  "nts cookie $K/keys" "nts keport 4460"
rpid=$LAST_PID
if ntk_wait_log "$W/nts2/ntpd.log" "NTS-KE server on TCP port 4460" 10; then
  ntk_pass "restarted ntpd serves NTS-KE"
else
  ntk_fail "restarted ntpd does not serve NTS-KE"
fi
n_before=$(awk '{ print $2 }' <<<"$before")
check_match "restarted ntpd loaded the $n_before key(s) of the file" \
  "nts cookie $K/keys: $n_before key\(s\)" "$(cat "$W/nts2/ntpd.log")"
check_nomatch "no error about the key file" "nts cookie .*(corrupt|bad|invalid|cannot|larger)" \
  "$(cat "$W/nts2/ntpd.log")"
# One NTS-KE handshake: the server makes cookies with the loaded keys.
ke=$(timeout 5 openssl s_client -connect 127.0.0.1:4460 -alpn ntske/1 -CAfile "$W/certs/ca.pem" \
  -servername ntske.test -brief </dev/null 2>&1 | tr '\n' ' ')
check_match "a TLS handshake with ALPN ntske/1 succeeds" "Verification: OK|Verify return code: 0" "$ke"
if kill -0 "$rpid" 2>/dev/null; then
  ntk_pass "restarted ntpd is running"
else
  ntk_fail "restarted ntpd died"
fi
ntk_stop "$rpid"
after=$(keyfile_check "$K/keys")
ids=$(sed 's/^ok [0-9]* //; s/ mode.*//' <<<"$before")
check_match "the key file after the restart still holds the keys it had ($ids)" \
  "^ok [0-9]+ $ids( [0-9a-f]{8})* mode 600$" "$after"
ntk_log "key file before: $before; after: $after"

# ---------------------------------------------------------------------------------------------
echo "== drift file: --observe never writes it; kills leave it as it was"
D=$W/drift
mkdir -m 755 "$D"
printf '%s\n' "-12.345678" >"$D/ntp.drift"
sum0=$(sha256sum <"$D/ntp.drift")
printf '%s\n' "driftfile $D/ntp.drift" "tos orphan 5 orphanwait 1" >"$D/ntp.conf"
for i in 1 2 3 4 5; do run_killed "$D" "$(rnd_delay 1500)" "$D/ntp.conf"; done
check_eq "drift file unchanged after 5 kills" "$sum0" "$(sha256sum <"$D/ntp.drift")"
check_eq "no temp file beside the drift file" "" "$(find "$D" -name '*.tmp' -printf '%f ')"
check_match "each start read its frequency" "ntp.drift: frequency -12.346 ppm" "$(cat "$D/ntpd.log")"

# ---------------------------------------------------------------------------------------------
echo "== statistics files: $STATS_KILLS runs syncing from chronyd, killed after 1-5 s"
start_chronyd a 127.0.0.3 123 2
ntk_wait_ntp 127.0.0.3
S=$W/stats
mkdir -m 755 "$S"
cat >"$S/ntp.conf" <<EOF
statsdir $S/
statistics loopstats peerstats rawstats sysstats usestats protostats
filegen loopstats type none enable
filegen peerstats type none enable
filegen rawstats type none enable
filegen sysstats type none enable
filegen usestats type none enable
filegen protostats type none enable
server 127.0.0.3 iburst minpoll 4 maxpoll 4
EOF
export NTK_SYSSTATS_INTERVAL=1
for i in $(seq 1 "$STATS_KILLS"); do
  run_killed "$S" "$(awk -v r="$RANDOM" 'BEGIN { printf "%.3f", 1 + (r % 4000) / 1000 }')" "$S/ntp.conf"
done
# The field count of each file's lines (NTPsec 1.2.2's formats; protostats has free text).
declare -A NF=([loopstats]=7 [peerstats]=8 [rawstats]=20 [sysstats]=14 [usestats]=14
  [protostats]=0)
# stats_check FILE N: "lines L torn-last T bad B" (N = 0: at least 4 fields).
stats_check() {
  awk -v n="$2" 'BEGIN { bad = 0 }
    { lines++; ok = (n > 0) ? (NF == n) : (NF >= 4); ok = ok && $1 ~ /^[0-9]+$/ && $2 ~ /^[0-9]+\.[0-9][0-9][0-9]$/
      if (!ok) { bad++; last_bad = NR } }
    END { torn = 0; if (bad > 0 && last_bad == NR) { torn = 1; bad-- }
      printf "lines %d torn-last %d bad %d", lines, torn, bad }' "$1"
}
for f in loopstats peerstats rawstats sysstats usestats protostats; do
  [ -e "$S/$f" ] || {
    ntk_log "$f: no file after $STATS_KILLS runs"
    continue
  }
  r=$(stats_check "$S/$f" "${NF[$f]}")
  # A missing final newline would be a torn last line too.
  [ -n "$(tail -c 1 "$S/$f")" ] && r="$r (no final newline)"
  ntk_log "$f: $r"
  check_match "$f: every line complete after $STATS_KILLS kills (a torn last line at most)" \
    "^lines [1-9][0-9]* torn-last [01] bad 0" "$r"
done
check_match "rawstats and sysstats were written" "." "$(cat "$S/rawstats" "$S/sysstats" 2>/dev/null | head -1)"

echo "== a torn last line (as a power loss leaves one), then a restart"
for f in rawstats sysstats; do
  head -c 20 "$S/$f" | tr -d '\n' >"$W/torn"
  cat "$W/torn" >>"$S/$f" # a partial line without its newline
done
run_killed "$S" 3 "$S/ntp.conf"
for f in rawstats sysstats; do
  r=$(stats_check "$S/$f" "${NF[$f]}")
  ntk_log "$f after the torn line and a restart: $r"
  # Report, not assert: a torn line is merged with the next writer's first line.
  if [[ $r == *"bad 0"* ]]; then
    ntk_log "$f: the next writer started a fresh line after the torn one"
  else
    ntk_log "NOT CRASH-SAFE: $f: the next writer appends to the torn line (daemon/io/stats.c stats_gen_append):"
    awk -v n="${NF[$f]}" 'NF != n { print "#   line " NR ": " substr($0, 1, 120) }' "$S/$f" | head -3
  fi
done
ntk_done
