/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/sb.c: sticky truncation, constant NUL termination, exact printf
 * overflow, hex, and the degenerate capacities 1 and 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ntk/err.h"
#include "ntk/sb.h"
#include "testutil.h"

#include "poison.h"

static void appends(void **state)
{
    (void)state;
    char buf[64];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    assert_string_equal(ntk_sb_str(&sb), "");
    assert_int_equal(ntk_sb_len(&sb), 0);
    ntk_sb_puts(&sb, "ab");
    ntk_sb_putc(&sb, 'c');
    ntk_sb_putn(&sb, "defXYZ", 3);
    ntk_sb_printf(&sb, "-%d-%s-%04x", 42, "z", 0xbeefu);
    ntk_sb_puts(&sb, "");
    ntk_sb_putn(&sb, NULL, 0); /* an empty span may have no pointer */
    assert_string_equal(ntk_sb_str(&sb), "abcdef-42-z-beef");
    assert_int_equal(ntk_sb_len(&sb), 16);
    assert_int_equal(ntk_sb_err(&sb), NTK_OK);
    assert_ptr_equal(ntk_sb_str(&sb), buf);
    /* putn copies embedded NULs as bytes; the length counts them. */
    ntk_sb_putn(&sb, "\0q", 2);
    assert_int_equal(ntk_sb_len(&sb), 18);
    assert_int_equal(buf[16], '\0');
    assert_int_equal(buf[17], 'q');
    assert_int_equal(buf[18], '\0');
}

static void truncation_is_sticky(void **state)
{
    (void)state;
    char buf[12];
    memset(buf, 'X', sizeof buf);
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, 8);
    ntk_sb_puts(&sb, "hello");
    assert_int_equal(ntk_sb_err(&sb), NTK_OK);
    ntk_sb_puts(&sb, "world");
    assert_string_equal(buf, "hellowo"); /* what fits */
    assert_int_equal(ntk_sb_len(&sb), 7);
    assert_int_equal(ntk_sb_err(&sb), NTK_ENOSPC);
    /* Later appends that would fit are no-ops: nothing is silently dropped mid-text. */
    ntk_sb_init(&sb, buf, 8);
    ntk_sb_puts(&sb, "0123456789");
    ntk_sb_putn(&sb, "", 0);
    ntk_sb_putc(&sb, 'x');
    ntk_sb_printf(&sb, "%s", "");
    ntk_sb_hex(&sb, (const uint8_t *)"\x01", 1);
    assert_string_equal(buf, "0123456");
    assert_int_equal(ntk_sb_err(&sb), NTK_ENOSPC);
    /* Nothing past cap was written. */
    assert_int_equal(buf[8], 'X');
    assert_int_equal(buf[11], 'X');
}

static void exact_fit(void **state)
{
    (void)state;
    char buf[6];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_sb_puts(&sb, "12345"); /* 5 characters + NUL == cap: fits */
    assert_int_equal(ntk_sb_err(&sb), NTK_OK);
    ntk_sb_putn(&sb, "", 0); /* an empty append to a full builder is not an overflow */
    assert_int_equal(ntk_sb_err(&sb), NTK_OK);
    ntk_sb_putc(&sb, '6');
    assert_int_equal(ntk_sb_err(&sb), NTK_ENOSPC);
    assert_string_equal(buf, "12345");
}

static void printf_overflow_exact(void **state)
{
    (void)state;
    char buf[16];
    memset(buf, 'X', sizeof buf);
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, 10);
    ntk_sb_printf(&sb, "%d-%s", 12345, "abcdefgh");
    assert_string_equal(buf, "12345-abc"); /* the first cap - 1 characters, exactly */
    assert_int_equal(ntk_sb_len(&sb), 9);
    assert_int_equal(ntk_sb_err(&sb), NTK_ENOSPC);
    assert_int_equal(buf[10], 'X');

    /* cap - 1 characters fit; one more does not. */
    ntk_sb_init(&sb, buf, 10);
    ntk_sb_printf(&sb, "%s", "abc");
    ntk_sb_printf(&sb, "%06d", 42);
    assert_string_equal(buf, "abc000042");
    assert_int_equal(ntk_sb_err(&sb), NTK_OK);
    ntk_sb_init(&sb, buf, 10);
    ntk_sb_printf(&sb, "%s", "abc");
    ntk_sb_printf(&sb, "%07d", 42);
    assert_string_equal(buf, "abc000004");
    assert_int_equal(ntk_sb_len(&sb), 9);
    assert_int_equal(ntk_sb_err(&sb), NTK_ENOSPC);
    ntk_sb_printf(&sb, "%s", "");
    assert_int_equal(ntk_sb_err(&sb), NTK_ENOSPC);
}

static void hex(void **state)
{
    (void)state;
    char buf[16];
    struct ntk_sb sb;
    const uint8_t b[] = {0x00, 0xab, 0xff, 0x10};
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_sb_hex(&sb, b, sizeof b);
    assert_string_equal(buf, "00abff10");
    ntk_sb_hex(&sb, NULL, 0);
    assert_int_equal(ntk_sb_err(&sb), NTK_OK);
    /* Room for three digits: the third byte's first digit is what fits. */
    ntk_sb_init(&sb, buf, 4);
    ntk_sb_hex(&sb, b + 1, 2);
    assert_string_equal(buf, "abf");
    assert_int_equal(ntk_sb_err(&sb), NTK_ENOSPC);
}

