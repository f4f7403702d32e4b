/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for ntpkit_exporter's formatters (exporters/exp.h): the output buffer, label
 * escaping, one series per selection state, absent values, the up=0 output, content
 * negotiation with the Accept headers real scrapers send, OpenMetrics structure, number
 * formatting, probe and JSON rendering, the refclock families. */
#include <json-c/json.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include "exp.h"
#include "m6snap.h"

#include "poison.h"

static const struct exp_self self = {
    .version = "1.2.3",
    .revision = "abc",
    .tls_library = "OpenSSL 3",
    .start_unix_s = 1700000000,
    .cpu_s = 1.5,
    .rss_bytes = 4096,
    .open_fds = 5,
};

/* A snapshot with one server whose values are all present. */
static void one_source(struct m6_snap *s)
{
    m6_snap_init(s);
    s->up = true;
    s->fetch_s = 0.002;
    s->sys.leap = 0;
    s->sys.stratum = 3;
    s->sys.offset_s = 0.001;
    s->n_peers = 1;
    struct m6_peer *p = &s->peers[0];
    p->associd = 7;
    memcpy(p->srcadr, "192.0.2.1", sizeof "192.0.2.1");
    memcpy(p->srchost, "ntp.example", sizeof "ntp.example");
    p->stratum = 2;
    p->offset_s = -0.5;
    p->reach = 0x0f;
    p->reach_ok = true;
}

static char *render(const struct m6_snap *s, enum exp_format f)
{
    struct exp_buf b = {0};
    exp_render_metrics(s, &self, f, &b);
    assert_false(b.oom);
    assert_non_null(b.p);
    assert_int_equal(strlen(b.p), b.len);
    return b.p; /* the caller frees */
}

static size_t count_lines(const char *text, const char *prefix)
{
    size_t n = 0, pl = strlen(prefix);
    for (const char *p = text; *p != '\0';) {
        if (strncmp(p, prefix, pl) == 0) {
            n++;
        }
        const char *e = strchr(p, '\n');
        if (e == NULL) {
            break;
        }
        p = e + 1;
    }
    return n;
}

static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++) {
        if ((p == text || p[-1] == '\n') && p[n] == '\n') {
            return true;
        }
    }
    return false;
}

/* ======================================================================================== */
/* exp_buf                                                                                  */
/* ======================================================================================== */

static void test_buf_growth(void **state)
{
    (void)state;
    tu_seed();
    struct exp_buf b = {0};
    char *want = calloc(1, 400000);
    assert_non_null(want);
    size_t wl = 0;
    for (int i = 0; i < 5000; i++) {
        unsigned w = (unsigned)(tu_rand() % 70);
        exp_buf_printf(&b, "%d:%*s|", i, (int)w, "");
        wl += (size_t)snprintf(want + wl, 400000 - wl, "%d:%*s|", i, (int)w, "");
    }
    assert_false(b.oom);
    assert_int_equal(b.len, wl);
    assert_true(b.cap > b.len);
    assert_memory_equal(b.p, want, wl + 1);
    /* One write larger than the whole buffer. */
    memset(want, 'x', 300000);
    want[300000] = '\0';
    exp_buf_printf(&b, "%s", want);
    assert_int_equal(b.len, wl + 300000);
    assert_int_equal(b.p[b.len], '\0');
    assert_int_equal(b.p[wl + 299999], 'x');
    exp_buf_free(&b);
    assert_null(b.p);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    exp_buf_printf(&b, "%s", "");
    assert_non_null(b.p);
    assert_string_equal(b.p, "");
    exp_buf_free(&b);
    free(want);
}

/* ======================================================================================== */
/* Labels and series                                                                        */
/* ======================================================================================== */

