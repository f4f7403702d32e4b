/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/core/ntss.c: the key file round trip and its errors by line, daily
 * rotation (exactly at 86400 s, never early after a backward step), the 8 keys kept, cookies
 * per AEAD (length, contents, age counters, too old after 8 rotations), tampered and
 * truncated cookies, and cookies built by hand in the documented format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ntk/aead.h"
#include "ntk/err.h"
#include "ntk/sb.h"
#include "ntss.h"
#include "testutil.h"

#include "poison.h"

#define T0 1764000000LL /* a Unix time in 2025 */

/* A deterministic rng: splitmix64 over its own state. */
static void test_rng_bytes(void *ctx, uint8_t *p, size_t n)
{
    uint64_t *st = ctx;
    for (size_t i = 0; i < n; i++) {
        uint64_t z = (*st += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        p[i] = (uint8_t)(z ^ (z >> 31));
    }
}

static uint64_t rng_state = 1;
static const struct eng_rng rng = {&rng_state, test_rng_bytes};

static struct ntss *fresh(int64_t now)
{
    struct ntss *s = ntss_new(&rng);
    assert_non_null(s);
    if (now != 0) {
        assert_true(ntss_rotate(s, now));
    }
    return s;
}

static void make(struct ntss *s, uint16_t aead, uint8_t fill, struct ntk_ke_cookie *c)
{
    uint8_t c2s[NTK_AEAD_KEY_MAX], s2c[NTK_AEAD_KEY_MAX];
    memset(c2s, fill, sizeof c2s);
    memset(s2c, (uint8_t)~fill, sizeof s2c);
    assert_int_equal(ntss_make_cookie(s, aead, c2s, s2c, ntk_aead_key_len(aead), c), 0);
}

static void format(const struct ntss *s, char *buf, size_t cap)
{
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, cap);
    ntss_format(s, &sb);
    assert_int_equal(ntk_sb_err(&sb), 0);
}

static void test_new_and_empty(void **state)
{
    (void)state;
    assert_null(ntss_new(NULL));
    struct eng_rng none = {NULL, NULL};
    assert_null(ntss_new(&none));
    struct ntss *s = fresh(0);
    assert_int_equal(ntss_key_count(s), 0);
    assert_int_equal(ntss_next_rotation(s), 0);
    struct ntk_ke_cookie c;
    uint8_t k[32] = {0};
    assert_int_equal(ntss_make_cookie(s, NTK_AEAD_AES_SIV_CMAC_256, k, k, 32, &c),
                     NTK_ENOTFOUND);
    uint8_t junk[104] = {0};
    struct ntss_cookie_keys out;
    assert_int_equal(ntss_open_cookie(s, junk, sizeof junk, &out), NTK_ENOTFOUND);
    assert_int_equal(ntss_stats(s)->decode_too_old, 1);
    ntss_free(s);
    ntss_free(NULL);
}

static void test_rotation(void **state)
{
    (void)state;
    struct ntss *s = fresh(0);
    assert_true(ntss_rotate(s, T0)); /* no key: one at once */
    assert_int_equal(ntss_key_count(s), 1);
    assert_int_equal(ntss_next_rotation(s), T0 + 86400);
    assert_false(ntss_rotate(s, T0));
    assert_false(ntss_rotate(s, T0 + 86399));
    assert_true(ntss_rotate(s, T0 + 86400)); /* exactly a day */
    assert_int_equal(ntss_key_count(s), 2);
    assert_int_equal(ntss_next_rotation(s), T0 + 2 * 86400);
    /* the clock steps back a week, then creeps forward: nothing early */
    assert_false(ntss_rotate(s, T0 - 7 * 86400));
    assert_false(ntss_rotate(s, T0 + 86400 + 86399));
    assert_true(ntss_rotate(s, T0 + 2 * 86400));
    /* a step forward by a month makes one key, dated then */
    assert_true(ntss_rotate(s, T0 + 32 * 86400));
    assert_false(ntss_rotate(s, T0 + 32 * 86400 + 1));
    assert_int_equal(ntss_next_rotation(s), T0 + 33 * 86400);
    assert_int_equal(ntss_key_count(s), 4);
    /* at most 8 kept */
    for (int i = 0; i < 20; i++) {
        assert_true(ntss_rotate(s, T0 + (33 + i) * 86400));
        assert_true(ntss_key_count(s) <= NTSS_KEYS_MAX);
    }
    assert_int_equal(ntss_key_count(s), NTSS_KEYS_MAX);
    ntss_free(s);
}

