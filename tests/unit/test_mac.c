/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/mac.c: RFC 4493 / RFC 1321 / RFC 3174 vectors through the key store,
 * compute -> verify, every bit flip and every truncation failing, store errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ntk/err.h"
#include "ntk/mac.h"
#include "testutil.h"

#include "poison.h"

/* A store with the single key (keyid, type, secret[0..len)). */
static struct ntk_mac_keys *one_key(uint32_t keyid, enum ntk_mac_type type, const void *secret,
                                    size_t len)
{
    struct ntk_mac_key k = {.keyid = keyid, .type = type, .secret_len = (uint8_t)len};
    memcpy(k.secret, secret, len);
    struct ntk_mac_keys *ks = NULL;
    assert_int_equal(ntk_mac_keys_new(&k, 1, &ks), NTK_OK);
    assert_non_null(ks);
    ntk_mac_key_wipe(&k, 1);
    return ks;
}

/* Checks that the MAC of data under ks's key keyid is want_hex, both ways. */
static void check_mac(struct ntk_mac_keys *ks, uint32_t keyid, const void *data, size_t len,
                      const char *want_hex)
{
    uint8_t want[NTK_MAC_LEN_MAX];
    int n = tu_unhex(want_hex, want, sizeof want);
    assert_true(n > 0);
    uint8_t got[NTK_MAC_LEN_MAX + 4];
    memset(got, 0xee, sizeof got);
    assert_int_equal(ntk_mac_compute(ks, keyid, data, len, got, sizeof got), n);
    assert_memory_equal(got, want, (size_t)n);
    assert_int_equal(got[n], 0xee); /* nothing written past the MAC */
    assert_int_equal(ntk_mac_verify(ks, keyid, data, len, want, (size_t)n), NTK_OK);
}

/* RFC 4493 §4 test vectors (the NIST SP 800-38B AES-128 examples). */
static const char rfc4493_key[] = "2b7e151628aed2a6abf7158809cf4f3c";
static const char rfc4493_msg[] =
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

static void rfc4493_aes_cmac(void **state)
{
    (void)state;
    uint8_t key[16], msg[64];
    assert_int_equal(tu_unhex(rfc4493_key, key, sizeof key), 16);
    assert_int_equal(tu_unhex(rfc4493_msg, msg, sizeof msg), 64);
    struct ntk_mac_keys *ks = one_key(3, NTK_MAC_AES128_CMAC, key, 16);
    static const struct {
        size_t len;
        const char *mac;
    } ex[] = {
        {0, "bb1d6929e95937287fa37d129b756746"},  /* Example 1 */
        {16, "070a16b46b4d4144f79bdd9dd04a287c"}, /* Example 2 */
        {40, "dfa66747de9ae63030ca32611497c827"}, /* Example 3 */
        {64, "51f0bebf7e3b9d92fc49741779363cfe"}, /* Example 4 */
    };
    /* Twice over, interleaved: the per-key context must restart for every message. */
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < 4; i++) {
            check_mac(ks, 3, ex[i].len ? msg : NULL, ex[i].len, ex[i].mac);
        }
    }
    ntk_mac_keys_free(ks);
}

static void sp800_38b_aes192_aes256_cmac(void **state)
{
    (void)state;
    uint8_t k192[24], k256[32], msg[64];
    tu_unhex("8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b", k192, sizeof k192);
    tu_unhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4", k256,
             sizeof k256);
    tu_unhex(rfc4493_msg, msg, sizeof msg);
    struct ntk_mac_keys *ks = one_key(1, NTK_MAC_AES192_CMAC, k192, 24);
    check_mac(ks, 1, msg, 0, "d17ddf46adaacde531cac483de7a9367");
    check_mac(ks, 1, msg, 16, "9e99a7bf31e710900662f65e617c5184");
    ntk_mac_keys_free(ks);
    ks = one_key(65535, NTK_MAC_AES256_CMAC, k256, 32);
    check_mac(ks, 65535, msg, 0, "028962f61b7bf89efc6b551f4667d983");
    check_mac(ks, 65535, msg, 16, "28a7023f452e8f82bd4bf28d8c37c35c");
    ntk_mac_keys_free(ks);
}

/* A digest vector split into secret || data: the MAC is digest(secret || data). */
struct split_vector {
    const char *text;
    size_t secret_len;
    const char *digest;
};

static void check_split(enum ntk_mac_type type, const struct split_vector *v)
{
    size_t len = strlen(v->text);
    struct ntk_mac_keys *ks = one_key(42, type, v->text, v->secret_len);
    check_mac(ks, 42, v->text + v->secret_len, len - v->secret_len, v->digest);
    ntk_mac_keys_free(ks);
}

