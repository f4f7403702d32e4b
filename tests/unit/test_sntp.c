/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/sntp.c: request bytes (with MD5, SHA-1 and AES-CMAC known answers from
 * Python hashlib and `openssl mac`), one crafted reply per verdict, the check order, the
 * arithmetic against hand-computed values, MAC round trips, the sample order, the names,
 * and seeded property loops (random valid exchanges, origin bit flips, truncations). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ntk/buf.h"
#include "ntk/err.h"
#include "ntk/mac.h"
#include "ntk/ntime.h"
#include "ntk/pkt.h"
#include "ntk/sntp.h"
#include "testutil.h"

#include "poison.h"

/* Asserts |got - want| <= tol, printing both to 17 digits. */
#define assert_near(got, want, tol)                                                           \
    do {                                                                                      \
        double g_ = (got), w_ = (want);                                                       \
        if (!(g_ - w_ <= (tol) && w_ - g_ <= (tol))) {                                        \
            fail_msg("%s = %.17g, want %.17g", #got, g_, w_);                                 \
        }                                                                                     \
    } while (0)

#define assert_exact(got, want) assert_near(got, want, 0.0)

enum { KEY_MD5 = 1, KEY_SHA1 = 2, KEY_CMAC = 3, KEY_UNKNOWN = 7, BUF = 128 };

/* The transmit timestamp of every request below; 8f1e... has its top bit set on purpose. */
static const uint8_t rnd[8] = {0x8f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78};
#define RND_TS 0x8f1e2d3c4b5a6978ULL

/* The seconds word of the base exchange (sntp-chrony.tsv frame 1, 2026-11-26). */
#define S 0xeeb22c89u

/* The keys of tests/data/symkey.keys. */
static void make_key(struct ntk_mac_key *k, uint32_t id, enum ntk_mac_type type,
                     const char *hex)
{
    memset(k, 0, sizeof *k);
    k->keyid = id;
    k->type = type;
    int n = tu_unhex(hex, k->secret, sizeof k->secret);
    assert_true(n > 0);
    k->secret_len = (uint8_t)n;
}

/* Keys 1-3 as in symkey.keys; with wrong_md5, key 1 has another secret (and keys 2, 3). */
static struct ntk_mac_keys *new_store(bool wrong_md5)
{
    struct ntk_mac_key keys[3];
    make_key(&keys[0], KEY_MD5, NTK_MAC_MD5,
             wrong_md5 ? "57726f6e674d4435536563726574" : "416e63686f72734d44354b6579");
    make_key(&keys[1], KEY_SHA1, NTK_MAC_SHA1, "8bb9956fb1c117e638fb115ea395d8b08105ee68");
    make_key(&keys[2], KEY_CMAC, NTK_MAC_AES128_CMAC, "2450c2ae8f928858877f1b7bf8f6af79");
    struct ntk_mac_keys *ks = NULL;
    assert_int_equal(ntk_mac_keys_new(keys, 3, &ks), NTK_OK);
    ntk_mac_key_wipe(keys, 3);
    return ks;
}

static ntk_ts ts(uint32_t sec, uint32_t frac)
{
    return ntk_ts_make(sec, frac);
}

static ntk_ts add_units(ntk_ts t, int64_t units)
{
    return ntk_ts_add(t, (ntk_dur){units});
}

/* The base exchange: T1 = S + 0.5, T2 = S + 1, T3 = S + 1.25, T4 = S + 1.375 (all exact
 * binary fractions, so every expected value below is computed by hand). */
static const uint64_t base_t1 = (uint64_t)S << 32 | 0x80000000u;
static const uint64_t base_t4 = (uint64_t)(S + 1) << 32 | 0x60000000u;

static struct ntk_sntp_query base_query(uint32_t key_id)
{
    struct ntk_sntp_query q = {.xmt = {RND_TS}, .t1 = {base_t1}, .key_id = key_id};
    q.local_precision_log2 = -20;
    return q;
}

static struct ntk_pkt base_reply(void)
{
    struct ntk_pkt p = {
        .leap = NTK_LEAP_NONE,
        .version = 4,
        .mode = NTK_MODE_SERVER,
        .stratum = 2,
        .poll_log2 = 6,
        .precision_log2 = -20,
        .root_delay = 0x800, /* 1/32 s */
        .root_disp = 0x400,  /* 1/64 s */
        .refid = 0x7f000001,
    };
    p.reftime = ts(S - 100, 0);
    p.org.v = RND_TS;
    p.rec = ts(S + 1, 0);
    p.xmt = ts(S + 1, 0x40000000u);
    return p;
}

/* Encodes p, then (key_id != 0) the key id and the MAC of the header with ks. */
static size_t build(const struct ntk_pkt *p, struct ntk_mac_keys *ks, uint32_t key_id,
                    uint8_t *b)
{
    struct ntk_wr w;
    ntk_wr_init(&w, b, BUF);
    assert_int_equal(ntk_pkt_encode(&w, p), 0);
    if (key_id != 0) {
        uint8_t mac[NTK_MAC_LEN_MAX];
        int n = ntk_mac_compute(ks, key_id, b, NTK_PKT_HDR_LEN, mac, sizeof mac);
        assert_true(n == 16 || n == 20);
        ntk_wr_be32(&w, key_id);
        ntk_wr_bytes(&w, mac, (size_t)n);
    }
    assert_int_equal(ntk_wr_err(&w), 0);
    return ntk_wr_len(&w);
}

/* A reply followed by a crypto-NAK: the key id alone (RFC 5905 §7.4, §9.2). */
static size_t build_nak(const struct ntk_pkt *p, uint32_t key_id, uint8_t *b)
{
    struct ntk_wr w;
    ntk_wr_init(&w, b, BUF);
    assert_int_equal(ntk_pkt_encode(&w, p), 0);
    ntk_wr_be32(&w, key_id);
    return ntk_wr_len(&w);
}

static enum ntk_sntp_verdict check(const struct ntk_sntp_query *q, struct ntk_mac_keys *ks,
                                   const struct ntk_pkt *p, uint32_t sign_key,
                                   struct ntk_sntp_sample *s)
{
    uint8_t b[BUF];
    size_t n = build(p, ks, sign_key, b);
    return ntk_sntp_check(q, ks, b, n, (ntk_ts){base_t4}, s);
}

/* The computed part of a sample is zero (every verdict but OK). */
static void assert_no_numbers(const struct ntk_sntp_sample *s)
{
    assert_exact(s->offset_s, 0);
    assert_exact(s->delay_s, 0);
    assert_exact(s->dispersion_s, 0);
    assert_exact(s->sync_distance_s, 0);
    assert_exact(s->error_bound_s, 0);
    assert_exact(s->root_delay_s, 0);
    assert_exact(s->root_dispersion_s, 0);
}

/* A verdict before KOD: no timestamps, no kiss, no authentication, no numbers. */
static void assert_early(const struct ntk_sntp_sample *s)
{
    assert_true(s->t1.v == 0 && s->t2.v == 0 && s->t3.v == 0 && s->t4.v == 0);
    assert_int_equal(s->kiss, NTK_KISS_NONE);
    assert_string_equal(s->kiss_code, "");
    assert_false(s->authenticated);
    assert_no_numbers(s);
}

/* ---- requests ---------------------------------------------------------------------- */

static const char hdr_hex[] =
    "2300000000000000000000000000000000000000000000000000000000000000"
    "00000000000000008f1e2d3c4b5a6978";

static void assert_request(struct ntk_mac_keys *ks, uint32_t key_id, const char *tail_hex,
                           int want_len)
{
    uint8_t want[BUF], got[BUF];
    char hex[2 * BUF + 1];
    snprintf(hex, sizeof hex, "%s%s", hdr_hex, tail_hex);
    assert_int_equal(tu_unhex(hex, want, sizeof want), want_len);
    struct ntk_sntp_query q;
    memset(&q, 0x55, sizeof q);
    memset(got, 0xaa, sizeof got);
    assert_int_equal(ntk_sntp_request(&q, rnd, ks, key_id, got, sizeof got), want_len);
    assert_memory_equal(got, want, (size_t)want_len);
    assert_int_equal(got[want_len], 0xaa); /* nothing written past the request */
    assert_true(q.xmt.v == RND_TS);
    assert_true(q.t1.v == 0);
    assert_int_equal(q.key_id, key_id);
    assert_int_equal(q.local_precision_log2, -20);
    assert_false(q.replay);
}

/* Known answers: MD5(secret || hdr), SHA1(secret || hdr) from Python hashlib, CMAC from
 * `openssl mac -cipher AES-128-CBC` and Python cryptography (both agree). */
static void request_bytes(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = new_store(false);
    assert_request(NULL, 0, "", 48);
    assert_request(ks, 0, "", 48);
    assert_request(ks, KEY_MD5, "00000001a04041726b0165cc4359a4d79256f9a4", 68);
    assert_request(ks, KEY_SHA1, "000000029f28ba89488e67f9c456873772b2e1dc590ac500", 72);
    assert_request(ks, KEY_CMAC, "00000003370723f8081d413972643d4dfa2ff0f5", 68);
    ntk_mac_keys_free(ks);
}

/* Our own request decodes as a v4 client packet with the MAC in place, and is never taken
 * for a reply to itself (a reflected request is BAD_MODE). */
static void request_decodes(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = new_store(false);
    uint8_t b[NTK_SNTP_REQ_MAX];
    struct ntk_sntp_query q;
    int n = ntk_sntp_request(&q, rnd, ks, KEY_SHA1, b, sizeof b);
    assert_int_equal(n, NTK_SNTP_REQ_MAX);
    struct ntk_pkt p;
    struct ntk_pkt_layout l;
    assert_int_equal(ntk_pkt_decode(b, (size_t)n, &p, &l, NULL), 0);
    assert_int_equal(p.mode, NTK_MODE_CLIENT);
    assert_int_equal(p.version, 4);
    assert_int_equal(p.leap, NTK_LEAP_NONE);
    assert_int_equal(l.auth, NTK_PKT_AUTH_MAC);
    assert_int_equal(l.key_id, KEY_SHA1);
    assert_int_equal(ntk_mac_verify(ks, KEY_SHA1, b, 48, b + l.mac_off, l.mac_len), 0);
    struct ntk_sntp_sample s;
    assert_int_equal(ntk_sntp_check(&q, ks, b, (size_t)n, q.t1, &s), NTK_SNTP_BAD_MODE);
    ntk_mac_keys_free(ks);
}

/* `server ... version N`: the header's version is N (1..4), the MAC covers it, and another
 * version is refused before anything is written. */
static void request_versions(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = new_store(false);
    for (uint8_t v = 1; v <= 4; v++) {
        uint8_t b[NTK_SNTP_REQ_MAX];
        struct ntk_sntp_query q;
        int n = ntk_sntp_request_v(&q, rnd, ks, KEY_CMAC, v, b, sizeof b);
        assert_int_equal(n, 68);
        assert_int_equal(b[0], (uint8_t)(v << 3 | NTK_MODE_CLIENT)); /* leap 0 */
        assert_int_equal(ntk_mac_verify(ks, KEY_CMAC, b, 48, b + 52, 16), 0);
    }
    uint8_t b[NTK_SNTP_REQ_MAX];
    memset(b, 0xaa, sizeof b);
    struct ntk_sntp_query q;
    assert_int_equal(ntk_sntp_request_v(&q, rnd, ks, 0, 0, b, sizeof b), NTK_EINVAL);
    assert_int_equal(ntk_sntp_request_v(&q, rnd, ks, 0, 5, b, sizeof b), NTK_EINVAL);
    assert_int_equal(b[0], 0xaa);
    ntk_mac_keys_free(ks);
}

static void request_errors(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = new_store(false);
    static const uint8_t zero[8] = {0};
    static const uint8_t one[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    uint8_t b[BUF];
    struct ntk_sntp_query q;
    memset(&q, 0x55, sizeof q);
    memset(b, 0xaa, sizeof b);
    assert_int_equal(ntk_sntp_request(&q, zero, ks, 0, b, sizeof b), NTK_EINVAL);
    assert_int_equal(ntk_sntp_request(&q, zero, ks, KEY_UNKNOWN, b, 0), NTK_EINVAL);
    assert_int_equal(ntk_sntp_request(&q, rnd, ks, KEY_UNKNOWN, b, sizeof b), NTK_ENOTFOUND);
    assert_int_equal(ntk_sntp_request(&q, rnd, NULL, KEY_MD5, b, sizeof b), NTK_ENOTFOUND);
    assert_int_equal(ntk_sntp_request(&q, rnd, ks, KEY_UNKNOWN, b, 0), NTK_ENOTFOUND);
    assert_int_equal(ntk_sntp_request(&q, rnd, ks, 0, b, 47), NTK_ENOSPC);
    assert_int_equal(ntk_sntp_request(&q, rnd, ks, KEY_MD5, b, 67), NTK_ENOSPC);
    assert_int_equal(ntk_sntp_request(&q, rnd, ks, KEY_SHA1, b, 71), NTK_ENOSPC);
    assert_int_equal(ntk_sntp_request(&q, rnd, ks, KEY_CMAC, b, 48), NTK_ENOSPC);
    /* Nothing was written by any failure. */
    for (size_t i = 0; i < sizeof b; i++) {
        assert_int_equal(b[i], 0xaa);
    }
    const uint8_t *qb = (const uint8_t *)&q;
    for (size_t i = 0; i < sizeof q; i++) {
        assert_int_equal(qb[i], 0x55);
    }
    /* Exactly enough room is enough; one set bit is a valid nonce. */
    assert_int_equal(ntk_sntp_request(&q, rnd, ks, KEY_MD5, b, 68), 68);
    assert_int_equal(ntk_sntp_request(&q, rnd, ks, KEY_SHA1, b, 72), 72);
    assert_int_equal(ntk_sntp_request(&q, one, NULL, 0, b, 48), 48);
    assert_true(q.xmt.v == 1);
    ntk_mac_keys_free(ks);
}

/* ---- one reply per verdict --------------------------------------------------------- */

static void verdict_ok(void **state)
{
    (void)state;
    struct ntk_sntp_query q = base_query(0);
    struct ntk_pkt p = base_reply();
    struct ntk_sntp_sample s;
    memset(&s, 0x77, sizeof s);
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_OK);
    assert_int_equal(s.pkt_why, NTK_PKT_OK);
    assert_int_equal(s.pkt.stratum, 2);
    assert_int_equal(s.pkt.refid, 0x7f000001);
    assert_int_equal(s.pkt.poll_log2, 6);
    assert_true(s.pkt.reftime.v == ts(S - 100, 0).v);
    assert_int_equal(s.kiss, NTK_KISS_NONE);
    assert_string_equal(s.kiss_code, "");
    assert_false(s.authenticated);
    assert_int_equal(s.key_id, 0);
    assert_true(s.t1.v == base_t1);
    assert_true(s.t2.v == ts(S + 1, 0).v);
    assert_true(s.t3.v == ts(S + 1, 0x40000000u).v);
    assert_true(s.t4.v == base_t4);
    /* T2-T1 = 0.5, T3-T4 = -0.125, T4-T1 = 0.875, T3-T2 = 0.25. */
    assert_exact(s.offset_s, 0.1875);
    assert_exact(s.delay_s, 0.625);
    assert_exact(s.dispersion_s, 0x1p-19 + 15e-6 * 0.875);
    assert_exact(s.root_delay_s, 0.03125);
    assert_exact(s.root_dispersion_s, 0.015625);
    /* (1/32 + max(0.625, 2^-20)) / 2 + 1/64 + ε */
    assert_near(s.sync_distance_s, 0.34375 + 0x1p-19 + 15e-6 * 0.875, 1e-15);
    assert_near(s.error_bound_s, 0.3125 + 15e-6 * 0.875 + 0x1p-20, 1e-15);
}

static void verdict_malformed(void **state)
{
    (void)state;
    struct ntk_sntp_query q = base_query(0);
    struct ntk_pkt p = base_reply();
    uint8_t b[BUF];
    size_t n = build(&p, NULL, 0, b);
    struct ntk_sntp_sample s;
    struct {
        size_t len;
        uint8_t byte0; /* 0: leave the first byte */
        enum ntk_pkt_reject why;
    } cases[] = {
        {0, 0, NTK_PKT_TOO_SHORT},        {47, 0, NTK_PKT_TOO_SHORT},
        {49, 0, NTK_PKT_BAD_LENGTH},      {48, 0x26, NTK_PKT_MODE_CONTROL},
        {48, 0x27, NTK_PKT_MODE_PRIVATE}, {48, 0x20, NTK_PKT_BAD_MODE},
        {56, 0, NTK_PKT_BAD_MAC_LENGTH},  {52 + 28, 0, NTK_PKT_BAD_EF},
        {12, 0x26, NTK_PKT_MODE_CONTROL}, /* a mode-6 header: still only MALFORMED */
    };
    memset(b + n, 0, sizeof b - n);
    b[n + 2] = 0x01; /* from byte 50 on: an extension field of length 0x100 */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t c[BUF];
        memcpy(c, b, sizeof c);
        if (cases[i].byte0) {
            c[0] = cases[i].byte0;
        }
        memset(&s, 0x77, sizeof s);
        assert_int_equal(ntk_sntp_check(&q, NULL, c, cases[i].len, q.t1, &s),
                         NTK_SNTP_MALFORMED);
        assert_int_equal(s.pkt_why, cases[i].why);
        assert_int_equal(s.pkt.stratum, 0);
        assert_true(s.pkt.org.v == 0);
        assert_int_equal(s.key_id, 0);
        assert_early(&s);
    }
    assert_int_equal(ntk_sntp_check(&q, NULL, NULL, 0, q.t1, &s), NTK_SNTP_MALFORMED);
    assert_int_equal(s.pkt_why, NTK_PKT_TOO_SHORT);
}