/* A cookie made under key k opens after 7 more rotations, not after 8; the age counters
 * say which key opened it. */
static void test_cookie_age(void **state)
{
    (void)state;
    struct ntss *s = fresh(T0);
    struct ntk_ke_cookie c;
    make(s, NTK_AEAD_AES_SIV_CMAC_256, 0x11, &c);
    struct ntss_cookie_keys k;
    uint64_t want[4] = {0}; /* current, old, old2, older */
    for (int r = 0; r <= 8; r++) {
        int rc = ntss_open_cookie(s, c.b, c.len, &k);
        if (r < 8) {
            assert_int_equal(rc, 0);
            want[r < 3 ? r : 3]++;
            assert_int_equal(k.c2s[0], 0x11);
        } else {
            assert_int_equal(rc, NTK_ENOTFOUND);
        }
        const struct ntss_stats *st = ntss_stats(s);
        assert_int_equal(st->decode_current, want[0]);
        assert_int_equal(st->decode_old, want[1]);
        assert_int_equal(st->decode_old2, want[2]);
        assert_int_equal(st->decode_older, want[3]);
        assert_true(ntss_rotate(s, T0 + (r + 1) * 86400LL));
    }
    const struct ntss_stats *st = ntss_stats(s);
    assert_int_equal(st->decode_too_old, 1);
    assert_int_equal(st->decode_error, 0);
    assert_int_equal(st->made, 1);
    assert_int_equal(ntss_key_count(s), NTSS_KEYS_MAX);
    ntss_free(s);
}

/* Lengths per AEAD (all multiples of 4), contents, and the argument errors. */
static void test_cookie_per_aead(void **state)
{
    (void)state;
    struct ntss *s = fresh(T0);
    static const uint16_t algs[] = {15, 16, 17};
    static const size_t lens[] = {104, 136, 168};
    for (size_t i = 0; i < 3; i++) {
        size_t kl = ntk_aead_key_len(algs[i]);
        if (kl == 0) {
            continue; /* this OpenSSL lacks it */
        }
        assert_int_equal(kl, 32 + 16 * i);
        assert_int_equal(NTSS_COOKIE_LEN(kl), lens[i]);
        assert_int_equal(lens[i] % 4, 0);
        struct ntk_ke_cookie c;
        make(s, algs[i], (uint8_t)(0x20 + i), &c);
        assert_int_equal(c.len, lens[i]);
        struct ntss_cookie_keys k;
        memset(&k, 0xee, sizeof k);
        assert_int_equal(ntss_open_cookie(s, c.b, c.len, &k), 0);
        assert_int_equal(k.aead, algs[i]);
        assert_int_equal(k.key_len, kl);
        uint8_t want[NTK_AEAD_KEY_MAX];
        memset(want, 0x20 + (int)i, kl);
        assert_memory_equal(k.c2s, want, kl);
        memset(want, (uint8_t) ~(0x20 + i), kl);
        assert_memory_equal(k.s2c, want, kl);
    }
    uint8_t key[64] = {0};
    struct ntk_ke_cookie c;
    assert_int_equal(ntss_make_cookie(s, 15, key, key, 48, &c), NTK_EINVAL);
    assert_int_equal(ntss_make_cookie(s, 30, key, key, 16, &c), NTK_EUNSUPP);
    assert_int_equal(ntss_make_cookie(s, 0, key, key, 32, &c), NTK_EUNSUPP);
    ntss_free(s);
}