static void cap_one(void **state)
{
    (void)state;
    char buf[2] = {'X', 'X'};
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, 1);
    assert_string_equal(ntk_sb_str(&sb), "");
    assert_int_equal(ntk_sb_err(&sb), NTK_OK);
    ntk_sb_printf(&sb, "%s", "");
    assert_int_equal(ntk_sb_err(&sb), NTK_OK);
    ntk_sb_putc(&sb, 'a');
    assert_int_equal(ntk_sb_err(&sb), NTK_ENOSPC);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(buf[1], 'X');
    assert_int_equal(ntk_sb_len(&sb), 0);

    ntk_sb_init(&sb, buf, 1);
    ntk_sb_printf(&sb, "%d", 7);
    assert_int_equal(ntk_sb_err(&sb), NTK_ENOSPC);
    assert_string_equal(ntk_sb_str(&sb), "");
    assert_int_equal(buf[1], 'X');
}

static void cap_zero(void **state)
{
    (void)state;
    char buf[1] = {'X'};
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, 0);
    assert_int_equal(ntk_sb_err(&sb), NTK_ENOSPC); /* overflowed from the start */
    ntk_sb_puts(&sb, "a");
    ntk_sb_printf(&sb, "%d", 1);
    ntk_sb_hex(&sb, (const uint8_t *)"a", 1);
    assert_int_equal(buf[0], 'X'); /* not even a NUL: there is no room for one */
    assert_string_equal(ntk_sb_str(&sb), "");
    assert_int_equal(ntk_sb_len(&sb), 0);

    ntk_sb_init(&sb, NULL, 10); /* no array: as cap 0 */
    ntk_sb_puts(&sb, "a");
    assert_int_equal(ntk_sb_err(&sb), NTK_ENOSPC);
    assert_string_equal(ntk_sb_str(&sb), "");
}

/* Random appends against a plain reference string: the builder holds exactly the reference's
 * first cap - 1 bytes, stays NUL-terminated and never writes past cap. */
static void property(void **state)
{
    (void)state;
    tu_seed();
    for (int iter = 0; iter < 20000; iter++) {
        char ref[512], buf[64 + 8];
        size_t rlen = 0;
        size_t cap = (size_t)(tu_rand() % 65);
        memset(buf, 0x5a, sizeof buf);
        struct ntk_sb sb;
        ntk_sb_init(&sb, buf, cap);
        int ops = (int)(tu_rand() % 12);
        for (int k = 0; k < ops; k++) {
            char piece[40];
            size_t n = (size_t)(tu_rand() % 20);
            for (size_t j = 0; j < n; j++) {
                piece[j] = (char)('a' + tu_rand() % 26);
            }
            piece[n] = '\0';
            switch (tu_rand() % 4) {
            case 0:
                ntk_sb_puts(&sb, piece);
                break;
            case 1:
                ntk_sb_putn(&sb, piece, n);
                break;
            case 2:
                n = n ? 1 : 0;
                if (n) {
                    ntk_sb_putc(&sb, piece[0]);
                }
                break;
            default: {
                unsigned v = (unsigned)tu_rand();
                n = (size_t)snprintf(piece, sizeof piece, "%u:%s", v, "x");
                ntk_sb_printf(&sb, "%u:%s", v, "x");
                break;
            }
            }
            memcpy(ref + rlen, piece, n);
            rlen += n;
        }
        size_t want = cap == 0 ? 0 : (rlen < cap - 1 ? rlen : cap - 1);
        assert_int_equal(ntk_sb_len(&sb), want);
        assert_int_equal(ntk_sb_err(&sb), (cap == 0 || rlen > cap - 1) ? NTK_ENOSPC : NTK_OK);
        if (cap > 0) {
            assert_memory_equal(buf, ref, want);
            assert_int_equal(buf[want], '\0');
        }
        for (size_t j = cap; j < sizeof buf; j++) {
            assert_int_equal((unsigned char)buf[j], 0x5a);
        }
    }
}

/* NTPsec's f8dot4 and f8dot3 tables (ntpq/util.py), edge by edge, and every result printed
 * with "%8.*f" is 8 columns wide. */
static void fit8(void **state)
{
    (void)state;
    static const struct {
        double v;
        int four, three;
    } t[] = {
        {0.0, 4, 3},      {0.0123, 4, 3},      {999.9999, 4, 3},    {1000.0, 3, 3},
        {9999.999, 3, 3}, {10000.0, 2, 2},     {99999.99, 2, 2},    {100000.0, 1, 1},
        {999999.9, 1, 1}, {1000000.0, -1, -1}, {-0.003, 4, 3},      {-99.9999, 4, 3},
        {-100.0, 3, 3},   {-999.999, 3, 3},    {-1000.0, 2, 2},     {-9999.99, 2, 2},
        {-10000.0, 1, 1}, {-99999.9, 1, 1},    {-100000.0, -1, -1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        assert_int_equal(ntk_fit8_decimals(t[i].v, 4), t[i].four);
        assert_int_equal(ntk_fit8_decimals(t[i].v, 3), t[i].three);
        if (t[i].four > 0) {
            char b[32];
            assert_int_equal(snprintf(b, sizeof b, "%8.*f", t[i].four, t[i].v), 8);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(appends),   cmocka_unit_test(truncation_is_sticky),
        cmocka_unit_test(exact_fit), cmocka_unit_test(printf_overflow_exact),
        cmocka_unit_test(hex),       cmocka_unit_test(cap_one),
        cmocka_unit_test(cap_zero),  cmocka_unit_test(property),
        cmocka_unit_test(fit8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