static void verdict_bad_version(void **state)
{
    (void)state;
    struct ntk_sntp_query q = base_query(0);
    struct ntk_pkt p = base_reply();
    struct ntk_sntp_sample s;
    static const uint8_t versions[] = {0, 5, 6, 7};
    for (size_t i = 0; i < sizeof versions; i++) {
        p.version = versions[i];
        memset(&s, 0x77, sizeof s);
        assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_BAD_VERSION);
        assert_int_equal(s.pkt_why, NTK_PKT_BAD_VERSION);
        assert_int_equal(s.pkt.version, 0); /* not decoded */
        assert_early(&s);
    }
    /* Versions 1-3 are fine. */
    for (uint8_t v = 1; v <= 3; v++) {
        p.version = v;
        assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_OK);
        assert_int_equal(s.pkt.version, v);
    }
}

static void verdict_bad_mode(void **state)
{
    (void)state;
    struct ntk_sntp_query q = base_query(0);
    struct ntk_pkt p = base_reply();
    struct ntk_sntp_sample s;
    static const enum ntk_mode modes[] = {NTK_MODE_SYM_ACTIVE, NTK_MODE_SYM_PASSIVE,
                                          NTK_MODE_CLIENT, NTK_MODE_BROADCAST};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        p.mode = modes[i];
        memset(&s, 0x77, sizeof s);
        assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_BAD_MODE);
        assert_int_equal(s.pkt_why, NTK_PKT_OK);
        assert_int_equal(s.pkt.mode, modes[i]); /* the header is there for the caller */
        assert_int_equal(s.pkt.stratum, 2);
        assert_early(&s);
    }
    /* NTPv1 has no mode field: it decodes as mode 0, which is not a server reply. */
    p.mode = NTK_MODE_RESERVED;
    p.version = 1;
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_BAD_MODE);
    assert_int_equal(s.pkt.version, 1);
}