static void test_label_escaping(void **state)
{
    (void)state;
    static struct m6_snap s;
    one_source(&s);
    static const char host[] = "a\\b\"c\nd\te\x80";
    memcpy(s.peers[0].srchost, host, sizeof host);
    for (int f = 0; f < 2; f++) {
        char *t = render(&s, (enum exp_format)f);
        assert_true(has_line(t, "ntpkit_source_stratum{source=\"a\\\\b\\\"c\\nd?e?\","
                                "address=\"192.0.2.1\",kind=\"server\"} 2"));
        free(t);
    }
    /* The exporter's own strings are escaped the same way. */
    struct exp_self me = self;
    me.version = "v\"1\n";
    me.revision = "\\";
    struct exp_buf b = {0};
    exp_render_metrics(&s, &me, EXP_PROM_TEXT, &b);
    assert_true(has_line(b.p, "ntpkit_build_info{version=\"v\\\"1\\n\",revision=\"\\\\\",tls_"
                              "library=\"OpenSSL 3\"} 1"));
    exp_buf_free(&b);
}

static void test_source_labels(void **state)
{
    (void)state;
    static struct m6_snap s;
    one_source(&s);
    s.n_peers = 4;
    /* No srchost: the address names it. A refclock: empty address. A duplicate of #0. */
    s.peers[1] = s.peers[0];
    s.peers[1].srchost[0] = '\0';
    memcpy(s.peers[1].srcadr, "2001:db8::1", sizeof "2001:db8::1");
    s.peers[2] = s.peers[0];
    memcpy(s.peers[2].srcadr, "127.127.28.0", sizeof "127.127.28.0");
    memcpy(s.peers[2].srchost, "SHM(0)", sizeof "SHM(0)");
    memcpy(s.peers[2].kind, "refclock", sizeof "refclock");
    s.peers[3] = s.peers[0];
    char *t = render(&s, EXP_PROM_TEXT);
    assert_true(has_line(t,
                         "ntpkit_source_stratum{source=\"ntp.example\",address=\"192.0.2.1\","
                         "kind=\"server\"} 2"));
    assert_true(has_line(t, "ntpkit_source_stratum{source=\"2001:db8::1\","
                            "address=\"2001:db8::1\",kind=\"server\"} 2"));
    assert_true(has_line(
        t, "ntpkit_source_stratum{source=\"SHM(0)\",address=\"\",kind=\"refclock\"} 2"));
    assert_int_equal(count_lines(t, "ntpkit_source_stratum{"), 3); /* the duplicate dropped */
    assert_int_equal(count_lines(t, "ntpkit_source_selection{"), 3 * 8);
    free(t);
}

static void test_selection_series(void **state)
{
    (void)state;
    static struct m6_snap s;
    for (int sel = 0; sel < M6_SEL_COUNT; sel++) {
        one_source(&s);
        s.peers[0].sel = (enum m6_sel)sel;
        char *t = render(&s, EXP_PROM_TEXT);
        assert_int_equal(count_lines(t, "ntpkit_source_selection{"), 8);
        for (int st = 0; st < M6_SEL_COUNT; st++) {
            char line[256];
            snprintf(line, sizeof line,
                     "ntpkit_source_selection{source=\"ntp.example\",address=\"192.0.2.1\","
                     "kind=\"server\",state=\"%s\"} %d",
                     m6_sel_name((enum m6_sel)st), st == sel);
            assert_true(has_line(t, line));
        }
        free(t);
    }
}

/* ======================================================================================== */
/* Absent values and up = 0                                                                 */
/* ======================================================================================== */

