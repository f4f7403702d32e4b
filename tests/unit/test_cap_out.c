/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for ntpcap's outputs (cli/ntpcap/cap_out.c): a scripted sequence of sink calls
 * gives exact JSON lines (parsed back with json-c), CSV headers and RFC 4180 quoting, the
 * report's exchange line, top talkers, and the --fail-on exit rule. */
#include <json-c/json.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cap.h"
#include "cap_out.h"
#include "testutil.h"

#include "poison.h"

/* Capture time of the scripted request: 2023-11-14T22:13:20.123456789Z. */
#define T0 1700000000

/* An output writing to memory. */
struct mem {
    char *buf;
    size_t len;
    FILE *f;
    struct cap_out *o;
    struct cap_sink sink;
};

static void mem_open(struct mem *m, enum cap_fmt fmt, bool summary, int fail_on, int verbose)
{
    memset(m, 0, sizeof *m);
    m->f = open_memstream(&m->buf, &m->len);
    assert_non_null(m->f);
    struct cap_out_cfg cfg = {
        .f = m->f, .fmt = fmt, .summary = summary, .verbose = verbose, .fail_on = fail_on};
    m->o = cap_out_new(&cfg);
    assert_non_null(m->o);
    cap_out_sink(m->o, &m->sink);
}

/* Closes the stream (the text is then in m->buf); the output stays for cap_out_status. */
static void mem_close(struct mem *m)
{
    fclose(m->f);
}

static void mem_free(struct mem *m)
{
    cap_out_free(m->o);
    free(m->buf);
}

/* Line n (0-based) of text, copied into line[cap]; false when there is none. */
static bool nth_line(const char *text, int n, char *line, size_t cap)
{
    const char *p = text;
    for (int i = 0; i < n; i++) {
        p = strchr(p, '\n');
        if (p == NULL) {
            return false;
        }
        p++;
    }
    const char *e = strchr(p, '\n');
    if (e == NULL || (size_t)(e - p) >= cap) {
        return false;
    }
    memcpy(line, p, (size_t)(e - p));
    line[e - p] = '\0';
    return true;
}

static void set_v4(struct ntk_addr *a, uint8_t a0, uint8_t a1, uint8_t a2, uint8_t a3,
                   uint16_t port)
{
    const uint8_t ip[4] = {a0, a1, a2, a3};
    ntk_addr_set_v4(a, ip, port);
}

/* A client request and a server response 100 µs later, and their exchange. */
static void script_exchange(struct cap_pkt *q, struct cap_pkt *r, struct cap_exch *x)
{
    memset(q, 0, sizeof *q);
    memset(r, 0, sizeof *r);
    memset(x, 0, sizeof *x);
    q->frame = 1;
    q->ts_sec = T0;
    q->ts_nsec = 123456789;
    q->what = CAP_NTP;
    set_v4(&q->src, 192, 0, 2, 1, 40000);
    set_v4(&q->dst, 192, 0, 2, 10, 123);
    q->decoded = true;
    q->version = 4;
    q->mode = 3;
    q->hdr.xmt = ntk_ts_make(0xe9000000U, 0x80000000U);
    q->payload_len = 48;
    *r = *q;
    r->frame = 2;
    r->ts_nsec = 123556789;
    r->src = q->dst;
    r->dst = q->src;
    r->mode = 4;
    r->stratum = 2;
    r->hdr.refid = 0x0a000001;
    r->hdr.org = q->hdr.xmt;
    r->hdr.rec = ntk_ts_make(0xe9000001U, 0);
    r->hdr.xmt = ntk_ts_make(0xe9000001U, 0x00010000U);
    x->kind = CAP_X_CLIENT;
    x->req = q;
    x->resp = r;
    x->req_bytes = 48;
    x->resp_bytes = 48;
    x->resp_frags = 1;
    x->rtt_cap_s = 0.0001;
    x->offset_pkt_s = NAN;
    x->delay_pkt_s = NAN;
    x->offset_cap_s = -0.000012345;
    x->delay_cap_s = 0.0001;
    x->server_s = 0.000015259;
}