static void verdict_zero_origin(void **state)
{
    (void)state;
    struct ntk_sntp_query q = base_query(0);
    struct ntk_pkt p = base_reply();
    struct ntk_sntp_sample s;
    p.org.v = 0;
    memset(&s, 0x77, sizeof s);
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_ZERO_ORIGIN);
    assert_true(s.pkt.xmt.v == p.xmt.v);
    assert_early(&s);
    q.replay = true; /* test 3 still applies without a request */
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_ZERO_ORIGIN);
}

static void verdict_bogus_origin(void **state)
{
    (void)state;
    struct ntk_sntp_query q = base_query(0);
    struct ntk_pkt p = base_reply();
    struct ntk_sntp_sample s;
    p.org.v = RND_TS ^ 1;
    memset(&s, 0x77, sizeof s);
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_BOGUS_ORIGIN);
    assert_true(s.pkt.org.v == (RND_TS ^ 1));
    assert_early(&s);
    /* Origin = our T1 (what a non-minimised client would have sent) is not ours either. */
    p.org = q.t1;
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_BOGUS_ORIGIN);
}

static void verdict_kod(void **state)
{
    (void)state;
    struct ntk_sntp_query q = base_query(0);
    struct ntk_pkt p = base_reply();
    struct ntk_sntp_sample s;
    /* As NTPsec sends it (kod.tsv frame 6): LI 3, stratum 0, "RATE", org = rec = xmt. */
    p.leap = NTK_LEAP_UNSYNC;
    p.stratum = 0;
    p.precision_log2 = 0;
    p.refid = 0x52415445;
    p.rec = p.xmt = p.org;
    memset(&s, 0x77, sizeof s);
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_KOD);
    assert_int_equal(s.kiss, NTK_KISS_RATE);
    assert_string_equal(s.kiss_code, "RATE");
    assert_false(s.authenticated);
    assert_true(s.t1.v == base_t1 && s.t2.v == RND_TS && s.t3.v == RND_TS);
    assert_true(s.t4.v == base_t4);
    assert_no_numbers(&s);
    /* DENY; and an unknown code with a control byte, shown safely. */
    p.refid = 0x44454e59;
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_KOD);
    assert_int_equal(s.kiss, NTK_KISS_DENY);
    assert_string_equal(s.kiss_code, "DENY");
    p.refid = 0x58590a00;
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_KOD);
    assert_int_equal(s.kiss, NTK_KISS_UNKNOWN);
    assert_string_equal(s.kiss_code, "XY??");
}