/* Every single-bit change is refused (key id bytes: a key we do not hold; the rest: the tag)
 * and so is every truncation; the counters say which. */
static void test_tampered_and_truncated(void **state)
{
    (void)state;
    struct ntss *s = fresh(T0);
    struct ntk_ke_cookie c;
    make(s, NTK_AEAD_AES_SIV_CMAC_256, 0x33, &c);
    struct ntss_cookie_keys k;
    tu_seed();
    uint64_t too_old = 0, errors = 0;
    for (size_t i = 0; i < c.len; i++) {
        struct ntk_ke_cookie t = c;
        t.b[i] ^= (uint8_t)(1u << (tu_rand() % 8));
        int rc = ntss_open_cookie(s, t.b, t.len, &k);
        if (i < 4) {
            assert_int_equal(rc, NTK_ENOTFOUND);
            too_old++;
        } else {
            assert_int_equal(rc, NTK_EAUTH);
            errors++;
        }
    }
    for (size_t n = 0; n < c.len; n++) {
        assert_int_equal(ntss_open_cookie(s, c.b, n, &k), NTK_EFORMAT);
        errors++;
    }
    uint8_t longer[NTK_KE_COOKIE_MAX] = {0};
    memcpy(longer, c.b, c.len);
    assert_int_equal(ntss_open_cookie(s, longer, c.len + 4, &k), NTK_EFORMAT);
    errors++;
    assert_int_equal(ntss_stats(s)->decode_too_old, too_old);
    assert_int_equal(ntss_stats(s)->decode_error, errors);
    assert_int_equal(ntss_open_cookie(s, c.b, c.len, &k), 0); /* the original still opens */
    ntss_free(s);
}

/* The master key as the key file shows it. */
static void master_of(const struct ntss *s, uint32_t *id, uint8_t key[32])
{
    char text[NTSS_FILE_MAX];
    format(s, text, sizeof text);
    const char *line = strchr(text, '\n') + 1; /* after the comment */
    char hex[65];
    unsigned long v = strtoul(line, NULL, 16);
    *id = (uint32_t)v;
    const char *k = strrchr(line, ' ') + 1;
    memcpy(hex, k, 64);
    hex[64] = 0;
    assert_int_equal(tu_unhex(hex, key, 32), 32);
}

/* Seals a cookie by hand in the format ntss.h documents, plaintext pt[0..n). */
static size_t seal_by_hand(const struct ntss *s, const uint8_t *pt, size_t n, uint8_t *out)
{
    uint32_t id;
    uint8_t key[32];
    master_of(s, &id, key);
    struct ntk_aead_key *mk = NULL;
    assert_int_equal(ntk_aead_key_init(&mk, 15, key, 32), 0);
    out[0] = (uint8_t)(id >> 24);
    out[1] = (uint8_t)(id >> 16);
    out[2] = (uint8_t)(id >> 8);
    out[3] = (uint8_t)id;
    memset(out + 4, 0x5a, 16);
    int rc = ntk_aead_seal(mk, out, 4, out + 4, 16, pt, n, out + 20, NTK_KE_COOKIE_MAX - 20);
    assert_int_equal(rc, (int)n + 16);
    ntk_aead_key_free(mk);
    return 20 + (size_t)rc;
}

