/* SPDX-License-Identifier: BSD-2-Clause */
/* Golden test for lib/sntp.c: every client request -> server reply pair in the real captures
 * (tests/data: chrony 4.3 and NTPsec 1.2.2 clients and servers) is checked as an SNTP client
 * would check it, and the unanswered requests and KoD replies get the verdicts the capture
 * README describes.
 *
 * The .tsv files carry no frame times, so the test reads them from the .pcap beside each
 * (classic pcap, Ethernet, microseconds; these four captures hold only NTP frames, so record
 * i is tshark's frame i, which the test checks by comparing the UDP payloads). T4 is the
 * reply's frame time. T1 is the request's transmit timestamp when that is a clock reading
 * (NTPsec's ntpdig sends the real time, with LI 3), else the request's frame time (chronyd
 * and NTPsec's ntpd send a random nonce). Client and servers ran on one host with one
 * clock, so every exchange satisfies T1 <= T2 and T3 <= T4 (the frame times are truncated
 * to 1 µs, which could only break this by less than 1 µs; in these captures it holds
 * exactly): 0 <= delay and |offset| <= delay / 2, clock-independent facts. ntpdig's own
 * offset and "+/-" figures from sntp-chrony.log are checked as well (ntpdig_log). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ntk/err.h"
#include "ntk/keyfile.h"
#include "ntk/mac.h"
#include "ntk/ntime.h"
#include "ntk/pkt.h"
#include "ntk/sntp.h"
#include "testutil.h"
#include "tsv.h"

#include "poison.h"

enum { MAX_ROWS = 64, MAX_PAYLOAD = 600, MAX_KEYS = 8 };

/* One NTP packet of a capture: the tsv row and the pcap record. */
struct row {
    unsigned frame;
    uint8_t payload[MAX_PAYLOAD];
    size_t len;
    struct ntk_pkt pkt;
    struct ntk_pkt_layout layout;
    ntk_ts when;      /* the pcap frame time */
    long li, stratum; /* tshark's ntp.flags.li and ntp.stratum */
    char refid[16];   /* tshark's ntp.refid, 8 hex digits */
};

struct capture {
    struct row rows[MAX_ROWS];
    size_t n;
};

