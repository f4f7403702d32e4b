/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/nts_ef.c: real chrony and NTPsec packets, request and reply round trips
 * through ntk_pkt_decode, the NAK, one test per rule of ntk/nts_ef.h, anti-amplification,
 * and seeded truncation / bit-flip loops that must never authenticate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ntk/aead.h"
#include "ntk/buf.h"
#include "ntk/ef.h"
#include "ntk/err.h"
#include "ntk/nts_ef.h"
#include "ntk/pkt.h"
#include "testutil.h"
#include "tsv.h"

#include "poison.h"

#define HDR NTK_PKT_HDR_LEN

static const uint8_t nonce1[NTK_AEAD_NONCE_LEN] = {0x4e, 1, 2,  3,  4,  5,  6,  7,
                                                   8,    9, 10, 11, 12, 13, 14, 15};

static struct ntk_aead_key *make_key(uint8_t seed)
{
    uint8_t k[32];
    for (size_t i = 0; i < sizeof k; i++) {
        k[i] = (uint8_t)(seed + i * 13);
    }
    struct ntk_aead_key *key = NULL;
    assert_int_equal(ntk_aead_key_init(&key, NTK_AEAD_AES_SIV_CMAC_256, k, sizeof k), 0);
    return key;
}

static struct ntk_aead_key *key_hex(const char *hex)
{
    uint8_t k[32];
    assert_int_equal(tu_unhex(hex, k, sizeof k), 32);
    struct ntk_aead_key *key = NULL;
    assert_int_equal(ntk_aead_key_init(&key, NTK_AEAD_AES_SIV_CMAC_256, k, sizeof k), 0);
    return key;
}

static void fill_uid(uint8_t uid[NTK_NTS_UID_LEN], uint8_t seed)
{
    for (size_t i = 0; i < NTK_NTS_UID_LEN; i++) {
        uid[i] = (uint8_t)(seed ^ (i * 29));
    }
}

static void fill_cookie(struct ntk_ke_cookie *c, size_t len, uint8_t seed)
{
    c->len = (uint16_t)len;
    for (size_t i = 0; i < len; i++) {
        c->b[i] = (uint8_t)(seed + i * 7 + 1);
    }
}

/* A 48-byte header: v4 with mode (3 client, 4 server), a recognisable transmit time. */
static void put_hdr(uint8_t *buf, uint8_t first)
{
    memset(buf, 0, HDR);
    buf[0] = first;
    buf[1] = first == 0x23 ? 0 : 2;
    for (size_t i = 40; i < HDR; i++) {
        buf[i] = (uint8_t)(0xa0 + i);
    }
}

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

/* Decodes with ntk_pkt_decode and checks it saw n_ef fields and no MAC. */
static void decodes(const uint8_t *buf, size_t len, unsigned n_ef)
{
    struct ntk_pkt p;
    struct ntk_pkt_layout l;
    enum ntk_pkt_reject why;
    assert_int_equal(ntk_pkt_decode(buf, len, &p, &l, &why), 0);
    assert_int_equal(why, NTK_PKT_OK);
    assert_int_equal(l.ef_count, n_ef);
    assert_int_equal(l.ef_len, len - HDR);
    assert_int_equal(l.auth, NTK_PKT_AUTH_NONE);
}

/* ---- real packets ---- */

struct capture_keys {
    const char *file;
    unsigned last_frame; /* frames up to this one use these keys */
    const char *c2s;
    const char *s2c;
};

static const struct capture_keys captures[] = {
    {"nts", 33, "679f788a97a33e5d37400603839402ba4cceacc048e07231dc0c6f2e34cb3fa8",
     "398e15272fe7e371366dabc8690b9a7632e4e66f3685e382ac334dfed9a5d91f"},
    {"nts", 9999, "2e82096e0d9b14ba409276a11968a971bffc90e51b7c8c15b84c78538e875781",
     "9afb0b398189ce500df7542a365803b4f121d663d5ef60c365c8caa4099574b4"},
    {"nts-ntpsec-client", 9999,
     "4b1203b3114797fbfa1e592fc72e4f098eec6709f5f3073b25755a8ce9965c13",
     "89e2a4020e39a1e9a364ed5b574e7cb0ab2e87cdd68d52f3e3d1ca56c0e399a0"},
};

/* Every NTS packet of both captures: chrony's and NTPsec's requests parse and verify with
 * the exporter keys of their session, chrony's replies check out with one 100-byte cookie,
 * and the NAK (nts.pcap frame 33) is a NAK. */