/* Test 6 against one request signed with key 1 (MD5). */
static void verdict_auth(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = new_store(false), *wrong = new_store(true);
    struct ntk_sntp_query q = base_query(KEY_MD5);
    struct ntk_pkt p = base_reply();
    struct ntk_sntp_sample s;
    uint8_t b[BUF];
    memset(&s, 0x77, sizeof s);
    assert_int_equal(check(&q, ks, &p, 0, &s), NTK_SNTP_AUTH_MISSING);
    assert_int_equal(s.key_id, 0);
    assert_false(s.authenticated);
    assert_true(s.t4.v == base_t4);
    assert_no_numbers(&s);

    size_t n = build_nak(&p, 0, b);
    assert_int_equal(ntk_sntp_check(&q, ks, b, n, q.t1, &s), NTK_SNTP_AUTH_NAK);
    assert_int_equal(s.key_id, 0);
    n = build_nak(&p, KEY_MD5, b); /* a key id alone is a NAK whatever the id */
    assert_int_equal(ntk_sntp_check(&q, ks, b, n, q.t1, &s), NTK_SNTP_AUTH_NAK);
    assert_int_equal(s.key_id, KEY_MD5);

    assert_int_equal(check(&q, ks, &p, KEY_SHA1, &s), NTK_SNTP_AUTH_KEYID);
    assert_int_equal(s.key_id, KEY_SHA1);
    assert_int_equal(check(&q, ks, &p, KEY_CMAC, &s), NTK_SNTP_AUTH_KEYID);
    assert_int_equal(s.key_id, KEY_CMAC);

    /* Signed with another secret under the same id; our store lacks the key; no store. */
    n = build(&p, wrong, KEY_MD5, b);
    assert_int_equal(ntk_sntp_check(&q, ks, b, n, q.t1, &s), NTK_SNTP_AUTH_FAILED);
    assert_int_equal(s.key_id, KEY_MD5);
    assert_false(s.authenticated);
    n = build(&p, ks, KEY_MD5, b);
    assert_int_equal(ntk_sntp_check(&q, NULL, b, n, q.t1, &s), NTK_SNTP_AUTH_FAILED);
    struct ntk_sntp_query q7 = base_query(KEY_UNKNOWN);
    b[48 + 3] = KEY_UNKNOWN;
    assert_int_equal(ntk_sntp_check(&q7, ks, b, n, q.t1, &s), NTK_SNTP_AUTH_FAILED);
    assert_int_equal(s.key_id, KEY_UNKNOWN);
    /* A 20-byte MAC under the MD5 key id: wrong length for the key, a failed MAC. */
    n = build(&p, ks, KEY_SHA1, b);
    b[48 + 3] = KEY_MD5;
    assert_int_equal(ntk_sntp_check(&q, ks, b, n, q.t1, &s), NTK_SNTP_AUTH_FAILED);
    ntk_mac_keys_free(ks);
    ntk_mac_keys_free(wrong);
}

static void verdict_stratum(void **state)
{
    (void)state;
    struct ntk_sntp_query q = base_query(0);
    struct ntk_pkt p = base_reply();
    struct ntk_sntp_sample s;
    static const uint8_t strata[] = {16, 17, 255};
    for (size_t i = 0; i < sizeof strata; i++) {
        p.stratum = strata[i];
        memset(&s, 0x77, sizeof s);
        assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_STRATUM);
        assert_int_equal(s.pkt.stratum, strata[i]);
        assert_true(s.t3.v == p.xmt.v);
        assert_no_numbers(&s);
    }
    p.stratum = 15;
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_OK);
    p.stratum = 1;
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_OK);
}

static void verdict_unsync(void **state)
{
    (void)state;
    struct ntk_sntp_query q = base_query(0);
    struct ntk_pkt p = base_reply();
    struct ntk_sntp_sample s;
    p.leap = NTK_LEAP_UNSYNC;
    memset(&s, 0x77, sizeof s);
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_UNSYNC);
    assert_int_equal(s.pkt.leap, NTK_LEAP_UNSYNC);
    assert_no_numbers(&s);
    /* Leap warnings are not "unsynchronised". */
    p.leap = NTK_LEAP_INSERT;
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_OK);
    assert_int_equal(s.pkt.leap, NTK_LEAP_INSERT);
    p.leap = NTK_LEAP_DELETE;
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_OK);
}

static void verdict_zero_xmt(void **state)
{
    (void)state;
    struct ntk_sntp_query q = base_query(0);
    struct ntk_pkt p = base_reply();
    struct ntk_sntp_sample s;
    p.xmt.v = 0;
    memset(&s, 0x77, sizeof s);
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_ZERO_XMT);
    assert_true(s.t3.v == 0 && s.t2.v == p.rec.v);
    assert_no_numbers(&s);
    p.xmt.v = 1; /* one unit is not zero */
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_OK);
}

/* ---- the order of the tests -------------------------------------------------------- */

