/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/pkt.c: real packets field by field, every layout rule with its reject
 * reason, encode/decode round trips, truncations, kiss codes and the counter labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ntk/buf.h"
#include "ntk/ef.h"
#include "ntk/err.h"
#include "ntk/pkt.h"
#include "testutil.h"

#include "poison.h"

/* sntp-chrony.tsv frame 2: chronyd's reply to ntpdig. */
static const char chrony_reply[] = "240100e600000000000000007f7f0101eeb22c87f454dfbceeb22c89"
                                   "72f5b000eeb22c89730b9fa3eeb22c8973142994";

/* symkey.tsv frame 3: ntpdig request with key 2, SHA-1 (72 bytes). */
static const char sha1_request[] = "e30000000000000000000000000000000000000000000000000000000"
                                   "00000000000000000000000eeb22b61b609100000000002442a7e9748"
                                   "e820a360bae29102b6be40fb0eb293";

/* nts.tsv frame 33: the NTS NAK, stratum 0, refid "NTSN", one Unique Identifier field. */
static const char nts_nak[] =
    "e40001e600000000000000004e54534eeeb22bb8922b6fd690e44e09443ff070"
    "eeb22bba42ae6debeeb22bba42b529a801040024df00ed2642d5871d02775a"
    "daf7b5e4e29e882a619312e6f941afc221c15b7a32";

static size_t unhex(const char *hex, uint8_t *buf, size_t cap)
{
    int n = tu_unhex(hex, buf, cap);
    assert_true(n >= 0);
    return (size_t)n;
}

static void decode_chrony_reply(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t n = unhex(chrony_reply, b, sizeof b);
    struct ntk_pkt p;
    struct ntk_pkt_layout l;
    enum ntk_pkt_reject why = NTK_PKT_BAD_EF;
    assert_int_equal(ntk_pkt_decode(b, n, &p, &l, &why), 0);
    assert_int_equal(why, NTK_PKT_OK);
    assert_int_equal(p.leap, NTK_LEAP_NONE);
    assert_int_equal(p.version, 4);
    assert_int_equal(p.mode, NTK_MODE_SERVER);
    assert_int_equal(p.stratum, 1);
    assert_int_equal(p.poll_log2, 0);
    assert_int_equal(p.precision_log2, -26);
    assert_int_equal(p.root_delay, 0);
    assert_int_equal(p.root_disp, 0);
    assert_int_equal(p.refid, 0x7f7f0101);
    assert_true(p.reftime.v == 0xeeb22c87f454dfbcULL);
    assert_true(p.org.v == 0xeeb22c8972f5b000ULL);
    assert_true(p.rec.v == 0xeeb22c89730b9fa3ULL);
    assert_true(p.xmt.v == 0xeeb22c8973142994ULL);
    assert_int_equal(l.len, 48);
    assert_int_equal(l.ef_off, 48);
    assert_int_equal(l.ef_len, 0);
    assert_int_equal(l.ef_count, 0);
    assert_int_equal(l.auth, NTK_PKT_AUTH_NONE);
    assert_int_equal(l.key_id, 0);
    assert_int_equal(l.mac_off, 48);
    assert_int_equal(l.mac_len, 0);
    assert_false(ntk_pkt_is_kod(&p));
    assert_int_equal(ntk_pkt_kiss(&p), NTK_KISS_NONE);
}

static void decode_sha1_mac(void **state)
{
    (void)state;
    uint8_t b[80];
    size_t n = unhex(sha1_request, b, sizeof b);
    assert_int_equal(n, 72);
    struct ntk_pkt p;
    struct ntk_pkt_layout l;
    assert_int_equal(ntk_pkt_decode(b, n, &p, &l, NULL), 0);
    assert_int_equal(p.leap, NTK_LEAP_UNSYNC);
    assert_int_equal(p.mode, NTK_MODE_CLIENT);
    assert_int_equal(l.auth, NTK_PKT_AUTH_MAC);
    assert_int_equal(l.key_id, 2);
    assert_int_equal(l.mac_off, 52);
    assert_int_equal(l.mac_len, 20);
    assert_int_equal(l.ef_len, 0);
    assert_int_equal(b[l.mac_off], 0x44);
    /* The MAC covers the header (and fields): buf[0 .. mac_off - 4). */
    assert_int_equal(l.mac_off - NTK_PKT_KEYID_LEN, l.ef_off + l.ef_len);
    assert_false(ntk_pkt_is_kod(&p)); /* a client request: stratum 0 is not a kiss */
}