static void real_packets(void **state)
{
    (void)state;
    static const char *const files[2] = {"nts", "nts-ntpsec-client"};
    unsigned requests = 0, replies = 0, naks = 0;
    for (size_t f = 0; f < 2; f++) {
        struct tsv t;
        const char *cols[TSV_MAX_COLS];
        tsv_open(&t, files[f]);
        int c_frame = tsv_col(&t, "frame.number"), c_mode = tsv_col(&t, "ntp.flags.mode");
        int c_refid = tsv_col(&t, "ntp.refid"), c_payload = tsv_col(&t, "udp.payload");
        uint8_t uid[NTK_NTS_UID_LEN] = {0};
        while (tsv_next(&t, cols)) {
            unsigned frame = (unsigned)strtoul(cols[c_frame], NULL, 10);
            const struct capture_keys *ck = NULL;
            for (size_t i = 0; i < 3 && !ck; i++) {
                if (strcmp(captures[i].file, files[f]) == 0 &&
                    frame <= captures[i].last_frame) {
                    ck = &captures[i];
                }
            }
            assert_non_null(ck);
            uint8_t p[NTK_NTS_PKT_MAX];
            int n = tu_unhex(cols[c_payload], p, sizeof p);
            assert_true(n >= HDR);
            struct ntk_aead_key *c2s = key_hex(ck->c2s), *s2c = key_hex(ck->s2c);
            if (strcmp(cols[c_mode], "3") == 0) {
                struct ntk_nts_request r;
                assert_int_equal(ntk_nts_parse_request(p, (size_t)n, HDR, &r), 1);
                assert_int_equal(r.uid_len, 32);
                assert_ptr_equal(r.uid, p + HDR + 4);
                assert_int_equal(r.cookie_len, 100);
                assert_int_equal(r.n_placeholders, 0);
                assert_int_equal(r.auth_off, 188);
                assert_int_equal(r.nonce_len, 16);
                assert_int_equal(r.ct_len, 16);
                assert_int_equal(ntk_nts_verify_request(p, &r, c2s), 0);
                assert_int_equal(ntk_nts_verify_request(p, &r, s2c), NTK_EAUTH);
                memcpy(uid, r.uid, sizeof uid);
                requests++;
            } else if (strcmp(cols[c_refid], "4e54534e") == 0) {
                struct ntk_nts_reply out;
                assert_int_equal(ntk_nts_check_reply(p, (size_t)n, uid, true, s2c, &out),
                                 NTK_NTS_NAK);
                assert_int_equal(ntk_nts_check_reply(p, (size_t)n, uid, false, s2c, &out),
                                 NTK_NTS_NO_AUTH);
                naks++;
            } else {
                struct ntk_nts_reply out;
                memset(&out, 0, sizeof out);
                assert_int_equal(ntk_nts_check_reply(p, (size_t)n, uid, false, s2c, &out),
                                 NTK_NTS_OK);
                assert_int_equal(out.n_cookies, 1);
                assert_int_equal(out.cookies[0].len, 100);
                assert_int_equal(ntk_nts_check_reply(p, (size_t)n, uid, false, c2s, &out),
                                 NTK_NTS_BAD_AUTH);
                /* A server reply is not a request (no cookie). */
                struct ntk_nts_request r;
                assert_int_equal(ntk_nts_parse_request(p, (size_t)n, HDR, &r), NTK_EFORMAT);
                replies++;
            }
            ntk_aead_key_free(c2s);
            ntk_aead_key_free(s2c);
        }
        tsv_close(&t);
    }
    assert_int_equal(requests, 9 + 7);
    assert_int_equal(replies, 8 + 7);
    assert_int_equal(naks, 1);
}

/* ---- round trips ---- */

static const size_t cookie_lens[] = {100, 102, 256, 12, 1};

/* Requests with every cookie length and 0..7 placeholders (and 9, clamped): decoded by
 * ntk_pkt_decode, located by the server, verified with c2s only. */
static void request_roundtrip(void **state)
{
    (void)state;
    struct ntk_aead_key *c2s = make_key(1), *s2c = make_key(2);
    uint8_t uid[NTK_NTS_UID_LEN], buf[NTK_NTS_PKT_MAX];
    fill_uid(uid, 0x55);
    for (size_t c = 0; c < sizeof cookie_lens / sizeof cookie_lens[0]; c++) {
        struct ntk_ke_cookie cookie;
        fill_cookie(&cookie, cookie_lens[c], (uint8_t)c);
        size_t field = NTK_EF_HDR_LEN + (pad4(cookie.len) < 12 ? 12 : pad4(cookie.len));
        for (size_t ph = 0; ph <= 9; ph++) {
            size_t eff = ph > 7 ? 7 : ph;
            put_hdr(buf, 0x23);
            int n = ntk_nts_build_request(buf, sizeof buf, HDR, uid, &cookie, ph, c2s, nonce1);
            assert_int_equal(n, (int)(HDR + 36 + field * (1 + eff) + 40));
            decodes(buf, (size_t)n, (unsigned)(3 + eff));
            struct ntk_nts_request r;
            assert_int_equal(ntk_nts_parse_request(buf, (size_t)n, HDR, &r), 1);
            assert_ptr_equal(r.uid, buf + HDR + 4);
            assert_int_equal(r.uid_len, 32);
            assert_memory_equal(r.uid, uid, 32);
            assert_ptr_equal(r.cookie, buf + HDR + 40);
            assert_int_equal(r.cookie_len, field - 4);
            assert_memory_equal(r.cookie, cookie.b, cookie.len);
            assert_int_equal(r.n_placeholders, eff);
            assert_int_equal(r.auth_off, (size_t)n - 40);
            assert_int_equal(r.nonce_len, 16);
            assert_memory_equal(r.nonce, nonce1, 16);
            assert_int_equal(r.ct_len, 16);
            assert_int_equal(ntk_nts_verify_request(buf, &r, c2s), 0);
            assert_int_equal(ntk_nts_verify_request(buf, &r, s2c), NTK_EAUTH);
        }
    }
    ntk_aead_key_free(c2s);
    ntk_aead_key_free(s2c);
}

/* Replies with 0..8 cookies of each length: length == ntk_nts_reply_len, decoded by
 * ntk_pkt_decode, checked by the client; wrong key / UID refused with *out untouched. */
static void reply_roundtrip(void **state)
{
    (void)state;
    struct ntk_aead_key *s2c = make_key(2), *c2s = make_key(1);
    uint8_t uid[NTK_NTS_UID_LEN], other[NTK_NTS_UID_LEN], buf[NTK_NTS_PKT_MAX];
    fill_uid(uid, 0x55);
    fill_uid(other, 0x56);
    for (size_t c = 0; c < sizeof cookie_lens / sizeof cookie_lens[0]; c++) {
        for (size_t n = 0; n <= NTK_KE_COOKIES_MAX; n++) {
            struct ntk_ke_cookie cookies[NTK_KE_COOKIES_MAX];
            for (size_t i = 0; i < n; i++) {
                fill_cookie(&cookies[i], cookie_lens[c], (uint8_t)(i * 16 + c));
            }
            put_hdr(buf, 0x24);
            int len =
                ntk_nts_build_reply(buf, sizeof buf, HDR, uid, 32, cookies, n, s2c, nonce1);
            assert_int_equal(len, (int)ntk_nts_reply_len(HDR, 32, cookie_lens[c], n));
            decodes(buf, (size_t)len, 2);
            struct ntk_nts_reply out;
            memset(&out, 0xee, sizeof out);
            assert_int_equal(ntk_nts_check_reply(buf, (size_t)len, uid, false, s2c, &out),
                             NTK_NTS_OK);
            assert_int_equal(out.n_cookies, n);
            for (size_t i = 0; i < n; i++) {
                size_t body = pad4(cookie_lens[c]) < 12 ? 12 : pad4(cookie_lens[c]);
                assert_int_equal(out.cookies[i].len, body); /* padding comes along */
                assert_memory_equal(out.cookies[i].b, cookies[i].b, cookie_lens[c]);
            }
            struct ntk_nts_reply untouched;
            memset(&untouched, 0xee, sizeof untouched);
            memcpy(&out, &untouched, sizeof out);
            assert_int_equal(ntk_nts_check_reply(buf, (size_t)len, uid, false, c2s, &out),
                             NTK_NTS_BAD_AUTH);
            assert_int_equal(ntk_nts_check_reply(buf, (size_t)len, other, false, s2c, &out),
                             NTK_NTS_BAD_UID);
            assert_memory_equal(&out, &untouched, sizeof out);
            /* A reply is not a request. */
            struct ntk_nts_request r;
            assert_int_equal(ntk_nts_parse_request(buf, (size_t)len, HDR, &r), NTK_EFORMAT);
        }
    }
    /* A 64-byte UID is echoed as it came. */
    uint8_t uid64[64];
    memset(uid64, 0x64, sizeof uid64);
    int len = ntk_nts_build_reply(buf, sizeof buf, HDR, uid64, 64, NULL, 0, s2c, nonce1);
    assert_int_equal(len, (int)ntk_nts_reply_len(HDR, 64, 100, 0));
    assert_int_equal(len, HDR + 68 + 40);
    ntk_aead_key_free(s2c);
    ntk_aead_key_free(c2s);
}

