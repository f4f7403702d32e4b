#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: an NTS server under `-u` as ntpd.service runs it (root without CAP_DAC_OVERRIDE
# and CAP_DAC_READ_SEARCH until the drop, then the user): the cookie key file belongs to the
# user, so ntpd reads and writes it after the drop (dnts_load_keys). Our ntpd (--observe,
# `nts enable`, `-u nobody`, capsh removing the two capabilities from the bounding set) in
# a directory owned by nobody: the first start makes the key file (owner nobody, mode
# 0600) and serves NTS to our ntpdig --nts; a second start loads the same key (the log says
# 1 key, the file is unchanged: cookies made before the restart stay valid) and serves NTS
# again; a key file of root's mode 0600 is refused at start with a line naming it; with the
# directory not writable by the user, ntpd serves NTS anyway, logs once that the newest key
# is only in memory, and writes the file at the SIGHUP after the directory is fixed (a
# restart then loads that key).
# Usage: ntpd_nts_user.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
command -v openssl >/dev/null || ntk_skip "missing tool openssl"
command -v capsh >/dev/null || ntk_skip "missing tool capsh"
id nobody >/dev/null 2>&1 || ntk_skip "no user nobody"
ntk_certs "$W/c"
ntk_hosts "127.0.0.1 ntske.test"
d=$W/state
mkdir -m 755 "$d"
chown nobody "$d"
chmod 644 "$W/c/srv.key" # read as root before the drop; a real setup uses group ntpkit
printf '%s\n' "nts enable" "nts cert $W/c/srv.pem" "nts key $W/c/srv.key" \
  "nts cookie $d/nts-keys" "interface ignore wildcard" "interface ignore ipv6" \
  "interface listen 127.0.0.1" "tos orphan 5 orphanwait 1" >"$W/ntp.conf"
sed 's/^/  ntp.conf| /' "$W/ntp.conf"

run_ntpd() { # LOG: ntpd as ntpd.service starts it, in the background
  NTK_NTPD_PORT=123 capsh --drop=cap_dac_override,cap_dac_read_search -- -c \
    "exec $NTK_NTPD --observe -n -u nobody -c $W/ntp.conf" >"$1" 2>&1 &
  PID=$!
  NTK_PIDS+=("$PID")
}
stop_ntpd() {
  kill -TERM "$PID" 2>/dev/null
  wait "$PID" 2>/dev/null
}
dig_nts() { # the server synchronises in orphan mode after about a second: retry a few times
  local i
  for i in $(seq 20); do
    "$NTK_OURS" --nts --nts-ca "$W/c/ca.pem" -t 2 ntske.test >"$W/dig.out" 2>&1 && return 0
    sleep 0.5
  done
  return 1
}

echo "== first start: the key file is made after the drop"
run_ntpd "$W/ntpd1.log"
ntk_wait_log "$W/ntpd1.log" "NTS-KE server on TCP port" 10 || ntk_fail "no NTS-KE server"
if dig_nts; then ntk_pass "ntpdig --nts against it"; else
  ntk_fail "ntpdig --nts failed: $(tail -n 3 "$W/dig.out")"
fi
check_eq "the key file belongs to nobody, mode 600" "nobody 600" \
  "$(stat -c '%U %a' "$d/nts-keys" 2>&1)"
sum1=$(sha256sum "$d/nts-keys" | cut -d' ' -f1)
stop_ntpd

echo "== second start: the same key is loaded (as nobody, without DAC override)"
run_ntpd "$W/ntpd2.log"
ntk_wait_log "$W/ntpd2.log" "NTS-KE server on TCP port" 10 || ntk_fail "no NTS-KE server"
check_match "the log: the key file loaded (1 key)" "nts cookie $d/nts-keys: 1 key" \
  "$(cat "$W/ntpd2.log")"
check_nomatch "no error about the key file" "nts cookie .*(Permission|denied|cannot)" \
  "$(cat "$W/ntpd2.log")"
if dig_nts; then ntk_pass "ntpdig --nts after the restart"; else
  ntk_fail "ntpdig --nts failed: $(tail -n 3 "$W/dig.out")"
fi
check_eq "the key file is unchanged (the key of the first run kept)" "$sum1" \
  "$(sha256sum "$d/nts-keys" | cut -d' ' -f1)"
stop_ntpd

echo "== a key file the user cannot read: refused at start, clearly"
chown root "$d/nts-keys"
run_ntpd "$W/ntpd3.log"
for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
wait "$PID" 2>/dev/null
RC=$?
check_rc "ntpd exits 1" 1
check_match "the log names the file and the reason" "nts cookie $d/nts-keys: Permission denied" \
  "$(cat "$W/ntpd3.log")"

echo "== a directory the user cannot write: served anyway, said once, written after SIGHUP"
rm -f "$d/nts-keys"
chown root "$d" # nobody can no longer create the file (nor the temporary one)
run_ntpd "$W/ntpd4.log"
ntk_wait_log "$W/ntpd4.log" "NTS-KE server on TCP port" 10 || ntk_fail "no NTS-KE server"
check_match "the log: the write failed, the key is only in memory, retried" \
  "nts cookie $d/nts-keys: .*Permission denied.*only in memory.*retrying every 60 s" \
  "$(cat "$W/ntpd4.log")"
if dig_nts; then ntk_pass "ntpdig --nts while the file cannot be written"; else
  ntk_fail "ntpdig --nts failed: $(tail -n 3 "$W/dig.out")"
fi
check_eq "no key file yet" "absent" "$([ -e "$d/nts-keys" ] && echo present || echo absent)"
chown nobody "$d"
kill -HUP "$PID"
if ntk_wait_log "$W/ntpd4.log" "nts cookie $d/nts-keys: written" 10; then
  ntk_pass "after SIGHUP the log says the key file is written"
else
  ntk_fail "no 'written' line after SIGHUP: $(tail -n 3 "$W/ntpd4.log")"
fi
check_eq "the key file now exists, nobody's, mode 600" "nobody 600" \
  "$(stat -c '%U %a' "$d/nts-keys" 2>&1)"
stop_ntpd
run_ntpd "$W/ntpd5.log"
ntk_wait_log "$W/ntpd5.log" "NTS-KE server on TCP port" 10 || ntk_fail "no NTS-KE server"
check_match "a restart loads the key that was in memory (1 key)" "nts cookie $d/nts-keys: 1 key" \
  "$(cat "$W/ntpd5.log")"
stop_ntpd
ntk_done