static void script_anomaly(struct cap_anom *a, const char *code, enum cap_sev sev,
                           uint64_t frame)
{
    memset(a, 0, sizeof *a);
    a->code = code;
    a->sev = sev;
    a->frame = frame;
    if (frame != 0) {
        set_v4(&a->src, 192, 0, 2, 66, 123);
        set_v4(&a->dst, 198, 51, 100, 9, 40000);
    }
    const char d[] = "a \"quoted\" detail";
    memcpy(a->detail, d, sizeof d);
}

static void script_flow(struct cap_flow *f, uint8_t client_last, uint64_t pkts)
{
    memset(f, 0, sizeof *f);
    set_v4(&f->client, 192, 0, 2, client_last, 0);
    set_v4(&f->server, 192, 0, 2, 10, 123);
    f->first_sec = T0;
    f->last_sec = T0 + 64;
    f->pkts_c2s = pkts;
    f->pkts_s2c = pkts;
    f->bytes_c2s = 48 * pkts;
    f->bytes_s2c = 48 * pkts;
    f->modes = (1U << 3) | (1U << 4);
    f->versions = 1U << 4;
    f->requests = pkts;
    f->responses = pkts;
    f->exchanges = pkts;
    f->auth = "none";
    f->poll_s = 16;
    f->delay_min_s = f->delay_med_s = f->delay_max_s = f->delay_last_s = 0.0001;
    f->offset_min_s = f->offset_med_s = f->offset_max_s = f->offset_last_s = NAN;
    f->amplification = 1.0;
    f->loss = 0.25;
    f->jitter_s = 0.0005;
    f->interleaved = 2;
}

static json_object *parse_line(const char *text, int n)
{
    char line[8192];
    assert_true(nth_line(text, n, line, sizeof line));
    json_object *j = json_tokener_parse(line);
    assert_non_null(j);
    json_object *v;
    assert_true(json_object_object_get_ex(j, "schema", &v));
    assert_string_equal(json_object_get_string(v), CAP_JSON_SCHEMA);
    return j;
}

static json_object *key(json_object *j, const char *k)
{
    json_object *v = NULL;
    assert_true(json_object_object_get_ex(j, k, &v)); /* every key present, maybe null */
    return v;
}

static void json_exchange_line(void **state)
{
    (void)state;
    struct mem m;
    mem_open(&m, CAP_FMT_JSON, false, -1, 0);
    struct cap_pkt q, r;
    struct cap_exch x;
    script_exchange(&q, &r, &x);
    m.sink.exchange(m.sink.ctx, &x);
    mem_close(&m);
    json_object *j = parse_line(m.buf, 0);
    assert_string_equal(json_object_get_string(key(j, "type")), "exchange");
    assert_string_equal(json_object_get_string(key(j, "kind")), "client");
    assert_string_equal(json_object_get_string(key(j, "client")), "192.0.2.1");
    assert_int_equal(json_object_get_int(key(j, "client_port")), 40000);
    assert_string_equal(json_object_get_string(key(j, "server")), "192.0.2.10");
    assert_int_equal(json_object_get_int(key(j, "server_port")), 123);
    assert_int_equal(json_object_get_int(key(j, "request_frame")), 1);
    assert_int_equal(json_object_get_int(key(j, "response_frame")), 2);
    assert_string_equal(json_object_get_string(key(j, "request_time")),
                        "2023-11-14T22:13:20.123456789Z");
    assert_int_equal(json_object_get_int(key(j, "stratum")), 2);
    assert_string_equal(json_object_get_string(key(j, "refid")), "10.0.0.1");
    assert_string_equal(json_object_get_string(key(j, "refid_hex")), "0a000001");
    assert_string_equal(json_object_get_string(key(j, "leap")), "none");
    assert_null(key(j, "kiss"));
    assert_null(key(j, "offset_pkt_s"));
    assert_null(key(j, "delay_pkt_s"));
    assert_null(key(j, "ctl_opcode"));
    assert_string_equal(json_object_get_string(key(j, "t1_hex")), "e9000000.80000000");
    assert_string_equal(json_object_get_string(key(j, "t3_hex")), "e9000001.00010000");
    assert_string_equal(json_object_get_string(key(j, "offset_cap_relative_to")), "capture");
    assert_true(fabs(json_object_get_double(key(j, "offset_cap_s")) + 0.000012345) < 1e-12);
    assert_true(fabs(json_object_get_double(key(j, "amplification")) - 1.0) < 1e-12);
    /* Seconds printed with 9 decimals, as text. */
    assert_non_null(strstr(m.buf, "\"rtt_s\":0.000100000,"));
    assert_non_null(strstr(m.buf, "\"offset_cap_s\":-0.000012345,"));
    json_object_put(j);
    mem_free(&m);
}