/* RFC 8915 §5.7: a reply with n cookies is no longer than the request with n - 1
 * placeholders carrying cookies of the same length (here: exactly as long). */
static void no_amplification(void **state)
{
    (void)state;
    struct ntk_aead_key *k = make_key(3);
    uint8_t uid[NTK_NTS_UID_LEN], req[NTK_NTS_PKT_MAX], rep[NTK_NTS_PKT_MAX];
    fill_uid(uid, 1);
    for (size_t c = 0; c < sizeof cookie_lens / sizeof cookie_lens[0]; c++) {
        struct ntk_ke_cookie cookies[NTK_KE_COOKIES_MAX];
        for (size_t i = 0; i < NTK_KE_COOKIES_MAX; i++) {
            fill_cookie(&cookies[i], cookie_lens[c], (uint8_t)i);
        }
        for (size_t n = 1; n <= NTK_KE_COOKIES_MAX; n++) {
            put_hdr(req, 0x23);
            int q = ntk_nts_build_request(req, sizeof req, HDR, uid, &cookies[0], n - 1, k,
                                          nonce1);
            put_hdr(rep, 0x24);
            int r = ntk_nts_build_reply(rep, sizeof rep, HDR, uid, 32, cookies, n, k, nonce1);
            assert_true(q > 0 && r > 0);
            assert_true(r <= q);
            assert_int_equal(r, q);
            assert_true(ntk_nts_reply_len(HDR, 32, cookie_lens[c], n) <= (size_t)q);
            /* One more cookie than placeholders + 1 would amplify. */
            if (n < NTK_KE_COOKIES_MAX) {
                assert_true(ntk_nts_reply_len(HDR, 32, cookie_lens[c], n + 1) > (size_t)q);
            }
        }
    }
    ntk_aead_key_free(k);
}

/* The NTS NAK: KoD NTSN header + the UID only; a NAK for the client that sent that UID. */
static void nak(void **state)
{
    (void)state;
    struct ntk_aead_key *k = make_key(4);
    uint8_t uid[NTK_NTS_UID_LEN], other[NTK_NTS_UID_LEN], buf[256];
    fill_uid(uid, 7);
    fill_uid(other, 8);
    put_hdr(buf, 0xe4);
    buf[1] = 0;
    memcpy(buf + 12, "NTSN", 4);
    int n = ntk_nts_build_nak(buf, sizeof buf, HDR, uid, 32);
    assert_int_equal(n, 84);
    decodes(buf, 84, 1);
    struct ntk_nts_reply out;
    assert_int_equal(ntk_nts_check_reply(buf, 84, uid, true, k, &out), NTK_NTS_NAK);
    assert_int_equal(ntk_nts_check_reply(buf, 84, uid, false, k, &out), NTK_NTS_NO_AUTH);
    assert_int_equal(ntk_nts_check_reply(buf, 84, other, true, k, &out), NTK_NTS_BAD_UID);
    assert_int_equal(ntk_nts_check_reply(buf, HDR, uid, true, k, &out), NTK_NTS_NO_UID);
    assert_int_equal(ntk_nts_build_nak(buf, sizeof buf, HDR, uid, 31), NTK_EINVAL);
    assert_int_equal(ntk_nts_build_nak(buf, sizeof buf, HDR, uid, 65), NTK_EINVAL);
    assert_int_equal(ntk_nts_build_nak(buf, 83, HDR, uid, 32), NTK_ENOSPC);
    assert_int_equal(ntk_nts_build_nak(buf, 40, HDR, uid, 32), NTK_ENOSPC);
    ntk_aead_key_free(k);
}

/* ---- a composer for packets that break one rule ---- */

struct pk {
    uint8_t b[NTK_NTS_PKT_MAX + 64];
    struct ntk_wr w;
};

static void pk_start(struct pk *p, uint8_t first)
{
    put_hdr(p->b, first);
    ntk_wr_init(&p->w, p->b, sizeof p->b);
    assert_non_null(ntk_wr_reserve(&p->w, HDR));
}

/* A field with a body of len bytes of value fill (min length 16). */
static void pk_field(struct pk *p, uint16_t type, size_t len, uint8_t fill)
{
    uint8_t body[NTK_NTS_PKT_MAX];
    memset(body, fill, len);
    assert_int_equal(ntk_ef_put(&p->w, type, body, len), 0);
}

static void pk_uid(struct pk *p, const uint8_t *uid, size_t len)
{
    assert_int_equal(ntk_ef_put(&p->w, NTK_EF_NTS_UID, uid, len), 0);
}

/* An Authenticator with a nonce of nonce_len bytes sealing pt[0..pt_len) with k over all
 * before it; declared lengths may be overridden (non-zero decl_*) to lie. */
