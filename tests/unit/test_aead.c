/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/aead.c: RFC 5297 vectors, real chrony cookies and authenticators,
 * agreement with OpenSSL's own AES-SIV, tampering, every bad length, names, and a bench. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "ntk/aead.h"
#include "ntk/err.h"
#include "testutil.h"

#include "poison.h"

/* Decodes hex into dst and returns the length, failing the test on bad hex. */
static size_t unhex(const char *hex, uint8_t *dst, size_t cap)
{
    int n = tu_unhex(hex, dst, cap);
    assert_true(n >= 0);
    return (size_t)n;
}

static struct ntk_aead_key *key_from_hex(uint16_t alg, const char *hex)
{
    uint8_t k[NTK_AEAD_KEY_MAX];
    size_t n = unhex(hex, k, sizeof k);
    struct ntk_aead_key *key = NULL;
    assert_int_equal(ntk_aead_key_init(&key, alg, k, n), 0);
    assert_non_null(key);
    assert_int_equal(ntk_aead_key_alg(key), alg);
    return key;
}

/* RFC 5297 Appendix A.1: deterministic authenticated encryption (one AD, no nonce). */
static const char a1_key[] =
    "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
static const char a1_ad[] = "101112131415161718191a1b1c1d1e1f2021222324252627";
static const char a1_pt[] = "112233445566778899aabbccddee";
static const char a1_out[] = "85632d07c6e8f37f950acd320a2ecc9340c02b9690c4dc04daef7f6afe5c";

static void rfc5297_a1(void **state)
{
    (void)state;
    struct ntk_aead_key *k = key_from_hex(NTK_AEAD_AES_SIV_CMAC_256, a1_key);
    uint8_t ad[24], pt[14], want[30], out[64], back[64];
    size_t ad_len = unhex(a1_ad, ad, sizeof ad);
    unhex(a1_pt, pt, sizeof pt);
    unhex(a1_out, want, sizeof want);

    assert_int_equal(ntk_aead_seal(k, ad, ad_len, NULL, 0, pt, 14, out, sizeof out), 30);
    assert_memory_equal(out, want, 30);
    const uint8_t *ads[1] = {ad};
    memset(out, 0, sizeof out);
    assert_int_equal(ntk_aead_seal_v(k, ads, &ad_len, 1, NULL, 0, pt, 14, out, 30), 30);
    assert_memory_equal(out, want, 30);

    assert_int_equal(ntk_aead_open(k, ad, ad_len, NULL, 0, want, 30, back, 14), 14);
    assert_memory_equal(back, pt, 14);
    memset(back, 0, sizeof back);
    assert_int_equal(ntk_aead_open_v(k, ads, &ad_len, 1, NULL, 0, want, 30, back, 14), 14);
    assert_memory_equal(back, pt, 14);
    ntk_aead_key_free(k);
}

/* RFC 5297 Appendix A.2: nonce-based, two AD components then the nonce. */
static const char a2_key[] =
    "7f7e7d7c7b7a79787776757473727170404142434445464748494a4b4c4d4e4f";
static const char a2_ad1[] =
    "00112233445566778899aabbccddeeffdeaddadadeaddadaffeeddccbbaa99887766554433221100";
static const char a2_ad2[] = "102030405060708090a0";
static const char a2_nonce[] = "09f911029d74e35bd84156c5635688c0";
static const char a2_pt[] = "7468697320697320736f6d6520706c61696e7465787420746f20656e637279707"
                            "4207573696e67205349562d41"
                            "4553";
static const char a2_out[] =
    "7bdb6e3b432667eb06f4d14bff2fbd0fcb900f2fddbe404326601965c889bf17dba77ceb094fa663b7a3f748"
    "ba8af829ea64ad544a272e9c485b62a3fd5c0d";