static void json_anomaly_exact(void **state)
{
    (void)state;
    struct mem m;
    mem_open(&m, CAP_FMT_JSON, false, CAP_SEV_CRIT, 0);
    struct cap_anom a;
    script_anomaly(&a, "mode7_monlist", CAP_SEV_CRIT, 7);
    m.sink.anomaly(m.sink.ctx, &a);
    script_anomaly(&a, "amplification", CAP_SEV_WARN, 0);
    m.sink.anomaly(m.sink.ctx, &a);
    mem_close(&m);
    char line[1024];
    assert_true(nth_line(m.buf, 0, line, sizeof line));
    assert_string_equal(line, "{\"schema\":\"ntpkit.ntpcap/1\",\"type\":\"anomaly\",\"code\":"
                              "\"mode7_monlist\",\"severity\":\"crit\",\"frame\":7,\"src\":"
                              "\"192.0.2.66\",\"src_port\":123,\"dst\":\"198.51.100.9\","
                              "\"dst_port\":40000,\"detail\":\"a \\\"quoted\\\" detail\"}");
    assert_true(nth_line(m.buf, 1, line, sizeof line));
    assert_string_equal(line, "{\"schema\":\"ntpkit.ntpcap/1\",\"type\":\"anomaly\",\"code\":"
                              "\"amplification\",\"severity\":\"warn\",\"frame\":null,\"src\":"
                              "null,\"src_port\":null,\"dst\":null,\"dst_port\":null,"
                              "\"detail\":\"a \\\"quoted\\\" detail\"}");
    assert_false(nth_line(m.buf, 2, line, sizeof line));
    assert_int_equal(cap_out_status(m.o), CAP_EXIT_ANOMALIES);
    mem_free(&m);
}