static void pk_auth(struct pk *p, struct ntk_aead_key *k, size_t nonce_len, const uint8_t *pt,
                    size_t pt_len, size_t decl_nonce, size_t decl_ct)
{
    uint8_t nonce[64];
    memset(nonce, 0x4e, sizeof nonce);
    size_t at = ntk_ef_begin(&p->w, NTK_EF_NTS_AUTH);
    size_t ct_len = pt_len + 16;
    ntk_wr_be16(&p->w, (uint16_t)(decl_nonce ? decl_nonce : nonce_len));
    ntk_wr_be16(&p->w, (uint16_t)(decl_ct ? decl_ct : ct_len));
    ntk_wr_bytes(&p->w, nonce, nonce_len);
    ntk_wr_zero(&p->w, pad4(nonce_len) - nonce_len);
    uint8_t *ct = ntk_wr_reserve(&p->w, pad4(ct_len));
    assert_non_null(ct);
    memset(ct, 0, pad4(ct_len));
    assert_int_equal(ntk_aead_seal(k, p->b, at, nonce, nonce_len, pt, pt_len, ct, ct_len),
                     (int)ct_len);
    assert_int_equal(ntk_ef_end(&p->w, at, NTK_EF_MIN_LAST_LEN), 0);
}

static size_t pk_len(const struct pk *p)
{
    assert_int_equal(ntk_wr_err(&p->w), 0);
    return ntk_wr_len(&p->w);
}

/* What the server makes of p: 1 (then verified with k: expect verify), 0 or an error. */
static int server_sees(const struct pk *p, struct ntk_aead_key *k)
{
    struct ntk_nts_request r;
    int rc = ntk_nts_parse_request(p->b, pk_len(p), HDR, &r);
    if (rc == 1) {
        int v = ntk_nts_verify_request(p->b, &r, k);
        return v == 0 ? 1 : v;
    }
    return rc;
}

/* A valid request piece by piece, with one thing changed per case. */
enum req_fault {
    RF_NONE,
    RF_DUP_UID,
    RF_SHORT_UID,
    RF_LONG_UID,
    RF_NO_UID,
    RF_NO_COOKIE,
    RF_TWO_COOKIES,
    RF_NO_AUTH,
    RF_TWO_AUTH,
    RF_FIELD_AFTER_AUTH,
    RF_SMALL_FIELD_AFTER_AUTH,
    RF_SHORT_NONCE,
    RF_NONCE_LEN_HUGE,
    RF_CT_LEN_HUGE,
    RF_CT_LEN_PAST_BODY,
    RF_CT_SHORT,
    RF_PH_OTHER_LEN,
    RF_PH_MIXED,
    RF_MAC_AFTER,
    RF_UNKNOWN_BEFORE_AUTH,
    RF_PH_BEFORE_COOKIE,
    RF_UID_64,
    RF_BAD_PLAINTEXT,
    RF_PLAINTEXT_FIELDS,
    RF_COUNT,
};

static void build_faulty_request(struct pk *p, enum req_fault f, struct ntk_aead_key *k)
{
    uint8_t uid[68];
    memset(uid, 0x11, sizeof uid);
    pk_start(p, 0x23);
    if (f == RF_PH_BEFORE_COOKIE) {
        pk_field(p, NTK_EF_NTS_COOKIE_PLACEHOLDER, 100, 0);
    }
    if (f != RF_NO_UID) {
        size_t ul = f == RF_SHORT_UID ? 28 : f == RF_LONG_UID ? 68 : f == RF_UID_64 ? 64 : 32;
        pk_uid(p, uid, ul);
    }
    if (f == RF_DUP_UID) {
        pk_uid(p, uid, 32);
    }
    if (f != RF_NO_COOKIE) {
        pk_field(p, NTK_EF_NTS_COOKIE, 100, 0xc0);
    }
    if (f == RF_TWO_COOKIES) {
        pk_field(p, NTK_EF_NTS_COOKIE, 100, 0xc1);
    }
    pk_field(p, NTK_EF_NTS_COOKIE_PLACEHOLDER, f == RF_PH_OTHER_LEN ? 96 : 100, 0);
    pk_field(p, NTK_EF_NTS_COOKIE_PLACEHOLDER,
             f == RF_PH_MIXED       ? 104
             : f == RF_PH_OTHER_LEN ? 96
                                    : 100,
             0);
    if (f == RF_UNKNOWN_BEFORE_AUTH) {
        pk_field(p, 0x7777, 40, 0x77);
    }
    if (f == RF_NO_AUTH) {
        return;
    }
    static const uint8_t bad_pt[8] = {0x02, 0x04, 0x00, 0x40}; /* a field running out */
    static const uint8_t good_pt[12] = {0x12, 0x34, 0x00, 0x04, 0x56, 0x78,
                                        0x00, 0x08, 1,    2,    3,    4};
    const uint8_t *pt = f == RF_BAD_PLAINTEXT      ? bad_pt
                        : f == RF_PLAINTEXT_FIELDS ? good_pt
                                                   : NULL;
    size_t pt_len = f == RF_BAD_PLAINTEXT ? 8 : f == RF_PLAINTEXT_FIELDS ? 12 : 0;
    pk_auth(p, k, f == RF_SHORT_NONCE ? 12 : 16, pt, pt_len,
            f == RF_NONCE_LEN_HUGE ? 0xfff0 : 0,
            f == RF_CT_LEN_HUGE        ? 0xfff0
            : f == RF_CT_LEN_PAST_BODY ? 20
            : f == RF_CT_SHORT         ? 12
                                       : 0);
    if (f == RF_TWO_AUTH) {
        pk_auth(p, k, 16, NULL, 0, 0, 0);
    }
    if (f == RF_FIELD_AFTER_AUTH) {
        pk_field(p, 0x7777, 40, 0);
    }
    if (f == RF_SMALL_FIELD_AFTER_AUTH) {
        pk_field(p, 0x7777, 12, 0); /* a 16-byte field: 16 trailing bytes */
    }
    if (f == RF_MAC_AFTER) {
        ntk_wr_be32(&p->w, 1);
        ntk_wr_zero(&p->w, 16);
    }
}