static void rfc5297_a2(void **state)
{
    (void)state;
    struct ntk_aead_key *k = key_from_hex(NTK_AEAD_AES_SIV_CMAC_256, a2_key);
    uint8_t ad1[40], ad2[10], nonce[16], pt[64], want[80], out[96], back[64];
    size_t lens[3] = {unhex(a2_ad1, ad1, sizeof ad1), unhex(a2_ad2, ad2, sizeof ad2),
                      unhex(a2_nonce, nonce, sizeof nonce)};
    size_t pt_len = unhex(a2_pt, pt, sizeof pt);
    size_t out_len = unhex(a2_out, want, sizeof want);
    assert_int_equal(pt_len, 47);
    assert_int_equal(out_len, 63);
    const uint8_t *ads[3] = {ad1, ad2, nonce};

    assert_int_equal(ntk_aead_seal_v(k, ads, lens, 2, nonce, 16, pt, pt_len, out, sizeof out),
                     63);
    assert_memory_equal(out, want, 63);
    assert_int_equal(ntk_aead_open_v(k, ads, lens, 2, nonce, 16, want, 63, back, sizeof back),
                     47);
    assert_memory_equal(back, pt, 47);

    /* The nonce is nothing but the last component (RFC 5297 §3). */
    memset(out, 0, sizeof out);
    assert_int_equal(ntk_aead_seal_v(k, ads, lens, 3, NULL, 0, pt, pt_len, out, sizeof out),
                     63);
    assert_memory_equal(out, want, 63);

    /* Dropping or reordering a component changes everything. */
    const uint8_t *swapped[2] = {ad2, ad1};
    size_t swapped_len[2] = {lens[1], lens[0]};
    assert_int_equal(
        ntk_aead_open_v(k, swapped, swapped_len, 2, nonce, 16, want, 63, back, sizeof back),
        NTK_EAUTH);
    assert_int_equal(ntk_aead_open_v(k, ads, lens, 1, nonce, 16, want, 63, back, sizeof back),
                     NTK_EAUTH);
    ntk_aead_key_free(k);
}

/* chrony 4.3's first cookie in tests/data/nts.pcap (key id 318fe463, nts-verify.txt): nonce,
 * then SIV(server key, AD = [empty string, nonce], C2S || S2C). Opening it proves that an
 * empty AD component counts as a component here as in nettle. */
static const char chrony_master[] =
    "E3BB1C339A4DF40324F8115AABEC836D0120C2CCCA8BE44D1DC410AB87604310";
static const char chrony_cookie_nonce[] = "02791484b3db6015bfc82b89b70c991d";
static const char chrony_cookie_ct[] =
    "2fc399f6c52889074d614b7ca153e6b8a2e32f12a8272cba9107c98de627c9fe2bfe80528f60919a0918a587"
    "6893c3790bbf3bb99e50c6378eebc04094a707f61808e1a350128f42f9dd03dcb85e8e23";
static const char chrony_c2s[] =
    "679f788a97a33e5d37400603839402ba4cceacc048e07231dc0c6f2e34cb3fa8";
static const char chrony_s2c[] =
    "398e15272fe7e371366dabc8690b9a7632e4e66f3685e382ac334dfed9a5d91f";

static void chrony_cookie_opens(void **state)
{
    (void)state;
    struct ntk_aead_key *k = key_from_hex(NTK_AEAD_AES_SIV_CMAC_256, chrony_master);
    uint8_t nonce[16], ct[80], pt[64], want[64];
    unhex(chrony_cookie_nonce, nonce, sizeof nonce);
    assert_int_equal(unhex(chrony_cookie_ct, ct, sizeof ct), 80);
    unhex(chrony_c2s, want, 32);
    unhex(chrony_s2c, want + 32, 32);
    assert_int_equal(ntk_aead_open(k, NULL, 0, nonce, 16, ct, 80, pt, sizeof pt), 64);
    assert_memory_equal(pt, want, 64);
    static const uint8_t nothing[1];
    assert_int_equal(ntk_aead_open(k, nothing, 0, nonce, 16, ct, 80, pt, sizeof pt), 64);
    /* With no AD component at all it is another S2V input. */
    assert_int_equal(ntk_aead_open_v(k, NULL, NULL, 0, nonce, 16, ct, 80, pt, sizeof pt),
                     NTK_EAUTH);
    /* Sealing again reproduces the cookie (SIV is deterministic). */
    uint8_t again[80];
    assert_int_equal(ntk_aead_seal(k, NULL, 0, nonce, 16, want, 64, again, sizeof again), 80);
    assert_memory_equal(again, ct, 80);
    ntk_aead_key_free(k);
}