static void json_packet_flow_summary(void **state)
{
    (void)state;
    struct mem m;
    mem_open(&m, CAP_FMT_JSON, true, -1, 1);
    assert_non_null(m.sink.packet);
    struct cap_pkt q, r;
    struct cap_exch x;
    script_exchange(&q, &r, &x);
    m.sink.packet(m.sink.ctx, &q);
    struct cap_flow f;
    script_flow(&f, 1, 3);
    m.sink.flow(m.sink.ctx, &f);
    script_flow(&f, 2, 5);
    m.sink.flow(m.sink.ctx, &f);
    script_flow(&f, 1, 4); /* the same client again: merged in top talkers */
    m.sink.flow(m.sink.ctx, &f);
    struct cap_stats st;
    memset(&st, 0, sizeof st);
    st.frames = 24;
    st.by_mode[3] = 12;
    st.by_mode[4] = 12;
    cap_out_finish(m.o, &st, NULL);
    mem_close(&m);
    json_object *p = parse_line(m.buf, 0);
    assert_string_equal(json_object_get_string(key(p, "type")), "packet");
    assert_string_equal(json_object_get_string(key(p, "mode_name")), "client");
    assert_string_equal(json_object_get_string(key(p, "xmt_time_hex")), "e9000000.80000000");
    assert_null(key(p, "org_time"));
    assert_string_equal(json_object_get_string(key(p, "org_time_hex")), "00000000.00000000");
    assert_null(key(p, "keyid"));
    json_object_put(p);
    json_object *fl = parse_line(m.buf, 1);
    assert_string_equal(json_object_get_string(key(fl, "type")), "flow");
    assert_null(key(fl, "client_port"));
    assert_int_equal(json_object_array_length(key(fl, "modes")), 2);
    assert_int_equal(json_object_get_int(json_object_array_get_idx(key(fl, "modes"), 1)), 4);
    assert_null(key(fl, "offset_med_s"));
    assert_true(fabs(json_object_get_double(key(fl, "duration_s")) - 64.0) < 1e-9);
    assert_true(json_object_get_double(key(fl, "loss_ratio")) == 0.25);
    assert_true(json_object_get_double(key(fl, "jitter_s")) == 0.0005);
    assert_int_equal(json_object_get_int(key(fl, "interleaved")), 2);
    json_object_put(fl);
    json_object *s = parse_line(m.buf, 4);
    assert_string_equal(json_object_get_string(key(s, "type")), "summary");
    assert_int_equal(json_object_get_int(key(s, "frames")), 24);
    assert_int_equal(
        json_object_get_int(json_object_array_get_idx(key(s, "packets_by_mode"), 4)), 12);
    assert_null(key(s, "source"));
    json_object *top = key(s, "top_clients");
    assert_int_equal(json_object_array_length(top), 2);
    json_object *t0 = json_object_array_get_idx(top, 0);
    assert_string_equal(json_object_get_string(key(t0, "address")), "192.0.2.1");
    assert_int_equal(json_object_get_int(key(t0, "packets")), 7);
    assert_int_equal(json_object_get_int(key(t0, "flows")), 2);
    assert_int_equal(json_object_array_length(key(s, "top_servers")), 1);
    json_object_put(s);
    mem_free(&m);
}

static void csv_exchanges_and_flows(void **state)
{
    (void)state;
    struct mem m;
    mem_open(&m, CAP_FMT_CSV, false, -1, 0);
    struct cap_pkt q, r;
    struct cap_exch x;
    script_exchange(&q, &r, &x);
    memcpy(r.kiss, "A,\"B", 5);
    m.sink.exchange(m.sink.ctx, &x);
    struct cap_anom a;
    script_anomaly(&a, "kod_spoofed", CAP_SEV_CRIT, 2);
    m.sink.anomaly(m.sink.ctx, &a); /* not a CSV row */
    mem_close(&m);
    char line[2048];
    assert_true(nth_line(m.buf, 0, line, sizeof line));
    assert_string_equal(line, "request_frame,response_frame,request_time,kind,client,"
                              "client_port,server,server_port,version,mode,stratum,leap,refid,"
                              "kiss,request_bytes,response_bytes,response_datagrams,rtt_s,"
                              "offset_pkt_s,delay_pkt_s,offset_cap_s,delay_cap_s,"
                              "server_processing_s");
    assert_true(nth_line(m.buf, 1, line, sizeof line));
    assert_string_equal(line, "1,2,2023-11-14T22:13:20.123456789Z,client,192.0.2.1,40000,"
                              "192.0.2.10,123,4,3,2,none,10.0.0.1,\"A,\"\"B\",48,48,1,"
                              "0.000100000,,,-0.000012345,0.000100000,0.000015259");
    assert_false(nth_line(m.buf, 2, line, sizeof line));
    mem_free(&m);

    mem_open(&m, CAP_FMT_CSV_FLOWS, false, -1, 0);
    struct cap_flow f;
    script_flow(&f, 1, 3);
    m.sink.exchange(m.sink.ctx, &x); /* not a row of the flow table */
    m.sink.flow(m.sink.ctx, &f);
    mem_close(&m);
    assert_true(nth_line(m.buf, 0, line, sizeof line));
    assert_true(strncmp(line, "client,client_port,server,server_port,first_time,", 49) == 0);
    assert_true(nth_line(m.buf, 1, line, sizeof line));
    assert_string_equal(line, "192.0.2.1,,192.0.2.10,123,2023-11-14T22:13:20.000000000Z,"
                              "2023-11-14T22:14:24.000000000Z,3,3,144,144,3 4,4,3,3,3,0,0,0,"
                              "none,0,0,0,16.000000000,0.000100000,0.000100000,0.000100000,"
                              "0.000100000,,,,,1.000000000,false,0.250000000,0.000500000,2");
    mem_free(&m);
}

