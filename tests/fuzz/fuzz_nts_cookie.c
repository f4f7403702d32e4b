/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for daemon/core/ntss.c: ntss_open_cookie on arbitrary bytes, and on bytes
 * sealed under a master key so that the tag always verifies (ntpd-rs's cookie_parsing_sound).
 * Input: a mode byte, then the data.
 *   mode even: data is a cookie, opened by a state holding the keys below and by one holding
 *     none. Invariants: only 0, NTK_ENOTFOUND, NTK_EFORMAT or NTK_EAUTH; the empty state
 *     never opens anything; an opened cookie has our length for its AEAD, and a cookie made
 *     again from what it held opens to the same keys.
 *   mode odd: data is a plaintext, sealed as a cookie under master key (mode >> 1) % 3 with
 *     a fixed nonce; opening it must give exactly what the plaintext rules say: 0 with the
 *     keys it carries when its length, AEAD id and zero padding agree, else NTK_EFORMAT
 *     (never NTK_EAUTH: the decryption succeeded).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "ntk/aead.h"
#include "ntk/err.h"
#include "ntss.h"

#include "poison.h"

/* Three master keys (oldest first); their ids are the first 4 bytes of the seeds' cookies. */
static const char key_file[] =
    "# fuzz keys\n"
    "0a0b0c0d 1700000000 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
    "11223344 1700086400 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n"
    "deadbeef 1700172800 404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\n";
static const uint32_t key_ids[3] = {0x0a0b0c0d, 0x11223344, 0xdeadbeef};

static void counter_rng(void *ctx, uint8_t *p, size_t n)
{
    uint8_t *c = ctx;
    for (size_t i = 0; i < n; i++) {
        p[i] = (*c)++;
    }
}

static uint8_t rng_ctr;
static const struct eng_rng rng = {&rng_ctr, counter_rng};

struct fixture {
    struct ntss *keys, *none;
    struct ntk_aead_key *master[3];
};

static struct fixture *fixture(void)
{
    static struct fixture f;
    if (!f.keys) {
        f.keys = ntss_new(&rng);
        f.none = ntss_new(&rng);
        FUZZ_CHECK(f.keys && f.none);
        FUZZ_CHECK(ntss_load(f.keys, key_file, sizeof key_file - 1, NULL, 0) == 3);
        for (int i = 0; i < 3; i++) {
            uint8_t k[32];
            for (int j = 0; j < 32; j++) {
                k[j] = (uint8_t)(32 * i + j);
            }
            FUZZ_CHECK(ntk_aead_key_init(&f.master[i], NTK_AEAD_AES_SIV_CMAC_256, k, 32) == 0);
        }
    }
    return &f;
}

static void check_opened(struct ntss *s, size_t len, const struct ntss_cookie_keys *k)
{
    FUZZ_CHECK(ntk_aead_key_len(k->aead) == k->key_len && k->key_len > 0);
    FUZZ_CHECK(len == NTSS_COOKIE_LEN(k->key_len));
    struct ntk_ke_cookie again;
    FUZZ_CHECK(ntss_make_cookie(s, k->aead, k->c2s, k->s2c, k->key_len, &again) == 0);
    FUZZ_CHECK(again.len == len);
    struct ntss_cookie_keys k2;
    FUZZ_CHECK(ntss_open_cookie(s, again.b, again.len, &k2) == 0);
    FUZZ_CHECK(k2.aead == k->aead && k2.key_len == k->key_len);
    FUZZ_CHECK(memcmp(k2.c2s, k->c2s, k->key_len) == 0);
    FUZZ_CHECK(memcmp(k2.s2c, k->s2c, k->key_len) == 0);
}

static void open_raw(struct fixture *f, const uint8_t *data, size_t size)
{
    struct ntss_cookie_keys k;
    int rc = ntss_open_cookie(f->keys, data, size, &k);
    FUZZ_CHECK(rc == 0 || rc == NTK_ENOTFOUND || rc == NTK_EFORMAT || rc == NTK_EAUTH);
    if (rc == 0) {
        check_opened(f->keys, size, &k);
    }
    rc = ntss_open_cookie(f->none, data, size, &k);
    FUZZ_CHECK(rc == NTK_ENOTFOUND || rc == NTK_EFORMAT);
}

/* What ntss_open_cookie must say of a cookie of len bytes holding plaintext pt[0..n). */
static int expected(const uint8_t *pt, size_t n, size_t len)
{
    if (n < 4) {
        return NTK_EFORMAT;
    }
    uint16_t aead = (uint16_t)(pt[0] << 8 | pt[1]);
    size_t kl = ntk_aead_key_len(aead);
    bool ok = kl > 0 && len == NTSS_COOKIE_LEN(kl) && pt[2] == 0 && pt[3] == 0;
    return ok ? 0 : NTK_EFORMAT;
}

static void open_sealed(struct fixture *f, unsigned which, const uint8_t *pt, size_t n)
{
    uint8_t c[NTK_KE_COOKIE_MAX + NTK_AEAD_TAG_LEN];
    if (n > NTK_KE_COOKIE_MAX - 20 - NTK_AEAD_TAG_LEN) {
        n = NTK_KE_COOKIE_MAX - 20 - NTK_AEAD_TAG_LEN;
    }
    uint32_t id = key_ids[which];
    c[0] = (uint8_t)(id >> 24);
    c[1] = (uint8_t)(id >> 16);
    c[2] = (uint8_t)(id >> 8);
    c[3] = (uint8_t)id;
    memset(c + 4, 0x6e, NTK_AEAD_NONCE_LEN);
    int sealed = ntk_aead_seal(f->master[which], c, 4, c + 4, NTK_AEAD_NONCE_LEN, pt, n,
                               c + 20, sizeof c - 20);
    FUZZ_CHECK(sealed == (int)(n + NTK_AEAD_TAG_LEN));
    size_t len = 20 + (size_t)sealed;
    struct ntss_cookie_keys k;
    int rc = ntss_open_cookie(f->keys, c, len, &k);
    FUZZ_CHECK(rc == expected(pt, n, len));
    if (rc == 0) {
        FUZZ_CHECK(k.aead == (uint16_t)(pt[0] << 8 | pt[1]));
        FUZZ_CHECK(memcmp(k.c2s, pt + 4, k.key_len) == 0);
        FUZZ_CHECK(memcmp(k.s2c, pt + 4 + k.key_len, k.key_len) == 0);
        check_opened(f->keys, len, &k);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    struct fixture *f = fixture();
    if (data[0] & 1) {
        open_sealed(f, (unsigned)(data[0] >> 1) % 3, data + 1, size - 1);
    } else {
        open_raw(f, data + 1, size - 1);
    }
    return 0;
}
