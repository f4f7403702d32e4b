/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/ctl.c: mode-6 header codec, padding and MAC layouts, status words,
 * fragmenting and reassembly (table cases and seeded properties). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ntk/ctl.h"
#include "ntk/err.h"
#include "ntk/mac.h"
#include "testutil.h"

#include "poison.h"

/* The keys of tests/data/symkey.keys: 1 MD5, 2 SHA1, 3 AES-128-CMAC. */
static struct ntk_mac_keys *test_keys(void)
{
    struct ntk_mac_key k[3] = {
        {.keyid = 1, .type = NTK_MAC_MD5, .secret_len = 13},
        {.keyid = 2, .type = NTK_MAC_SHA1, .secret_len = 20},
        {.keyid = 3, .type = NTK_MAC_AES128_CMAC, .secret_len = 16},
    };
    memcpy(k[0].secret, "AnchorsMD5Key", 13);
    assert_int_equal(tu_unhex("8bb9956fb1c117e638fb115ea395d8b08105ee68", k[1].secret, 20),
                     20);
    assert_int_equal(tu_unhex("2450c2ae8f928858877f1b7bf8f6af79", k[2].secret, 16), 16);
    struct ntk_mac_keys *ks = NULL;
    assert_int_equal(ntk_mac_keys_new(k, 3, &ks), NTK_OK);
    ntk_mac_key_wipe(k, 3);
    return ks;
}

static struct ntk_ctl_hdr response_hdr(uint8_t opcode, uint16_t seq)
{
    struct ntk_ctl_hdr h = {.version = 2, .response = true, .opcode = opcode, .sequence = seq};
    return h;
}

/* ---- decode: table ------------------------------------------------------------------ */

static void decode_ntpq_request(void **state)
{
    (void)state;
    uint8_t p[12];
    assert_int_equal(tu_unhex("d60200010000000000000000", p, sizeof p), 12);
    struct ntk_ctl_msg m;
    assert_int_equal(ntk_ctl_decode(p, 12, &m), NTK_OK);
    assert_int_equal(m.hdr.leap, 3);
    assert_int_equal(m.hdr.version, 2);
    assert_false(m.hdr.response);
    assert_false(m.hdr.error);
    assert_false(m.hdr.more);
    assert_int_equal(m.hdr.opcode, NTK_CTL_OP_READVAR);
    assert_int_equal(m.hdr.sequence, 1);
    assert_int_equal(m.hdr.count, 0);
    assert_false(m.has_mac);
    assert_int_equal(m.len, 12);
}

/* The READSTAT response of the capture (frame 4): 2 associations. */
static void decode_readstat_response(void **state)
{
    (void)state;
    uint8_t p[20];
    assert_int_equal(tu_unhex("1681000200160000000000084568801b4567b014", p, sizeof p), 20);
    struct ntk_ctl_msg m;
    assert_int_equal(ntk_ctl_decode(p, 20, &m), NTK_OK);
    assert_true(m.hdr.response);
    assert_int_equal(m.hdr.opcode, NTK_CTL_OP_READSTAT);
    assert_int_equal(m.hdr.status, 0x0016);
    assert_int_equal(m.hdr.count, 8);
    size_t pos = 0;
    uint16_t id, st;
    assert_int_equal(ntk_ctl_assoc_next(m.data, m.hdr.count, &pos, &id, &st), 1);
    assert_int_equal(id, 17768);
    assert_int_equal(st, 0x801b);
    assert_int_equal(ntk_ctl_assoc_next(m.data, m.hdr.count, &pos, &id, &st), 1);
    assert_int_equal(id, 17767);
    assert_int_equal(st, 0xb014);
    assert_int_equal(ntk_ctl_assoc_next(m.data, m.hdr.count, &pos, &id, &st), 0);
    pos = 0;
    assert_int_equal(ntk_ctl_assoc_next(m.data, 6, &pos, &id, &st), 1);
    assert_int_equal(ntk_ctl_assoc_next(m.data, 6, &pos, &id, &st), NTK_ETRUNC);
}

/* One malformed datagram: hex and the exact error. */
struct bad_case {
    const char *hex;
    int err;
    const char *why;
};