static void csv_quoting(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "plain"},   {"", ""},
        {"a,b", "\"a,b\""},   {"q\"q", "\"q\"\"q\""},
        {"l\nf", "\"l\nf\""}, {"c\rr", "\"c\rr\""},
        {NULL, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        struct ntk_sb sb;
        ntk_sb_init(&sb, buf, sizeof buf);
        cap_out_csv_field(&sb, cases[i].in);
        assert_string_equal(ntk_sb_str(&sb), cases[i].out);
    }
    /* Property: unquoting a quoted random field gives it back. */
    tu_seed();
    for (int n = 0; n < 2000; n++) {
        char in[24], buf[64], back[64];
        size_t len = (size_t)(tu_rand() % (sizeof in - 1));
        for (size_t i = 0; i < len; i++) {
            static const char alphabet[] = "ab,\"\r\n ";
            in[i] = alphabet[tu_rand() % (sizeof alphabet - 1)];
        }
        in[len] = '\0';
        struct ntk_sb sb;
        ntk_sb_init(&sb, buf, sizeof buf);
        cap_out_csv_field(&sb, in);
        const char *s = ntk_sb_str(&sb);
        size_t b = 0;
        if (s[0] == '"') {
            for (size_t i = 1; s[i + 1] != '\0'; i++) {
                back[b++] = s[i];
                if (s[i] == '"') {
                    assert_int_equal(s[++i], '"');
                }
            }
        } else {
            assert_null(strpbrk(s, ",\"\r\n"));
            b = strlen(s);
            memcpy(back, s, b);
        }
        back[b] = '\0';
        assert_string_equal(back, in);
    }
}

static void human_exchange_line(void **state)
{
    (void)state;
    struct mem m;
    mem_open(&m, CAP_FMT_HUMAN, false, -1, 0);
    struct cap_pkt q, r;
    struct cap_exch x;
    script_exchange(&q, &r, &x);
    m.sink.exchange(m.sink.ctx, &x);
    struct cap_anom a;
    script_anomaly(&a, "kod_spoofed", CAP_SEV_CRIT, 2);
    m.sink.anomaly(m.sink.ctx, &a);
    mem_close(&m);
    char line[1024];
    assert_true(nth_line(m.buf, 0, line, sizeof line));
    assert_string_equal(line, "22:13:20.123456789 192.0.2.1.40000 > 192.0.2.10.123: NTPv4 "
                              "client, stratum 2 refid 10.0.0.1, 48/48 B, rtt 0.000100000, "
                              "offset_cap -0.000012345 delay_cap 0.000100000");
    assert_true(nth_line(m.buf, 1, line, sizeof line));
    assert_string_equal(line,
                        "!! crit kod_spoofed frame 2 192.0.2.66.123 > 198.51.100.9.40000: "
                        "a \"quoted\" detail");
    mem_free(&m);
}

/* The start of an exchange line made apart (by the reading thread) is the report's own, and
 * the report prints one handed to it as it is. */