static void test_absent_values(void **state)
{
    (void)state;
    static struct m6_snap s;
    m6_snap_init(&s);
    s.up = true;
    s.n_peers = 1;
    memcpy(s.peers[0].srcadr, "192.0.2.1", sizeof "192.0.2.1");
    s.peers[0].stratum = 1;
    char *t = render(&s, EXP_PROM_TEXT);
    assert_null(strstr(t, "NaN"));
    assert_null(strstr(t, "ntpkit_system_"));      /* nothing system-wide was sent */
    assert_null(strstr(t, "ntpkit_server_"));      /* no counters */
    assert_null(strstr(t, "ntpkit_nts_"));         /* no NTS counters */
    assert_null(strstr(t, "offset_seconds"));      /* family without samples: no HELP/TYPE */
    assert_null(strstr(t, "ntpkit_source_reach")); /* reach not sent */
    assert_null(strstr(t, "last_response"));
    assert_null(strstr(t, "ntpkit_leapfile"));
    assert_true(has_line(t, "ntpkit_up 1"));
    assert_true(has_line(t, "ntpkit_source_stratum{source=\"192.0.2.1\",address=\"192.0.2.1\","
                            "kind=\"server\"} 1"));
    /* The scrape duration is absent too (NAN in a fresh snapshot). */
    assert_null(strstr(t, "ntpkit_scrape_duration_seconds"));
    free(t);
    /* A partly present counter group: only what was sent. */
    s.ctr.ss_limited = 4;
    t = render(&s, EXP_PROM_TEXT);
    assert_int_equal(count_lines(t, "ntpkit_server_packets_dropped_total{"), 1);
    assert_true(has_line(t, "ntpkit_server_packets_dropped_total{reason=\"rate_limited\"} 4"));
    assert_null(strstr(t, "ntpkit_server_packets_received"));
    free(t);
}

static void test_up_zero(void **state)
{
    (void)state;
    static struct m6_snap s;
    one_source(&s); /* data left over must not be shown */
    s.up = false;
    s.fetch_s = 5;
    for (int f = 0; f < 2; f++) {
        char *t = render(&s, (enum exp_format)f);
        assert_true(has_line(t, "ntpkit_up 0"));
        assert_int_equal(count_lines(t, "ntpkit_build_info{"), 1);
        assert_true(has_line(t, "ntpkit_scrape_duration_seconds 5"));
        assert_true(has_line(t, "process_open_fds 5"));
        assert_true(has_line(t, "process_cpu_seconds_total 1.5"));
        assert_null(strstr(t, "ntpkit_system"));
        assert_null(strstr(t, "ntpkit_source"));
        /* Sample lines: up, build_info, scrape duration and the 4 process metrics. */
        size_t samples = 0;
        for (const char *p = t; *p; p = strchr(p, '\n') + 1) {
            samples += *p != '#';
        }
        assert_int_equal(samples, 7);
        free(t);
    }
    /* No snapshot and no self at all still say up 0 with build info. */
    struct exp_buf b = {0};
    exp_render_metrics(NULL, NULL, EXP_PROM_TEXT, &b);
    assert_true(has_line(b.p, "ntpkit_up 0"));
    assert_int_equal(count_lines(b.p, "ntpkit_build_info{"), 1);
    exp_buf_free(&b);
}

static void test_synchronized(void **state)
{
    (void)state;
    static const struct {
        int leap, stratum;
        const char *want;
    } t[] = {{0, 2, "ntpkit_system_synchronized 1"},
             {3, 2, "ntpkit_system_synchronized 0"},
             {0, 16, "ntpkit_system_synchronized 0"},
             {1, 15, "ntpkit_system_synchronized 1"},
             {-1, 2, NULL},
             {0, -1, NULL}};
    static struct m6_snap s;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        one_source(&s);
        s.sys.leap = t[i].leap;
        s.sys.stratum = t[i].stratum;
        char *x = render(&s, EXP_PROM_TEXT);
        if (t[i].want != NULL) {
            assert_true(has_line(x, t[i].want));
        } else {
            assert_null(strstr(x, "ntpkit_system_synchronized"));
        }
        free(x);
    }
}

static void test_system_peer_info(void **state)
{
    (void)state;
    static struct m6_snap s;
    one_source(&s);
    memcpy(s.sys.refid, "192.0.2.1", sizeof "192.0.2.1");
    s.sys.sys_peer = 8; /* no such association */
    char *t = render(&s, EXP_PROM_TEXT);
    assert_null(strstr(t, "ntpkit_system_peer_info"));
    free(t);
    s.sys.sys_peer = 7;
    t = render(&s, EXP_PROM_TEXT);
    assert_true(has_line(t, "ntpkit_system_peer_info{source=\"ntp.example\","
                            "address=\"192.0.2.1\",refid=\"192.0.2.1\"} 1"));
    free(t);
}

