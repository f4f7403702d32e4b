/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for lib/nts_ef.c. The first input byte picks the key, the UID and the KoD
 * flag; the rest is an NTP datagram. Client side: ntk_nts_check_reply must never say
 * "authenticated" unless the Authenticator really seals what precedes it (checked again by
 * re-opening and re-sealing it independently), and an accepted reply rebuilt from its cookies
 * is accepted again with the same cookies. Server side: ntk_nts_parse_request on the same
 * bytes must hand out only spans inside the input that obey the header's rules, and
 * ntk_nts_verify_request must succeed only for a genuine seal.
 *
 * Flags byte: bits 0-1 key (0, 1: fixed test keys; 2, 3: chrony's S2C and C2S of nts.pcap
 * stream 0, so real captures authenticate); bit 2: the header is a KoD NTSN; bit 3: take our
 * UID from the packet (bytes 52..84, where a first UID field's body lies), else bit 4 picks
 * fixed UID A or B. The unit test tests/unit/test_nts_ef.c (gen_corpus) writes seeds with
 * the same keys and UIDs. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntk/aead.h"
#include "ntk/buf.h"
#include "ntk/ef.h"
#include "ntk/err.h"
#include "ntk/nts_ef.h"
#include "ntk/pkt.h"
#include "fuzz.h"

#include "poison.h"

enum { HDR = NTK_PKT_HDR_LEN };

static struct ntk_aead_key *keys[4];

/* The fixed test keys: byte i of key s is s + 13 i (as make_key in test_nts_ef.c). */
static void init_keys(void)
{
    static const uint8_t chrony[2][32] = {
        {0x39, 0x8e, 0x15, 0x27, 0x2f, 0xe7, 0xe3, 0x71, 0x36, 0x6d, 0xab,
         0xc8, 0x69, 0x0b, 0x9a, 0x76, 0x32, 0xe4, 0xe6, 0x6f, 0x36, 0x85,
         0xe3, 0x82, 0xac, 0x33, 0x4d, 0xfe, 0xd9, 0xa5, 0xd9, 0x1f},
        {0x67, 0x9f, 0x78, 0x8a, 0x97, 0xa3, 0x3e, 0x5d, 0x37, 0x40, 0x06,
         0x03, 0x83, 0x94, 0x02, 0xba, 0x4c, 0xce, 0xac, 0xc0, 0x48, 0xe0,
         0x72, 0x31, 0xdc, 0x0c, 0x6f, 0x2e, 0x34, 0xcb, 0x3f, 0xa8},
    };
    for (size_t i = 0; i < 4; i++) {
        uint8_t k[32];
        for (size_t j = 0; j < 32; j++) {
            k[j] = i < 2 ? (uint8_t)(0x21 * (i + 1) + j * 13) : chrony[i - 2][j];
        }
        FUZZ_CHECK(ntk_aead_key_init(&keys[i], NTK_AEAD_AES_SIV_CMAC_256, k, 32) == 0);
    }
}

/* Fixed UID s: byte i is s ^ 29 i (fill_uid in test_nts_ef.c). */
static void fixed_uid(uint8_t uid[NTK_NTS_UID_LEN], uint8_t s)
{
    for (size_t i = 0; i < NTK_NTS_UID_LEN; i++) {
        uid[i] = (uint8_t)(s ^ (i * 29));
    }
}

/* An independent look at the Authenticator: the last field, found with the plain walker. */
struct found {
    size_t off;
    const uint8_t *nonce, *ct;
    size_t nonce_len, ct_len;
};

static bool find_auth(const uint8_t *p, size_t len, struct found *f)
{
    struct ntk_rd rd;
    struct ntk_ef_iter it;
    struct ntk_ef ef;
    bool seen = false;
    ntk_rd_init(&rd, p, len);
    ntk_rd_skip(&rd, HDR);
    ntk_ef_iter_init(&it, &rd, NTK_EF_MIN_LEN);
    while (ntk_ef_next(&it, &ef) == 1) {
        if (ef.type == NTK_EF_NTS_AUTH) {
            f->off = ef.off;
            f->nonce_len = ntk_rd_be16(&ef.body);
            f->ct_len = ntk_rd_be16(&ef.body);
            f->nonce = ntk_rd_ptr(&ef.body, f->nonce_len);
            ntk_rd_skip(&ef.body, (4 - f->nonce_len % 4) % 4);
            f->ct = ntk_rd_ptr(&ef.body, f->ct_len);
            seen = ntk_rd_err(&ef.body) == 0;
        }
    }
    return seen;
}

/* The Authenticator really seals: it opens, and sealing the plaintext again gives the same
 * ciphertext (SIV is deterministic). */
static void check_genuine(const uint8_t *p, size_t off, const uint8_t *nonce, size_t nonce_len,
                          const uint8_t *ct, size_t ct_len, struct ntk_aead_key *k)
{
    static uint8_t pt[NTK_NTS_PKT_MAX], again[NTK_NTS_PKT_MAX + NTK_AEAD_TAG_LEN];
    int n = ntk_aead_open(k, p, off, nonce, nonce_len, ct, ct_len, pt, sizeof pt);
    FUZZ_CHECK(n >= 0 && (size_t)n + NTK_AEAD_TAG_LEN == ct_len);
    FUZZ_CHECK(ntk_aead_seal(k, p, off, nonce, nonce_len, pt, (size_t)n, again,
                             sizeof again) == (int)ct_len);
    FUZZ_CHECK(memcmp(again, ct, ct_len) == 0);
}

static void client_side(const uint8_t *p, size_t len, uint8_t flags)
{
    uint8_t uid[NTK_NTS_UID_LEN];
    if ((flags & 8) && len >= 84) {
        memcpy(uid, p + 52, sizeof uid);
    } else {
        fixed_uid(uid, (flags & 16) ? 0x56 : 0x55);
    }
    struct ntk_aead_key *k = keys[flags & 3];
    static struct ntk_nts_reply out;
    out.n_cookies = 999;
    enum ntk_nts_verdict v = ntk_nts_check_reply(p, len, uid, (flags & 4) != 0, k, &out);
    FUZZ_CHECK((unsigned)v < NTK_NTS_VERDICT_COUNT);
    if (v != NTK_NTS_OK) {
        FUZZ_CHECK(out.n_cookies == 999); /* written only on success */
        FUZZ_CHECK(v != NTK_NTS_NAK || (flags & 4));
        return;
    }
    struct found f = {0, NULL, NULL, 0, 0};
    FUZZ_CHECK(find_auth(p, len, &f));
    check_genuine(p, f.off, f.nonce, f.nonce_len, f.ct, f.ct_len, k);
    FUZZ_CHECK(out.n_cookies <= NTK_KE_COOKIES_MAX);
    for (size_t i = 0; i < out.n_cookies; i++) {
        FUZZ_CHECK(out.cookies[i].len >= 1 && out.cookies[i].len <= NTK_KE_COOKIE_MAX);
    }
    /* Round trip: the same header, UID and cookies rebuilt, accepted with the same cookies. */
    static uint8_t re[NTK_NTS_PKT_MAX];
    static struct ntk_nts_reply out2;
    static const uint8_t nonce[NTK_AEAD_NONCE_LEN] = {1, 2, 3};
    memcpy(re, p, HDR);
    int n = ntk_nts_build_reply(re, sizeof re, HDR, uid, NTK_NTS_UID_LEN, out.cookies,
                                out.n_cookies, k, nonce);
    FUZZ_CHECK(n > 0);
    FUZZ_CHECK((size_t)n == ntk_nts_reply_len(HDR, NTK_NTS_UID_LEN,
                                              out.n_cookies ? out.cookies[0].len : 0,
                                              out.n_cookies) ||
               out.n_cookies > 1); /* reply_len assumes equal cookie lengths */
    FUZZ_CHECK(ntk_nts_check_reply(re, (size_t)n, uid, (flags & 4) != 0, k, &out2) ==
               NTK_NTS_OK);
    FUZZ_CHECK(out2.n_cookies == out.n_cookies);
    for (size_t i = 0; i < out.n_cookies; i++) {
        /* A cookie not a multiple of 4 comes back with its padding. */
        FUZZ_CHECK(out2.cookies[i].len == ((out.cookies[i].len + 3u) & ~3u) ||
                   out2.cookies[i].len == 12);
        FUZZ_CHECK(memcmp(out2.cookies[i].b, out.cookies[i].b, out.cookies[i].len) == 0);
    }
}

static bool inside(const uint8_t *p, size_t len, const uint8_t *q, size_t n)
{
    return q >= p && n <= len && (size_t)(q - p) <= len - n;
}

static void server_side(const uint8_t *p, size_t len, uint8_t flags)
{
    struct ntk_nts_request r;
    int rc = ntk_nts_parse_request(p, len, HDR, &r);
    FUZZ_CHECK(rc == 0 || rc == 1 || rc == NTK_EFORMAT);
    if (rc != 1) {
        return;
    }
    FUZZ_CHECK(r.uid_len >= NTK_NTS_UID_MIN && r.uid_len <= NTK_NTS_UID_MAX);
    FUZZ_CHECK(inside(p, len, r.uid, r.uid_len));
    FUZZ_CHECK(r.cookie_len >= 1 && r.cookie_len <= NTK_KE_COOKIE_MAX);
    FUZZ_CHECK(inside(p, len, r.cookie, r.cookie_len));
    FUZZ_CHECK(r.n_placeholders <= NTK_NTS_PLACEHOLDERS_MAX);
    FUZZ_CHECK(r.auth_off >= HDR && r.auth_off < len);
    FUZZ_CHECK(r.nonce_len >= NTK_NTS_NONCE_MIN && inside(p, len, r.nonce, r.nonce_len));
    FUZZ_CHECK(r.ct_len >= NTK_AEAD_TAG_LEN && inside(p, len, r.ct, r.ct_len));
    FUZZ_CHECK(r.nonce > p + r.auth_off && r.ct >= r.nonce + r.nonce_len);
    FUZZ_CHECK(len <= NTK_NTS_PKT_MAX && len % 4 == 0);
    struct ntk_aead_key *k = keys[flags & 3];
    int v = ntk_nts_verify_request(p, &r, k);
    FUZZ_CHECK(v == 0 || v == NTK_EAUTH || v == NTK_EFORMAT);
    if (v == 0) {
        check_genuine(p, r.auth_off, r.nonce, r.nonce_len, r.ct, r.ct_len, k);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!keys[0]) {
        init_keys();
    }
    if (size < 1) {
        return 0;
    }
    uint8_t flags = data[0];
    client_side(data + 1, size - 1, flags);
    server_side(data + 1, size - 1, flags);
    return 0;
}