static void human_line_start(void **state)
{
    (void)state;
    struct cap_pkt q, r;
    struct cap_exch x;
    script_exchange(&q, &r, &x);
    const enum cap_xkind kinds[] = {CAP_X_CLIENT, CAP_X_SYMMETRIC, CAP_X_CONTROL,
                                    CAP_X_PRIVATE};
    for (int v6 = 0; v6 < 2; v6++) {
        if (v6) { /* the longest addresses */
            uint8_t a[16];
            memset(a, 0xff, sizeof a);
            ntk_addr_set_v6(&q.src, a, 65535, 0);
            a[15] = 0xfe;
            ntk_addr_set_v6(&q.dst, a, 123, 0);
        }
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            x.kind = kinds[k];
            struct mem m;
            mem_open(&m, CAP_FMT_HUMAN, false, -1, 0);
            m.sink.exchange(m.sink.ctx, &x);
            mem_close(&m);
            struct cap_tod tod;
            memset(&tod, 0, sizeof tod);
            char start[CAP_REQ_LINE_MAX];
            size_t n =
                cap_out_line_start(&tod, &q, x.kind, q.ts_sec, q.ts_nsec, start, sizeof start);
            assert_true(n > 20 && n < sizeof start);
            assert_true(m.len > n);
            assert_memory_equal(m.buf, start, n);
            assert_true(m.buf[n] == ',' || m.buf[n] == ' ');
            /* Made again with the cache filled, the same text. */
            char again[CAP_REQ_LINE_MAX];
            assert_int_equal(
                cap_out_line_start(&tod, &q, x.kind, q.ts_sec, q.ts_nsec, again, sizeof again),
                n);
            assert_memory_equal(again, start, n);
            /* What does not fit is not made. */
            assert_int_equal(
                cap_out_line_start(&tod, &q, x.kind, q.ts_sec, q.ts_nsec, again, n - 1), 0);
            mem_free(&m);
        }
    }
    script_exchange(&q, &r, &x);
    x.req_line = "HANDED-OVER";
    x.req_line_len = 6;
    struct mem m;
    mem_open(&m, CAP_FMT_HUMAN, false, -1, 0);
    m.sink.exchange(m.sink.ctx, &x);
    mem_close(&m);
    char line[1024];
    assert_true(nth_line(m.buf, 0, line, sizeof line));
    assert_string_equal(line, "HANDED, stratum 2 refid 10.0.0.1, 48/48 B, rtt 0.000100000, "
                              "offset_cap -0.000012345 delay_cap 0.000100000");
    mem_free(&m);
    assert_true(cap_out_exchange_lines(CAP_FMT_HUMAN, false));
    assert_false(cap_out_exchange_lines(CAP_FMT_HUMAN, true));
    assert_false(cap_out_exchange_lines(CAP_FMT_JSON, false));
    assert_false(cap_out_exchange_lines(CAP_FMT_CSV, false));
}

/* The reference rule: any anomaly at fail_on or above. */
static bool fails_ref(int fail_on, const uint64_t by[3])
{
    return fail_on >= 0 && ((fail_on <= 0 && by[0]) || (fail_on <= 1 && by[1]) || by[2]);
}

