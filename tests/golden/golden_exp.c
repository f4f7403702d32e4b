/* SPDX-License-Identifier: BSD-2-Clause */
/* Golden tests of ntpkit_exporter's formatters: a snapshot parsed from NTPsec 1.2.2's real
 * mode-6 responses (tests/data/mode6.tsv) rendered as Prometheus text, OpenMetrics and JSON
 * must equal the .prom, .om and .json files of tests/data/exp byte for byte; the text output
 * must pass `promtool check metrics`, the OpenMetrics output prometheus_client's OpenMetrics
 * parser, and exporters/alerts.yml `promtool check rules` and `promtool test rules` (each
 * skipped with a message only when the tool is missing). NTK_GOLDEN_UPDATE=1 rewrites the
 * expected files (review the diff). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "testutil.h"
#include "tsv.h"

#include "mode6_resp.h"

#include "exp.h"
#include "m6snap.h"

#include "poison.h"

#define SRC_DIR NTK_TEST_DATA_DIR "/../.."

/* ======================================================================================== */
/* The snapshot                                                                             */
/* ======================================================================================== */

static struct m6_snap snap;

/* What m6_fetch would have built from the capture's exchanges, at a fixed time. */
static void build_snapshot(void)
{
    load_capture();
    m6_snap_init(&snap);
    snap.up = true;
    snap.fetch_s = 0.0125;
    snap.taken_unix_s = 1795665179;
    const struct resp *r = find(2, 0, "leap=");
    assert_int_equal(m6_parse_sys(r->data, r->len, &snap.sys), 0);
    snap.sys.status = 0x0016;
    r = find(1, 0, "");
    int n = m6_parse_assocs((const uint8_t *)r->data, r->len, snap.peers, M6_PEERS_MAX);
    assert_int_equal(n, 2);
    snap.n_peers = 2;
    for (size_t i = 0; i < snap.n_peers; i++) {
        r = find(2, snap.peers[i].associd, "srcadr=");
        assert_int_equal(m6_parse_peer(r->data, r->len, &snap.peers[i]), 0);
    }
    r = find(2, 0, "ss_uptime=");
    assert_int_equal(m6_parse_counters(r->data, r->len, &snap.ctr), 0);
    r = find(2, 0, "ss_reset=");
    assert_int_equal(m6_parse_counters(r->data, r->len, &snap.ctr), 0);
}

static const struct exp_self self = {
    .version = "0.9.0",
    .revision = "0123abc",
    .tls_library = "OpenSSL 3.0.17 1 Jul 2025",
    .start_unix_s = 1795665000,
    .cpu_s = 0.25,
    .rss_bytes = 8388608,
    .open_fds = 7,
};

/* ======================================================================================== */
/* Comparing and checking                                                                   */
/* ======================================================================================== */

static bool updating(void)
{
    const char *u = getenv("NTK_GOLDEN_UPDATE");
    return u != NULL && strcmp(u, "1") == 0;
}

/* Compares out with tests/data/exp/name (or writes it when updating). */
static void compare(const struct exp_buf *out, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/exp/%s", NTK_TEST_DATA_DIR, name);
    assert_false(out->oom);
    assert_non_null(out->p);
    if (updating()) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fwrite(out->p, 1, out->len, f);
        fclose(f);
        return;
    }
    size_t len = 0;
    char *want = tu_read_file(path, &len);
    if (want == NULL) {
        fail_msg("cannot read %s", path);
    }
    if (len != out->len || memcmp(want, out->p, len) != 0) {
        fprintf(stderr, "--- %s differs; got:\n%s\n", path, out->p);
        free(want);
        fail_msg("%s differs", name);
    }
    free(want);
}

static bool have(const char *tool)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
    return system(cmd) == 0;
}

/* Runs cmd (its output shown on failure); true if it exited 0. */
static bool run(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[8192];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    bool ok = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (!ok) {
        fprintf(stderr, "# %s\n%s\n", cmd, out);
    }
    return ok;
}

static void promtool_check(const char *name)
{
    if (!have("promtool")) {
        fprintf(stderr, "# promtool missing: check of %s skipped\n", name);
        return;
    }
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s/exp/%s 2>&1", NTK_TEST_DATA_DIR,
             name);
    assert_true(run(cmd));
}