static void test_hand_made_cookies(void **state)
{
    (void)state;
    struct ntss *s = fresh(T0);
    uint8_t pt[4 + 64], c[NTK_KE_COOKIE_MAX];
    memset(pt, 0x44, sizeof pt);
    pt[0] = 0;
    pt[1] = 15;
    pt[2] = pt[3] = 0;
    struct ntss_cookie_keys k;
    size_t n = seal_by_hand(s, pt, 4 + 64, c);
    assert_int_equal(n, 104);
    assert_int_equal(ntss_open_cookie(s, c, n, &k), 0); /* the documented format */
    assert_int_equal(k.aead, 15);
    assert_int_equal(k.c2s[31], 0x44);
    pt[1] = 16; /* AEAD 16 inside a cookie of AEAD 15's length */
    n = seal_by_hand(s, pt, 4 + 64, c);
    assert_int_equal(ntss_open_cookie(s, c, n, &k), NTK_EFORMAT);
    pt[1] = 15;
    pt[3] = 1; /* padding not zero */
    n = seal_by_hand(s, pt, 4 + 64, c);
    assert_int_equal(ntss_open_cookie(s, c, n, &k), NTK_EFORMAT);
    assert_int_equal(ntss_stats(s)->decode_error, 2);
    assert_int_equal(ntss_stats(s)->decode_current, 1);
    ntss_free(s);
}

/* format -> load -> format is the identity, and a cookie of one server opens on another
 * that loaded its file. */
static void test_file_round_trip(void **state)
{
    (void)state;
    struct ntss *a = fresh(T0);
    assert_true(ntss_rotate(a, T0 + 86400));
    assert_true(ntss_rotate(a, T0 + 2 * 86400));
    char ta[NTSS_FILE_MAX], tb[NTSS_FILE_MAX], why[80];
    format(a, ta, sizeof ta);
    struct ntss *b = fresh(0);
    assert_int_equal(ntss_load(b, ta, strlen(ta), why, sizeof why), 3);
    format(b, tb, sizeof tb);
    assert_string_equal(ta, tb);
    assert_int_equal(ntss_next_rotation(b), T0 + 3 * 86400);
    struct ntk_ke_cookie c;
    make(a, NTK_AEAD_AES_SIV_CMAC_256, 0x55, &c);
    struct ntss_cookie_keys k;
    assert_int_equal(ntss_open_cookie(b, c.b, c.len, &k), 0);
    assert_int_equal(k.s2c[0], 0xaa);
    /* loading replaces: an empty file leaves no key */
    assert_int_equal(ntss_load(b, "# nothing\n\n", 11, why, sizeof why), 0);
    assert_int_equal(ntss_key_count(b), 0);
    assert_int_equal(ntss_open_cookie(b, c.b, c.len, &k), NTK_ENOTFOUND);
    /* property: random key sets survive the round trip */
    tu_seed();
    for (int i = 0; i < 200; i++) {
        struct ntss *r = fresh(0);
        int nk = (int)(tu_rand() % 12);
        int64_t t = (int64_t)(tu_rand() % 4000000000ULL);
        for (int j = 0; j < nk; j++) {
            t += 86400 + (int64_t)(tu_rand() % 1000);
            assert_true(ntss_rotate(r, t));
        }
        format(r, ta, sizeof ta);
        assert_int_equal(ntss_load(b, ta, strlen(ta), why, sizeof why), nk > 8 ? 8 : nk);
        format(b, tb, sizeof tb);
        assert_string_equal(ta, tb);
        ntss_free(r);
    }
    ntss_free(a);
    ntss_free(b);
}