static void fail_on_rule(void **state)
{
    (void)state;
    static const struct {
        int fail_on;
        uint64_t by[3];
        bool fails;
    } cases[] = {
        {-1, {5, 5, 5}, false},          {CAP_SEV_CRIT, {5, 5, 0}, false},
        {CAP_SEV_CRIT, {0, 0, 1}, true}, {CAP_SEV_WARN, {9, 0, 0}, false},
        {CAP_SEV_WARN, {0, 1, 0}, true}, {CAP_SEV_WARN, {0, 0, 1}, true},
        {CAP_SEV_INFO, {1, 0, 0}, true}, {CAP_SEV_INFO, {0, 0, 0}, false},
        {7, {1, 1, 1}, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(cap_out_fails(cases[i].fail_on, cases[i].by), cases[i].fails);
    }
    tu_seed();
    for (int n = 0; n < 5000; n++) {
        uint64_t by[3] = {tu_rand() % 3, tu_rand() % 3, tu_rand() % 3};
        int fail_on = (int)(tu_rand() % 4) - 1;
        assert_int_equal(cap_out_fails(fail_on, by), fails_ref(fail_on, by));
    }
    /* Through the sink: a warn leaves --fail-on crit at 0, a crit makes it 3. */
    struct mem m;
    mem_open(&m, CAP_FMT_HUMAN, false, CAP_SEV_CRIT, 0);
    struct cap_anom a;
    script_anomaly(&a, "version_old", CAP_SEV_WARN, 3);
    m.sink.anomaly(m.sink.ctx, &a);
    assert_int_equal(cap_out_status(m.o), CAP_EXIT_OK);
    script_anomaly(&a, "mode7_monlist", CAP_SEV_CRIT, 4);
    m.sink.anomaly(m.sink.ctx, &a);
    assert_int_equal(cap_out_status(m.o), CAP_EXIT_ANOMALIES);
    mem_close(&m);
    mem_free(&m);
}

/* man/ntpcap.1.scd's ANOMALIES list is cap_anom_codes(): each code once as "*code* (sev)" and
 * no other entry of that form. The page is found from this file's path. */
static void man_page_lists_every_code(void **state)
{
    (void)state;
    char path[4096];
    const char *me = __FILE__;
    const char *cut = strstr(me, "tests/unit/test_cap_out.c");
    assert_non_null(cut);
    struct ntk_sb sb;
    ntk_sb_init(&sb, path, sizeof path);
    ntk_sb_putn(&sb, me, (size_t)(cut - me));
    ntk_sb_puts(&sb, "man/ntpcap.1.scd");
    FILE *f = fopen(ntk_sb_str(&sb), "r");
    assert_non_null(f);
    static char page[1 << 17];
    size_t n = fread(page, 1, sizeof page - 1, f);
    fclose(f);
    page[n] = '\0';
    size_t codes = 0;
    for (const struct cap_anom_info *i = cap_anom_codes(); i->code != NULL; i++, codes++) {
        char entry[96];
        ntk_sb_init(&sb, entry, sizeof entry);
        ntk_sb_printf(&sb, "\n*%s* (%s)\n", i->code, cap_sev_name(i->sev));
        if (strstr(page, entry) == NULL) {
            fail_msg("ntpcap.1.scd lacks the entry %s", entry + 1);
        }
    }
    size_t entries = 0;
    for (const char *p = strstr(page, "\n*"); p != NULL; p = strstr(p + 1, "\n*")) {
        const char *e = strchr(p + 2, '\n');
        const char *sev = strstr(p + 2, "* (");
        if (e != NULL && sev != NULL && sev < e && e[-1] == ')' &&
            (strncmp(sev, "* (info)", 8) == 0 || strncmp(sev, "* (warn)", 8) == 0 ||
             strncmp(sev, "* (crit)", 8) == 0)) {
            entries++;
        }
    }
    assert_int_equal(entries, codes);
}

/* A mode-6 exchange of 3 datagrams and a kiss-o'-death: control keys filled, client-only
 * keys null; refid text by stratum (ASCII kiss code at 0, dotted quad for a non-ASCII
 * stratum-1 refid). */
static void json_control_and_refids(void **state)
{
    (void)state;
    struct mem m;
    mem_open(&m, CAP_FMT_JSON, false, -1, 0);
    struct cap_pkt q, r;
    struct cap_exch x;
    script_exchange(&q, &r, &x);
    q.mode = r.mode = 6;
    q.version = r.version = 2;
    q.m6_opcode = r.m6_opcode = 10;
    q.m6_seq = r.m6_seq = 77;
    q.m6_associd = 0;
    q.m6_nonce = true;
    r.m6_response = true;
    x.kind = CAP_X_CONTROL;
    x.req_bytes = 40;
    x.resp_bytes = 1404;
    x.resp_frags = 3;
    x.offset_cap_s = x.delay_cap_s = x.server_s = NAN;
    m.sink.exchange(m.sink.ctx, &x);
    script_exchange(&q, &r, &x);
    r.stratum = 0;
    r.hdr.refid = 0x52415445; /* "RATE" */
    memcpy(r.kiss, "RATE", 5);
    m.sink.exchange(m.sink.ctx, &x);
    r.stratum = 1;
    r.hdr.refid = 0x7f7f0101; /* not ASCII */
    r.kiss[0] = '\0';
    m.sink.exchange(m.sink.ctx, &x);
    r.hdr.refid = 0x47505300; /* "GPS" */
    m.sink.exchange(m.sink.ctx, &x);
    mem_close(&m);
    json_object *c = parse_line(m.buf, 0);
    assert_string_equal(json_object_get_string(key(c, "kind")), "control");
    assert_int_equal(json_object_get_int(key(c, "ctl_opcode")), 10);
    assert_string_equal(json_object_get_string(key(c, "ctl_opcode_name")), "readmru");
    assert_int_equal(json_object_get_int(key(c, "ctl_sequence")), 77);
    assert_true(json_object_get_boolean(key(c, "ctl_nonce")));
    assert_int_equal(json_object_get_int(key(c, "response_datagrams")), 3);
    assert_true(fabs(json_object_get_double(key(c, "amplification")) - 35.1) < 1e-9);
    assert_null(key(c, "stratum"));
    assert_null(key(c, "refid"));
    assert_null(key(c, "t1_hex"));
    assert_null(key(c, "offset_cap_s"));
    assert_null(key(c, "offset_cap_relative_to"));
    assert_null(key(c, "priv_request"));
    json_object_put(c);
    static const char *const want[3][2] = {
        {"RATE", "52415445"}, {"127.127.1.1", "7f7f0101"}, {"GPS", "47505300"}};
    for (int i = 0; i < 3; i++) {
        json_object *k = parse_line(m.buf, 1 + i);
        assert_string_equal(json_object_get_string(key(k, "refid")), want[i][0]);
        assert_string_equal(json_object_get_string(key(k, "refid_hex")), want[i][1]);
        json_object_put(k);
    }
    mem_free(&m);
}

/* Seconds are printed without printf on the hot path: the CSV cell must still be exactly
 * "%.9f" of the value, ties and signs included (seeded random values, half-nanosecond
 * ties, negative zero, values past the fast path). */
static void csv_numbers_match_printf(void **state)
{
    (void)state;
    tu_seed();
    struct cap_pkt q, r;
    struct cap_exch x;
    script_exchange(&q, &r, &x);
    for (int n = 0; n < 3000; n++) {
        double v;
        switch (n % 4) {
        case 0:
            v = ((double)(tu_rand() % 2000000000) - 1e9) * pow(10, -(double)(tu_rand() % 14));
            break;
        case 1:
            v = (double)(tu_rand() % 100000000) / 1e9 + 0.5e-9;
            break;
        case 2:
            v = ldexp((double)(tu_rand() % 1000), -(int)(tu_rand() % 40));
            break;
        default:
            v = n == 3 ? -0.0 : (double)(tu_rand() % 1000000) * 1e4;
            break;
        }
        x.rtt_cap_s = v;
        struct mem m;
        mem_open(&m, CAP_FMT_CSV, false, -1, 0);
        m.sink.exchange(m.sink.ctx, &x);
        mem_close(&m);
        char line[1024], want[64];
        assert_true(nth_line(m.buf, 1, line, sizeof line));
        const char *cell = line;
        for (int c = 0; c < 17; c++) {
            cell = strchr(cell, ',') + 1;
        }
        snprintf(want, sizeof want, "%.9f,", v);
        if (strncmp(cell, want, strlen(want)) != 0) {
            fail_msg("%.17g: CSV has %.24s, printf %s", v, cell, want);
        }
        mem_free(&m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_exchange_line),
        cmocka_unit_test(json_anomaly_exact),
        cmocka_unit_test(json_packet_flow_summary),
        cmocka_unit_test(csv_exchanges_and_flows),
        cmocka_unit_test(csv_quoting),
        cmocka_unit_test(human_exchange_line),
        cmocka_unit_test(fail_on_rule),
        cmocka_unit_test(man_page_lists_every_code),
        cmocka_unit_test(json_control_and_refids),
        cmocka_unit_test(csv_numbers_match_printf),
        cmocka_unit_test(human_line_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
