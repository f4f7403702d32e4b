#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Package test: ntpleapfetch against a local HTTP server (python3, 127.0.0.1, a port the
# kernel picks): a good file is installed (exit 0, mode 0644, the same bytes); a wrong hash,
# a file cut short, a download cut short, an older file, one over 1 MiB and a stalled server
# are refused (exit 1, the old file unchanged byte for byte, the timeout honoured); -e skips a
# file that does not expire soon; usage errors exit 2. Fixtures are the real tests/data file
# with a new #@ line and its #h recomputed.
# Usage: leapfetch_http.sh NTPLEAPFETCH SOURCE_DIR
set -euo pipefail
prog=$1 src=$2
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
tmp=$(mktemp -d)
srv=
cleanup() {
    if [ -n "$srv" ]; then kill "$srv" 2>/dev/null || true; wait "$srv" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
now=$(date +%s)
ntp() { echo $((now + 2208988800 + $1 * 86400)); }

# fixture OUT EXPIRY_NTP [break]: the real file with #@ EXPIRY_NTP and a matching (or, with
# "break", a wrong) #h line.
fixture() {
    python3 - "$src/tests/data/leap-seconds.list" "$1" "$2" "${3-}" <<'PY'
import hashlib, re, sys
text = open(sys.argv[1]).read()
text = re.sub(r"(?m)^#@\s*\d+", "#@\t" + sys.argv[3], text)
upd = re.search(r"(?m)^#\$\s*(\d+)", text).group(1)
data = "".join("".join(l.split()[:2]) for l in text.splitlines() if l and l[0] != "#")
d = hashlib.sha1((upd + sys.argv[3] + data).encode()).hexdigest()
if sys.argv[4] == "break":
    d = d[:-1] + ("0" if d[-1] != "0" else "1")
words = " ".join(d[i:i + 8] for i in range(0, 40, 8))
text = re.sub(r"(?m)^#h.*$", "#h\t" + words, text)
open(sys.argv[2], "w").write(text)
PY
}
mkdir "$tmp/www"
fixture "$tmp/cur.list" "$(ntp 10)"
fixture "$tmp/www/good" "$(ntp 400)"
fixture "$tmp/www/badhash" "$(ntp 500)" break
fixture "$tmp/www/older" "$(ntp 200)"
head -c 3000 "$tmp/www/good" >"$tmp/www/cut"
{ cat "$tmp/www/good"; head -c 1100000 /dev/zero | tr '\0' '#'; } >"$tmp/www/big"

# The server: files from www/, /short announces the whole good file and sends half of it,
# /stall answers nothing for 30 s; every request path is logged to requests.
cat >"$tmp/server.py" <<'PY'
import http.server, os, sys, time
www, log = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(log, "a") as f:
            f.write(self.path + "\n")
        if self.path == "/stall":
            time.sleep(30)
            return
        name = "good" if self.path == "/short" else self.path.strip("/")
        p = os.path.join(www, name)
        if not os.path.isfile(p):
            self.send_error(404)
            return
        body = open(p, "rb").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if self.path == "/short" else body)
        self.wfile.flush()
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
s.daemon_threads = True
open(sys.argv[3] + ".new", "w").write(str(s.server_address[1]))
os.rename(sys.argv[3] + ".new", sys.argv[3])
s.serve_forever()
PY
: >"$tmp/requests"
python3 "$tmp/server.py" "$tmp/www" "$tmp/requests" "$tmp/port" &
srv=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || fail "the HTTP server did not start"
url=http://127.0.0.1:$(cat "$tmp/port")
f=$tmp/state/leap-seconds.list
mkdir "$tmp/state"

run() { # run EXPECTED_STATUS ARGS...: runs ntpleapfetch -f $f, checks its exit status
    local want=$1 rc=0
    shift
    "$prog" -f "$f" "$@" >"$tmp/out" 2>&1 || rc=$?
    [ "$rc" -eq "$want" ] || { cat "$tmp/out"; fail "ntpleapfetch $* exited $rc, not $want"; }
}
requests() { wc -l <"$tmp/requests"; }

# A good file replaces one that expires in 10 days.
cp "$tmp/cur.list" "$f"
chmod 600 "$f"
run 0 -s "$url/good"
cmp -s "$f" "$tmp/www/good" || fail "good: the installed file differs from the download"
[ "$(stat -c %a "$f")" = 644 ] || fail "good: mode $(stat -c %a "$f"), not 644"
[ -z "$(find "$tmp/state" -name '*.tmp')" ] || fail "good: a temporary file was left"
echo "good: installed, mode 644, same bytes"

# The refused ones (forced, as the good file expires in 400 days): the old file survives.
cp "$f" "$tmp/before"
for bad in badhash cut short older big; do
    run 1 -F -s "$url/$bad"
    cmp -s "$f" "$tmp/before" || fail "$bad: the old file changed"
    echo "$bad: refused ($(head -c 150 "$tmp/out" | tr '\n' ' '))"
done

# A stalled server: -t 2 is honoured.
t0=$(date +%s%N)
run 1 -F -t 2 -s "$url/stall"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -ge 1900 ] && [ "$ms" -lt 6000 ] || fail "stall: gave up after $ms ms with -t 2"
cmp -s "$f" "$tmp/before" || fail "stall: the old file changed"
echo "stall: gave up after $ms ms (-t 2)"

# -e: a file that expires in 400 days is not fetched with -e 60 (no request at all), and is
# with -e 500 (the same file again: up to date, unchanged).
n=$(requests)
run 0 -e 60 -s "$url/good"
[ "$(requests)" -eq "$n" ] || fail "-e 60: the server was asked"
run 0 -e 500 -s "$url/good"
[ "$(requests)" -eq $((n + 1)) ] || fail "-e 500: the server was not asked once"
cmp -s "$f" "$tmp/before" || fail "-e 500: the file changed"
echo "-e: no request within the window, one beyond it"

# A missing current file is fetched; usage errors exit 2 and fetch nothing.
rm "$f"
run 0 -s "$url/good"
cmp -s "$f" "$tmp/www/good" || fail "missing: not installed"
n=$(requests)
run 2 -e abc -s "$url/good"
run 2 -s "$url/good" extra
run 2 --no-such-option
[ "$(requests)" -eq "$n" ] || fail "usage: the server was asked"
echo "leapfetch_http: all checks passed"