/* ======================================================================================== */
/* Negotiation and OpenMetrics structure                                                    */
/* ======================================================================================== */

static void test_negotiate(void **state)
{
    (void)state;
    static const struct {
        const char *accept;
        enum exp_format want;
    } t[] = {
        /* Prometheus 2.x's default scrape Accept header (scrape/scrape.go). */
        {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
         "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
         EXP_OPENMETRICS},
        /* Prometheus 2.x before OpenMetrics 1.0.0 was asked for. */
        {"application/openmetrics-text; "
         "version=0.0.1,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
         EXP_OPENMETRICS},
        /* Prometheus 3.x with its default scrape_protocols. */
        {"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
         "application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;"
         "escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
         EXP_OPENMETRICS},
        /* Prometheus with scrape_protocols: [PrometheusText0.0.4]. */
        {"text/plain;version=0.0.4;q=0.5,*/*;q=0.1", EXP_PROM_TEXT},
        /* Protobuf first (native histograms), text as fallback. */
        {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
         "encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2",
         EXP_PROM_TEXT},
        {"*/*", EXP_PROM_TEXT}, /* curl */
        {"", EXP_PROM_TEXT},
        {NULL, EXP_PROM_TEXT},
        {"application/openmetrics-text;q=0", EXP_PROM_TEXT},
        {"application/openmetrics-text; q=0.000", EXP_PROM_TEXT},
        {"application/openmetrics-text;q=0.001", EXP_OPENMETRICS},
        {"Application/OpenMetrics-Text", EXP_OPENMETRICS},
        {"  application/openmetrics-text  ;version=1.0.0", EXP_OPENMETRICS},
        {"application/openmetrics-textx", EXP_PROM_TEXT},
        {"text/plain, application/openmetrics-text", EXP_OPENMETRICS},
        {",,,;;", EXP_PROM_TEXT},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_int_equal(exp_negotiate(t[i].accept), t[i].want);
    }
    assert_string_equal(exp_content_type(EXP_PROM_TEXT),
                        "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(exp_content_type(EXP_OPENMETRICS),
                        "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

static void test_openmetrics_structure(void **state)
{
    (void)state;
    static struct m6_snap s;
    one_source(&s);
    s.ctr.ss_received = 10;
    char *om = render(&s, EXP_OPENMETRICS);
    char *pt = render(&s, EXP_PROM_TEXT);
    /* Counters: family without _total in HELP/TYPE, sample with it; text keeps _total. */
    assert_true(has_line(om, "# TYPE ntpkit_server_packets_received counter"));
    assert_true(has_line(om, "ntpkit_server_packets_received_total 10"));
    assert_true(has_line(pt, "# TYPE ntpkit_server_packets_received_total counter"));
    assert_true(has_line(om, "# TYPE process_cpu_seconds counter"));
    assert_null(strstr(om, "# UNIT process_cpu_seconds")); /* UNIT only for gauges */
    /* UNIT right after TYPE for _seconds and _bytes gauges, none for others or in text. */
    assert_non_null(strstr(om, "# TYPE ntpkit_system_offset_seconds gauge\n"
                               "# UNIT ntpkit_system_offset_seconds seconds\n"
                               "ntpkit_system_offset_seconds 0.001\n"));
    assert_non_null(strstr(om, "# TYPE process_resident_memory_bytes gauge\n"
                               "# UNIT process_resident_memory_bytes bytes\n"));
    assert_null(strstr(om, "# UNIT ntpkit_up"));
    assert_null(strstr(pt, "# UNIT"));
    /* # EOF last in OpenMetrics only. */
    size_t n = strlen(om);
    assert_string_equal(om + n - 6, "# EOF\n");
    assert_int_equal(count_lines(om, "# EOF"), 1);
    assert_null(strstr(pt, "# EOF"));
    /* Every family: HELP, then TYPE, once each; every TYPE has a HELP just before it. */
    for (const char *p = om; (p = strstr(p, "\n# TYPE ")) != NULL; p++) {
        const char *name = p + 8;
        size_t nl = strcspn(name, " ");
        char help[160];
        snprintf(help, sizeof help, "# HELP %.*s ", (int)nl, name);
        const char *h = p;
        do {
            h--;
        } while (h > om && h[-1] != '\n');
        assert_int_equal(strncmp(h, help, strlen(help)), 0);
        char type[160];
        snprintf(type, sizeof type, "# TYPE %.*s ", (int)nl, name);
        assert_int_equal(count_lines(om, type), 1);
    }
    free(om);
    free(pt);
}

/* ======================================================================================== */
/* Numbers                                                                                  */
/* ======================================================================================== */

/* Property: any finite value renders in a form strtod reads back exactly. */
static void test_value_round_trip(void **state)
{
    (void)state;
    tu_seed();
    static struct m6_snap s;
    for (int i = 0; i < 2000; i++) {
        one_source(&s);
        double v;
        uint64_t r = tu_rand();
        switch (i % 4) {
        case 0:
            memcpy(&v, &r, sizeof v);
            if (!isfinite(v)) {
                v = 1.0 / (double)(r | 1);
            }
            break;
        case 1:
            v = (double)(int64_t)(r % 2000000) / 1e9 - 1e-3;
            break;
        case 2:
            v = (double)(r >> 11);
            break;
        default:
            v = ldexp((double)(r % 1000), (int)(r % 200) - 100);
            break;
        }
        s.sys.offset_s = v;
        char *t = render(&s, EXP_PROM_TEXT);
        const char *p = strstr(t, "\nntpkit_system_offset_seconds ");
        assert_non_null(p);
        char *end;
        double back = strtod(p + 30, &end);
        assert_int_equal(*end, '\n');
        assert_true(back == v);
        free(t);
    }
    /* Short forms: integers without a point, shortest decimals. */
    one_source(&s);
    s.sys.offset_s = 0.1;
    s.peers[0].offset_s = -2;
    s.sys.poll_s = 1e20;
    char *t = render(&s, EXP_PROM_TEXT);
    assert_true(has_line(t, "ntpkit_system_offset_seconds 0.1"));
    assert_true(has_line(t, "ntpkit_system_poll_interval_seconds 1e+20"));
    assert_true(has_line(t, "ntpkit_source_offset_seconds{source=\"ntp.example\","
                            "address=\"192.0.2.1\",kind=\"server\"} -2"));
    free(t);
}

/* ======================================================================================== */
/* Probe and JSON                                                                           */
/* ======================================================================================== */

static void test_probe_failure(void **state)
{
    (void)state;
    struct exp_probe p = {.target = "x",
                          .success = false,
                          .duration_s = 2.5,
                          .offset_s = NAN,
                          .delay_s = NAN,
                          .root_delay_s = NAN,
                          .root_disp_s = NAN,
                          .stratum = -1,
                          .leap = -1,
                          .cert_expiry_unix_s = NAN,
                          .nts_cookies = -1,
                          .ke_duration_s = NAN};
    memcpy(p.error, "timeout", sizeof "timeout");
    struct exp_buf b = {0};
    exp_render_probe(&p, EXP_PROM_TEXT, &b);
    assert_string_equal(b.p,
                        "# HELP ntpkit_probe_success 1 if the probe got a valid (for NTS: "
                        "authenticated) reply, else 0.\n"
                        "# TYPE ntpkit_probe_success gauge\n"
                        "ntpkit_probe_success 0\n"
                        "# HELP ntpkit_probe_duration_seconds How long the whole probe "
                        "took, in seconds.\n"
                        "# TYPE ntpkit_probe_duration_seconds gauge\n"
                        "ntpkit_probe_duration_seconds 2.5\n");
    exp_buf_free(&b);
    /* A kiss: its code as a label (8 bytes, not NUL-terminated, escaped). */
    p.stratum = 0;
    memcpy(p.kiss, "RA\"E\nXYZ", 8);
    exp_render_probe(&p, EXP_OPENMETRICS, &b);
    assert_true(has_line(b.p, "ntpkit_probe_kod_info{code=\"RA\\\"E\\nXYZ\"} 1"));
    assert_true(has_line(b.p, "ntpkit_probe_stratum 0"));
    assert_string_equal(b.p + b.len - 6, "# EOF\n");
    exp_buf_free(&b);
}

static void test_json(void **state)
{
    (void)state;
    static struct m6_snap s;
    one_source(&s);
    s.peers[0].sel = M6_SEL_SYSPEER;
    s.ctr.ss_received = 99;
    struct exp_buf b = {0};
    exp_render_json(&s, &self, &b);
    json_object *o = json_tokener_parse(b.p);
    assert_non_null(o);
    json_object *v;
    assert_true(json_object_object_get_ex(o, "schema", &v) && json_object_get_int(v) == 1);
    assert_true(json_object_object_get_ex(o, "up", &v) && json_object_get_boolean(v));
    json_object *sys, *src, *ctr;
    assert_true(json_object_object_get_ex(o, "system", &sys));
    assert_true(json_object_object_get_ex(sys, "offset_seconds", &v));
    assert_true(json_object_get_double(v) == 0.001);
    assert_false(json_object_object_get_ex(sys, "jitter_seconds", &v)); /* absent */
    assert_true(json_object_object_get_ex(o, "sources", &src));
    assert_int_equal(json_object_array_length(src), 1);
    json_object *p0 = json_object_array_get_idx(src, 0);
    assert_true(json_object_object_get_ex(p0, "selection", &v));
    assert_string_equal(json_object_get_string(v), "system_peer");
    assert_true(json_object_object_get_ex(p0, "reach_ratio", &v));
    assert_true(json_object_get_double(v) == 0.5);
    assert_false(json_object_object_get_ex(p0, "delay_seconds", &v));
    assert_true(json_object_object_get_ex(o, "counters", &ctr));
    assert_true(json_object_object_get_ex(ctr, "server_packets_received_total", &v));
    assert_int_equal(json_object_get_int64(v), 99);
    assert_false(json_object_object_get_ex(ctr, "server_kod_sent_total", &v));
    json_object_put(o);
    exp_buf_free(&b);
    /* Down: the reason, and no data sections. */
    s.up = false;
    memcpy(s.error, "refused: \"x\"", sizeof "refused: \"x\"");
    exp_render_json(&s, &self, &b);
    o = json_tokener_parse(b.p);
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "error", &v));
    assert_string_equal(json_object_get_string(v), "refused: \"x\"");
    assert_false(json_object_object_get_ex(o, "system", &v));
    assert_false(json_object_object_get_ex(o, "sources", &v));
    json_object_put(o);
    exp_buf_free(&b);
}