static long num(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    assert_true(*s != '\0' && *end == '\0');
    return v;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void load_tsv(const char *name, struct capture *c)
{
    struct tsv t;
    const char *col[TSV_MAX_COLS];
    tsv_open(&t, name);
    c->n = 0;
    while (tsv_next(&t, col)) {
        assert_true(c->n < MAX_ROWS);
        struct row *r = &c->rows[c->n++];
        r->frame = (unsigned)num(col[tsv_col(&t, "frame.number")]);
        assert_int_equal(r->frame, c->n);
        int got = tu_unhex(col[tsv_col(&t, "udp.payload")], r->payload, sizeof r->payload);
        assert_true(got >= 48);
        r->len = (size_t)got;
        assert_int_equal(ntk_pkt_decode(r->payload, r->len, &r->pkt, &r->layout, NULL), 0);
        r->li = num(col[tsv_col(&t, "ntp.flags.li")]);
        r->stratum = num(col[tsv_col(&t, "ntp.stratum")]);
        snprintf(r->refid, sizeof r->refid, "%s", col[tsv_col(&t, "ntp.refid")]);
    }
    tsv_close(&t);
}

/* The UDP payload of an Ethernet + IPv4 + UDP frame; checks it against the tsv's. */
static void check_frame_payload(const uint8_t *f, size_t caplen, const struct row *r)
{
    assert_true(caplen >= 14 + 20 + 8);
    assert_int_equal(f[12] << 8 | f[13], 0x0800); /* IPv4 */
    size_t ihl = (size_t)(f[14] & 15) * 4;
    const uint8_t *udp = f + 14 + ihl;
    size_t udp_len = (size_t)(udp[4] << 8 | udp[5]);
    assert_int_equal(14 + ihl + udp_len, caplen);
    assert_int_equal(udp_len - 8, r->len);
    assert_memory_equal(udp + 8, r->payload, r->len);
}

/* Reads each record's time from NAME.pcap into rows[i].when. */
static void load_pcap_times(const char *name, struct capture *c)
{
    char file[128];
    size_t len;
    snprintf(file, sizeof file, "%s.pcap", name);
    uint8_t *d = (uint8_t *)tu_read_data(file, &len);
    assert_true(len >= 24);
    assert_int_equal(le32(d), 0xa1b2c3d4u); /* little-endian, microseconds */
    assert_int_equal(le32(d + 20), 1);      /* DLT_EN10MB */
    size_t off = 24, i = 0;
    while (off < len) {
        assert_true(off + 16 <= len && i < c->n);
        size_t caplen = le32(d + off + 8);
        assert_true(off + 16 + caplen <= len);
        struct timespec t = {.tv_sec = (time_t)le32(d + off),
                             .tv_nsec = (long)le32(d + off + 4) * 1000};
        c->rows[i].when = ntk_ts_from_timespec(&t);
        check_frame_payload(d + off + 16, caplen, &c->rows[i]);
        off += 16 + caplen;
        i++;
    }
    assert_int_equal(i, c->n);
    free(d);
}

static void load_capture(const char *name, struct capture *c)
{
    load_tsv(name, c);
    load_pcap_times(name, c);
}

static struct ntk_mac_keys *load_keys(const char *name, size_t want)
{
    size_t len;
    char *text = tu_read_data(name, &len);
    struct ntk_mac_key keys[MAX_KEYS];
    struct ntk_keyfile kf;
    ntk_keyfile_init(&kf, keys, MAX_KEYS, NULL, 0);
    assert_int_equal(ntk_keyfile_parse(&kf, text, len), NTK_OK);
    assert_int_equal(kf.nkeys, want);
    memset(text, 0, len);
    free(text);
    struct ntk_mac_keys *ks = NULL;
    assert_int_equal(ntk_mac_keys_new(keys, kf.nkeys, &ks), NTK_OK);
    ntk_mac_key_wipe(keys, kf.nkeys);
    return ks;
}

static double abs_d(double x)
{
    return x < 0 ? -x : x;
}

/* True when the request's transmit timestamp is a clock reading: within a second of the
 * frame time (a random nonce is that close with probability 2^-31). */
static bool xmt_is_clock(const struct row *req)
{
    return abs_d(ntk_dur_to_s(ntk_ts_diff(req->pkt.xmt, req->when))) < 1.0;
}

/* The query the client that sent req held. */
static struct ntk_sntp_query query_for(const struct row *req)
{
    struct ntk_sntp_query q = {.xmt = req->pkt.xmt, .local_precision_log2 = -20};
    q.key_id = req->layout.auth == NTK_PKT_AUTH_MAC ? req->layout.key_id : 0;
    /* ntpdig (LI 3, real time) is the only sender of clock readings here. */
    assert_int_equal(xmt_is_clock(req), req->li == 3);
    q.t1 = xmt_is_clock(req) ? req->pkt.xmt : req->when;
    return q;
}

/* The one reply to req (its origin echoes req's transmit), or NULL. */
static const struct row *reply_to(const struct capture *c, const struct row *req)
{
    const struct row *found = NULL;
    for (size_t i = 0; i < c->n; i++) {
        const struct row *r = &c->rows[i];
        if (r->pkt.mode == NTK_MODE_SERVER && ntk_ts_eq(r->pkt.org, req->pkt.xmt)) {
            assert_null(found);
            assert_true(r->frame > req->frame);
            found = r;
        }
    }
    return found;
}

/* What one capture gave. */
struct tally {
    unsigned ok, kod, authenticated, clock_t1;
    unsigned unanswered[8], nunanswered;
};

/* The header facts tshark printed agree with the sample's. */
static void check_columns(const struct row *rep, const struct ntk_sntp_sample *s)
{
    char refid[16];
    snprintf(refid, sizeof refid, "%08x", s->pkt.refid);
    assert_string_equal(rep->refid, refid);
    assert_int_equal(rep->stratum, s->pkt.stratum);
    assert_int_equal(rep->li, s->pkt.leap);
}

/* A KoD: NTPsec's RATE, with org = rec = xmt (README kod.pcap). */
static void check_kod(const struct ntk_sntp_sample *s, struct tally *t)
{
    assert_int_equal(s->kiss, NTK_KISS_RATE);
    assert_string_equal(s->kiss_code, "RATE");
    assert_true(ntk_ts_eq(s->t2, s->pkt.org) && ntk_ts_eq(s->t3, s->pkt.org));
    assert_false(s->authenticated);
    t->kod++;
}

/* An accepted sample: causal on one clock, loopback-sized. */
static void check_ok(const struct ntk_sntp_query *q, const struct ntk_sntp_sample *s,
                     struct tally *t)
{
    assert_int_equal(s->authenticated, q->key_id != 0);
    assert_int_equal(s->key_id, q->key_id);
    assert_true(s->delay_s >= 0 && s->delay_s < 0.01);
    assert_true(abs_d(s->offset_s) <= s->delay_s / 2);
    assert_true(s->dispersion_s > 0 && s->dispersion_s < 1e-5);
    assert_true(s->sync_distance_s >= s->dispersion_s && s->sync_distance_s < 0.01);
    assert_true(s->error_bound_s > 0 && s->error_bound_s < 0.01);
    t->ok++;
    t->authenticated += s->authenticated;
}

/* Every server packet of the capture is refused as not ours. */
static void check_unanswered(const struct capture *c, const struct row *req,
                             struct ntk_mac_keys *ks, struct tally *t)
{
    struct ntk_sntp_query q = query_for(req);
    for (size_t i = 0; i < c->n; i++) {
        const struct row *r = &c->rows[i];
        struct ntk_sntp_sample s;
        enum ntk_sntp_verdict v = ntk_sntp_check(&q, ks, r->payload, r->len, r->when, &s);
        assert_int_equal(v, r->pkt.mode == NTK_MODE_SERVER ? NTK_SNTP_BOGUS_ORIGIN
                                                           : NTK_SNTP_BAD_MODE);
    }
    assert_true(t->nunanswered < 8);
    t->unanswered[t->nunanswered++] = req->frame;
}

static void check_exchange(const struct capture *c, const struct row *req,
                           struct ntk_mac_keys *ks, struct tally *t)
{
    const struct row *rep = reply_to(c, req);
    if (rep == NULL) {
        check_unanswered(c, req, ks, t);
        return;
    }
    struct ntk_sntp_query q = query_for(req);
    struct ntk_sntp_sample s;
    enum ntk_sntp_verdict v = ntk_sntp_check(&q, ks, rep->payload, rep->len, rep->when, &s);
    assert_int_equal(v, rep->stratum == 0 ? NTK_SNTP_KOD : NTK_SNTP_OK);
    check_columns(rep, &s);
    assert_true(ntk_ts_eq(s.t1, q.t1) && ntk_ts_eq(s.t4, rep->when));
    t->clock_t1 += xmt_is_clock(req);
    if (v == NTK_SNTP_KOD) {
        check_kod(&s, t);
    } else {
        check_ok(&q, &s, t);
    }
}

static void run_capture(const char *name, struct ntk_mac_keys *ks, struct capture *c,
                        struct tally *t)
{
    memset(t, 0, sizeof *t);
    load_capture(name, c);
    for (size_t i = 0; i < c->n; i++) {
        const struct row *r = &c->rows[i];
        if (r->pkt.mode == NTK_MODE_CLIENT) {
            check_exchange(c, r, ks, t);
        } else {
            assert_int_equal(r->pkt.mode, NTK_MODE_SERVER);
        }
    }
}

static struct capture cap; /* one capture at a time, too big for the stack */

static void sntp_chrony(void **state)
{
    (void)state;
    struct tally t;
    run_capture("sntp-chrony", NULL, &cap, &t);
    assert_int_equal(t.ok, 16);
    assert_int_equal(t.kod, 0);
    assert_int_equal(t.nunanswered, 0);
    assert_int_equal(t.clock_t1, 7); /* ntpdig: frames 1, 3, 5, 7, 9, 29, 31 */
}

static void client_server_ntpsec(void **state)
{
    (void)state;
    struct tally t;
    run_capture("client-server-ntpsec", NULL, &cap, &t);
    assert_int_equal(t.ok, 8);
    assert_int_equal(t.nunanswered, 0);
    assert_int_equal(t.clock_t1, 0); /* NTPsec's ntpd sends a random transmit timestamp */
}

/* Every answered exchange verifies with symkey.keys; the four requests with a key the
 * server does not know (id 9) or a wrong secret (id 1) got no reply at all: neither chronyd
 * 4.3 nor NTPsec 1.2.2 sends a crypto-NAK (README), so such a client sees only other
 * exchanges' replies, which are BOGUS_ORIGIN. */
static void symkey(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = load_keys("symkey.keys", 3);
    struct tally t;
    run_capture("symkey", ks, &cap, &t);
    assert_int_equal(t.ok, 21);
    assert_int_equal(t.authenticated, 21);
    assert_int_equal(t.clock_t1, 6);
    static const unsigned unanswered[] = {7, 8, 27, 28};
    assert_int_equal(t.nunanswered, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(t.unanswered[i], unanswered[i]);
        assert_int_equal(cap.rows[unanswered[i] - 1].layout.key_id, i % 2 ? 1 : 9);
    }
    ntk_mac_keys_free(ks);
}

/* The real signed replies against the wrong keys a client might hold. */
static void symkey_wrong_keys(void **state)
{
    (void)state;
    struct ntk_mac_keys *wrong = load_keys("symkey-client-wrong.keys", 2);
    load_capture("symkey", &cap);
    static const unsigned replies[] = {2, 4, 6, 22, 24, 26}; /* ntpdig: keys 1, 2, 3 x2 */
    for (size_t i = 0; i < 6; i++) {
        const struct row *rep = &cap.rows[replies[i] - 1], *req = rep - 1;
        struct ntk_sntp_query q = query_for(req);
        struct ntk_sntp_sample s;
        assert_true(ntk_ts_eq(rep->pkt.org, req->pkt.xmt));
        /* Key 1 with another secret fails; keys 2 and 3 are unknown to this store. */
        assert_int_equal(ntk_sntp_check(&q, wrong, rep->payload, rep->len, rep->when, &s),
                         NTK_SNTP_AUTH_FAILED);
        assert_int_equal(s.key_id, q.key_id);
        q.key_id = 9; /* the reply's MAC is under another key id */
        assert_int_equal(ntk_sntp_check(&q, wrong, rep->payload, rep->len, rep->when, &s),
                         NTK_SNTP_AUTH_KEYID);
        q.key_id = 0; /* an unsigned request does not look at the MAC */
        assert_int_equal(ntk_sntp_check(&q, NULL, rep->payload, rep->len, rep->when, &s),
                         NTK_SNTP_OK);
        assert_false(s.authenticated);
        /* Without its MAC, or cut to a NAK, a signed reply is refused. */
        q = query_for(req);
        assert_int_equal(ntk_sntp_check(&q, wrong, rep->payload, 48, rep->when, &s),
                         NTK_SNTP_AUTH_MISSING);
        assert_int_equal(ntk_sntp_check(&q, wrong, rep->payload, 52, rep->when, &s),
                         NTK_SNTP_AUTH_NAK);
    }
    ntk_mac_keys_free(wrong);
}

/* NTPsec rate limiting: two normal replies, five KoD RATE, three requests unanswered. */
static void kod(void **state)
{
    (void)state;
    struct tally t;
    run_capture("kod", NULL, &cap, &t);
    assert_int_equal(t.ok, 2);
    assert_int_equal(t.kod, 5);
    assert_int_equal(t.clock_t1, 7);
    static const unsigned unanswered[] = {9, 12, 15};
    assert_int_equal(t.nunanswered, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(t.unanswered[i], unanswered[i]);
    }
    /* A KoD is believed only as a reply to us: to any other request it is BOGUS_ORIGIN. */
    struct ntk_sntp_query q = query_for(&cap.rows[0]);
    struct ntk_sntp_sample s;
    const struct row *k = &cap.rows[5];
    assert_int_equal(ntk_sntp_check(&q, NULL, k->payload, k->len, k->when, &s),
                     NTK_SNTP_BOGUS_ORIGIN);
    assert_string_equal(s.kiss_code, "");
}

/* What ntpdig printed in sntp-chrony.log: offset and "+/-" (its synchd(): |δ/2 +
 * PHI * (T4 - T1) + 2^precision|) to 6 decimals. ntpdig's T4 is its own receive time, not
 * in the capture: solving θ = ((T2 - T1) + (T3 - T4)) / 2 for T4 with its printed θ gives it
 * to about 1 µs, and then our "+/-" must match its printed one. */
static void ntpdig_log(void **state)
{
    (void)state;
    static const struct {
        unsigned reply;
        double offset_s, bound_s;
    } lines[] = {
        {2, +0.000099, 0.000235},  /* ntpdig 127.0.0.1 */
        {4, 0.000000, 0.000085},   /* ntpdig -j 127.0.0.1 */
        {6, +0.000004, 0.000069},  /* ntpdig -p 3: the best of frames 6, 8, 10 */
        {30, -0.000001, 0.000084}, /* ntpdig 127.0.0.2 (stratum 2) */
        {32, -0.000003, 0.000100}, /* ntpdig -j 127.0.0.2 */
    };
    load_capture("sntp-chrony", &cap);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        const struct row *rep = &cap.rows[lines[i].reply - 1], *req = rep - 1;
        struct ntk_sntp_query q = query_for(req);
        ntk_dur server = ntk_ts_diff(rep->pkt.xmt, q.t1);
        ntk_ts t4 = ntk_ts_add(ntk_ts_add(rep->pkt.rec, server),
                               ntk_dur_from_s(-2 * lines[i].offset_s));
        struct ntk_sntp_sample s;
        assert_int_equal(ntk_sntp_check(&q, NULL, rep->payload, rep->len, t4, &s),
                         NTK_SNTP_OK);
        assert_true(abs_d(s.offset_s - lines[i].offset_s) < 1e-9);
        assert_true(abs_d(s.error_bound_s - lines[i].bound_s) < 2e-6);
        assert_int_equal(s.pkt.stratum, lines[i].reply < 29 ? 1 : 2);
    }
}

/* ntpdig -p 3 printed frame 6's sample: it sorts first by ntpdig's order (same stratum;
 * smaller distance), computed with the capture's frame times. */
static void ntpdig_best_of_three(void **state)
{
    (void)state;
    load_capture("sntp-chrony", &cap);
    struct ntk_sntp_sample s[3];
    for (size_t i = 0; i < 3; i++) {
        const struct row *rep = &cap.rows[5 + 2 * i], *req = rep - 1;
        struct ntk_sntp_query q = query_for(req);
        assert_int_equal(ntk_sntp_check(&q, NULL, rep->payload, rep->len, rep->when, &s[i]),
                         NTK_SNTP_OK);
    }
    assert_true(ntk_sntp_compare(&s[0], &s[1]) < 0);
    assert_true(ntk_sntp_compare(&s[0], &s[2]) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sntp_chrony),
        cmocka_unit_test(client_server_ntpsec),
        cmocka_unit_test(symkey),
        cmocka_unit_test(symkey_wrong_keys),
        cmocka_unit_test(kod),
        cmocka_unit_test(ntpdig_log),
        cmocka_unit_test(ntpdig_best_of_three),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