static void check_order(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = new_store(false), *wrong = new_store(true);
    struct ntk_sntp_query q = base_query(0), qa = base_query(KEY_MD5);
    struct ntk_pkt p = base_reply(), kod = base_reply();
    struct ntk_sntp_sample s;
    uint8_t b[BUF];
    kod.stratum = 0;
    kod.leap = NTK_LEAP_UNSYNC;
    kod.refid = 0x52415445;

    /* A KoD is believed only from a reply to us: bogus origin, zero origin, other mode. */
    p = kod;
    p.org.v ^= 0x8000;
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_BOGUS_ORIGIN);
    assert_int_equal(s.kiss, NTK_KISS_NONE);
    assert_string_equal(s.kiss_code, "");
    p.org.v = 0;
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_ZERO_ORIGIN);
    p = kod;
    p.mode = NTK_MODE_SYM_PASSIVE; /* a symmetric KoD is still not our server's */
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_BAD_MODE);
    assert_int_equal(s.kiss, NTK_KISS_NONE);
    p.mode = NTK_MODE_CLIENT;
    p.org.v = 0;
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_BAD_MODE);

    /* A KoD without a MAC to a signed request: KOD, not authenticated; with a good MAC:
     * authenticated; with a bad one: still KOD, not authenticated. */
    assert_int_equal(check(&qa, ks, &kod, 0, &s), NTK_SNTP_KOD);
    assert_false(s.authenticated);
    assert_string_equal(s.kiss_code, "RATE");
    assert_int_equal(check(&qa, ks, &kod, KEY_MD5, &s), NTK_SNTP_KOD);
    assert_true(s.authenticated);
    assert_int_equal(s.key_id, KEY_MD5);
    size_t n = build(&kod, wrong, KEY_MD5, b);
    assert_int_equal(ntk_sntp_check(&qa, ks, b, n, q.t1, &s), NTK_SNTP_KOD);
    assert_false(s.authenticated);
    n = build_nak(&kod, 0, b);
    assert_int_equal(ntk_sntp_check(&qa, ks, b, n, q.t1, &s), NTK_SNTP_KOD);
    assert_false(s.authenticated);

    /* Authentication before the server's own claims. */
    p = base_reply();
    p.stratum = 16;
    p.leap = NTK_LEAP_UNSYNC;
    p.xmt.v = 0;
    assert_int_equal(check(&qa, ks, &p, 0, &s), NTK_SNTP_AUTH_MISSING);
    n = build(&p, wrong, KEY_MD5, b);
    assert_int_equal(ntk_sntp_check(&qa, ks, b, n, q.t1, &s), NTK_SNTP_AUTH_FAILED);
    /* Then stratum, leap, transmit, in that order. */
    assert_int_equal(check(&qa, ks, &p, KEY_MD5, &s), NTK_SNTP_STRATUM);
    assert_true(s.authenticated);
    assert_int_equal(check(&q, ks, &p, 0, &s), NTK_SNTP_STRATUM);
    p.stratum = 3;
    assert_int_equal(check(&q, ks, &p, 0, &s), NTK_SNTP_UNSYNC);
    p.leap = NTK_LEAP_NONE;
    assert_int_equal(check(&q, ks, &p, 0, &s), NTK_SNTP_ZERO_XMT);

    /* A bad version is refused before the mode is looked at; mode 6 by the decoder. */
    p = base_reply();
    p.version = 5;
    p.mode = NTK_MODE_CLIENT;
    assert_int_equal(check(&q, ks, &p, 0, &s), NTK_SNTP_BAD_VERSION);
    ntk_mac_keys_free(ks);
    ntk_mac_keys_free(wrong);
}

/* An unauthenticated request ignores a reply's MAC (and its validity) entirely. */
static void unsigned_request_ignores_mac(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = new_store(false), *wrong = new_store(true);
    struct ntk_sntp_query q = base_query(0);
    struct ntk_pkt p = base_reply();
    struct ntk_sntp_sample s;
    uint8_t b[BUF];
    size_t n = build(&p, wrong, KEY_MD5, b);
    assert_int_equal(ntk_sntp_check(&q, ks, b, n, (ntk_ts){base_t4}, &s), NTK_SNTP_OK);
    assert_false(s.authenticated);
    assert_int_equal(s.key_id, KEY_MD5);
    assert_exact(s.offset_s, 0.1875);
    n = build_nak(&p, 0, b);
    assert_int_equal(ntk_sntp_check(&q, NULL, b, n, (ntk_ts){base_t4}, &s), NTK_SNTP_OK);
    ntk_mac_keys_free(ks);
    ntk_mac_keys_free(wrong);
}

/* ---- arithmetic -------------------------------------------------------------------- */

/* Runs an exchange with T2 = T1 + a, T3 = T2 + proc, T4 = T3 - b (units of 2^-32 s), so
 * θ = (a + b) / 2 and δ = a - b exactly. */
static void exchange(ntk_ts t1, int64_t a, int64_t proc, int64_t b, int8_t prec,
                     struct ntk_sntp_sample *s)
{
    struct ntk_sntp_query q = base_query(0);
    struct ntk_pkt p = base_reply();
    q.t1 = t1;
    p.precision_log2 = prec;
    p.rec = add_units(t1, a);
    p.xmt = add_units(p.rec, proc);
    uint8_t buf[BUF];
    size_t n = build(&p, NULL, 0, buf);
    ntk_ts t4 = {p.xmt.v - (uint64_t)b}; /* T3 - b, wrapping (b may be INT64_MIN) */
    assert_int_equal(ntk_sntp_check(&q, NULL, buf, n, t4, s), NTK_SNTP_OK);
}

#define UNITS(sec) ((int64_t)((sec)*4294967296.0))

static void offset_negative(void **state)
{
    (void)state;
    struct ntk_sntp_sample s;
    /* T1 = S, T2 = S + 1/16, T3 = S + 1/8, T4 = S + 2: θ = (1/16 - 15/8) / 2. */
    exchange(ts(S, 0), UNITS(0.0625), UNITS(0.0625), UNITS(-1.875), -20, &s);
    assert_true(s.t4.v == ts(S + 2, 0).v);
    assert_exact(s.offset_s, -0.90625);
    assert_exact(s.delay_s, 1.9375);
    assert_exact(s.dispersion_s, 0x1p-19 + 15e-6 * 2.0);
    assert_near(s.error_bound_s, 1.9375 / 2 + 15e-6 * 2.0 + 0x1p-20, 1e-15);
}

/* The exchange straddles 2036-02-07 06:28:16: T1 in era 0, T2..T4 in era 1. */
static void era_boundary(void **state)
{
    (void)state;
    struct ntk_sntp_sample s;
    exchange(ts(0xffffffffu, 0x80000000u), UNITS(0.75), UNITS(0.5), UNITS(-0.25), -20, &s);
    assert_true(s.t2.v == ts(0, 0x40000000u).v);
    assert_true(s.t3.v == ts(0, 0xc0000000u).v);
    assert_true(s.t4.v == ts(1, 0).v);
    assert_exact(s.offset_s, 0.25);
    assert_exact(s.delay_s, 1.0);
    assert_exact(s.dispersion_s, 0x1p-19 + 15e-6 * 1.5);
    /* And the other way: the server still in era 0 while T1 is already in era 1. */
    exchange(ts(0, 0x10000000u), UNITS(-3.5), UNITS(0.125), UNITS(-3.0), -20, &s);
    assert_true(ntk_ts_sec(s.t2) == 0xfffffffcu);
    assert_exact(s.offset_s, -3.25);
    assert_exact(s.delay_s, -0.5); /* as measured: a T4 before T3 + δ is allowed */
}