/* The refclock families: HELP, TYPE and the exact samples with the source labels of the
 * other per-source series; absent without clock variables; in /json as "refclock". */
static void test_refclock_series(void **state)
{
    (void)state;
    static struct m6_snap s;
    one_source(&s);
    char *t = render(&s, EXP_PROM_TEXT);
    assert_int_equal(count_lines(t, "ntpkit_refclock"), 0);
    assert_int_equal(count_lines(t, "# HELP ntpkit_refclock"), 0);
    free(t);
    s.n_peers = 2;
    struct m6_peer *p = &s.peers[1];
    p->associd = 8;
    memcpy(p->srcadr, "127.127.28.0", sizeof "127.127.28.0");
    memcpy(p->srchost, "SHM(0)", sizeof "SHM(0)");
    memcpy(p->kind, "refclock", sizeof "refclock");
    /* Only a refclock whose READCLOCK was answered: nothing yet. */
    t = render(&s, EXP_PROM_TEXT);
    assert_int_equal(count_lines(t, "ntpkit_refclock"), 0);
    free(t);
    p->rc_polls = 42;
    p->rc_noreply = 3;
    p->rc_badformat = 0;
    p->rc_baddata = 18446744073709551614u;
    t = render(&s, EXP_PROM_TEXT);
    assert_true(has_line(t, "# HELP ntpkit_refclock_polls_total Polls of the reference "
                            "clock's driver since the daemon started (clock variable poll)."));
    assert_true(has_line(t, "# TYPE ntpkit_refclock_polls_total counter"));
    assert_true(has_line(t, "# TYPE ntpkit_refclock_errors_total counter"));
    assert_true(has_line(
        t,
        "ntpkit_refclock_polls_total{source=\"SHM(0)\",address=\"\",kind=\"refclock\"} 42"));
    assert_true(has_line(t, "ntpkit_refclock_errors_total{source=\"SHM(0)\",address=\"\","
                            "kind=\"refclock\",error=\"noreply\"} 3"));
    assert_true(has_line(t, "ntpkit_refclock_errors_total{source=\"SHM(0)\",address=\"\","
                            "kind=\"refclock\",error=\"badformat\"} 0"));
    assert_true(has_line(t, "ntpkit_refclock_errors_total{source=\"SHM(0)\",address=\"\","
                            "kind=\"refclock\",error=\"baddata\"} 18446744073709551614"));
    assert_int_equal(count_lines(t, "ntpkit_refclock_polls_total{"), 1);
    assert_int_equal(count_lines(t, "ntpkit_refclock_errors_total{"), 3);
    assert_int_equal(count_lines(t, "# HELP ntpkit_refclock"), 2);
    /* After the per-source families, before the daemon's counters. */
    assert_true(strstr(t, "# HELP ntpkit_source_authenticated") <
                strstr(t, "# HELP ntpkit_refclock_polls_total"));
    free(t);
    /* An absent error counter has no series; the others stay. */
    p->rc_badformat = UINT64_MAX;
    t = render(&s, EXP_OPENMETRICS);
    assert_true(has_line(t, "# TYPE ntpkit_refclock_polls counter"));
    assert_true(has_line(
        t,
        "ntpkit_refclock_polls_total{source=\"SHM(0)\",address=\"\",kind=\"refclock\"} 42"));
    assert_int_equal(count_lines(t, "ntpkit_refclock_errors_total{"), 2);
    assert_int_equal(count_lines(t, "ntpkit_refclock_errors_total{source=\"SHM(0)\",address="
                                    "\"\",kind=\"refclock\",error=\"badformat\"}"),
                     0);
    free(t);
    /* /json: the refclock object of that source, none for the server. */
    memcpy(p->rc_name, "SHM", sizeof "SHM");
    struct exp_buf b = {0};
    exp_render_json(&s, &self, &b);
    json_object *o = json_tokener_parse(b.p);
    assert_non_null(o);
    json_object *src, *rc, *v;
    assert_true(json_object_object_get_ex(o, "sources", &src));
    assert_false(json_object_object_get_ex(json_object_array_get_idx(src, 0), "refclock", &v));
    assert_true(json_object_object_get_ex(json_object_array_get_idx(src, 1), "refclock", &rc));
    assert_true(json_object_object_get_ex(rc, "name", &v));
    assert_string_equal(json_object_get_string(v), "SHM");
    assert_false(json_object_object_get_ex(rc, "device", &v));
    assert_true(json_object_object_get_ex(rc, "polls_total", &v));
    assert_int_equal(json_object_get_int64(v), 42);
    assert_true(json_object_object_get_ex(rc, "errors_noreply_total", &v));
    assert_int_equal(json_object_get_int64(v), 3);
    assert_false(json_object_object_get_ex(rc, "errors_badformat_total", &v));
    assert_true(json_object_object_get_ex(rc, "errors_baddata_total", &v));
    assert_true(json_object_get_uint64(v) == 18446744073709551614u);
    json_object_put(o);
    exp_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_growth),
        cmocka_unit_test(test_label_escaping),
        cmocka_unit_test(test_source_labels),
        cmocka_unit_test(test_selection_series),
        cmocka_unit_test(test_absent_values),
        cmocka_unit_test(test_up_zero),
        cmocka_unit_test(test_synchronized),
        cmocka_unit_test(test_system_peer_info),
        cmocka_unit_test(test_negotiate),
        cmocka_unit_test(test_openmetrics_structure),
        cmocka_unit_test(test_value_round_trip),
        cmocka_unit_test(test_probe_failure),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_refclock_series),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