static void decode_nts_nak(void **state)
{
    (void)state;
    uint8_t b[96];
    size_t n = unhex(nts_nak, b, sizeof b);
    struct ntk_pkt p;
    struct ntk_pkt_layout l;
    assert_int_equal(ntk_pkt_decode(b, n, &p, &l, NULL), 0);
    assert_int_equal(l.ef_count, 1);
    assert_int_equal(l.ef_len, 36);
    assert_int_equal(l.auth, NTK_PKT_AUTH_NONE);
    assert_int_equal(l.mac_off, 84);
    assert_true(ntk_pkt_is_kod(&p));
    assert_int_equal(ntk_pkt_kiss(&p), NTK_KISS_NTSN);
    char code[5] = "xxxx";
    assert_true(ntk_pkt_kiss_code(&p, code));
    assert_string_equal(code, "NTSN");
}

/* Builds a v4 header (flags byte first_byte) plus tail bytes into b; returns the length. */
static size_t build(uint8_t *b, size_t cap, uint8_t first_byte, const char *tail_hex)
{
    memset(b, 0, cap);
    b[0] = first_byte;
    int n = tu_unhex(tail_hex, b + 48, cap - 48);
    assert_true(n >= 0);
    return 48 + (size_t)n;
}

struct layout_case {
    const char *what;
    uint8_t first_byte;
    const char *tail_hex;
    int err;
    enum ntk_pkt_reject why;
    unsigned ef_count;
    enum ntk_pkt_auth auth;
    uint32_t key_id;
    size_t mac_len;
};

#define Z4  "00000000"
#define Z12 Z4 Z4 Z4
#define Z16 Z12 Z4
#define Z24 Z16 Z4 Z4