/* Each rule of ntk/nts_ef.h broken once, server side. */
static void request_rules(void **state)
{
    (void)state;
    struct ntk_aead_key *k = make_key(5);
    static const struct {
        enum req_fault f;
        int want;
    } cases[] = {
        {RF_NONE, 1},
        {RF_DUP_UID, NTK_EFORMAT},
        {RF_SHORT_UID, NTK_EFORMAT},
        {RF_LONG_UID, NTK_EFORMAT},
        {RF_NO_UID, NTK_EFORMAT},
        {RF_NO_COOKIE, NTK_EFORMAT},
        {RF_TWO_COOKIES, NTK_EFORMAT},
        {RF_NO_AUTH, NTK_EFORMAT},
        {RF_TWO_AUTH, NTK_EFORMAT},
        {RF_FIELD_AFTER_AUTH, NTK_EFORMAT},
        {RF_SMALL_FIELD_AFTER_AUTH, NTK_EFORMAT},
        {RF_SHORT_NONCE, NTK_EFORMAT},
        {RF_NONCE_LEN_HUGE, NTK_EFORMAT},
        {RF_CT_LEN_HUGE, NTK_EFORMAT},
        {RF_CT_LEN_PAST_BODY, NTK_EFORMAT},
        {RF_CT_SHORT, NTK_EFORMAT},
        {RF_PH_OTHER_LEN, NTK_EFORMAT},
        {RF_PH_MIXED, NTK_EFORMAT},
        {RF_MAC_AFTER, NTK_EFORMAT},
        {RF_UNKNOWN_BEFORE_AUTH, 1},
        {RF_PH_BEFORE_COOKIE, 1},
        {RF_UID_64, 1},
        {RF_BAD_PLAINTEXT, NTK_EFORMAT},
        {RF_PLAINTEXT_FIELDS, 1},
    };
    static struct pk p;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        build_faulty_request(&p, cases[i].f, k);
        print_message("# request fault %d\n", (int)cases[i].f);
        assert_int_equal(server_sees(&p, k), cases[i].want);
    }
    /* The placeholder count, clamped at 7; ten seen. */
    pk_start(&p, 0x23);
    uint8_t uid[32];
    memset(uid, 1, sizeof uid);
    pk_uid(&p, uid, 32);
    pk_field(&p, NTK_EF_NTS_COOKIE, 20, 0xc0);
    for (int i = 0; i < 10; i++) {
        pk_field(&p, NTK_EF_NTS_COOKIE_PLACEHOLDER, 20, 0);
    }
    pk_auth(&p, k, 16, NULL, 0, 0, 0);
    struct ntk_nts_request r;
    assert_int_equal(ntk_nts_parse_request(p.b, pk_len(&p), HDR, &r), 1);
    assert_int_equal(r.n_placeholders, NTK_NTS_PLACEHOLDERS_MAX);
    /* A nonce longer than 16 (20) is fine. */
    pk_start(&p, 0x23);
    pk_uid(&p, uid, 32);
    pk_field(&p, NTK_EF_NTS_COOKIE, 20, 0xc0);
    pk_auth(&p, k, 20, NULL, 0, 0, 0);
    assert_int_equal(server_sees(&p, k), 1);
    /* Not NTS at all: 0, so the caller goes on with the MAC path. */
    pk_start(&p, 0x23);
    assert_int_equal(ntk_nts_parse_request(p.b, pk_len(&p), HDR, &r), 0);
    ntk_wr_be32(&p.w, 1);
    ntk_wr_zero(&p.w, 20);
    assert_int_equal(ntk_nts_parse_request(p.b, pk_len(&p), HDR, &r), 0);
    pk_start(&p, 0x23);
    pk_field(&p, 0x7777, 40, 0x77);
    ntk_wr_be32(&p.w, 1);
    ntk_wr_zero(&p.w, 16);
    assert_int_equal(ntk_nts_parse_request(p.b, pk_len(&p), HDR, &r), 0);
    /* Broken walks, header shorter than said. */
    assert_int_equal(ntk_nts_parse_request(p.b, 47, HDR, &r), NTK_EFORMAT);
    assert_int_equal(ntk_nts_parse_request(p.b, HDR + 30, HDR, &r), NTK_EFORMAT);
    ntk_aead_key_free(k);
}

/* A reply piece by piece (UID, optional extras, Authenticator over pt). */
static size_t build_reply_with(struct pk *p, struct ntk_aead_key *k, const uint8_t *uid,
                               size_t uid_len, const uint8_t *pt, size_t pt_len,
                               uint16_t extra)
{
    pk_start(p, 0x24);
    pk_uid(p, uid, uid_len);
    if (extra) {
        pk_field(p, extra, 100, 0xee);
    }
    pk_auth(p, k, 16, pt, pt_len, 0, 0);
    return pk_len(p);
}