/* nts.tsv frames 20 (chrony's request: empty plaintext) and 21 (reply: one cookie field). */
static const char frame20[] = "230001200000000000000000000000000000000000000000000000000000000"
                              "000000000000000008b86e81ae0"
                              "a7b2520104002496aa194cbdc4bc309e74aedf312cc57b63cb1f4256b1f4465"
                              "fe822f01e12267302040068318f"
                              "e46302791484b3db6015bfc82b89b70c991d2fc399f6c52889074d614b7ca15"
                              "3e6b8a2e32f12a8272cba9107c9"
                              "8de627c9fe2bfe80528f60919a0918a5876893c3790bbf3bb99e50c6378eebc"
                              "04094a707f61808e1a350128f42"
                              "f9dd03dcb85e8e230404002800100010be368b1d0339b156e49b78272a46811"
                              "d40c8f3191f20f4cb27ca2cae09"
                              "95d051";
static const char frame21[] = "240101e600000000000000007f7f0101eeb22bb0e984a2c98b86e81ae0a7b25"
                              "2eeb22bb2b56c0a31eeb22bb2b5"
                              "72eb0c0104002496aa194cbdc4bc309e74aedf312cc57b63cb1f4256b1f4465"
                              "fe822f01e12267304040090001000"
                              "783a9a6bf5e4a067ef909c679f1617a6f050840d29353bf0bd678c9f5ca9eb2"
                              "a69b528fd4196502b1cd15ee7a8"
                              "eef25a7bef634ed049f2f4b3d887d11481a096dbc2066d244db0f7b2b943be1"
                              "9e7a453fabcdd4c3e02c916aa5d"
                              "663438ad234e4813f0170bf66f55418d77ca027def27d1cbb6596f8ef88fb1f"
                              "a979871543ca324b85ecfdaefea"
                              "9587";

static void chrony_authenticators(void **state)
{
    (void)state;
    uint8_t p[256], pt[128];
    /* Request: AD = the 188 bytes before the Authenticator at 188; nonce at 196, tag at 212.
     */
    assert_int_equal(unhex(frame20, p, sizeof p), 228);
    struct ntk_aead_key *c2s = key_from_hex(NTK_AEAD_AES_SIV_CMAC_256, chrony_c2s);
    assert_int_equal(ntk_aead_open(c2s, p, 188, p + 196, 16, p + 212, 16, pt, 0), 0);
    uint8_t tag[16];
    assert_int_equal(ntk_aead_seal(c2s, p, 188, p + 196, 16, NULL, 0, tag, sizeof tag), 16);
    assert_memory_equal(tag, p + 212, 16);
    p[10] ^= 1;
    assert_int_equal(ntk_aead_open(c2s, p, 188, p + 196, 16, p + 212, 16, pt, 0), NTK_EAUTH);

    /* Reply: AD = 84 bytes, Authenticator at 84: nonce at 92, 120-byte ciphertext at 108. */
    assert_int_equal(unhex(frame21, p, sizeof p), 228);
    struct ntk_aead_key *s2c = key_from_hex(NTK_AEAD_AES_SIV_CMAC_256, chrony_s2c);
    assert_int_equal(ntk_aead_open(s2c, p, 84, p + 92, 16, p + 108, 120, pt, sizeof pt), 104);
    assert_int_equal(pt[0], 0x02); /* an NTS Cookie field of 104 bytes */
    assert_int_equal(pt[1], 0x04);
    assert_int_equal(pt[2], 0x00);
    assert_int_equal(pt[3], 104);
    ntk_aead_key_free(c2s);
    ntk_aead_key_free(s2c);
}