#define KEY64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void test_load_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc;
        const char *why;
    } cases[] = {
        {"zz345678 1 " KEY64 "\n", NTK_EFORMAT, "line 1: key id: 8 hex digits expected"},
        {"1234567 1 " KEY64 "\n", NTK_EFORMAT, "line 1: key id: 8 hex digits expected"},
        {"# c\n\n123456789 1 " KEY64, NTK_EFORMAT, "line 3: key id: 8 hex digits expected"},
        {"12345678 x " KEY64, NTK_EFORMAT, "line 1: creation time: Unix seconds expected"},
        {"12345678 -1 " KEY64, NTK_EFORMAT, "line 1: creation time: Unix seconds expected"},
        {"12345678 99999999999999999999 " KEY64, NTK_EFORMAT,
         "line 1: creation time: Unix seconds expected"},
        {"12345678 1 " KEY64 "0", NTK_EFORMAT, "line 1: key: 64 hex digits expected"},
        {"12345678 1 " KEY64 "\n12345679 2 00", NTK_EFORMAT,
         "line 2: key: 64 hex digits expected"},
        {"12345678 1 g" KEY64, NTK_EFORMAT, "line 1: key: 64 hex digits expected"},
        {"12345678 1", NTK_EFORMAT, "line 1: key: 64 hex digits expected"},
        {"12345678 1 " KEY64 " extra", NTK_EFORMAT, "line 1: unexpected text after the key"},
        {"12345678 1 " KEY64 "\n12345678 2 " KEY64, NTK_EFORMAT, "line 2: duplicate key id"},
        {"12345678 5 " KEY64 "\n\n12345679 4 " KEY64, NTK_EFORMAT,
         "line 3: older than the key before it (newest last)"},
    };
    struct ntss *s = fresh(T0);
    char before[NTSS_FILE_MAX], after[NTSS_FILE_MAX];
    format(s, before, sizeof before);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char why[80] = "";
        int rc = ntss_load(s, cases[i].text, strlen(cases[i].text), why, sizeof why);
        if (rc != cases[i].rc || strcmp(why, cases[i].why) != 0) {
            fprintf(stderr, "case %zu: rc %d why '%s'\n", i, rc, why);
        }
        assert_int_equal(rc, cases[i].rc);
        assert_string_equal(why, cases[i].why);
        format(s, after, sizeof after);
        assert_string_equal(before, after); /* nothing changed */
    }
    /* a comment after the key, CRLF line ends and upper case hex are fine */
    const char *ok = "# keys\r\n12345678 1 " KEY64 " # first\r\nABCDEF01 2 " KEY64 "\r\n";
    assert_int_equal(ntss_load(s, ok, strlen(ok), NULL, 0), 2);
    format(s, after, sizeof after);
    assert_non_null(strstr(after, "\nabcdef01 2 " KEY64 "\n"));
    /* a line too long, a file too long */
    char big[NTSS_FILE_MAX + 2];
    memset(big, '#', sizeof big);
    char why[80];
    assert_int_equal(ntss_load(s, big, 300, why, sizeof why), NTK_ERANGE);
    assert_string_equal(why, "line 1: line too long");
    assert_int_equal(ntss_load(s, big, sizeof big, why, sizeof why), NTK_ERANGE);
    assert_int_equal(ntss_key_count(s), 2);
    /* a short why buffer is truncated, not overrun */
    char tiny[6];
    assert_int_equal(ntss_load(s, "x", 1, tiny, sizeof tiny), NTK_EFORMAT);
    assert_string_equal(tiny, "line ");
    ntss_free(s);
}

/* A file with more keys than kept: the newest 8 are loaded. */
static void test_load_keeps_newest(void **state)
{
    (void)state;
    char text[NTSS_FILE_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    for (int i = 0; i < 11; i++) {
        ntk_sb_printf(&sb, "%08x %d " KEY64 "\n", 0x100 + i, 1000 + i);
    }
    struct ntss *s = fresh(0);
    assert_int_equal(ntss_load(s, text, ntk_sb_len(&sb), NULL, 0), 8);
    char out[NTSS_FILE_MAX];
    format(s, out, sizeof out);
    assert_null(strstr(out, "00000102 1002"));
    assert_non_null(strstr(out, "\n00000103 1003 " KEY64 "\n"));
    assert_non_null(strstr(out, "\n0000010a 1010 " KEY64 "\n"));
    assert_int_equal(ntss_next_rotation(s), 1010 + 86400);
    ntss_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_and_empty),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_cookie_age),
        cmocka_unit_test(test_cookie_per_aead),
        cmocka_unit_test(test_tampered_and_truncated),
        cmocka_unit_test(test_hand_made_cookies),
        cmocka_unit_test(test_file_round_trip),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_keeps_newest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