/* Client side: each rule once, and what is kept from the plaintext. */
static void reply_rules(void **state)
{
    (void)state;
    struct ntk_aead_key *k = make_key(6);
    uint8_t uid[NTK_NTS_UID_LEN], pt[NTK_NTS_PKT_MAX];
    fill_uid(uid, 9);
    static struct pk p;
    struct ntk_nts_reply out;
    struct ntk_wr w;

    /* Plaintext: a 4-byte unknown field, a 0-byte cookie (skipped), a 300-byte "cookie"
     * (too long: skipped), then 10 cookies of 20 bytes (8 kept). */
    ntk_wr_init(&w, pt, sizeof pt);
    assert_int_equal(ntk_ef_put_min(&w, 0x9999, NULL, 0, 4), 0);
    assert_int_equal(ntk_ef_put_min(&w, NTK_EF_NTS_COOKIE, NULL, 0, 4), 0);
    static const uint8_t big[300];
    assert_int_equal(ntk_ef_put_min(&w, NTK_EF_NTS_COOKIE, big, 300, 4), 0);
    for (int i = 0; i < 10; i++) {
        uint8_t c[20];
        memset(c, i, sizeof c);
        assert_int_equal(ntk_ef_put_min(&w, NTK_EF_NTS_COOKIE, c, 20, 4), 0);
    }
    size_t len = build_reply_with(&p, k, uid, 32, pt, ntk_wr_len(&w), 0);
    assert_int_equal(ntk_nts_check_reply(p.b, len, uid, false, k, &out), NTK_NTS_OK);
    assert_int_equal(out.n_cookies, 8);
    for (size_t i = 0; i < 8; i++) {
        assert_int_equal(out.cookies[i].len, 20);
        assert_int_equal(out.cookies[i].b[19], i);
    }
    /* A cookie field outside the Authenticator is not taken (not confidential). */
    len = build_reply_with(&p, k, uid, 32, NULL, 0, NTK_EF_NTS_COOKIE);
    assert_int_equal(ntk_nts_check_reply(p.b, len, uid, false, k, &out), NTK_NTS_OK);
    assert_int_equal(out.n_cookies, 0);
    /* An authenticated KoD is judged by its Authenticator. */
    assert_int_equal(ntk_nts_check_reply(p.b, len, uid, true, k, &out), NTK_NTS_OK);
    /* Plaintext that does not walk. */
    static const uint8_t bad_pt[8] = {0x02, 0x04, 0x00, 0x40};
    len = build_reply_with(&p, k, uid, 32, bad_pt, 8, 0);
    assert_int_equal(ntk_nts_check_reply(p.b, len, uid, false, k, &out), NTK_NTS_MALFORMED);
    /* UID of another length, or of another client. */
    uint8_t uid36[36];
    memcpy(uid36, uid, 32);
    memset(uid36 + 32, 0, 4);
    len = build_reply_with(&p, k, uid36, 36, NULL, 0, 0);
    assert_int_equal(ntk_nts_check_reply(p.b, len, uid, false, k, &out), NTK_NTS_BAD_UID);
    /* The request's faults seen from the client (the faults that concern the UID and the
     * Authenticator; cookies and placeholders do not matter in a reply). */
    static const struct {
        enum req_fault f;
        enum ntk_nts_verdict want;
    } cases[] = {
        {RF_DUP_UID, NTK_NTS_MALFORMED},
        {RF_SHORT_UID, NTK_NTS_MALFORMED},
        {RF_LONG_UID, NTK_NTS_MALFORMED},
        {RF_NO_UID, NTK_NTS_NO_UID},
        {RF_NO_AUTH, NTK_NTS_NO_AUTH},
        {RF_TWO_AUTH, NTK_NTS_MALFORMED},
        {RF_FIELD_AFTER_AUTH, NTK_NTS_MALFORMED},
        {RF_SMALL_FIELD_AFTER_AUTH, NTK_NTS_MALFORMED},
        {RF_SHORT_NONCE, NTK_NTS_MALFORMED},
        {RF_NONCE_LEN_HUGE, NTK_NTS_MALFORMED},
        {RF_CT_LEN_HUGE, NTK_NTS_MALFORMED},
        {RF_CT_LEN_PAST_BODY, NTK_NTS_MALFORMED},
        {RF_CT_SHORT, NTK_NTS_MALFORMED},
        {RF_MAC_AFTER, NTK_NTS_MALFORMED},
        {RF_UNKNOWN_BEFORE_AUTH, NTK_NTS_BAD_UID}, /* uid 0x11.. is not ours */
        {RF_BAD_PLAINTEXT, NTK_NTS_BAD_UID},
    };
    uint8_t uid11[32];
    memset(uid11, 0x11, sizeof uid11);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        build_faulty_request(&p, cases[i].f, k);
        print_message("# reply fault %d\n", (int)cases[i].f);
        const uint8_t *which = cases[i].want == NTK_NTS_BAD_UID ? uid : uid11;
        assert_int_equal(ntk_nts_check_reply(p.b, pk_len(&p), which, false, k, &out),
                         cases[i].want);
    }
    build_faulty_request(&p, RF_BAD_PLAINTEXT, k);
    assert_int_equal(ntk_nts_check_reply(p.b, pk_len(&p), uid11, false, k, &out),
                     NTK_NTS_MALFORMED);
    build_faulty_request(&p, RF_NONE, k);
    assert_int_equal(ntk_nts_check_reply(p.b, pk_len(&p), uid11, false, k, &out), NTK_NTS_OK);
    assert_int_equal(ntk_nts_check_reply(p.b, 40, uid11, false, k, &out), NTK_NTS_MALFORMED);
    ntk_aead_key_free(k);
}

/* Every single byte of the authenticated region, flipped: the client never accepts; the
 * header, the fields before the Authenticator, the nonce and the ciphertext give BAD_AUTH
 * (the UID's body BAD_UID); the server likewise gets NTK_EAUTH. */
static void tamper_every_byte(void **state)
{
    (void)state;
    struct ntk_aead_key *c2s = make_key(7), *s2c = make_key(8);
    uint8_t uid[NTK_NTS_UID_LEN], buf[NTK_NTS_PKT_MAX];
    fill_uid(uid, 3);
    struct ntk_ke_cookie cookies[2];
    fill_cookie(&cookies[0], 102, 1);
    fill_cookie(&cookies[1], 102, 2);
    put_hdr(buf, 0x24);
    int len = ntk_nts_build_reply(buf, sizeof buf, HDR, uid, 32, cookies, 2, s2c, nonce1);
    size_t auth = HDR + 36;
    assert_int_equal(len, (int)(auth + 8 + 16 + 16 + 2 * 108));
    struct ntk_nts_reply out;
    for (size_t i = 0; i < (size_t)len; i++) {
        buf[i] ^= 0x20;
        enum ntk_nts_verdict v = ntk_nts_check_reply(buf, (size_t)len, uid, false, s2c, &out);
        if (i < HDR || i >= auth + 8) {
            assert_int_equal(v, NTK_NTS_BAD_AUTH);
        } else if (i >= HDR + 4 && i < auth) {
            assert_int_equal(v, NTK_NTS_BAD_UID);
        } else {
            assert_int_not_equal(v, NTK_NTS_OK); /* field headers and lengths */
        }
        buf[i] ^= 0x20;
    }
    assert_int_equal(ntk_nts_check_reply(buf, (size_t)len, uid, false, s2c, &out), NTK_NTS_OK);

    put_hdr(buf, 0x23);
    len = ntk_nts_build_request(buf, sizeof buf, HDR, uid, &cookies[0], 3, c2s, nonce1);
    assert_int_equal(len, HDR + 36 + 4 * 108 + 40);
    auth = (size_t)len - 40;
    for (size_t i = 0; i < (size_t)len; i++) {
        bool field_hdr = (i >= HDR && i < auth &&
                          (i - HDR < 4 || (i >= HDR + 36 && (i - HDR - 36) % 108 < 4))) ||
                         (i >= auth && i < auth + 8);
        buf[i] ^= 0x01;
        struct ntk_nts_request r;
        int rc = ntk_nts_parse_request(buf, (size_t)len, HDR, &r);
        if (!field_hdr) {
            assert_int_equal(rc, 1);
            assert_int_equal(ntk_nts_verify_request(buf, &r, c2s), NTK_EAUTH);
        } else if (rc == 1) {
            assert_int_not_equal(ntk_nts_verify_request(buf, &r, c2s), 0);
        }
        buf[i] ^= 0x01;
    }
    ntk_aead_key_free(c2s);
    ntk_aead_key_free(s2c);
}