/* OpenSSL's own AES-SIV for comparison (it needs a non-empty plaintext). */
static int openssl_siv(uint16_t alg, const uint8_t *key, const uint8_t *const *ad,
                       const size_t *ad_len, size_t n_ad, const uint8_t *pt, size_t pt_len,
                       uint8_t *out)
{
    const char *name = alg == NTK_AEAD_AES_SIV_CMAC_256   ? "AES-128-SIV"
                       : alg == NTK_AEAD_AES_SIV_CMAC_384 ? "AES-192-SIV"
                                                          : "AES-256-SIV";
    static const uint8_t empty[1];
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, name, NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, ok = c && ctx && EVP_EncryptInit_ex2(ctx, c, key, NULL, NULL) == 1;
    for (size_t i = 0; ok && i < n_ad; i++) {
        ok = EVP_EncryptUpdate(ctx, NULL, &n, ad[i] ? ad[i] : empty, (int)ad_len[i]) == 1;
    }
    ok = ok && EVP_EncryptUpdate(ctx, out + 16, &n, pt, (int)pt_len) == 1;
    ok = ok && EVP_EncryptFinal_ex(ctx, out + 16 + n, &n) == 1;
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out) == 1;
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(c);
    return ok;
}

static const uint16_t all_algs[3] = {NTK_AEAD_AES_SIV_CMAC_256, NTK_AEAD_AES_SIV_CMAC_384,
                                     NTK_AEAD_AES_SIV_CMAC_512};

/* A length in 1..max, half the time within a block of a multiple of 256 bytes, where aead.c
 * moves on to its next chunk (a CMAC's last block and S2V's xorend may fall on either
 * side). */
static size_t near_chunk_edge(size_t max)
{
    size_t n =
        tu_rand() % 2 ? 256 * (1 + tu_rand() % 2) - 17 + tu_rand() % 34 : 1 + tu_rand() % max;
    return n > max ? max : n;
}

/* Seeded: random keys, 0-5 AD components (empty ones included), 1-300 byte plaintexts: the
 * same bytes as OpenSSL's SIV cipher, and open gives the plaintext back. */
static void agrees_with_openssl_siv(void **state)
{
    (void)state;
    tu_seed();
    for (int iter = 0; iter < 600; iter++) {
        uint16_t alg = all_algs[tu_rand() % 3];
        uint8_t key[64], ad_buf[5][600], pt[700], ours[716], theirs[716], back[700];
        size_t key_len = ntk_aead_key_len(alg), n_ad = (size_t)(tu_rand() % 6);
        size_t pt_len = near_chunk_edge(700), lens[5];
        const uint8_t *ads[5];
        tu_fill(key, key_len);
        tu_fill(pt, pt_len);
        for (size_t i = 0; i < n_ad; i++) {
            lens[i] = tu_rand() % 4 == 0 ? 0 : near_chunk_edge(600) - 1;
            tu_fill(ad_buf[i], lens[i]);
            ads[i] = tu_rand() % 2 && lens[i] == 0 ? NULL : ad_buf[i];
        }
        struct ntk_aead_key *k = NULL;
        assert_int_equal(ntk_aead_key_init(&k, alg, key, key_len), 0);
        assert_int_equal(
            ntk_aead_seal_v(k, ads, lens, n_ad, NULL, 0, pt, pt_len, ours, sizeof ours),
            (int)(pt_len + 16));
        assert_true(openssl_siv(alg, key, ads, lens, n_ad, pt, pt_len, theirs));
        assert_memory_equal(ours, theirs, pt_len + 16);
        assert_int_equal(
            ntk_aead_open_v(k, ads, lens, n_ad, NULL, 0, ours, pt_len + 16, back, pt_len),
            (int)pt_len);
        assert_memory_equal(back, pt, pt_len);
        ntk_aead_key_free(k);
    }
}