static const char om_parse[] =
    "import sys\n"
    "from prometheus_client.openmetrics.parser import text_string_to_metric_families as p\n"
    "n = sum(1 for f in p(open(sys.argv[1]).read()))\n"
    "print(n, 'families')\n";

/* The python3 that has prometheus_client (Debian's python3-prometheus-client installs it
 * for /usr/bin/python3, which a pyenv or venv python3 first in PATH may not see), or NULL. */
static const char *python_with_client(void)
{
    static const char *const cands[] = {"python3", "/usr/bin/python3"};
    for (size_t i = 0; i < 2; i++) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s -c 'import prometheus_client' >/dev/null 2>&1",
                 cands[i]);
        if (system(cmd) == 0) {
            return cands[i];
        }
    }
    return NULL;
}

static void openmetrics_check(const char *name)
{
    const char *py = python_with_client();
    if (py == NULL) {
        fprintf(stderr, "# python3 prometheus_client missing: parse of %s skipped\n", name);
        return;
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s -c \"%s\" %s/exp/%s 2>&1", py, om_parse, NTK_TEST_DATA_DIR,
             name);
    assert_true(run(cmd));
}

/* ======================================================================================== */
/* Tests                                                                                    */
/* ======================================================================================== */

static void render_both(const struct m6_snap *s, const char *base)
{
    char name[64];
    struct exp_buf b = {0};
    exp_render_metrics(s, &self, EXP_PROM_TEXT, &b);
    snprintf(name, sizeof name, "%s.prom", base);
    compare(&b, name);
    promtool_check(name);
    exp_buf_free(&b);
    exp_render_metrics(s, &self, EXP_OPENMETRICS, &b);
    snprintf(name, sizeof name, "%s.om", base);
    compare(&b, name);
    openmetrics_check(name);
    exp_buf_free(&b);
}

static void test_ntpsec(void **state)
{
    (void)state;
    build_snapshot();
    render_both(&snap, "ntpsec");
    struct exp_buf b = {0};
    exp_render_json(&snap, &self, &b);
    compare(&b, "ntpsec.json");
    exp_buf_free(&b);
}

/* The same snapshot with the refclock's clock variables (NTPsec's captured cv): the two
 * refclock families appear and nothing else changes (ntpsec.prom without their lines). */
static void test_ntpsec_refclock(void **state)
{
    (void)state;
    build_snapshot();
    assert_string_equal(snap.peers[0].kind, "refclock");
    const struct resp *r = find(4, snap.peers[0].associd, "name=");
    assert_int_equal(m6_parse_clock(r->data, r->len, &snap.peers[0]), 0);
    render_both(&snap, "ntpsec-refclock");
    struct exp_buf b = {0};
    exp_render_json(&snap, &self, &b);
    compare(&b, "ntpsec-refclock.json");
    exp_buf_free(&b);
    exp_render_metrics(&snap, &self, EXP_PROM_TEXT, &b);
    assert_non_null(strstr(b.p, "\nntpkit_refclock_polls_total{source=\"SHM(0)\",address="
                                "\"\",kind=\"refclock\"} 1\n"));
    assert_non_null(strstr(b.p, "\nntpkit_refclock_errors_total{source=\"SHM(0)\",address="
                                "\"\",kind=\"refclock\",error=\"noreply\"} 1\n"));
    /* Without the refclock lines: ntpsec.prom exactly. */
    char *rest = malloc(b.len + 1);
    assert_non_null(rest);
    size_t n = 0;
    for (const char *l = b.p; *l != '\0';) {
        const char *e = strchr(l, '\n');
        size_t ll = e != NULL ? (size_t)(e - l + 1) : strlen(l);
        if (strstr(l, "ntpkit_refclock_") == NULL || strstr(l, "ntpkit_refclock_") >= l + ll) {
            memcpy(rest + n, l, ll);
            n += ll;
        }
        l += ll;
    }
    rest[n] = '\0';
    size_t wl = 0;
    char path[512];
    snprintf(path, sizeof path, "%s/exp/ntpsec.prom", NTK_TEST_DATA_DIR);
    char *want = tu_read_file(path, &wl);
    assert_non_null(want);
    assert_int_equal(n, wl);
    assert_memory_equal(rest, want, wl);
    free(want);
    free(rest);
    exp_buf_free(&b);
}

/* Our ntpd's variables as daemon/core/ctlv.c writes them, with every family present: a
 * leap file, NTS and symmetric-key sources, pool members, a refclock, every counter group. */