/* Builders: every capacity below the length is NTK_ENOSPC; bad arguments NTK_EINVAL. */
static void build_errors(void **state)
{
    (void)state;
    struct ntk_aead_key *k = make_key(9);
    uint8_t uid[NTK_NTS_UID_LEN], buf[NTK_NTS_PKT_MAX];
    fill_uid(uid, 4);
    struct ntk_ke_cookie c[NTK_KE_COOKIES_MAX + 1];
    for (size_t i = 0; i <= NTK_KE_COOKIES_MAX; i++) {
        fill_cookie(&c[i], 256, (uint8_t)i);
    }
    put_hdr(buf, 0x23);
    int full = ntk_nts_build_request(buf, sizeof buf, HDR, uid, &c[0], 7, k, nonce1);
    assert_int_equal(full, HDR + 36 + 8 * 260 + 40);
    assert_true(full <= NTK_NTS_PKT_MAX);
    for (size_t cap = 0; cap < (size_t)full; cap++) {
        assert_int_equal(ntk_nts_build_request(buf, cap, HDR, uid, &c[0], 7, k, nonce1),
                         NTK_ENOSPC);
    }
    full = ntk_nts_build_reply(buf, sizeof buf, HDR, uid, 32, c, 8, k, nonce1);
    assert_int_equal(full, (int)ntk_nts_reply_len(HDR, 32, 256, 8));
    assert_true(full <= NTK_NTS_PKT_MAX);
    for (size_t cap = 0; cap < (size_t)full; cap++) {
        assert_int_equal(ntk_nts_build_reply(buf, cap, HDR, uid, 32, c, 8, k, nonce1),
                         NTK_ENOSPC);
    }
    struct ntk_ke_cookie bad = c[0];
    bad.len = 0;
    assert_int_equal(ntk_nts_build_request(buf, sizeof buf, HDR, uid, &bad, 0, k, nonce1),
                     NTK_EINVAL);
    bad.len = NTK_KE_COOKIE_MAX + 1;
    assert_int_equal(ntk_nts_build_request(buf, sizeof buf, HDR, uid, &bad, 0, k, nonce1),
                     NTK_EINVAL);
    assert_int_equal(ntk_nts_build_request(buf, sizeof buf, HDR, uid, NULL, 0, k, nonce1),
                     NTK_EINVAL);
    assert_int_equal(ntk_nts_build_reply(buf, sizeof buf, HDR, uid, 32, &bad, 1, k, nonce1),
                     NTK_EINVAL);
    assert_int_equal(ntk_nts_build_reply(buf, sizeof buf, HDR, uid, 32, c, 9, k, nonce1),
                     NTK_EINVAL);
    assert_int_equal(ntk_nts_build_reply(buf, sizeof buf, HDR, uid, 31, c, 1, k, nonce1),
                     NTK_EINVAL);
    assert_int_equal(ntk_nts_build_reply(buf, sizeof buf, HDR, uid, 65, c, 1, k, nonce1),
                     NTK_EINVAL);
    ntk_aead_key_free(k);
}

static void verdict_names(void **state)
{
    (void)state;
    static const char *const want[] = {"ok",      "nak",     "malformed", "no_uid",
                                       "bad_uid", "no_auth", "bad_auth"};
    for (int v = 0; v < NTK_NTS_VERDICT_COUNT; v++) {
        assert_string_equal(ntk_nts_verdict_name((enum ntk_nts_verdict)v), want[v]);
    }
    assert_string_equal(ntk_nts_verdict_name(NTK_NTS_VERDICT_COUNT), "unknown");
    assert_string_equal(ntk_nts_verdict_name((enum ntk_nts_verdict) - 1), "unknown");
}

/* Seeded: random valid requests and replies, then a truncation or 1-3 bit flips: nothing
 * crashes (ASan), nothing reads past the cut, and no mutant authenticates. */