static void decode_rejects(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"", NTK_ETRUNC, "empty"},
        {"d6020001000000000000", NTK_ETRUNC, "10 bytes"},
        {"d60200010000000000000000"
         "00",
         NTK_ETRUNC, "13 bytes: a 1-byte trailer is no MAC"},
        {"d30200010000000000000000", NTK_EFORMAT, "mode 3"},
        {"c60200010000000000000000", NTK_EVERSION, "version 0"},
        {"ee0200010000000000000000", NTK_EVERSION, "version 5"},
        {"d60200010000000000000004", NTK_ETRUNC, "count 4, no data"},
        {"d60200010000000000000003616263", NTK_ETRUNC, "count 3 unpadded"},
        {"d602000100000000000001d5", NTK_EFORMAT, "count 469"},
        {"d62200010000000000000004"
         "61626364",
         NTK_EFORMAT, "request with M"},
        {"d64200010000000000000000", NTK_EFORMAT, "request with E"},
        {"d60200010000000000040000", NTK_EFORMAT, "request with an offset"},
        {"16e200010100000000000000", NTK_EFORMAT, "error response with M"},
        {"16a200010000000000000000", NTK_EFORMAT, "M with count 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t p[64];
        int n = tu_unhex(cases[i].hex, p, sizeof p);
        assert_true(n >= 0);
        struct ntk_ctl_msg m;
        memset(&m, 0x5a, sizeof m);
        int rc = ntk_ctl_decode(p, (size_t)n, &m);
        if (rc != cases[i].err) {
            fail_msg("%s: got %d want %d", cases[i].why, rc, cases[i].err);
        }
        assert_int_equal(m.hdr.count, 0x5a5a); /* out untouched */
    }
}

/* Valid lengths for count 0: 12 (no MAC), 32/36 (key id at 12: 16/20-byte MAC), 36/40 (key
 * id at 16). Everything else up to 48 is ETRUNC, beyond 40 EFORMAT. */
static void decode_trailer_lengths(void **state)
{
    (void)state;
    uint8_t p[64] = {0x16, 0x82, 0, 1};
    for (size_t len = 12; len <= 48; len++) {
        struct ntk_ctl_msg m;
        int rc = ntk_ctl_decode(p, len, &m);
        bool valid = len == 12 || len == 32 || len == 36 || len == 40;
        int want = valid ? NTK_OK : len > 40 ? NTK_EFORMAT : NTK_ETRUNC;
        assert_int_equal(rc, want);
        if (valid) {
            assert_int_equal(m.has_mac, len != 12);
        }
    }
}

/* ---- encode ------------------------------------------------------------------------- */

static void encode_pads_and_rejects(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = test_keys();
    struct ntk_ctl_hdr h = {
        .leap = 3, .version = 2, .opcode = NTK_CTL_OP_READVAR, .sequence = 7, .count = 5};
    uint8_t out[NTK_CTL_DATAGRAM_MAX];
    memset(out, 0xee, sizeof out);
    assert_int_equal(ntk_ctl_encode(&h, (const uint8_t *)"abcde", NULL, 0, out, sizeof out),
                     20);
    uint8_t want[20];
    assert_int_equal(tu_unhex("d602000700000000000000056162636465000000", want, 20), 20);
    assert_memory_equal(out, want, 20);
    assert_int_equal(out[20], 0xee);
    /* With a MAC: padded to 24 (8-multiple), key id, 16-byte MD5. */
    assert_int_equal(ntk_ctl_encode(&h, (const uint8_t *)"abcde", ks, 1, out, sizeof out),
                     24 + 4 + 16);
    assert_memory_equal(out, want, 20);
    assert_int_equal(out[20] | out[21] | out[22] | out[23], 0);
    assert_int_equal(out[27], 1);
    assert_int_equal(ntk_ctl_encode(&h, (const uint8_t *)"abcde", ks, 1, out, 43), NTK_ENOSPC);
    assert_int_equal(ntk_ctl_encode(&h, (const uint8_t *)"abcde", ks, 9, out, sizeof out),
                     NTK_ENOTFOUND);
    assert_int_equal(ntk_ctl_encode(&h, (const uint8_t *)"abcde", NULL, 1, out, sizeof out),
                     NTK_EINVAL);
    struct ntk_ctl_hdr bad[6];
    for (size_t i = 0; i < 6; i++) {
        bad[i] = h;
    }
    bad[0].version = 0;
    bad[1].opcode = 32;
    bad[2].count = 469;
    bad[3].more = true;
    bad[4].offset = 4;
    bad[5].response = bad[5].error = bad[5].more = true;
    static uint8_t big[NTK_CTL_DATA_MAX + 1];
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(ntk_ctl_encode(&bad[i], big, NULL, 0, out, sizeof out), NTK_EINVAL);
    }
    ntk_mac_keys_free(ks);
}