static const char full_sys[] =
    "leap=0, stratum=2, precision=-20, rootdelay=1.234, rootdisp=5.678,\r\n"
    "rootdist=7.000, refid=192.0.2.7, reftime=0xeeb22b8c.7d549e3c, tc=6, peer=101,\r\n"
    "offset=-0.123456, sys_jitter=0.500000, clk_jitter=0.250000,\r\n"
    "frequency=-12.345678, clk_wander=0.012000, version=\"ntpkit 0.9.0\", tai=37,\r\n"
    "leapsec=201701010000, expire=202606280000, mintc=0\r\n";
static const char *const full_peers[] = {
    ("srcadr=192.0.2.7, srcport=123, leap=0, hmode=3, stratum=1, hpoll=6, ppoll=6,\r\n"
     "rootdelay=0.000, rootdisp=0.122, refid=GPS, rec=0xeeb22b98.6fffeaec, reach=0xff,\r\n"
     "delay=12.500000, offset=-0.250000, jitter=0.125000, dispersion=1.000000, keyid=0,\r\n"
     "flash=0x0, srchost=\"0.debian.pool.ntp.org\", ntscookies=8, authentic=1\r\n"),
    ("srcadr=198.51.100.9, srcport=123, leap=0, hmode=3, stratum=2, hpoll=7, ppoll=7,\r\n"
     "rootdelay=3.000, rootdisp=4.500, refid=203.0.113.1, rec=0xeeb22b90.00000000,\r\n"
     "reach=0x7e, delay=30.000000, offset=1.500000, jitter=0.700000, dispersion=2.000000,\r\n"
     "keyid=0, flash=0x0, srchost=\"0.debian.pool.ntp.org\", ntscookies=-1, authentic=0\r\n"),
    ("srcadr=2001:db8::5, srcport=123, leap=0, hmode=1, stratum=3, hpoll=10, ppoll=10,\r\n"
     "refid=RATE, reach=0x0, rec=0x00000000.00000000, keyid=42, authentic=1,\r\n"
     "srchost=\"peer \\\"one\\\"\", ntscookies=-1\r\n"),
    ("srcadr=127.127.28.0, srcport=123, leap=0, hmode=3, stratum=0, hpoll=4, ppoll=4,\r\n"
     "refid=SHM0, reach=0x3, offset=0.010000, srchost=\"SHM(0)\", ntscookies=-1\r\n"),
};
static const uint8_t full_assocs[] = {0, 101, 0x96, 0x14, 0, 102, 0x94, 0x14,
                                      0, 103, 0x91, 0x14, 0, 104, 0x93, 0x14};
static const char full_ctr[] =
    "ss_uptime=86400, ss_received=10, ss_received_r=123456, ss_thisver_r=120000,\r\n"
    "ss_oldver_r=3456, ss_badformat_r=12, ss_badauth_r=3, ss_declined_r=1,\r\n"
    "ss_restricted_r=40, ss_limited_r=900, ss_kodsent_r=850, ss_processed_r=122000,\r\n"
    "ss_numctlreq=77, io_received=130000, io_sent=125000, io_sendfailed=2,\r\n"
    "io_dropped=5, io_ignored=7, nts_client_send=300, nts_client_recv_good=299,\r\n"
    "nts_client_recv_bad=1, nts_server_send=5000, nts_server_recv_good=5000,\r\n"
    "nts_server_recv_bad=4, nts_cookie_make=5600, nts_cookie_decode_current=4990,\r\n"
    "nts_cookie_decode_old=5, nts_cookie_decode_old2=3, nts_cookie_decode_older=2,\r\n"
    "nts_cookie_decode_too_old=1, nts_cookie_decode_error=3, nts_ke_serves_good=70,\r\n"
    "nts_ke_serves_bad=2, nts_ke_serves_nossl=9, nts_ke_probes_good=4,\r\n"
    "nts_ke_probes_bad=1, mru_depth=812, mru_maxdepth=8192, mru_mem=102,\r\n"
    "mru_maxmem=1024, authdecrypts=20, authencrypts=21, authkeys=2,\r\n"
    "authdigestfails=3, authcmacfails=0\r\n";