/* ±1e9 s: the fractions below use all 32 bits, yet θ and δ come out exact (a double holds
 * 1e9 + 0.375 exactly; adding the four timestamps as doubles would be off by ~100 ns). */
static void offset_huge(void **state)
{
    (void)state;
    struct ntk_sntp_sample s;
    const int64_t u = 0x0abcdef1, giga = 1000000000LL * 4294967296LL;
    const ntk_ts t1 = ts(S, 0x12345679u);
    exchange(t1, giga + UNITS(0.5) + u, 4294967, giga + UNITS(0.25) - u, -20, &s);
    assert_true(ntk_ts_diff(s.t2, s.t1).v == giga + UNITS(0.5) + u);
    assert_exact(s.offset_s, 1e9 + 0.375);
    assert_near(s.offset_s, 1000000000.375, 1e-9);
    assert_exact(s.delay_s, 0.25 + 2.0 * (double)u / 4294967296.0);
    exchange(t1, -(giga + UNITS(0.5)) + u, 4294967, -(giga + UNITS(0.75)) - u, -20, &s);
    assert_exact(s.offset_s, -1e9 - 0.625);
    assert_near(s.offset_s, -1000000000.625, 1e-9);
    assert_exact(s.delay_s, 0.25 + 2.0 * (double)u / 4294967296.0);
    /* A 2e9 s delay with a small offset: the large parts cancel in θ, to the unit. */
    exchange(t1, giga + UNITS(0.5) + u, 4294967, -(giga + UNITS(0.25)) + u, -20, &s);
    assert_exact(s.offset_s, 0.125 + (double)u / 4294967296.0);
    assert_exact(s.delay_s, 2e9 + 0.75);
    /* Near the ±2^31 s limit the two differences sum past INT64_MAX units: no overflow. */
    const int64_t big = INT64_MAX - 3;
    exchange(t1, big, 0, big, -20, &s);
    assert_exact(s.offset_s, 0x1p31); /* (2^63 - 4) units, rounded once */
    assert_exact(s.delay_s, 0);
    exchange(t1, INT64_MIN, 0, INT64_MIN, -20, &s);
    assert_exact(s.offset_s, -0x1p31);
    assert_exact(s.delay_s, 0);
}

/* A random exchange within ±2^20 s: θ to the nanosecond (in fact exactly, a + b < 2^53). */
static void offset_unit_precision(void **state)
{
    (void)state;
    struct ntk_sntp_sample s;
    /* 1 unit each way: 2^-33 s of offset, not lost to rounding. */
    exchange(ts(S, 0), 1, 0, 0, -20, &s);
    assert_exact(s.offset_s, 0x1p-33);
    assert_exact(s.delay_s, 0x1p-32);
    exchange(ts(S, 0xffffffffu), -1, 7, -2, -20, &s);
    assert_exact(s.offset_s, -1.5 * 0x1p-32);
    assert_exact(s.delay_s, 0x1p-32);
}

static void dispersion_and_distance(void **state)
{
    (void)state;
    struct ntk_sntp_query q = base_query(0);
    struct ntk_pkt p = base_reply();
    struct ntk_sntp_sample s;
    uint8_t b[BUF];
    /* A delay below the local precision is raised to it in λ (RFC 5905 §8). */
    q.local_precision_log2 = -3;    /* 0.125 s */
    p.precision_log2 = -1;          /* 0.5 s */
    p.rec = ts(S, 0x80000000u);     /* T2 - T1 = 0 */
    p.xmt = ts(S, 0x88000000u);     /* T3 - T2 = 1/32 */
    ntk_ts t4 = ts(S, 0x90000000u); /* T4 - T1 = 1/16: δ = 1/32 */
    size_t n = build(&p, NULL, 0, b);
    assert_int_equal(ntk_sntp_check(&q, NULL, b, n, t4, &s), NTK_SNTP_OK);
    assert_exact(s.delay_s, 0.03125);
    assert_exact(s.dispersion_s, 0.5 + 0.125 + 15e-6 * 0.0625);
    assert_near(s.sync_distance_s, (0.03125 + 0.125) / 2 + 0.015625 + s.dispersion_s, 1e-15);
    assert_near(s.error_bound_s, 0.015625 + 15e-6 * 0.0625 + 0.5, 1e-15);
    /* T4 before T1 (the local clock stepped back): |T4 - T1| keeps ε positive. */
    t4 = ts(S - 10, 0x80000000u);
    assert_int_equal(ntk_sntp_check(&q, NULL, b, n, t4, &s), NTK_SNTP_OK);
    assert_exact(s.delay_s, -10.03125);
    assert_exact(s.dispersion_s, 0.5 + 0.125 + 15e-6 * 10.0);
    assert_true(s.sync_distance_s > 0);
    /* The extreme precision bytes stay finite and positive. */
    p.precision_log2 = 127;
    q.local_precision_log2 = -128;
    n = build(&p, NULL, 0, b);
    assert_int_equal(ntk_sntp_check(&q, NULL, b, n, t4, &s), NTK_SNTP_OK);
    assert_exact(s.dispersion_s, 0x1p127 + 0x1p-128 + 15e-6 * 10.0);
    /* Root delay and dispersion at their 16.16 maximum. */
    p.root_delay = p.root_disp = 0xffffffffu;
    n = build(&p, NULL, 0, b);
    assert_int_equal(ntk_sntp_check(&q, NULL, b, n, t4, &s), NTK_SNTP_OK);
    assert_exact(s.root_delay_s, 65535.0 + 65535.0 / 65536.0);
    assert_exact(s.root_dispersion_s, 65535.0 + 65535.0 / 65536.0);
}

/* Replay (NTPsec's -r): no nonce test, T1 from the reply's origin. */
static void replay_mode(void **state)
{
    (void)state;
    struct ntk_sntp_query q = base_query(0);
    struct ntk_pkt p = base_reply();
    struct ntk_sntp_sample s;
    q.replay = true;
    q.xmt.v = 0;
    q.t1.v = 0;
    p.org.v = base_t1; /* a non-minimised client's real T1, echoed */
    assert_int_equal(check(&q, NULL, &p, 0, &s), NTK_SNTP_OK);
    assert_true(s.t1.v == base_t1);
    assert_exact(s.offset_s, 0.1875);
    assert_exact(s.delay_s, 0.625);
}

/* ---- MAC round trips --------------------------------------------------------------- */