static void rfc1321_md5(void **state)
{
    (void)state;
    /* RFC 1321 §A.5 test suite (the empty message needs a secret of at least one byte). */
    static const struct split_vector v[] = {
        {"a", 1, "0cc175b9c0f1b6a831c399e269772661"},
        {"abc", 1, "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", 7, "f96b697d7cb7938d525a2f31aaf161d0"},
        {"abcdefghijklmnopqrstuvwxyz", 10, "c3fcd3d76192e4007dfb496cca67e13b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 20,
         "d174ab98d277d9f5a5611c2c9f419d9f"},
        {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
         32, "57edf4a22be3c955ac49da2e2107b67a"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        check_split(NTK_MAC_MD5, &v[i]);
    }
}

static void rfc3174_sha1(void **state)
{
    (void)state;
    /* RFC 3174 §7.3 TEST1, TEST2 and TEST4 (TEST4 is TEST4a ten times). */
    static const char t4a[] =
        "0123456701234567012345670123456701234567012345670123456701234567";
    char t4[10 * 64 + 1] = "";
    for (int i = 0; i < 10; i++) {
        memcpy(t4 + 64 * i, t4a, 64);
    }
    t4[640] = '\0';
    const struct split_vector v[] = {
        {"abc", 2, "a9993e364706816aba3e25717850c26c9cd0d89d"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 20,
         "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
        {t4, 32, "dea356a2cddd90c7a7ecedc5ebb563934f460452"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        check_split(NTK_MAC_SHA1, &v[i]);
    }
    /* TEST3: one million 'a'. */
    size_t n = 1000000;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, 'a', n);
    struct ntk_mac_keys *ks = one_key(1, NTK_MAC_SHA1, "a", 1);
    check_mac(ks, 1, big, n - 1, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    ntk_mac_keys_free(ks);
    free(big);
}

static void sha2_truncated_to_20(void **state)
{
    (void)state;
    /* FIPS 180-4 "abc" examples, cut to NTPsec's 20-byte MAX_BARE_MAC_LENGTH. */
    static const struct split_vector v224 = {"abc", 1,
                                             "23097d223405d8228642a477bda255b32aadbce4"};
    static const struct split_vector v256 = {"abc", 1,
                                             "ba7816bf8f01cfea414140de5dae2223b00361a3"};
    static const struct split_vector v384 = {"abc", 1,
                                             "cb00753f45a35e8bb5a03d699ac65007272c32ab"};
    static const struct split_vector v512 = {"abc", 1,
                                             "ddaf35a193617abacc417349ae20413112e6fa4e"};
    check_split(NTK_MAC_SHA224, &v224);
    check_split(NTK_MAC_SHA256, &v256);
    check_split(NTK_MAC_SHA384, &v384);
    check_split(NTK_MAC_SHA512, &v512);
}

static void type_table(void **state)
{
    (void)state;
    static const struct {
        enum ntk_mac_type type;
        size_t mac_len, secret_len;
        bool cmac;
        const char *name;
    } t[] = {
        {NTK_MAC_NONE, 0, 0, false, "NONE"},
        {NTK_MAC_MD5, 16, 0, false, "MD5"},
        {NTK_MAC_SHA1, 20, 0, false, "SHA1"},
        {NTK_MAC_SHA224, 20, 0, false, "SHA224"},
        {NTK_MAC_SHA256, 20, 0, false, "SHA256"},
        {NTK_MAC_SHA384, 20, 0, false, "SHA384"},
        {NTK_MAC_SHA512, 20, 0, false, "SHA512"},
        {NTK_MAC_AES128_CMAC, 16, 16, true, "AES"},
        {NTK_MAC_AES192_CMAC, 16, 24, true, "AES-192"},
        {NTK_MAC_AES256_CMAC, 16, 32, true, "AES-256"},
        {(enum ntk_mac_type)NTK_MAC_TYPE_COUNT, 0, 0, false, "NONE"},
        {(enum ntk_mac_type) - 1, 0, 0, false, "NONE"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_int_equal(ntk_mac_len(t[i].type), t[i].mac_len);
        assert_int_equal(ntk_mac_secret_len(t[i].type), t[i].secret_len);
        assert_int_equal(ntk_mac_is_cmac(t[i].type), t[i].cmac);
        assert_string_equal(ntk_mac_type_name(t[i].type), t[i].name);
    }
}

static void store_errors(void **state)
{
    (void)state;
    struct ntk_mac_key k[2] = {
        {.keyid = 5, .type = NTK_MAC_MD5, .secret_len = 3, .secret = "abc"},
        {.keyid = 9, .type = NTK_MAC_SHA1, .secret_len = 3, .secret = "def"},
    };
    struct ntk_mac_keys *sentinel = (struct ntk_mac_keys *)&k; /* must stay untouched */
    struct ntk_mac_keys *ks = sentinel;
    struct ntk_mac_key bad[2];

    memcpy(bad, k, sizeof k);
    bad[1].keyid = 5; /* duplicate */
    assert_int_equal(ntk_mac_keys_new(bad, 2, &ks), NTK_EINVAL);
    assert_ptr_equal(ks, sentinel);
    static const struct ntk_mac_key invalid[] = {
        {.keyid = 0, .type = NTK_MAC_MD5, .secret_len = 3},
        {.keyid = 65536, .type = NTK_MAC_MD5, .secret_len = 3},
        {.keyid = 1, .type = NTK_MAC_NONE, .secret_len = 3},
        {.keyid = 1, .type = (enum ntk_mac_type)NTK_MAC_TYPE_COUNT, .secret_len = 3},
        {.keyid = 1, .type = NTK_MAC_MD5, .secret_len = 0},
        {.keyid = 1, .type = NTK_MAC_MD5, .secret_len = NTK_MAC_SECRET_MAX + 1},
        {.keyid = 1, .type = NTK_MAC_AES128_CMAC, .secret_len = 15},
        {.keyid = 1, .type = NTK_MAC_AES256_CMAC, .secret_len = 16},
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        assert_false(ntk_mac_key_valid(&invalid[i]));
        bad[0] = k[0];
        bad[1] = invalid[i];
        assert_int_equal(ntk_mac_keys_new(bad, 2, &ks), NTK_EINVAL);
        assert_ptr_equal(ks, sentinel);
    }
    assert_int_equal(ntk_mac_keys_new(NULL, 1, &ks), NTK_EINVAL);

    /* An empty store works and finds nothing. */
    assert_int_equal(ntk_mac_keys_new(NULL, 0, &ks), NTK_OK);
    assert_int_equal(ntk_mac_keys_count(ks), 0);
    assert_int_equal(ntk_mac_keys_lookup(ks, 1, NULL), NTK_ENOTFOUND);
    ntk_mac_keys_free(ks);
    ntk_mac_keys_free(NULL);

    assert_int_equal(ntk_mac_keys_new(k, 2, &ks), NTK_OK);
    assert_int_equal(ntk_mac_keys_count(ks), 2);
    enum ntk_mac_type type = NTK_MAC_NONE;
    assert_int_equal(ntk_mac_keys_lookup(ks, 9, &type), NTK_OK);
    assert_int_equal(type, NTK_MAC_SHA1);
    uint8_t mac[NTK_MAC_LEN_MAX];
    memset(mac, 0x55, sizeof mac);
    static const uint32_t unknown[] = {0, 1, 4, 6, 8, 10, 65535, 65536, UINT32_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_int_equal(ntk_mac_keys_lookup(ks, unknown[i], &type), NTK_ENOTFOUND);
        assert_int_equal(ntk_mac_compute(ks, unknown[i], mac, 8, mac, sizeof mac),
                         NTK_ENOTFOUND);
        assert_int_equal(ntk_mac_verify(ks, unknown[i], mac, 8, mac, 16), NTK_ENOTFOUND);
    }
    /* Too small an output buffer: nothing written. */
    assert_int_equal(ntk_mac_compute(ks, 9, mac, 8, mac, 19), NTK_ENOSPC);
    assert_int_equal(ntk_mac_compute(ks, 5, mac, 8, mac, 15), NTK_ENOSPC);
    assert_int_equal(mac[0], 0x55);
    assert_int_equal(ntk_mac_compute(ks, 5, NULL, 8, mac, sizeof mac), NTK_EINVAL);
    assert_int_equal(ntk_mac_compute(ks, 5, mac, 8, mac, 16), 16);
    ntk_mac_keys_free(ks);

    ntk_mac_key_wipe(k, 2);
    for (size_t i = 0; i < sizeof k; i++) {
        assert_int_equal(((const uint8_t *)k)[i], 0);
    }
    ntk_mac_key_wipe(NULL, 0);
}

/* A random valid key of the given type. */
static void random_key(struct ntk_mac_key *k, uint32_t keyid, enum ntk_mac_type type)
{
    memset(k, 0, sizeof *k);
    k->keyid = keyid;
    k->type = type;
    size_t need = ntk_mac_secret_len(type);
    k->secret_len = (uint8_t)(need ? need : 1 + tu_rand() % NTK_MAC_SECRET_MAX);
    tu_fill(k->secret, k->secret_len);
}

static void property_compute_verify_tamper(void **state)
{
    (void)state;
    tu_seed();
    /* One key per type, ids scattered so that the lookup's binary search is exercised. */
    struct ntk_mac_key keys[NTK_MAC_TYPE_COUNT - 1];
    for (int t = 1; t < NTK_MAC_TYPE_COUNT; t++) {
        random_key(&keys[t - 1], (uint32_t)(70000 - 7000 * t), (enum ntk_mac_type)t);
    }
    struct ntk_mac_keys *ks = NULL;
    assert_int_equal(ntk_mac_keys_new(keys, NTK_MAC_TYPE_COUNT - 1, &ks), NTK_OK);
    for (int iter = 0; iter < 400; iter++) {
        const struct ntk_mac_key *k = &keys[tu_rand() % (NTK_MAC_TYPE_COUNT - 1)];
        uint8_t data[200], mac[NTK_MAC_LEN_MAX];
        size_t len = tu_rand() % sizeof data;
        tu_fill(data, len);
        int n = ntk_mac_compute(ks, k->keyid, data, len, mac, sizeof mac);
        assert_int_equal(n, ntk_mac_len(k->type));
        assert_int_equal(ntk_mac_verify(ks, k->keyid, data, len, mac, (size_t)n), NTK_OK);
        /* Every bit of the MAC matters. */
        for (int bit = 0; bit < 8 * n; bit++) {
            mac[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_equal(ntk_mac_verify(ks, k->keyid, data, len, mac, (size_t)n),
                             NTK_EAUTH);
            mac[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        /* A flipped data bit fails too. */
        if (len > 0) {
            size_t bit = tu_rand() % (8 * len);
            data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_int_equal(ntk_mac_verify(ks, k->keyid, data, len, mac, (size_t)n),
                             NTK_EAUTH);
            data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        /* Every truncation of the MAC (down to none) is a failed MAC, as is one byte more. */
        for (int cut = 0; cut < n; cut++) {
            assert_int_equal(ntk_mac_verify(ks, k->keyid, data, len, mac, (size_t)cut),
                             NTK_EAUTH);
        }
        uint8_t longer[NTK_MAC_LEN_MAX + 1] = {0};
        memcpy(longer, mac, (size_t)n);
        assert_int_equal(ntk_mac_verify(ks, k->keyid, data, len, longer, (size_t)n + 1),
                         NTK_EAUTH);
        assert_int_equal(ntk_mac_verify(ks, k->keyid, data, len, NULL, (size_t)n), NTK_EAUTH);
        /* Dropping the last data byte changes the MAC. */
        if (len > 0) {
            assert_int_equal(ntk_mac_verify(ks, k->keyid, data, len - 1, mac, (size_t)n),
                             NTK_EAUTH);
        }
    }
    ntk_mac_keys_free(ks);
    ntk_mac_key_wipe(keys, NTK_MAC_TYPE_COUNT - 1);
}

static void property_same_secret_other_key_fails(void **state)
{
    (void)state;
    tu_seed();
    /* Keys 1 and 2 differ in one secret bit: a MAC from one never verifies with the other. */
    for (int iter = 0; iter < 200; iter++) {
        enum ntk_mac_type type = (enum ntk_mac_type)(1 + tu_rand() % (NTK_MAC_TYPE_COUNT - 1));
        struct ntk_mac_key k[2];
        random_key(&k[0], 1, type);
        k[1] = k[0];
        k[1].keyid = 2;
        size_t bit = tu_rand() % (8u * k[1].secret_len);
        k[1].secret[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        struct ntk_mac_keys *ks = NULL;
        assert_int_equal(ntk_mac_keys_new(k, 2, &ks), NTK_OK);
        uint8_t data[48], mac[NTK_MAC_LEN_MAX];
        tu_fill(data, sizeof data);
        int n = ntk_mac_compute(ks, 1, data, sizeof data, mac, sizeof mac);
        assert_true(n > 0);
        assert_int_equal(ntk_mac_verify(ks, 2, data, sizeof data, mac, (size_t)n), NTK_EAUTH);
        assert_int_equal(ntk_mac_verify(ks, 1, data, sizeof data, mac, (size_t)n), NTK_OK);
        ntk_mac_keys_free(ks);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc4493_aes_cmac),
        cmocka_unit_test(sp800_38b_aes192_aes256_cmac),
        cmocka_unit_test(rfc1321_md5),
        cmocka_unit_test(rfc3174_sha1),
        cmocka_unit_test(sha2_truncated_to_20),
        cmocka_unit_test(type_table),
        cmocka_unit_test(store_errors),
        cmocka_unit_test(property_compute_verify_tamper),
        cmocka_unit_test(property_same_secret_other_key_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