/* Seeded round trips for 15/16/17 around the block boundaries, on one re-keyed object. */
static void round_trips(void **state)
{
    (void)state;
    tu_seed();
    uint8_t key[64] = {0};
    struct ntk_aead_key *k = NULL;
    assert_int_equal(ntk_aead_key_init(&k, NTK_AEAD_AES_SIV_CMAC_256, key, 32), 0);
    for (int iter = 0; iter < 900; iter++) {
        uint16_t alg = all_algs[iter % 3];
        size_t key_len = ntk_aead_key_len(alg);
        size_t pt_len = (size_t)(iter / 3 % 50) + (iter % 7 == 0 ? 200 : 0);
        size_t ad_len = (size_t)(tu_rand() % 70);
        uint8_t ad[70], nonce[16], pt[260], ct[276], back[260];
        tu_fill(key, key_len);
        tu_fill(ad, ad_len);
        tu_fill(nonce, 16);
        tu_fill(pt, pt_len);
        assert_int_equal(ntk_aead_key_set(k, alg, key, key_len), 0);
        assert_int_equal(ntk_aead_key_alg(k), alg);
        assert_int_equal(ntk_aead_seal(k, ad, ad_len, nonce, 16, pt, pt_len, ct, sizeof ct),
                         (int)(pt_len + 16));
        assert_int_equal(
            ntk_aead_open(k, ad, ad_len, nonce, 16, ct, pt_len + 16, back, sizeof back),
            (int)pt_len);
        assert_memory_equal(back, pt, pt_len);
        /* A fresh object with the same key agrees byte for byte. */
        struct ntk_aead_key *fresh = NULL;
        uint8_t ct2[276];
        assert_int_equal(ntk_aead_key_init(&fresh, alg, key, key_len), 0);
        assert_int_equal(
            ntk_aead_seal(fresh, ad, ad_len, nonce, 16, pt, pt_len, ct2, sizeof ct2),
            (int)(pt_len + 16));
        assert_memory_equal(ct, ct2, pt_len + 16);
        ntk_aead_key_free(fresh);
    }
    ntk_aead_key_free(k);
}

/* The CTR half is keyed only when something is encrypted: key changes in a row, some with
 * nothing to encrypt, across algorithms and back, must leave it with the last key and the
 * right AES size. Each seal is compared with a fresh object's. */
static void ctr_keyed_when_needed(void **state)
{
    (void)state;
    static const struct {
        uint16_t alg;
        uint8_t fill;
        size_t pt_len;
    } steps[] = {
        {NTK_AEAD_AES_SIV_CMAC_256, 1, 40}, {NTK_AEAD_AES_SIV_CMAC_384, 2, 0},
        {NTK_AEAD_AES_SIV_CMAC_384, 3, 0},  {NTK_AEAD_AES_SIV_CMAC_384, 4, 33},
        {NTK_AEAD_AES_SIV_CMAC_256, 5, 0},  {NTK_AEAD_AES_SIV_CMAC_512, 6, 0},
        {NTK_AEAD_AES_SIV_CMAC_256, 7, 17}, {NTK_AEAD_AES_SIV_CMAC_256, 8, 0},
        {NTK_AEAD_AES_SIV_CMAC_256, 9, 64}, {NTK_AEAD_AES_SIV_CMAC_512, 10, 100},
    };
    uint8_t key[64], ad[20] = {9}, nonce[16] = {4}, pt[100] = {5}, ct[116], ct2[116];
    struct ntk_aead_key *k = NULL;
    memset(key, 0, sizeof key);
    assert_int_equal(ntk_aead_key_init(&k, NTK_AEAD_AES_SIV_CMAC_256, key, 32), 0);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        size_t kl = ntk_aead_key_len(steps[i].alg);
        memset(key, steps[i].fill, kl);
        assert_int_equal(ntk_aead_key_set(k, steps[i].alg, key, kl), 0);
        size_t n = steps[i].pt_len;
        assert_int_equal(ntk_aead_seal(k, ad, sizeof ad, nonce, 16, pt, n, ct, sizeof ct),
                         (int)n + 16);
        struct ntk_aead_key *fresh = NULL;
        assert_int_equal(ntk_aead_key_init(&fresh, steps[i].alg, key, kl), 0);
        assert_int_equal(
            ntk_aead_seal(fresh, ad, sizeof ad, nonce, 16, pt, n, ct2, sizeof ct2),
            (int)n + 16);
        assert_memory_equal(ct, ct2, n + 16);
        ntk_aead_key_free(fresh);
    }
    ntk_aead_key_free(k);
}

