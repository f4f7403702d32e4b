#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Interop: ntpkit_exporter in front of our ntpd and in front of NTPsec's ntpd 1.2.2, scraped
# by a real Prometheus. chronyd 4.3 serves on 127.0.0.1:123; our ntpd (--observe) on
# 127.0.0.3 and NTPsec's on 127.0.0.2 both take time from it; one exporter per daemon
# (127.0.0.1:10123 -> ours, 10124 -> NTPsec's). Checks: `promtool check metrics` accepts each
# /metrics; the OpenMetrics variant (Accept header) parses with python3-prometheus-client's
# OpenMetrics parser and ends in # EOF; /json parses with schema 1; then Prometheus
# (scrape_interval 1s, storage in the work dir) scrapes both and its HTTP API returns
# ntpkit_system_offset_seconds and ntpkit_source_offset_seconds{source=...} for both jobs.
# Usage: exporter_prometheus.sh OUR_NTPDIG OUR_NTPD   (CTest label interop)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
ntk_setup "$@"
NTK_NTPD=${2:-}
EXPORTER=$(dirname "$NTK_NTPD")/../../exporters/ntpkit_exporter
[ -x "$EXPORTER" ] || ntk_skip "ntpkit_exporter is not built ($EXPORTER)"
for t in promtool prometheus curl; do
  command -v "$t" >/dev/null || ntk_skip "missing tool $t (apt-get install prometheus curl)"
done
"$NTK_PY" -c 'import prometheus_client.openmetrics.parser' 2>/dev/null ||
  ntk_skip "python3-prometheus-client is missing"

# Our ntpd and the exporters talk to 127.0.0.3 from 127.0.0.1, like to 127.0.0.2 (lib.sh).
ip route replace local 127.0.0.3 dev lo table local proto kernel scope host src 127.0.0.1

start_chronyd c 127.0.0.1 123 2
ntk_wait_ntp 127.0.0.1
start_ntpd o 123 "server 127.0.0.1 iburst minpoll 4 maxpoll 4" "interface ignore wildcard" \
  "interface ignore ipv6" "interface ignore 127.0.0.1" "interface listen 127.0.0.3" \
  "restrict default nopeer" "restrict 127.0.0.1"
# NTPsec's ntpd must reach chronyd from 127.0.0.2, its own address (ntpq_ntpsec.sh).
ip route replace local 127.0.0.1 dev lo table local proto kernel scope host src 127.0.0.2
start_ntpsec n 127.0.0.2 "server 127.0.0.1 iburst minpoll 4 maxpoll 4"

start_exporter() { # NAME PORT NTP-ADDRESS
  "$EXPORTER" --web.listen-address="127.0.0.1:$2" --ntp.address="$3" --ntp.timeout=1 \
    --log.level=debug >"$W/exp-$1.log" 2>&1 &
  LAST_PID=$!
  NTK_PIDS+=("$LAST_PID")
  ntk_log "started ntpkit_exporter $1 pid $LAST_PID on 127.0.0.1:$2 for $3"
}
start_exporter ours 10123 127.0.0.3
start_exporter ntpsec 10124 127.0.0.2

scrape() { # PORT [CURL-ARGS...] -> stdout
  local port=$1
  shift
  curl -sS --max-time 5 "$@" "http://127.0.0.1:$port/metrics"
}

# Both daemons answer mode 6 and have heard from chronyd (bounded: 30 s).
for p in 10123 10124; do
  ok=0
  for _ in $(seq 60); do
    m=$(scrape $p 2>/dev/null) || true
    if grep -q '^ntpkit_up 1$' <<<"$m" && grep -q '^ntpkit_source_offset_seconds{' <<<"$m" &&
      grep -Eq '^ntpkit_source_reach_ratio\{[^}]*\} 0\.[1-9]|^ntpkit_source_reach_ratio\{[^}]*\} 1$' <<<"$m"; then
      ok=1
      break
    fi
    sleep 0.5
  done
  if [ "$ok" -eq 1 ]; then
    ntk_pass "exporter on $p: ntpkit_up 1 and a reached source"
  else
    ntk_fail "exporter on $p: no ntpkit_up 1 with a reached source within 30 s"
    printf '%s\n' "$m" | head -n 40
    cat "$W"/exp-*.log
  fi