static void mutants_never_authenticate(void **state)
{
    (void)state;
    tu_seed();
    struct ntk_aead_key *k = make_key(10);
    uint8_t uid[NTK_NTS_UID_LEN];
    fill_uid(uid, 5);
    for (int iter = 0; iter < 4000; iter++) {
        struct ntk_ke_cookie c[NTK_KE_COOKIES_MAX];
        size_t n = (size_t)(tu_rand() % 9), clen = 1 + (size_t)(tu_rand() % 256);
        for (size_t i = 0; i < NTK_KE_COOKIES_MAX; i++) {
            fill_cookie(&c[i], clen, (uint8_t)tu_rand());
        }
        uint8_t nonce[16];
        tu_fill(nonce, 16);
        uint8_t *buf = malloc(NTK_NTS_PKT_MAX);
        assert_non_null(buf);
        bool is_req = iter % 2 == 0;
        put_hdr(buf, is_req ? 0x23 : 0x24);
        int len =
            is_req ? ntk_nts_build_request(buf, NTK_NTS_PKT_MAX, HDR, uid, &c[0], n, k, nonce)
                   : ntk_nts_build_reply(buf, NTK_NTS_PKT_MAX, HDR, uid, 32, c, n, k, nonce);
        assert_true(len > HDR);
        uint8_t *orig = malloc((size_t)len);
        assert_non_null(orig);
        memcpy(orig, buf, (size_t)len);
        size_t cut = (size_t)len;
        if (tu_rand() % 2) {
            cut = (size_t)(tu_rand() % (size_t)len);
        } else {
            int flips = 1 + (int)(tu_rand() % 3);
            for (int i = 0; i < flips; i++) {
                size_t bit = (size_t)(tu_rand() % ((size_t)len * 8));
                buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            }
        }
        /* A heap copy of exactly cut bytes: ASan catches any read past it. */
        uint8_t *m = malloc(cut ? cut : 1);
        assert_non_null(m);
        memcpy(m, buf, cut);
        struct ntk_nts_reply out;
        enum ntk_nts_verdict v = ntk_nts_check_reply(m, cut, uid, iter % 4 == 1, k, &out);
        struct ntk_nts_request r;
        int rc = ntk_nts_parse_request(m, cut, HDR, &r);
        /* Flips may cancel out: only a real change must fail. */
        bool same = cut == (size_t)len && memcmp(m, orig, cut) == 0;
        if (!same) {
            assert_int_not_equal(v, NTK_NTS_OK);
            if (rc == 1) {
                assert_int_not_equal(ntk_nts_verify_request(m, &r, k), 0);
            }
        }
        free(m);
        free(orig);
        free(buf);
    }
    ntk_aead_key_free(k);
}

/* ---- seeds for tests/fuzz/fuzz_nts_ef.c ---- */

/* Writes flags || p[0..len) to dir/name. */
static void write_seed(const char *dir, const char *name, uint8_t flags, const uint8_t *p,
                       size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(&flags, 1, 1, f), 1);
    assert_int_equal(fwrite(p, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* The first row of tests/data/NAME.tsv with this frame number, as bytes. */
static size_t capture_frame(const char *name, const char *frame, uint8_t *p, size_t cap)
{
    struct tsv t;
    const char *cols[TSV_MAX_COLS];
    tsv_open(&t, name);
    int c_frame = tsv_col(&t, "frame.number"), c_payload = tsv_col(&t, "udp.payload");
    int n = -1;
    while (n < 0 && tsv_next(&t, cols)) {
        if (strcmp(cols[c_frame], frame) == 0) {
            n = tu_unhex(cols[c_payload], p, cap);
        }
    }
    tsv_close(&t);
    assert_true(n > 0);
    return (size_t)n;
}

/* With NTK_NTS_EF_CORPUS=DIR set, writes the fuzzer's seeds there: packets built here with
 * the fuzzer's key 0 (make_key(0x21)) and UID A (fill_uid(0x55)), and real captures with
 * the flags that make them authenticate (see the harness's flags byte). Otherwise a no-op. */
static void gen_corpus(void **state)
{
    (void)state;
    const char *dir = getenv("NTK_NTS_EF_CORPUS");
    if (!dir) {
        return;
    }
    struct ntk_aead_key *k = make_key(0x21);
    uint8_t uid[NTK_NTS_UID_LEN], buf[NTK_NTS_PKT_MAX];
    fill_uid(uid, 0x55);
    struct ntk_ke_cookie c[NTK_KE_COOKIES_MAX];
    static const struct {
        const char *name;
        size_t cookie_len, n;
        bool reply;
    } built[] = {
        {"req-ph0-c100", 100, 0, false}, {"req-ph1-c102", 102, 1, false},
        {"req-ph7-c256", 256, 7, false}, {"rep-0", 100, 0, true},
        {"rep-1-c100", 100, 1, true},    {"rep-8-c100", 100, 8, true},
        {"rep-2-c6", 6, 2, true},
    };
    for (size_t i = 0; i < sizeof built / sizeof built[0]; i++) {
        for (size_t j = 0; j < NTK_KE_COOKIES_MAX; j++) {
            fill_cookie(&c[j], built[i].cookie_len, (uint8_t)j);
        }
        put_hdr(buf, built[i].reply ? 0x24 : 0x23);
        int n = built[i].reply ? ntk_nts_build_reply(buf, sizeof buf, HDR, uid, 32, c,
                                                     built[i].n, k, nonce1)
                               : ntk_nts_build_request(buf, sizeof buf, HDR, uid, &c[0],
                                                       built[i].n, k, nonce1);
        assert_true(n > 0);
        write_seed(dir, built[i].name, 0, buf, (size_t)n);
    }
    put_hdr(buf, 0xe4);
    memcpy(buf + 12, "NTSN", 4);
    int n = ntk_nts_build_nak(buf, sizeof buf, HDR, uid, 32);
    write_seed(dir, "nak", 4, buf, (size_t)n);
    put_hdr(buf, 0x23);
    memset(buf + HDR, 0, 24);
    buf[HDR + 3] = 1;
    write_seed(dir, "not-nts-mac", 0, buf, HDR + 24);
    size_t len = capture_frame("nts", "20", buf, sizeof buf);
    write_seed(dir, "chrony-req-f20", 3, buf, len);
    len = capture_frame("nts", "21", buf, sizeof buf);
    write_seed(dir, "chrony-rep-f21", 2 | 8, buf, len);
    len = capture_frame("nts", "33", buf, sizeof buf);
    write_seed(dir, "chrony-nak-f33", 4 | 8, buf, len);
    len = capture_frame("nts-ntpsec-client", "19", buf, sizeof buf);
    write_seed(dir, "ntpsec-req-f19", 0, buf, len);
    ntk_aead_key_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_packets),
        cmocka_unit_test(request_roundtrip),
        cmocka_unit_test(reply_roundtrip),
        cmocka_unit_test(no_amplification),
        cmocka_unit_test(nak),
        cmocka_unit_test(request_rules),
        cmocka_unit_test(reply_rules),
        cmocka_unit_test(tamper_every_byte),
        cmocka_unit_test(build_errors),
        cmocka_unit_test(verdict_names),
        cmocka_unit_test(mutants_never_authenticate),
        cmocka_unit_test(gen_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