static void mac_round_trip(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = new_store(false);
    static const uint32_t ids[] = {KEY_MD5, KEY_SHA1, KEY_CMAC};
    static const size_t lens[] = {68, 72, 68};
    for (size_t k = 0; k < 3; k++) {
        struct ntk_sntp_query q = base_query(ids[k]);
        struct ntk_pkt p = base_reply();
        struct ntk_sntp_sample s;
        uint8_t b[BUF];
        size_t n = build(&p, ks, ids[k], b);
        assert_int_equal(n, lens[k]);
        ntk_ts t4 = {base_t4};
        assert_int_equal(ntk_sntp_check(&q, ks, b, n, t4, &s), NTK_SNTP_OK);
        assert_true(s.authenticated);
        assert_int_equal(s.key_id, ids[k]);
        assert_exact(s.offset_s, 0.1875);
        /* One flipped bit anywhere the MAC covers, or in the MAC, fails. Bytes 0-31 would
         * trip earlier tests; 32-47 (rec, xmt) and the MAC reach the MAC test. */
        for (size_t i = 32; i < n; i++) {
            if (i >= 48 && i < 52) {
                continue; /* the key id: AUTH_KEYID, below */
            }
            b[i] ^= (uint8_t)(1u << (i % 8));
            assert_int_equal(ntk_sntp_check(&q, ks, b, n, t4, &s), NTK_SNTP_AUTH_FAILED);
            assert_false(s.authenticated);
            b[i] ^= (uint8_t)(1u << (i % 8));
        }
        b[51] ^= 0x40;
        assert_int_equal(ntk_sntp_check(&q, ks, b, n, t4, &s), NTK_SNTP_AUTH_KEYID);
        b[51] ^= 0x40;
        assert_int_equal(ntk_sntp_check(&q, ks, b, 52, t4, &s), NTK_SNTP_AUTH_NAK);
        assert_int_equal(ntk_sntp_check(&q, ks, b, 48, t4, &s), NTK_SNTP_AUTH_MISSING);
        assert_int_equal(ntk_sntp_check(&q, ks, b, n, t4, &s), NTK_SNTP_OK);
    }
    ntk_mac_keys_free(ks);
}

/* A request built by ntk_sntp_request, answered by a server that echoes its transmit
 * timestamp and signs with the same key. */
static void request_then_reply(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = new_store(false);
    uint8_t req[NTK_SNTP_REQ_MAX], b[BUF];
    struct ntk_sntp_query q;
    assert_int_equal(ntk_sntp_request(&q, rnd, ks, KEY_CMAC, req, sizeof req), 68);
    q.t1.v = base_t1;
    struct ntk_pkt p = base_reply();
    struct ntk_pkt r;
    assert_int_equal(ntk_pkt_decode(req, 68, &r, NULL, NULL), 0);
    p.org = r.xmt;
    size_t n = build(&p, ks, KEY_CMAC, b);
    struct ntk_sntp_sample s;
    assert_int_equal(ntk_sntp_check(&q, ks, b, n, (ntk_ts){base_t4}, &s), NTK_SNTP_OK);
    assert_true(s.authenticated);
    assert_exact(s.offset_s, 0.1875);
    ntk_mac_keys_free(ks);
}

/* ---- order of samples, names ------------------------------------------------------- */

static struct ntk_sntp_sample sample(uint8_t stratum, double dist, double rdelay, double delay)
{
    struct ntk_sntp_sample s;
    memset(&s, 0, sizeof s);
    s.pkt.stratum = stratum;
    s.sync_distance_s = dist;
    s.root_delay_s = rdelay;
    s.delay_s = delay;
    return s;
}

static void compare_order(void **state)
{
    (void)state;
    /* Sorted best first. */
    const struct ntk_sntp_sample v[] = {
        sample(1, 0.5, 0.9, 0.9),   sample(1, 0.6, 0.0, 0.0),  sample(1, 0.6, 0.1, 0.0),
        sample(1, 0.6, 0.1, 0.002), sample(2, 0.001, 0, -1.0), sample(2, 0.001, 0, 0),
        sample(15, 0, 0, 0),
    };
    const size_t n = sizeof v / sizeof v[0];
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ntk_sntp_compare(&v[i], &v[i]), 0);
        for (size_t j = i + 1; j < n; j++) {
            assert_true(ntk_sntp_compare(&v[i], &v[j]) < 0);
            assert_true(ntk_sntp_compare(&v[j], &v[i]) > 0);
        }
    }
    struct ntk_sntp_sample a = sample(3, 0.25, 0.5, 0.125), b = a;
    b.offset_s = 99; /* not a sort key */
    assert_int_equal(ntk_sntp_compare(&a, &b), 0);
}

static void verdict_names(void **state)
{
    (void)state;
    static const char *const want[NTK_SNTP_VERDICT_COUNT] = {
        "ok",           "malformed", "bad_version",  "bad_mode", "zero_origin",
        "bogus_origin", "kod",       "auth_missing", "auth_nak", "auth_keyid",
        "auth_failed",  "stratum",   "unsync",       "zero_xmt",
    };
    for (int v = 0; v < NTK_SNTP_VERDICT_COUNT; v++) {
        assert_string_equal(ntk_sntp_verdict_name((enum ntk_sntp_verdict)v), want[v]);
        const char *t = ntk_sntp_verdict_text((enum ntk_sntp_verdict)v);
        assert_non_null(t);
        assert_true(strlen(t) > 5);
        assert_string_not_equal(t, "unknown");
        for (int w = 0; w < v; w++) { /* every text tells its verdict apart */
            assert_string_not_equal(t, ntk_sntp_verdict_text((enum ntk_sntp_verdict)w));
        }
    }
    assert_string_equal(ntk_sntp_verdict_text(NTK_SNTP_UNSYNC),
                        "server not synchronized (leap indicator 3)");
    static const int beyond[] = {NTK_SNTP_VERDICT_COUNT, NTK_SNTP_VERDICT_COUNT + 1, 1000, -1};
    for (size_t i = 0; i < sizeof beyond / sizeof beyond[0]; i++) {
        enum ntk_sntp_verdict v = (enum ntk_sntp_verdict)beyond[i];
        assert_string_equal(ntk_sntp_verdict_name(v), "unknown");
        assert_string_equal(ntk_sntp_verdict_text(v), "unknown");
    }
}

/* ---- seeded properties ------------------------------------------------------------- */

/* A random valid exchange for a request made by ntk_sntp_request. */
struct random_case {
    struct ntk_sntp_query q;
    uint8_t buf[BUF];
    size_t len;
    ntk_ts t4;
    int64_t a, b; /* T2 - T1 and T3 - T4 in units */
    uint32_t key_id;
};

static int64_t rand_range(int64_t half)
{
    return (int64_t)(tu_rand() % (uint64_t)(2 * half + 1)) - half;
}