/* Every bit of tag, ciphertext, AD and nonce matters; a failed open leaves zeros. */
static void tampering(void **state)
{
    (void)state;
    for (size_t a = 0; a < 3; a++) {
        uint8_t key[64], ad[20], nonce[16], pt[17], ct[33], out[17];
        size_t key_len = ntk_aead_key_len(all_algs[a]);
        for (size_t i = 0; i < sizeof key; i++) {
            key[i] = (uint8_t)(i * 7 + a);
        }
        memset(ad, 0xad, sizeof ad);
        memset(nonce, 0x4e, sizeof nonce);
        memset(pt, 0x70, sizeof pt);
        struct ntk_aead_key *k = NULL;
        assert_int_equal(ntk_aead_key_init(&k, all_algs[a], key, key_len), 0);
        assert_int_equal(ntk_aead_seal(k, ad, 20, nonce, 16, pt, 17, ct, sizeof ct), 33);
        for (size_t bit = 0; bit < 8 * 33; bit++) {
            ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            memset(out, 0xaa, sizeof out);
            assert_int_equal(ntk_aead_open(k, ad, 20, nonce, 16, ct, 33, out, sizeof out),
                             NTK_EAUTH);
            for (size_t i = 0; i < sizeof out; i++) {
                assert_int_equal(out[i], 0);
            }
            ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        for (size_t bit = 0; bit < 8 * 20; bit++) {
            ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_equal(ntk_aead_open(k, ad, 20, nonce, 16, ct, 33, out, sizeof out),
                             NTK_EAUTH);
            ad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        for (size_t bit = 0; bit < 8 * 16; bit++) {
            nonce[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_equal(ntk_aead_open(k, ad, 20, nonce, 16, ct, 33, out, sizeof out),
                             NTK_EAUTH);
            nonce[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        /* Shorter AD or nonce, or none. */
        assert_int_equal(ntk_aead_open(k, ad, 19, nonce, 16, ct, 33, out, 17), NTK_EAUTH);
        assert_int_equal(ntk_aead_open(k, ad, 20, nonce, 15, ct, 33, out, 17), NTK_EAUTH);
        assert_int_equal(ntk_aead_open(k, ad, 20, NULL, 0, ct, 33, out, 17), NTK_EAUTH);
        assert_int_equal(ntk_aead_open(k, ad, 20, nonce, 16, ct, 33, out, 17), 17);
        assert_memory_equal(out, pt, 17);
        ntk_aead_key_free(k);
    }
}

/* Every wrong length and argument gives its documented error and writes nothing. */
static void wrong_lengths(void **state)
{
    (void)state;
    uint8_t key[65] = {1}, buf[64], out[64];
    struct ntk_aead_key *k = (struct ntk_aead_key *)(uintptr_t)1, *orig = k;
    for (size_t a = 0; a < 3; a++) {
        size_t len = ntk_aead_key_len(all_algs[a]);
        assert_int_equal(len, 32 + 16 * a);
        for (size_t bad = 0; bad <= 65; bad++) {
            if (bad != len) {
                assert_int_equal(ntk_aead_key_init(&k, all_algs[a], key, bad), NTK_EINVAL);
            }
        }
        assert_int_equal(ntk_aead_key_init(&k, all_algs[a], NULL, len), NTK_EINVAL);
    }
    const uint16_t unknown[] = {0, 1, 14, 18, 30, 0xffff};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_int_equal(ntk_aead_key_init(&k, unknown[i], key, 32), NTK_EUNSUPP);
        assert_int_equal(ntk_aead_key_len(unknown[i]), 0);
        assert_false(ntk_aead_supported(unknown[i]));
    }
    assert_ptr_equal(k, orig); /* never written on error */

    assert_int_equal(ntk_aead_key_init(&k, NTK_AEAD_AES_SIV_CMAC_256, key, 32), 0);
    assert_int_equal(ntk_aead_key_set(k, NTK_AEAD_AES_SIV_CMAC_256, key, 31), NTK_EINVAL);
    assert_int_equal(ntk_aead_key_set(k, 14, key, 32), NTK_EUNSUPP);
    assert_int_equal(ntk_aead_key_set(k, NTK_AEAD_AES_SIV_CMAC_256, key, 32), 0);

    /* Seal: cap one short, nothing written. */
    memset(out, 0x55, sizeof out);
    assert_int_equal(ntk_aead_seal(k, buf, 8, NULL, 0, buf, 10, out, 25), NTK_ENOSPC);
    assert_int_equal(ntk_aead_seal(k, buf, 8, NULL, 0, NULL, 0, out, 15), NTK_ENOSPC);
    for (size_t i = 0; i < sizeof out; i++) {
        assert_int_equal(out[i], 0x55);
    }
    assert_int_equal(ntk_aead_seal(k, buf, 8, NULL, 0, buf, 10, out, 26), 26);
    memcpy(buf, out, 26);
    /* Open: every ciphertext shorter than the tag is truncated; cap one short. */
    for (size_t n = 0; n < NTK_AEAD_TAG_LEN; n++) {
        assert_int_equal(ntk_aead_open(k, buf, 8, NULL, 0, buf, n, out, sizeof out),
                         NTK_ETRUNC);
    }
    assert_int_equal(ntk_aead_open(k, buf, 8, NULL, 0, buf, 26, out, 9), NTK_ENOSPC);
    /* NULL pointers with lengths, too many components. */
    assert_int_equal(ntk_aead_seal(k, NULL, 1, NULL, 0, buf, 10, out, 64), NTK_EINVAL);
    assert_int_equal(ntk_aead_seal(k, buf, 8, NULL, 16, buf, 10, out, 64), NTK_EINVAL);
    assert_int_equal(ntk_aead_seal(k, buf, 8, NULL, 0, NULL, 10, out, 64), NTK_EINVAL);
    assert_int_equal(ntk_aead_open(k, buf, 8, NULL, 0, NULL, 26, out, 64), NTK_EINVAL);
    const uint8_t *many[NTK_AEAD_AD_MAX + 1];
    size_t many_len[NTK_AEAD_AD_MAX + 1];
    for (size_t i = 0; i <= NTK_AEAD_AD_MAX; i++) {
        many[i] = buf;
        many_len[i] = i % 3;
    }
    assert_int_equal(
        ntk_aead_seal_v(k, many, many_len, NTK_AEAD_AD_MAX, buf, 16, buf, 4, out, 64),
        NTK_EINVAL);
    assert_int_equal(
        ntk_aead_seal_v(k, many, many_len, NTK_AEAD_AD_MAX, NULL, 0, buf, 4, out, 64), 20);
    assert_int_equal(
        ntk_aead_seal_v(k, many, many_len, NTK_AEAD_AD_MAX + 1, NULL, 0, buf, 4, out, 64),
        NTK_EINVAL);
    assert_int_equal(ntk_aead_seal_v(k, NULL, NULL, 2, NULL, 0, buf, 4, out, 64), NTK_EINVAL);
    ntk_aead_key_free(k);
    ntk_aead_key_free(NULL);
}

static void names(void **state)
{
    (void)state;
    assert_string_equal(ntk_aead_name(15), "AEAD_AES_SIV_CMAC_256");
    assert_string_equal(ntk_aead_name(16), "AEAD_AES_SIV_CMAC_384");
    assert_string_equal(ntk_aead_name(17), "AEAD_AES_SIV_CMAC_512");
    assert_string_equal(ntk_aead_name(0), "unknown");
    assert_string_equal(ntk_aead_name(30), "unknown");
    static const struct {
        const char *name;
        uint16_t alg;
    } cases[] = {
        {"AEAD_AES_SIV_CMAC_256", 15},
        {"aead_aes_siv_cmac_256", 15},
        {"AES_SIV_CMAC_256", 15},
        {"aes_siv_cmac_384", 16},
        {"Aead_Aes_Siv_Cmac_512", 17},
        {"15", 15},
        {"16", 16},
        {"17", 17},
        {"015", 15},
        {"", 0},
        {"14", 0},
        {"18", 0},
        {"AEAD_AES_SIV_CMAC_25", 0},
        {"AEAD_AES_SIV_CMAC_2566", 0},
        {"AEAD_", 0},
        {"15 ", 0},
        {" 15", 0},
        {"1500000000000015", 0},
        {"AEAD_AES_128_GCM", 0},
        {"AES_SIV_CMAC_256\n", 0},
        {"aes-siv-cmac-256", 0},
        {"AEAD_AEAD_AES_SIV_CMAC_256", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(ntk_aead_from_name(cases[i].name), cases[i].alg);
    }
    assert_int_equal(ntk_aead_from_name(NULL), 0);
    for (size_t a = 0; a < 3; a++) {
        assert_true(ntk_aead_supported(all_algs[a]));
        assert_int_equal(ntk_aead_from_name(ntk_aead_name(all_algs[a])), all_algs[a]);
    }
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Not asserted: ns per seal / open with NTS-like sizes (48-byte AD, 16-byte nonce), and
 * OpenSSL's SIV cipher re-keyed per message for comparison. */
static void bench(void **state)
{
    (void)state;
    enum { N = 20000 };
    uint8_t key[32] = {7}, ad[48] = {1}, nonce[16] = {2}, pt[208] = {3}, ct[224], out[208];
    struct ntk_aead_key *k = NULL;
    assert_int_equal(ntk_aead_key_init(&k, NTK_AEAD_AES_SIV_CMAC_256, key, 32), 0);
    const size_t sizes[2] = {0, 208};
    for (size_t s = 0; s < 2; s++) {
        size_t n = sizes[s];
        double t0 = now_ns();
        for (int i = 0; i < N; i++) {
            nonce[0] = (uint8_t)i;
            assert_int_equal(ntk_aead_seal(k, ad, 48, nonce, 16, pt, n, ct, sizeof ct),
                             (int)n + 16);
        }
        double t1 = now_ns();
        for (int i = 0; i < N; i++) {
            assert_int_equal(ntk_aead_open(k, ad, 48, nonce, 16, ct, n + 16, out, sizeof out),
                             (int)n);
        }
        double t2 = now_ns();
        print_message("# bench: %zu-byte plaintext: seal %.0f ns, open %.0f ns\n", n,
                      (t1 - t0) / N, (t2 - t1) / N);
    }
    double t0 = now_ns();
    for (int i = 0; i < N; i++) {
        assert_int_equal(ntk_aead_key_set(k, NTK_AEAD_AES_SIV_CMAC_256, key, 32), 0);
    }
    print_message("# bench: re-key (the CTR half keyed at the next seal) %.0f ns\n",
                  (now_ns() - t0) / N);
    const uint8_t *ads[2] = {ad, nonce};
    const size_t lens[2] = {48, 16};
    t0 = now_ns();
    for (int i = 0; i < N / 10; i++) {
        assert_true(openssl_siv(NTK_AEAD_AES_SIV_CMAC_256, key, ads, lens, 2, pt, 208, ct));
    }
    print_message("# bench: OpenSSL AES-128-SIV (fetch + key + seal, 208 bytes) %.0f ns\n",
                  (now_ns() - t0) / (N / 10));
    ntk_aead_key_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5297_a1),
        cmocka_unit_test(rfc5297_a2),
        cmocka_unit_test(chrony_cookie_opens),
        cmocka_unit_test(chrony_authenticators),
        cmocka_unit_test(agrees_with_openssl_siv),
        cmocka_unit_test(round_trips),
        cmocka_unit_test(ctr_keyed_when_needed),
        cmocka_unit_test(tampering),
        cmocka_unit_test(wrong_lengths),
        cmocka_unit_test(names),
        cmocka_unit_test(bench),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