static void test_full(void **state)
{
    (void)state;
    static struct m6_snap s;
    m6_snap_init(&s);
    s.up = true;
    s.fetch_s = 0.003;
    s.taken_unix_s = 1795665179;
    assert_int_equal(m6_parse_sys(full_sys, sizeof full_sys - 1, &s.sys), 0);
    assert_int_equal(m6_parse_assocs(full_assocs, sizeof full_assocs, s.peers, M6_PEERS_MAX),
                     4);
    s.n_peers = 4;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(m6_parse_peer(full_peers[i], strlen(full_peers[i]), &s.peers[i]), 0);
    }
    /* As m6_fetch marks them: two servers sharing a name are pool members. */
    memcpy(s.peers[0].kind, "pool", sizeof "pool");
    memcpy(s.peers[1].kind, "pool", sizeof "pool");
    assert_int_equal(m6_parse_counters(full_ctr, sizeof full_ctr - 1, &s.ctr), 0);
    render_both(&s, "full");
    struct exp_buf b = {0};
    exp_render_json(&s, &self, &b);
    compare(&b, "full.json");
    exp_buf_free(&b);
}

static void test_down(void **state)
{
    (void)state;
    static struct m6_snap s;
    m6_snap_init(&s);
    s.fetch_s = 5.001;
    s.taken_unix_s = 1795665179;
    memcpy(s.error, "timeout", sizeof "timeout");
    render_both(&s, "down");
    struct exp_buf b = {0};
    exp_render_json(&s, &self, &b);
    compare(&b, "down.json");
    exp_buf_free(&b);
}

static void test_probe(void **state)
{
    (void)state;
    struct exp_probe p = {
        .target = "ntp.example.net",
        .nts = true,
        .success = true,
        .duration_s = 0.084,
        .offset_s = -0.000123,
        .delay_s = 0.0215,
        .root_delay_s = 0.0009765625,
        .root_disp_s = 0.0150146484375,
        .stratum = 2,
        .leap = 0,
        .cert_expiry_unix_s = 1798761600,
        .nts_cookies = 8,
        .ke_duration_s = 0.061,
    };
    struct exp_buf b = {0};
    exp_render_probe(&p, EXP_PROM_TEXT, &b);
    compare(&b, "probe.prom");
    promtool_check("probe.prom");
    exp_buf_free(&b);
    exp_render_probe(&p, EXP_OPENMETRICS, &b);
    compare(&b, "probe.om");
    openmetrics_check("probe.om");
    exp_buf_free(&b);
}

static void test_alert_rules(void **state)
{
    (void)state;
    if (!have("promtool")) {
        fprintf(stderr, "# promtool missing: rule checks skipped\n");
        return;
    }
    assert_true(run("promtool check rules " SRC_DIR "/exporters/alerts.yml 2>&1"));
    assert_true(run("cd " SRC_DIR "/exporters && promtool test rules alerts_test.yml 2>&1"));
}

static void test_dashboard_json(void **state)
{
    (void)state;
    if (!have("python3")) {
        fprintf(stderr, "# python3 missing: dashboard check skipped\n");
        return;
    }
    /* Valid JSON, a schemaVersion, a datasource variable, and only metric names that the
     * exporter writes (those in ntpsec.prom/probe.prom or listed in the README). */
    assert_true(
        run("python3 - " SRC_DIR " <<'EOF' 2>&1\n"
            "import json, re, sys\n"
            "root = sys.argv[1]\n"
            "d = json.load(open(root + '/exporters/grafana-dashboard.json'))\n"
            "assert isinstance(d.get('schemaVersion'), int), 'schemaVersion'\n"
            "v = [x for x in d['templating']['list'] if x.get('type') == 'datasource']\n"
            "assert v, 'no datasource variable'\n"
            "readme = open(root + '/exporters/README.md').read()\n"
            "known = set(re.findall(r'`(ntpkit_[a-z_]+)`', readme))\n"
            "used = set(re.findall(r'ntpkit_[a-z_]+', json.dumps(d)))\n"
            "used = {u for u in used if not u.startswith('ntpkit_clock_error')}\n"
            "missing = sorted(u for u in used if u not in known and\n"
            "                 re.sub(r'_(total|bucket)$', '', u) not in known)\n"
            "assert not missing, missing\n"
            "print(len(d['panels']), 'panels')\n"
            "EOF"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ntpsec),         cmocka_unit_test(test_ntpsec_refclock),
        cmocka_unit_test(test_full),           cmocka_unit_test(test_down),
        cmocka_unit_test(test_probe),          cmocka_unit_test(test_alert_rules),
        cmocka_unit_test(test_dashboard_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