static struct ntk_ctl_hdr random_hdr(void)
{
    struct ntk_ctl_hdr h;
    memset(&h, 0, sizeof h);
    h.leap = (uint8_t)(tu_rand() & 3);
    h.version = (uint8_t)(1 + tu_rand() % 4);
    h.opcode = (uint8_t)(tu_rand() & 31);
    h.sequence = (uint16_t)tu_rand();
    h.status = (uint16_t)tu_rand();
    h.associd = (uint16_t)tu_rand();
    h.count = (uint16_t)(tu_rand() % (NTK_CTL_DATA_MAX + 1));
    h.response = tu_rand() & 1;
    if (h.response) {
        h.offset = (uint16_t)tu_rand();
        h.more = h.count > 0 && (tu_rand() & 1);
        h.error = !h.more && (tu_rand() % 4 == 0);
    }
    return h;
}

static void assert_hdr_equal(const struct ntk_ctl_hdr *a, const struct ntk_ctl_hdr *b)
{
    assert_int_equal(a->leap, b->leap);
    assert_int_equal(a->version, b->version);
    assert_int_equal(a->response, b->response);
    assert_int_equal(a->error, b->error);
    assert_int_equal(a->more, b->more);
    assert_int_equal(a->opcode, b->opcode);
    assert_int_equal(a->sequence, b->sequence);
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->associd, b->associd);
    assert_int_equal(a->offset, b->offset);
    assert_int_equal(a->count, b->count);
}

/* encode -> decode gives the header and data back; with a key the MAC verifies and names
 * the key; every truncation fails with the exact error. */
static void encode_decode_roundtrip(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = test_keys();
    tu_seed();
    for (int iter = 0; iter < 3000; iter++) {
        struct ntk_ctl_hdr h = random_hdr();
        uint8_t data[NTK_CTL_DATA_MAX], out[NTK_CTL_DATAGRAM_MAX];
        tu_fill(data, h.count);
        uint32_t keyid = (uint32_t)(tu_rand() % 4);
        int n = ntk_ctl_encode(&h, data, ks, keyid, out, sizeof out);
        assert_true(n >= NTK_CTL_HEADER_LEN);
        struct ntk_ctl_msg m;
        assert_int_equal(ntk_ctl_decode(out, (size_t)n, &m), NTK_OK);
        assert_hdr_equal(&m.hdr, &h);
        assert_memory_equal(m.data, data, h.count);
        assert_int_equal(m.has_mac, keyid != 0);
        uint32_t got = 0;
        assert_int_equal(ntk_ctl_verify(ks, out, (size_t)n, &m, &got),
                         keyid ? NTK_OK : NTK_EAUTH);
        assert_int_equal(got, keyid);
        size_t p4 = (NTK_CTL_HEADER_LEN + h.count + 3) / 4 * 4;
        for (size_t cut = 0; cut < (size_t)n; cut++) {
            int rc = ntk_ctl_decode(out, cut, &m);
            if (cut < p4 || keyid == 0) {
                assert_int_equal(rc, NTK_ETRUNC);
            } else if (cut == p4) {
                /* The MAC stripped off: a valid unauthenticated datagram. */
                assert_int_equal(rc, NTK_OK);
                assert_false(m.has_mac);
            } else if (rc == NTK_OK) {
                /* A shorter MAC layout: it never verifies. */
                assert_true(m.has_mac);
                assert_int_not_equal(ntk_ctl_verify(ks, out, cut, &m, NULL), NTK_OK);
            } else {
                assert_int_equal(rc, NTK_ETRUNC);
            }
        }
    }
    ntk_mac_keys_free(ks);
}