static struct ntk_pkt random_reply(const struct random_case *c)
{
    struct ntk_pkt p;
    memset(&p, 0, sizeof p);
    p.leap = (enum ntk_leap)(tu_rand() % 3);
    p.version = (uint8_t)(3 + tu_rand() % 2);
    p.mode = NTK_MODE_SERVER;
    p.stratum = (uint8_t)(1 + tu_rand() % 15);
    p.poll_log2 = (int8_t)tu_rand();
    p.precision_log2 = (int8_t)tu_rand();
    p.root_delay = (uint32_t)tu_rand();
    p.root_disp = (uint32_t)tu_rand();
    p.refid = (uint32_t)tu_rand();
    p.reftime.v = tu_rand();
    p.org = c->q.xmt;
    p.rec = add_units(c->q.t1, c->a);
    do {
        p.xmt = add_units(p.rec, (int64_t)(tu_rand() >> 32)); /* up to 1 s of processing */
    } while (ntk_ts_is_zero(p.xmt));
    return p;
}

static void random_case(struct ntk_mac_keys *ks, struct random_case *c)
{
    static const uint32_t ids[] = {0, KEY_MD5, KEY_SHA1, KEY_CMAC};
    uint8_t r[8];
    do {
        tu_fill(r, sizeof r);
    } while (memcmp(r, (uint8_t[8]){0}, 8) == 0);
    c->key_id = ids[tu_rand() % 4];
    uint8_t req[NTK_SNTP_REQ_MAX];
    assert_true(ntk_sntp_request(&c->q, r, ks, c->key_id, req, sizeof req) >= 48);
    c->q.t1.v = tu_rand();
    c->q.local_precision_log2 = (int8_t)(-(int)(tu_rand() % 30));
    c->a = rand_range(INT64_C(1) << 52); /* ±2^20 s */
    c->b = rand_range(INT64_C(1) << 52);
    struct ntk_pkt p = random_reply(c);
    c->t4 = add_units(p.xmt, -c->b);
    c->len = build(&p, ks, c->key_id, c->buf);
}

static void property_random_exchanges(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = new_store(false);
    tu_seed();
    for (int i = 0; i < 3000; i++) {
        struct random_case c;
        struct ntk_sntp_sample s;
        random_case(ks, &c);
        assert_int_equal(ntk_sntp_check(&c.q, ks, c.buf, c.len, c.t4, &s), NTK_SNTP_OK);
        assert_int_equal(s.authenticated, c.key_id != 0);
        assert_int_equal(s.key_id, c.key_id);
        /* |a + b| < 2^53 units: the exact θ is a double, and so is δ = a - b. */
        double theta = (double)(c.a + c.b) * 0x1p-33;
        assert_near(s.offset_s, theta, 1e-9);
        assert_exact(s.offset_s, theta);
        assert_exact(s.delay_s, (double)(c.a - c.b) * 0x1p-32);
        assert_true(s.dispersion_s > 0 && s.sync_distance_s > 0 && s.error_bound_s >= 0);
        assert_true(s.t1.v == c.q.t1.v && s.t4.v == c.t4.v);
    }
    ntk_mac_keys_free(ks);
}

static void property_origin_bit_flips(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = new_store(false);
    tu_seed();
    for (int i = 0; i < 3000; i++) {
        struct random_case c;
        struct ntk_sntp_sample s;
        random_case(ks, &c);
        unsigned bit = (unsigned)(tu_rand() % 64);
        c.buf[24 + bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
        enum ntk_sntp_verdict want = (c.q.xmt.v ^ (UINT64_C(1) << (63 - bit))) == 0
                                         ? NTK_SNTP_ZERO_ORIGIN
                                         : NTK_SNTP_BOGUS_ORIGIN;
        assert_int_equal(ntk_sntp_check(&c.q, ks, c.buf, c.len, c.t4, &s), want);
        assert_true(s.pkt.org.v == (c.q.xmt.v ^ (UINT64_C(1) << (63 - bit))));
        assert_true(s.t1.v == 0 && s.kiss == NTK_KISS_NONE && !s.authenticated);
    }
    ntk_mac_keys_free(ks);
}

/* Every truncation is MALFORMED, except where the shorter datagram is itself a complete
 * layout: the bare header (48) and a header + key id (52, a crypto-NAK) of a signed reply,
 * and a SHA-1 reply cut to a 16-byte MAC (68), which the MAC test refuses. */
static enum ntk_sntp_verdict truncated_verdict(const struct random_case *c, size_t n)
{
    if (c->key_id == 0 || n < 48) {
        return NTK_SNTP_MALFORMED;
    }
    if (n == 48) {
        return NTK_SNTP_AUTH_MISSING;
    }
    if (n == 52) {
        return NTK_SNTP_AUTH_NAK;
    }
    return n == 68 ? NTK_SNTP_AUTH_FAILED : NTK_SNTP_MALFORMED;
}

static void property_truncations(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = new_store(false);
    tu_seed();
    for (int i = 0; i < 300; i++) {
        struct random_case c;
        random_case(ks, &c);
        for (size_t n = 0; n < c.len; n++) {
            struct ntk_sntp_sample s;
            enum ntk_sntp_verdict want = truncated_verdict(&c, n);
            assert_int_equal(ntk_sntp_check(&c.q, ks, c.buf, n, c.t4, &s), want);
            if (want == NTK_SNTP_MALFORMED) {
                assert_true(s.pkt_why != NTK_PKT_OK && s.pkt_why != NTK_PKT_BAD_VERSION);
                assert_true(s.pkt.org.v == 0);
            }
        }
    }
    ntk_mac_keys_free(ks);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_bytes),
        cmocka_unit_test(request_decodes),
        cmocka_unit_test(request_errors),
        cmocka_unit_test(request_versions),
        cmocka_unit_test(verdict_ok),
        cmocka_unit_test(verdict_malformed),
        cmocka_unit_test(verdict_bad_version),
        cmocka_unit_test(verdict_bad_mode),
        cmocka_unit_test(verdict_zero_origin),
        cmocka_unit_test(verdict_bogus_origin),
        cmocka_unit_test(verdict_kod),
        cmocka_unit_test(verdict_auth),
        cmocka_unit_test(verdict_stratum),
        cmocka_unit_test(verdict_unsync),
        cmocka_unit_test(verdict_zero_xmt),
        cmocka_unit_test(check_order),
        cmocka_unit_test(unsigned_request_ignores_mac),
        cmocka_unit_test(offset_negative),
        cmocka_unit_test(era_boundary),
        cmocka_unit_test(offset_huge),
        cmocka_unit_test(offset_unit_precision),
        cmocka_unit_test(dispersion_and_distance),
        cmocka_unit_test(replay_mode),
        cmocka_unit_test(mac_round_trip),
        cmocka_unit_test(request_then_reply),
        cmocka_unit_test(compare_order),
        cmocka_unit_test(verdict_names),
        cmocka_unit_test(property_random_exchanges),
        cmocka_unit_test(property_origin_bit_flips),
        cmocka_unit_test(property_truncations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