static void layout_rules(void **state)
{
    (void)state;
    static const struct layout_case cases[] = {
        {"plain", 0x23, "", 0, NTK_PKT_OK, 0, NTK_PKT_AUTH_NONE, 0, 0},
        {"crypto-NAK", 0x24, Z4, 0, NTK_PKT_OK, 0, NTK_PKT_AUTH_NAK, 0, 0},
        {"key id alone", 0x24, "0000002a", 0, NTK_PKT_OK, 0, NTK_PKT_AUTH_NAK, 42, 0},
        {"MD5", 0x23, "00000001" Z16, 0, NTK_PKT_OK, 0, NTK_PKT_AUTH_MAC, 1, 16},
        {"SHA1", 0x23, "00000002" Z16 Z4, 0, NTK_PKT_OK, 0, NTK_PKT_AUTH_MAC, 2, 20},
        {"8 bytes", 0x23, Z4 Z4, NTK_EFORMAT, NTK_PKT_BAD_MAC_LENGTH, 0, 0, 0, 0},
        {"12 bytes (DES)", 0x23, Z12, NTK_EFORMAT, NTK_PKT_BAD_MAC_LENGTH, 0, 0, 0, 0},
        {"16 bytes", 0x23, Z16, NTK_EFORMAT, NTK_PKT_BAD_MAC_LENGTH, 0, 0, 0, 0},
        {"len 49", 0x23, "00", NTK_EFORMAT, NTK_PKT_BAD_LENGTH, 0, 0, 0, 0},
        {"len 51", 0x23, "000000", NTK_EFORMAT, NTK_PKT_BAD_LENGTH, 0, 0, 0, 0},
        {"EF 28, no MAC", 0x23, "1234001c" Z24, 0, NTK_PKT_OK, 1, NTK_PKT_AUTH_NONE, 0, 0},
        {"EF 16 + MD5", 0x23, "12340010" Z12 "00000005" Z16, 0, NTK_PKT_OK, 1,
         NTK_PKT_AUTH_MAC, 5, 16},
        {"EF 16 + EF 16 + SHA1", 0x23, "12340010" Z12 "56780010" Z12 "00000003" Z16 Z4, 0,
         NTK_PKT_OK, 2, NTK_PKT_AUTH_MAC, 3, 20},
        {"EF 28 + NAK", 0x23, "1234001c" Z24 Z4, 0, NTK_PKT_OK, 1, NTK_PKT_AUTH_NAK, 0, 0},
        /* 20 bytes left are a MAC, whatever they hold: an EF 16 + NAK cannot be told apart. */
        {"EF 16 + NAK = MAC", 0x23, "12340010" Z12 Z4, 0, NTK_PKT_OK, 0, NTK_PKT_AUTH_MAC,
         0x12340010, 16},
        /* RFC 7822: a MAC-less last field under 28 bytes is read as a would-be MAC. */
        {"EF 16 last", 0x23, "12340010" Z12, NTK_EFORMAT, NTK_PKT_BAD_MAC_LENGTH, 0, 0, 0, 0},
        {"EF 20 last = MAC", 0x23, "12340014" Z16, 0, NTK_PKT_OK, 0, NTK_PKT_AUTH_MAC,
         0x12340014, 16},
        {"EF 24 last = MAC", 0x23, "12340018" Z16 Z4, 0, NTK_PKT_OK, 0, NTK_PKT_AUTH_MAC,
         0x12340018, 20},
        {"EF length 12", 0x23, "1234000c" Z24, NTK_EFORMAT, NTK_PKT_BAD_EF, 0, 0, 0, 0},
        {"EF length 0", 0x23, Z4 Z24, NTK_EFORMAT, NTK_PKT_BAD_EF, 0, 0, 0, 0},
        {"EF length 30", 0x23, "1234001e" Z24, NTK_EFORMAT, NTK_PKT_BAD_EF, 0, 0, 0, 0},
        {"EF overruns", 0x23, "12340020" Z24, NTK_EFORMAT, NTK_PKT_BAD_EF, 0, 0, 0, 0},
        {"EF 28 + 8 left", 0x23, "1234001c" Z24 Z4 Z4, NTK_EFORMAT, NTK_PKT_BAD_MAC_LENGTH, 0,
         0, 0, 0},
        {"v3 + MD5", 0x1b, "00000007" Z16, 0, NTK_PKT_OK, 0, NTK_PKT_AUTH_MAC, 7, 16},
        {"v3 + EF", 0x1b, "1234001c" Z24, NTK_EFORMAT, NTK_PKT_BAD_MAC_LENGTH, 0, 0, 0, 0},
        {"v2 + NAK", 0x13, Z4, 0, NTK_PKT_OK, 0, NTK_PKT_AUTH_NAK, 0, 0},
        {"v1 mode 0", 0x08, "", 0, NTK_PKT_OK, 0, NTK_PKT_AUTH_NONE, 0, 0},
        {"v2 mode 0", 0x10, "", NTK_EFORMAT, NTK_PKT_BAD_MODE, 0, 0, 0, 0},
        {"v4 mode 0", 0x20, "", NTK_EFORMAT, NTK_PKT_BAD_MODE, 0, 0, 0, 0},
        {"v0", 0x03, "", NTK_EVERSION, NTK_PKT_BAD_VERSION, 0, 0, 0, 0},
        {"v5", 0x2b, "", NTK_EVERSION, NTK_PKT_BAD_VERSION, 0, 0, 0, 0},
        {"v7", 0x3c, "", NTK_EVERSION, NTK_PKT_BAD_VERSION, 0, 0, 0, 0},
        {"v5 len 49", 0x2b, "00", NTK_EVERSION, NTK_PKT_BAD_VERSION, 0, 0, 0, 0},
        {"mode 6", 0x26, "", NTK_EUNSUPP, NTK_PKT_MODE_CONTROL, 0, 0, 0, 0},
        {"mode 7", 0x27, Z4, NTK_EUNSUPP, NTK_PKT_MODE_PRIVATE, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct layout_case *c = &cases[i];
        uint8_t b[160];
        size_t n = build(b, sizeof b, c->first_byte, c->tail_hex);
        struct ntk_pkt p;
        struct ntk_pkt_layout l;
        enum ntk_pkt_reject why = NTK_PKT_REJECT_COUNT;
        print_message("%s\n", c->what);
        assert_int_equal(ntk_pkt_decode(b, n, &p, &l, &why), c->err);
        assert_int_equal(why, c->why);
        if (c->err != 0) {
            continue;
        }
        assert_int_equal(l.len, n);
        assert_int_equal(l.ef_count, c->ef_count);
        assert_int_equal(l.auth, c->auth);
        assert_int_equal(l.key_id, c->key_id);
        assert_int_equal(l.mac_len, c->mac_len);
        assert_int_equal(l.mac_off + l.mac_len, n);
        size_t tail = c->auth == NTK_PKT_AUTH_NONE ? 0 : NTK_PKT_KEYID_LEN + c->mac_len;
        assert_int_equal(l.ef_off + l.ef_len + tail, n);
    }
}

/* Every length 0..400 of a zero-filled v4 client packet gets the reason the rules predict. */
static void every_length_classified(void **state)
{
    (void)state;
    uint8_t b[400] = {0x23};
    for (size_t n = 0; n <= sizeof b; n++) {
        struct ntk_pkt p;
        enum ntk_pkt_reject why;
        int rc = ntk_pkt_decode(b, n, &p, NULL, &why);
        enum ntk_pkt_reject want;
        size_t rem = n - 48;
        if (n < 48) {
            want = NTK_PKT_TOO_SHORT;
        } else if (n % 4) {
            want = NTK_PKT_BAD_LENGTH;
        } else if (rem == 0 || rem == 4 || rem == 20 || rem == 24) {
            want = NTK_PKT_OK;
        } else if (rem < 24) {
            want = NTK_PKT_BAD_MAC_LENGTH;
        } else {
            want = NTK_PKT_BAD_EF; /* a zero Length field */
        }
        assert_int_equal(why, want);
        assert_int_equal(rc == 0, want == NTK_PKT_OK);
        if (n < 48) {
            assert_int_equal(rc, NTK_ETRUNC);
        }
    }
    /* Mode 6 and 7 are recognised from the first byte alone, at any length but 0. */
    b[0] = 0x16;
    for (size_t n = 0; n < 60; n++) {
        struct ntk_pkt p;
        enum ntk_pkt_reject why;
        int rc = ntk_pkt_decode(b, n, &p, NULL, &why);
        assert_int_equal(rc, n == 0 ? NTK_ETRUNC : NTK_EUNSUPP);
        assert_int_equal(why, n == 0 ? NTK_PKT_TOO_SHORT : NTK_PKT_MODE_CONTROL);
    }
    assert_int_equal(ntk_pkt_decode(NULL, 0, NULL, NULL, NULL), NTK_ETRUNC);
}

/* On failure nothing but *why is written. */
static void failure_leaves_outputs(void **state)
{
    (void)state;
    uint8_t b[52] = {0x2b}; /* version 5 */
    struct ntk_pkt p, p0;
    struct ntk_pkt_layout l, l0;
    memset(&p, 0x5a, sizeof p);
    memset(&l, 0xa5, sizeof l);
    p0 = p;
    l0 = l;
    enum ntk_pkt_reject why = NTK_PKT_OK;
    assert_int_equal(ntk_pkt_decode(b, sizeof b, &p, &l, &why), NTK_EVERSION);
    assert_int_equal(why, NTK_PKT_BAD_VERSION);
    assert_memory_equal(&p, &p0, sizeof p);
    assert_memory_equal(&l, &l0, sizeof l);
}

static struct ntk_pkt random_pkt(void)
{
    struct ntk_pkt p;
    uint64_t r = tu_rand();
    p.leap = (enum ntk_leap)(r & 3);
    p.version = (uint8_t)(1 + (r >> 2) % 4);
    p.mode = (enum ntk_mode)(1 + (r >> 8) % 5);
    p.stratum = (uint8_t)(r >> 16);
    p.poll_log2 = (int8_t)(r >> 24);
    p.precision_log2 = (int8_t)(r >> 32);
    p.root_delay = (ntk_short)tu_rand();
    p.root_disp = (ntk_short)tu_rand();
    p.refid = (uint32_t)tu_rand();
    p.reftime.v = tu_rand();
    p.org.v = tu_rand();
    p.rec.v = tu_rand();
    p.xmt.v = tu_rand();
    return p;
}

static void assert_pkt_equal(const struct ntk_pkt *a, const struct ntk_pkt *b)
{
    assert_int_equal(a->leap, b->leap);
    assert_int_equal(a->version, b->version);
    assert_int_equal(a->mode, b->mode);
    assert_int_equal(a->stratum, b->stratum);
    assert_int_equal(a->poll_log2, b->poll_log2);
    assert_int_equal(a->precision_log2, b->precision_log2);
    assert_int_equal(a->root_delay, b->root_delay);
    assert_int_equal(a->root_disp, b->root_disp);
    assert_int_equal(a->refid, b->refid);
    assert_true(a->reftime.v == b->reftime.v);
    assert_true(a->org.v == b->org.v);
    assert_true(a->rec.v == b->rec.v);
    assert_true(a->xmt.v == b->xmt.v);
}

/* decode(encode(x)) == x, encode(decode(bytes)) == bytes, and every truncation of the
 * encoded packet below 48 bytes is NTK_ETRUNC / NTK_PKT_TOO_SHORT. */
static void roundtrip_property(void **state)
{
    (void)state;
    tu_seed();
    for (int i = 0; i < 20000; i++) {
        struct ntk_pkt p = random_pkt(), q;
        uint8_t b[48], b2[48];
        struct ntk_wr w;
        ntk_wr_init(&w, b, sizeof b);
        assert_int_equal(ntk_pkt_encode(&w, &p), 0);
        assert_int_equal(ntk_wr_len(&w), 48);
        struct ntk_pkt_layout l;
        assert_int_equal(ntk_pkt_decode(b, sizeof b, &q, &l, NULL), 0);
        assert_pkt_equal(&p, &q);
        assert_int_equal(l.auth, NTK_PKT_AUTH_NONE);
        ntk_wr_init(&w, b2, sizeof b2);
        assert_int_equal(ntk_pkt_encode(&w, &q), 0);
        assert_memory_equal(b, b2, 48);

        for (size_t cut = 0; cut < 48; cut++) {
            enum ntk_pkt_reject why = NTK_PKT_OK;
            assert_int_equal(ntk_pkt_decode(b, cut, &q, NULL, &why), NTK_ETRUNC);
            assert_int_equal(why, NTK_PKT_TOO_SHORT);
        }
    }
}

/* Random bytes of random lengths: never a crash, and the layout of an accepted packet is
 * consistent and its fields walk cleanly. */
static void random_bytes_property(void **state)
{
    (void)state;
    tu_seed();
    int accepted = 0, with_fields = 0;
    for (int i = 0; i < 50000; i++) {
        uint8_t b[160];
        size_t n = (size_t)(tu_rand() % (sizeof b + 1));
        if (tu_rand() % 2) {
            n &= ~(size_t)3; /* most legal layouts are whole words */
        }
        tu_fill(b, n);
        if (n > 0 && tu_rand() % 2) {
            b[0] = (uint8_t)((b[0] & 0xc0) | 0x20 | (1 + tu_rand() % 5)); /* v4 mode 1-5 */
        }
        for (size_t k = 50; k + 1 < n; k += 16) {
            if (tu_rand() % 2) { /* plausible field lengths */
                b[k] = 0;
                b[k + 1] = (uint8_t)(16 + 4 * (tu_rand() % 4));
            }
        }
        struct ntk_pkt p;
        struct ntk_pkt_layout l;
        enum ntk_pkt_reject why;
        int rc = ntk_pkt_decode(b, n, &p, &l, &why);
        assert_int_equal(rc == 0, why == NTK_PKT_OK);
        assert_non_null(ntk_pkt_reject_name(why));
        if (rc != 0) {
            continue;
        }
        assert_int_equal(l.len, n);
        assert_true(l.ef_off + l.ef_len <= n);
        assert_int_equal(l.mac_off + l.mac_len, n);
        struct ntk_rd r;
        struct ntk_ef_iter it;
        struct ntk_ef ef;
        ntk_rd_init(&r, b + l.ef_off, l.ef_len);
        ntk_ef_iter_init(&it, &r, NTK_EF_MIN_LEN);
        unsigned count = 0;
        while (ntk_ef_next(&it, &ef) == 1) {
            count++;
        }
        assert_int_equal(ntk_ef_iter_err(&it), 0);
        assert_int_equal(count, l.ef_count);
        accepted++;
        with_fields += count > 0;
    }
    /* The generator must reach the interesting paths, or the property proves little. */
    print_message("accepted %d, with fields %d\n", accepted, with_fields);
    assert_true(accepted > 1000);
    assert_true(with_fields > 100);
}

static void encode_errors(void **state)
{
    (void)state;
    struct ntk_pkt p = {.leap = NTK_LEAP_UNSYNC, .version = 4, .mode = NTK_MODE_CLIENT};
    uint8_t b[60];
    memset(b, 0xcc, sizeof b);
    struct ntk_wr w;
    ntk_wr_init(&w, b, 47);
    assert_int_equal(ntk_pkt_encode(&w, &p), NTK_ENOSPC);
    assert_int_equal(ntk_wr_len(&w), 0);
    assert_int_equal(b[0], 0xcc);

    ntk_wr_init(&w, b, sizeof b);
    p.version = 8;
    assert_int_equal(ntk_pkt_encode(&w, &p), NTK_EINVAL);
    p.version = 4;
    p.mode = (enum ntk_mode)8;
    assert_int_equal(ntk_pkt_encode(&w, &p), NTK_EINVAL);
    p.mode = NTK_MODE_CLIENT;
    p.leap = (enum ntk_leap)4;
    assert_int_equal(ntk_pkt_encode(&w, &p), NTK_EINVAL);
    assert_int_equal(ntk_wr_len(&w), 0);
    assert_int_equal(ntk_wr_err(&w), 0);

    /* Versions 0 and 5-7 fit their bits: encodable, so tests can make bad packets. */
    p.leap = NTK_LEAP_UNSYNC;
    p.version = 5;
    assert_int_equal(ntk_pkt_encode(&w, &p), 0);
    assert_int_equal(b[0], 0xeb);
    assert_int_equal(ntk_pkt_decode(b, 48, &p, NULL, NULL), NTK_EVERSION);
}

static void encode_known_bytes(void **state)
{
    (void)state;
    uint8_t want[64], got[64];
    size_t n = unhex(chrony_reply, want, sizeof want);
    struct ntk_pkt p = {
        .leap = NTK_LEAP_NONE,
        .version = 4,
        .mode = NTK_MODE_SERVER,
        .stratum = 1,
        .poll_log2 = 0,
        .precision_log2 = -26,
        .refid = 0x7f7f0101,
        .reftime = {0xeeb22c87f454dfbcULL},
        .org = {0xeeb22c8972f5b000ULL},
        .rec = {0xeeb22c89730b9fa3ULL},
        .xmt = {0xeeb22c8973142994ULL},
    };
    struct ntk_wr w;
    ntk_wr_init(&w, got, sizeof got);
    assert_int_equal(ntk_pkt_encode(&w, &p), 0);
    assert_int_equal(ntk_wr_len(&w), n);
    assert_memory_equal(got, want, n);
}

static void peek_flags(void **state)
{
    (void)state;
    const uint8_t ctl[] = {0xd6, 0x02, 0x00, 0x01};
    enum ntk_leap leap = NTK_LEAP_NONE;
    uint8_t version = 0;
    enum ntk_mode mode = NTK_MODE_RESERVED;
    assert_int_equal(ntk_pkt_peek(ctl, sizeof ctl, &leap, &version, &mode), 0);
    assert_int_equal(leap, NTK_LEAP_UNSYNC);
    assert_int_equal(version, 2);
    assert_int_equal(mode, NTK_MODE_CONTROL);
    assert_int_equal(ntk_pkt_peek(ctl, 1, NULL, NULL, &mode), 0);
    assert_int_equal(ntk_pkt_peek(ctl, 0, &leap, &version, &mode), NTK_ETRUNC);
    assert_int_equal(ntk_pkt_peek(NULL, 0, NULL, NULL, NULL), NTK_ETRUNC);
}

struct kiss_case {
    enum ntk_mode mode;
    uint8_t stratum;
    uint32_t refid;
    enum ntk_kiss kiss;
    const char *code;
};

static void kiss_codes(void **state)
{
    (void)state;
    static const struct kiss_case cases[] = {
        {NTK_MODE_SERVER, 0, 0x52415445, NTK_KISS_RATE, "RATE"},
        {NTK_MODE_SERVER, 0, 0x44454e59, NTK_KISS_DENY, "DENY"},
        {NTK_MODE_SERVER, 0, 0x52535452, NTK_KISS_RSTR, "RSTR"},
        {NTK_MODE_SERVER, 0, 0x4e54534e, NTK_KISS_NTSN, "NTSN"},
        {NTK_MODE_SYM_PASSIVE, 0, 0x41435354, NTK_KISS_ACST, "ACST"},
        {NTK_MODE_SYM_ACTIVE, 0, 0x494e4954, NTK_KISS_INIT, "INIT"},
        {NTK_MODE_BROADCAST, 0, 0x53544550, NTK_KISS_STEP, "STEP"},
        {NTK_MODE_SERVER, 0, 0x41424344, NTK_KISS_UNKNOWN, "ABCD"},
        {NTK_MODE_SERVER, 0, 0x00ff4120, NTK_KISS_UNKNOWN, "??A "},
        {NTK_MODE_SERVER, 1, 0x52415445, NTK_KISS_NONE, NULL}, /* stratum 1: refid "RATE" */
        {NTK_MODE_CLIENT, 0, 0x52415445, NTK_KISS_NONE, NULL}, /* a request is never KoD */
        {NTK_MODE_CONTROL, 0, 0x52415445, NTK_KISS_NONE, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ntk_pkt p = {.version = 4,
                            .mode = cases[i].mode,
                            .stratum = cases[i].stratum,
                            .refid = cases[i].refid};
        char code[5] = "zzzz";
        assert_int_equal(ntk_pkt_kiss(&p), cases[i].kiss);
        assert_int_equal(ntk_pkt_is_kod(&p), cases[i].code != NULL);
        assert_int_equal(ntk_pkt_kiss_code(&p, code), cases[i].code != NULL);
        assert_string_equal(code, cases[i].code ? cases[i].code : "zzzz");
    }
    assert_string_equal(ntk_kiss_name(NTK_KISS_RATE), "RATE");
    assert_string_equal(ntk_kiss_name(NTK_KISS_ACST), "ACST");
    assert_string_equal(ntk_kiss_name(NTK_KISS_STEP), "STEP");
    assert_string_equal(ntk_kiss_name(NTK_KISS_NONE), "none");
    assert_string_equal(ntk_kiss_name(NTK_KISS_UNKNOWN), "unknown");
    assert_string_equal(ntk_kiss_name((enum ntk_kiss)99), "unknown");
    /* Every named code maps back to its enum value. */
    for (int k = NTK_KISS_ACST; k <= NTK_KISS_STEP; k++) {
        const char *s = ntk_kiss_name((enum ntk_kiss)k);
        struct ntk_pkt p = {.version = 4, .mode = NTK_MODE_SERVER};
        p.refid = (uint32_t)(uint8_t)s[0] << 24 | (uint32_t)(uint8_t)s[1] << 16 |
                  (uint32_t)(uint8_t)s[2] << 8 | (uint8_t)s[3];
        assert_int_equal(ntk_pkt_kiss(&p), k);
    }
}

static void reject_names(void **state)
{
    (void)state;
    static const char *const want[NTK_PKT_REJECT_COUNT] = {
        "ok",           "too_short",    "bad_length", "bad_version",    "bad_mode",
        "mode_control", "mode_private", "bad_ef",     "bad_mac_length",
    };
    for (int i = 0; i < NTK_PKT_REJECT_COUNT; i++) {
        assert_string_equal(ntk_pkt_reject_name((enum ntk_pkt_reject)i), want[i]);
    }
    assert_string_equal(ntk_pkt_reject_name(NTK_PKT_REJECT_COUNT), "unknown");
    assert_string_equal(ntk_pkt_reject_name((enum ntk_pkt_reject) - 1), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_chrony_reply),
        cmocka_unit_test(decode_sha1_mac),
        cmocka_unit_test(decode_nts_nak),
        cmocka_unit_test(layout_rules),
        cmocka_unit_test(every_length_classified),
        cmocka_unit_test(failure_leaves_outputs),
        cmocka_unit_test(roundtrip_property),
        cmocka_unit_test(random_bytes_property),
        cmocka_unit_test(encode_errors),
        cmocka_unit_test(encode_known_bytes),
        cmocka_unit_test(peek_flags),
        cmocka_unit_test(kiss_codes),
        cmocka_unit_test(reject_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