/* Every single-bit flip of an authenticated datagram is caught, for each key type. */
static void mac_bit_flips_fail(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = test_keys();
    for (uint32_t keyid = 1; keyid <= 3; keyid++) {
        struct ntk_ctl_hdr h = response_hdr(NTK_CTL_OP_READ_ORDLIST_A, 1);
        h.count = 125;
        uint8_t data[125], out[NTK_CTL_DATAGRAM_MAX];
        memset(data, 'x', sizeof data);
        int n = ntk_ctl_encode(&h, data, ks, keyid, out, sizeof out);
        assert_int_equal(n, 144 + 4 + (keyid == 2 ? 20 : 16));
        struct ntk_ctl_msg m;
        assert_int_equal(ntk_ctl_decode(out, (size_t)n, &m), NTK_OK);
        assert_int_equal(ntk_ctl_verify(ks, out, (size_t)n, &m, NULL), NTK_OK);
        for (size_t bit = 0; bit < (size_t)n * 8; bit++) {
            out[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            if (ntk_ctl_decode(out, (size_t)n, &m) == NTK_OK) {
                assert_int_not_equal(ntk_ctl_verify(ks, out, (size_t)n, &m, NULL), NTK_OK);
            }
            out[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
    }
    ntk_mac_keys_free(ks);
}

/* NTPsec's error responses carry the MAC right after the 12-byte header (P4), where P8
 * would be 16: with 36 bytes both "SHA1 at 12" and "MD5/AES at 16" fit the length. */
static void mac_layout_p4(void **state)
{
    (void)state;
    struct ntk_mac_keys *ks = test_keys();
    uint8_t p[36] = {0x16, 0xcb, 0x00, 0x01, 0x01, 0x00};
    p[15] = 2;
    assert_int_equal(ntk_mac_compute(ks, 2, p, 12, p + 16, 20), 20);
    struct ntk_ctl_msg m;
    assert_int_equal(ntk_ctl_decode(p, 36, &m), NTK_OK);
    assert_true(m.has_mac);
    assert_true(m.hdr.error);
    uint32_t keyid = 0;
    assert_int_equal(ntk_ctl_verify(ks, p, 36, &m, &keyid), NTK_OK);
    assert_int_equal(keyid, 2);
    p[30] ^= 1;
    assert_int_equal(ntk_ctl_verify(ks, p, 36, &m, &keyid), NTK_EAUTH);
    /* An unknown key id at both places. */
    p[15] = 9;
    assert_int_equal(ntk_ctl_verify(ks, p, 36, &m, NULL), NTK_ENOTFOUND);
    /* Key 1 (MD5, 16 bytes) at P4 leaves 20 bytes: its length fits no layout. */
    p[15] = 1;
    assert_int_equal(ntk_ctl_verify(ks, p, 36, &m, NULL), NTK_EAUTH);
    assert_int_equal(ntk_ctl_verify(NULL, p, 36, &m, NULL), NTK_EAUTH);
    ntk_mac_keys_free(ks);
}

/* ---- status words ------------------------------------------------------------------- */

static void status_words(void **state)
{
    (void)state;
    struct ntk_ctl_sys_status s;
    ntk_ctl_sys_status_unpack(0x0016, &s);
    assert_int_equal(s.leap, 0);
    assert_int_equal(s.source, 0);
    assert_int_equal(s.nevents, 1);
    assert_int_equal(s.event, 6);
    ntk_ctl_sys_status_unpack(0xc6a3, &s);
    assert_int_equal(s.leap, 3);
    assert_int_equal(s.source, NTK_CTL_SRC_NTP);
    assert_int_equal(s.nevents, 10);
    assert_int_equal(s.event, 3);
    struct ntk_ctl_peer_status p;
    ntk_ctl_peer_status_unpack(0xb014, &p);
    assert_int_equal(p.flags, NTK_CTL_PST_CONFIG | NTK_CTL_PST_AUTHENTIC | NTK_CTL_PST_REACH);
    assert_int_equal(p.sel, NTK_CTL_SEL_REJECT);
    assert_int_equal(p.nevents, 1);
    assert_int_equal(p.event, 4);
    ntk_ctl_peer_status_unpack(0x961a, &p);
    assert_int_equal(p.flags, NTK_CTL_PST_CONFIG | NTK_CTL_PST_REACH);
    assert_int_equal(p.sel, NTK_CTL_SEL_SYSPEER);
    for (uint32_t w = 0; w <= 0xffff; w++) {
        ntk_ctl_sys_status_unpack((uint16_t)w, &s);
        assert_int_equal(ntk_ctl_sys_status_pack(&s), w);
        ntk_ctl_peer_status_unpack((uint16_t)w, &p);
        assert_int_equal(ntk_ctl_peer_status_pack(&p), w);
    }
    struct ntk_ctl_sys_status big = {
        .leap = 7, .source = 0xff, .nevents = 0x1f, .event = 0x1f};
    assert_int_equal(ntk_ctl_sys_status_pack(&big), 0xffff);
    assert_int_equal(ntk_ctl_clk_status_pack(NTK_CTL_CLK_NOREPLY, 0x11), 0x0111);
    assert_int_equal(ntk_ctl_err_status(NTK_CTL_CERR_PERMISSION), 0x0100);
    assert_int_equal(ntk_ctl_err_code(0x0700), NTK_CTL_CERR_RESTRICT);
    assert_string_equal(ntk_ctl_err_name(NTK_CTL_CERR_UNKNOWNVAR), "unknown variable");
    assert_string_equal(ntk_ctl_err_name(200), "unknown error");
    assert_int_equal(NTK_CTL_OP_READ_MRU, 10);
    assert_int_equal(NTK_CTL_OP_UNSETTRAP, 31);
    assert_int_equal(NTK_CTL_CERR_BADVALUE, 6);
}

/* ---- split / reassemble ------------------------------------------------------------- */

/* Up to NTK_CTL_FRAGS_MAX datagrams of one response, plus room for duplicates. */
struct datagrams {
    uint8_t b[2 * NTK_CTL_FRAGS_MAX][NTK_CTL_DATAGRAM_MAX];
    size_t len[2 * NTK_CTL_FRAGS_MAX];
    size_t n;
};

static void split_all(struct datagrams *d, const uint8_t *data, size_t len, size_t frag_max,
                      struct ntk_mac_keys *ks, uint32_t keyid)
{
    struct ntk_ctl_split s;
    struct ntk_ctl_hdr h = response_hdr(NTK_CTL_OP_READ_MRU, 0x1234);
    h.status = 0x0615;
    assert_int_equal(ntk_ctl_split_init(&s, &h, data, len, frag_max), NTK_OK);
    d->n = 0;
    int n;
    while ((n = ntk_ctl_split_next(&s, ks, keyid, d->b[d->n], NTK_CTL_DATAGRAM_MAX)) > 0) {
        d->len[d->n++] = (size_t)n;
        assert_true(d->n <= NTK_CTL_FRAGS_MAX);
    }
    assert_int_equal(n, 0);
    assert_int_equal(ntk_ctl_split_next(&s, ks, keyid, d->b[0], NTK_CTL_DATAGRAM_MAX), 0);
}

static void split_table(void **state)
{
    (void)state;
    static struct datagrams d;
    static uint8_t data[NTK_CTL_REASM_MAX + 1];
    memset(data, 'a', sizeof data);
    struct ntk_ctl_msg m;
    split_all(&d, data, 0, NTK_CTL_DATA_MAX, NULL, 0);
    assert_int_equal(d.n, 1);
    assert_int_equal(ntk_ctl_decode(d.b[0], d.len[0], &m), NTK_OK);
    assert_false(m.hdr.more);
    assert_int_equal(m.hdr.count, 0);
    split_all(&d, data, 469, NTK_CTL_DATA_MAX, NULL, 0);
    assert_int_equal(d.n, 2);
    assert_int_equal(ntk_ctl_decode(d.b[0], d.len[0], &m), NTK_OK);
    assert_true(m.hdr.more);
    assert_int_equal(m.hdr.count, 468);
    assert_int_equal(m.hdr.offset, 0);
    assert_int_equal(m.hdr.status, 0x0615);
    assert_int_equal(ntk_ctl_decode(d.b[1], d.len[1], &m), NTK_OK);
    assert_false(m.hdr.more);
    assert_int_equal(m.hdr.count, 1);
    assert_int_equal(m.hdr.offset, 468);
    split_all(&d, data, NTK_CTL_REASM_MAX, NTK_CTL_DATA_MAX, NULL, 0);
    assert_int_equal(d.n, NTK_CTL_FRAGS_MAX);
    struct ntk_ctl_split s;
    struct ntk_ctl_hdr h = response_hdr(NTK_CTL_OP_READVAR, 1);
    assert_int_equal(ntk_ctl_split_init(&s, &h, data, NTK_CTL_REASM_MAX + 1, 468), NTK_ERANGE);
    assert_int_equal(ntk_ctl_split_init(&s, &h, data, 129, 1), NTK_ERANGE);
    assert_int_equal(ntk_ctl_split_init(&s, &h, data, 10, 0), NTK_EINVAL);
    assert_int_equal(ntk_ctl_split_init(&s, &h, data, 10, 469), NTK_EINVAL);
    h.response = false;
    assert_int_equal(ntk_ctl_split_init(&s, &h, data, 10, 468), NTK_EINVAL);
    /* A failing datagram does not advance the split. */
    h.response = true;
    assert_int_equal(ntk_ctl_split_init(&s, &h, data, 10, 468), NTK_OK);
    uint8_t small[16];
    assert_int_equal(ntk_ctl_split_next(&s, NULL, 0, small, sizeof small), NTK_ENOSPC);
    assert_int_equal(ntk_ctl_split_next(&s, NULL, 0, d.b[0], NTK_CTL_DATAGRAM_MAX), 24);
}

static int feed_bytes(struct ntk_ctl_reasm *r, const uint8_t *p, size_t len)
{
    struct ntk_ctl_msg m;
    assert_int_equal(ntk_ctl_decode(p, len, &m), NTK_OK);
    return ntk_ctl_reasm_feed(r, &m);
}

/* Weighted sizes: small, around fragment boundaries, and up to the cap. */
static size_t random_size(void)
{
    switch (tu_rand() % 4) {
    case 0:
        return (size_t)(tu_rand() % 1000);
    case 1:
        return (size_t)((1 + tu_rand() % 20) * NTK_CTL_DATA_MAX + tu_rand() % 3 - 1);
    default:
        return (size_t)(tu_rand() % (NTK_CTL_REASM_MAX + 1));
    }
}

/* build -> split -> shuffle (+ duplicates) -> reassemble == original. */
static void reassemble_shuffled(void **state)
{
    (void)state;
    static struct datagrams d;
    static uint8_t data[NTK_CTL_REASM_MAX], buf[NTK_CTL_REASM_MAX];
    struct ntk_mac_keys *ks = test_keys();
    tu_seed();
    for (int iter = 0; iter < 300; iter++) {
        size_t len = random_size();
        size_t frag_max = tu_rand() % 2 ? NTK_CTL_DATA_MAX : 1 + tu_rand() % NTK_CTL_DATA_MAX;
        if ((len + frag_max - 1) / frag_max > NTK_CTL_FRAGS_MAX) {
            frag_max = NTK_CTL_DATA_MAX;
        }
        tu_fill(data, len);
        uint32_t keyid = (uint32_t)(tu_rand() % 4);
        split_all(&d, data, len, frag_max, ks, keyid);
        size_t frags = d.n;
        /* Duplicates of random fragments, then a Fisher-Yates shuffle. */
        size_t dups = (size_t)(tu_rand() % 4);
        for (size_t i = 0; i < dups; i++) {
            size_t k = (size_t)(tu_rand() % frags);
            memcpy(d.b[d.n], d.b[k], d.len[k]);
            d.len[d.n++] = d.len[k];
        }
        for (size_t i = d.n - 1; i > 0; i--) {
            size_t j = (size_t)(tu_rand() % (i + 1));
            uint8_t tmp[NTK_CTL_DATAGRAM_MAX];
            size_t tl = d.len[i];
            memcpy(tmp, d.b[i], tl);
            memcpy(d.b[i], d.b[j], d.len[j]);
            d.len[i] = d.len[j];
            memcpy(d.b[j], tmp, tl);
            d.len[j] = tl;
        }
        struct ntk_ctl_reasm r;
        ntk_ctl_reasm_init(&r, buf, sizeof buf, NTK_CTL_OP_READ_MRU, 0x1234);
        size_t stored = 0;
        for (size_t i = 0; i < d.n; i++) {
            struct ntk_ctl_msg m;
            assert_int_equal(ntk_ctl_decode(d.b[i], d.len[i], &m), NTK_OK);
            if (keyid) {
                assert_int_equal(ntk_ctl_verify(ks, d.b[i], d.len[i], &m, NULL), NTK_OK);
            }
            int rc = ntk_ctl_reasm_feed(&r, &m);
            if (rc == NTK_CTL_FEED_DUP) {
                continue;
            }
            stored++;
            assert_int_equal(rc, stored == frags ? NTK_CTL_FEED_DONE : NTK_CTL_FEED_MORE);
        }
        assert_int_equal(stored, frags);
        assert_true(ntk_ctl_reasm_done(&r));
        size_t got_len;
        const uint8_t *got = ntk_ctl_reasm_data(&r, &got_len);
        assert_int_equal(got_len, len);
        assert_memory_equal(got, data, len);
        assert_int_equal(ntk_ctl_reasm_error(&r), -1);
        assert_int_equal(r.status, 0x0615);
    }
    ntk_mac_keys_free(ks);
}

/* Encodes a response fragment (opcode READVAR, sequence 5, associd 9) of count bytes of
 * 'a' + offset at offset. */
static size_t frag(uint8_t *out, uint16_t off, uint16_t count, bool more)
{
    struct ntk_ctl_hdr h = response_hdr(NTK_CTL_OP_READVAR, 5);
    h.associd = 9;
    h.offset = off;
    h.count = count;
    h.more = more;
    uint8_t data[NTK_CTL_DATA_MAX];
    for (size_t i = 0; i < count; i++) {
        data[i] = (uint8_t)('a' + (off + i) % 26);
    }
    int n = ntk_ctl_encode(&h, data, NULL, 0, out, NTK_CTL_DATAGRAM_MAX);
    assert_true(n > 0);
    return (size_t)n;
}

static void reassemble_rejects(void **state)
{
    (void)state;
    static uint8_t buf[NTK_CTL_REASM_MAX];
    uint8_t p[NTK_CTL_DATAGRAM_MAX];
    struct ntk_ctl_reasm r;
    ntk_ctl_reasm_init(&r, buf, sizeof buf, NTK_CTL_OP_READVAR, 5);
    assert_null(ntk_ctl_reasm_data(&r, &(size_t){1}));
    assert_int_equal(feed_bytes(&r, p, frag(p, 100, 100, true)), NTK_CTL_FEED_MORE);
    /* Overlaps with [100, 200) from either side, or the same offset with another length. */
    assert_int_equal(feed_bytes(&r, p, frag(p, 50, 51, true)), NTK_EFORMAT);
    assert_int_equal(feed_bytes(&r, p, frag(p, 199, 10, true)), NTK_EFORMAT);
    assert_int_equal(feed_bytes(&r, p, frag(p, 100, 99, true)), NTK_EFORMAT);
    assert_int_equal(feed_bytes(&r, p, frag(p, 120, 10, true)), NTK_EFORMAT);
    /* The same extent with other bytes is inconsistent; the same bytes a duplicate. */
    size_t n = frag(p, 100, 100, true);
    assert_int_equal(feed_bytes(&r, p, n), NTK_CTL_FEED_DUP);
    p[20] ^= 1;
    assert_int_equal(feed_bytes(&r, p, n), NTK_EFORMAT);
    /* A last fragment ending before a stored one. */
    assert_int_equal(feed_bytes(&r, p, frag(p, 0, 50, false)), NTK_EFORMAT);
    /* Not this exchange: other sequence, opcode, a request, another association. */
    n = frag(p, 0, 100, true);
    p[3] = 6;
    assert_int_equal(feed_bytes(&r, p, n), NTK_ENOTFOUND);
    p[3] = 5;
    p[1] = 0x80 | 0x20 | NTK_CTL_OP_READSTAT;
    assert_int_equal(feed_bytes(&r, p, n), NTK_ENOTFOUND);
    p[1] = 0x20 | NTK_CTL_OP_READVAR; /* a request with M does not even decode */
    struct ntk_ctl_msg m;
    assert_int_equal(ntk_ctl_decode(p, n, &m), NTK_EFORMAT);
    n = frag(p, 0, 100, true);
    p[7] = 10;
    assert_int_equal(feed_bytes(&r, p, n), NTK_ENOTFOUND);
    /* Now the last fragment [300, 310) and the gap [0, 100) [200, 300). */
    assert_int_equal(feed_bytes(&r, p, frag(p, 300, 10, false)), NTK_CTL_FEED_MORE);
    assert_int_equal(feed_bytes(&r, p, frag(p, 300, 10, true)), NTK_EFORMAT);
    assert_int_equal(feed_bytes(&r, p, frag(p, 300, 12, false)), NTK_EFORMAT);
    assert_int_equal(feed_bytes(&r, p, frag(p, 310, 10, true)), NTK_EFORMAT);
    assert_int_equal(feed_bytes(&r, p, frag(p, 0, 5, false)), NTK_EFORMAT);
    assert_int_equal(feed_bytes(&r, p, frag(p, 0, 100, true)), NTK_CTL_FEED_MORE);
    assert_false(ntk_ctl_reasm_done(&r));
    assert_int_equal(feed_bytes(&r, p, frag(p, 200, 100, true)), NTK_CTL_FEED_DONE);
    assert_int_equal(feed_bytes(&r, p, frag(p, 300, 10, false)), NTK_CTL_FEED_DUP);
    size_t len;
    const uint8_t *got = ntk_ctl_reasm_data(&r, &len);
    assert_int_equal(len, 310);
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(got[i], 'a' + i % 26);
    }
}

static void reassemble_caps(void **state)
{
    (void)state;
    static uint8_t buf[NTK_CTL_REASM_MAX + 100];
    uint8_t p[NTK_CTL_DATAGRAM_MAX];
    struct ntk_ctl_reasm r;
    /* A small buffer caps the total. */
    ntk_ctl_reasm_init(&r, buf, 1000, NTK_CTL_OP_READVAR, 5);
    assert_int_equal(feed_bytes(&r, p, frag(p, 600, 401, false)), NTK_ERANGE);
    assert_int_equal(feed_bytes(&r, p, frag(p, 600, 400, false)), NTK_CTL_FEED_MORE);
    /* A big one is still capped at NTK_CTL_REASM_MAX. */
    ntk_ctl_reasm_init(&r, buf, sizeof buf, NTK_CTL_OP_READVAR, 5);
    assert_int_equal(feed_bytes(&r, p, frag(p, NTK_CTL_REASM_MAX - 10, 11, true)), NTK_ERANGE);
    /* At most NTK_CTL_FRAGS_MAX fragments. */
    for (uint16_t i = 0; i < NTK_CTL_FRAGS_MAX; i++) {
        assert_int_equal(feed_bytes(&r, p, frag(p, i, 1, true)), NTK_CTL_FEED_MORE);
    }
    assert_int_equal(feed_bytes(&r, p, frag(p, NTK_CTL_FRAGS_MAX, 1, false)), NTK_ERANGE);
    assert_int_equal(r.nfrags, NTK_CTL_FRAGS_MAX);
}

/* NTPsec may end with an empty last fragment after a full one (ctl_putdata flushes a full
 * datagram with M, then ctl_flushpkt(0) sends what is left, possibly nothing). */
static void reassemble_empty_last_and_error(void **state)
{
    (void)state;
    static uint8_t buf[2000];
    uint8_t p[NTK_CTL_DATAGRAM_MAX];
    struct ntk_ctl_reasm r;
    ntk_ctl_reasm_init(&r, buf, sizeof buf, NTK_CTL_OP_READVAR, 5);
    assert_int_equal(feed_bytes(&r, p, frag(p, 468, 0, false)), NTK_CTL_FEED_MORE);
    assert_int_equal(feed_bytes(&r, p, frag(p, 0, 468, true)), NTK_CTL_FEED_DONE);
    size_t len;
    assert_non_null(ntk_ctl_reasm_data(&r, &len));
    assert_int_equal(len, 468);
    /* An error response ends the exchange with its code. */
    ntk_ctl_reasm_init(&r, buf, sizeof buf, NTK_CTL_OP_READ_ORDLIST_A, 1);
    uint8_t e[12];
    assert_int_equal(tu_unhex("16cb00010100000000000000", e, sizeof e), 12);
    assert_int_equal(ntk_ctl_reasm_error(&r), -1);
    assert_int_equal(feed_bytes(&r, e, 12), NTK_CTL_FEED_DONE);
    assert_int_equal(ntk_ctl_reasm_error(&r), NTK_CTL_CERR_PERMISSION);
    assert_non_null(ntk_ctl_reasm_data(&r, &len));
    assert_int_equal(len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_ntpq_request),
        cmocka_unit_test(decode_readstat_response),
        cmocka_unit_test(decode_rejects),
        cmocka_unit_test(decode_trailer_lengths),
        cmocka_unit_test(encode_pads_and_rejects),
        cmocka_unit_test(encode_decode_roundtrip),
        cmocka_unit_test(mac_bit_flips_fail),
        cmocka_unit_test(mac_layout_p4),
        cmocka_unit_test(status_words),
        cmocka_unit_test(split_table),
        cmocka_unit_test(reassemble_shuffled),
        cmocka_unit_test(reassemble_rejects),
        cmocka_unit_test(reassemble_caps),
        cmocka_unit_test(reassemble_empty_last_and_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