done

echo "== promtool check metrics"
for p in 10123 10124; do
  scrape $p >"$W/m-$p.prom"
  if promtool check metrics <"$W/m-$p.prom" >"$W/promtool-$p.out" 2>&1; then
    ntk_pass "promtool check metrics: exporter on $p ($(grep -c '^# TYPE' "$W/m-$p.prom") families)"
  else
    ntk_fail "promtool check metrics: exporter on $p"
    cat "$W/promtool-$p.out"
  fi
  check_match "$p: system offset present" '^ntpkit_system_offset_seconds -?[0-9]' \
    "$(grep '^ntpkit_system_offset_seconds ' "$W/m-$p.prom")"
  check_match "$p: chronyd is a source" 'ntpkit_source_offset_seconds\{[^}]*address="127\.0\.0\.1"' \
    "$(cat "$W/m-$p.prom")"
  check_match "$p: process metrics" '^process_resident_memory_bytes [0-9]' \
    "$(grep '^process_resident_memory_bytes ' "$W/m-$p.prom")"
done

echo "== OpenMetrics (Accept header), python3-prometheus-client's parser"
for p in 10123 10124; do
  scrape $p -D "$W/om-$p.hdr" \
    -H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' \
    >"$W/om-$p.txt"
  check_match "$p: OpenMetrics content type" 'Content-Type: application/openmetrics-text' \
    "$(cat "$W/om-$p.hdr")"
  if out=$("$NTK_PY" - "$W/om-$p.txt" <<'EOF' 2>&1
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
fams = list(text_string_to_metric_families(open(sys.argv[1]).read()))
names = {f.name for f in fams}
for want in ("ntpkit_up", "ntpkit_system_offset_seconds", "ntpkit_source_offset_seconds"):
    assert want in names, want
up = [s.value for f in fams if f.name == "ntpkit_up" for s in f.samples]
assert up == [1.0], up
print(len(fams), "families")
EOF
  ); then
    ntk_pass "OpenMetrics from $p parses: $out"
  else
    ntk_fail "OpenMetrics from $p does not parse: $out"
  fi
done

echo "== /json"
for p in 10123 10124; do
  curl -sS --max-time 5 "http://127.0.0.1:$p/json" >"$W/j-$p.json"
  got=$("$NTK_PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(d["schema"], d["up"], len(d.get("sources", [])) > 0)' "$W/j-$p.json" 2>&1)
  check_eq "$p: /json parses: schema 1, up, sources" "1 True True" "$got"
done

echo "== a real Prometheus scrapes both"
cat >"$W/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: ours
    static_configs: [{targets: ['127.0.0.1:10123']}]
  - job_name: ntpsec
    static_configs: [{targets: ['127.0.0.1:10124']}]
EOF
prometheus --config.file="$W/prometheus.yml" --storage.tsdb.path="$W/tsdb" \
  --web.listen-address=127.0.0.1:9090 >"$W/prometheus.log" 2>&1 &
NTK_PIDS+=("$!")
ntk_log "started prometheus pid $! on 127.0.0.1:9090"
query() { # PROMQL -> the jobs (sorted, space-separated) with a result
  curl -sS --max-time 3 -G "http://127.0.0.1:9090/api/v1/query" --data-urlencode "query=$1" \
    2>/dev/null | "$NTK_PY" -c 'import json, sys
d = json.load(sys.stdin)
print(" ".join(sorted({r["metric"].get("job", "") for r in d["data"]["result"]})))' 2>/dev/null
}
for q in 'ntpkit_system_offset_seconds' 'ntpkit_source_offset_seconds{source!=""}' \
  'ntpkit_up == 1'; do
  got=
  for _ in $(seq 60); do
    got=$(query "$q")
    [ "$got" = "ntpsec ours" ] && break
    sleep 0.5
  done
  check_eq "Prometheus has $q for both jobs" "ntpsec ours" "$got"
done
if [ "$got" != "ntpsec ours" ]; then
  tail -n 20 "$W/prometheus.log"
fi
curl -sS --max-time 3 "http://127.0.0.1:9090/api/v1/targets" | grep -o '"health":"[a-z]*"' |
  sort | uniq -c | sed 's/^/# targets: /'
ntk_done
