/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/buf.c: bounds, sticky errors, sub-cursors, write overflow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ntk/buf.h"
#include "ntk/err.h"
#include "testutil.h"

#include "poison.h"

static void read_big_endian(void **state)
{
    (void)state;
    const uint8_t b[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    struct ntk_rd r;
    ntk_rd_init(&r, b, sizeof b);
    assert_int_equal(ntk_rd_u8(&r), 1);
    assert_int_equal(ntk_rd_be16(&r), 0x0203);
    assert_int_equal(ntk_rd_be32(&r), 0x04050607);
    assert_true(ntk_rd_be64(&r) == 0x08090a0b0c0d0e0fULL);
    assert_int_equal(ntk_rd_err(&r), 0);
    assert_int_equal(ntk_rd_left(&r), 0);
    assert_int_equal(ntk_rd_pos(&r), 15);
}

static void short_read_poisons(void **state)
{
    (void)state;
    const uint8_t b[] = {0xaa, 0xbb, 0xcc};
    struct ntk_rd r;
    ntk_rd_init(&r, b, sizeof b);
    assert_int_equal(ntk_rd_be32(&r), 0);
    assert_int_equal(ntk_rd_err(&r), NTK_ETRUNC);
    /* Sticky: even a read that would fit now returns 0. */
    assert_int_equal(ntk_rd_u8(&r), 0);
    assert_int_equal(ntk_rd_left(&r), 0);
    assert_null(ntk_rd_peek(&r));
    uint8_t out[2] = {9, 9};
    ntk_rd_bytes(&r, out, 2);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 0);
}

static void huge_lengths_do_not_wrap(void **state)
{
    (void)state;
    const uint8_t b[8] = {0};
    struct ntk_rd r;
    ntk_rd_init(&r, b, sizeof b);
    ntk_rd_u8(&r);
    assert_null(ntk_rd_ptr(&r, SIZE_MAX));
    assert_int_equal(ntk_rd_err(&r), NTK_ETRUNC);
    ntk_rd_init(&r, b, sizeof b);
    ntk_rd_skip(&r, SIZE_MAX - 1);
    assert_int_equal(ntk_rd_err(&r), NTK_ETRUNC);
}

static void sub_cursor_is_confined(void **state)
{
    (void)state;
    const uint8_t b[] = {0, 4, 0xde, 0xad, 0xbe, 0xef, 0x11, 0x22};
    struct ntk_rd r, c;
    ntk_rd_init(&r, b, sizeof b);
    uint16_t n = ntk_rd_be16(&r);
    assert_int_equal(ntk_rd_sub(&r, n, &c), 0);
    assert_int_equal(ntk_rd_be32(&c), 0xdeadbeef);
    assert_int_equal(ntk_rd_u8(&c), 0); /* cannot read into the parent's next item */
    assert_int_equal(ntk_rd_err(&c), NTK_ETRUNC);
    assert_int_equal(ntk_rd_err(&r), 0);
    assert_int_equal(ntk_rd_be16(&r), 0x1122);

    ntk_rd_init(&r, b, sizeof b);
    assert_int_equal(ntk_rd_sub(&r, 9, &c), NTK_ETRUNC);
    assert_int_equal(ntk_rd_err(&r), NTK_ETRUNC);
    assert_int_equal(ntk_rd_left(&c), 0);
    assert_int_equal(ntk_rd_err(&c), NTK_ETRUNC);
}

static void fail_keeps_first_error(void **state)
{
    (void)state;
    const uint8_t b[4] = {0};
    struct ntk_rd r;
    ntk_rd_init(&r, b, sizeof b);
    ntk_rd_fail(&r, NTK_EFORMAT);
    ntk_rd_be64(&r);
    assert_int_equal(ntk_rd_err(&r), NTK_EFORMAT);
}

static void write_and_overflow(void **state)
{
    (void)state;
    uint8_t b[7];
    struct ntk_wr w;
    ntk_wr_init(&w, b, sizeof b);
    ntk_wr_u8(&w, 0x01);
    ntk_wr_be16(&w, 0x0203);
    ntk_wr_be32(&w, 0x04050607);
    assert_int_equal(ntk_wr_err(&w), 0);
    assert_int_equal(ntk_wr_len(&w), 7);
    assert_memory_equal(b, ((uint8_t[]){1, 2, 3, 4, 5, 6, 7}), 7);
    ntk_wr_u8(&w, 8);
    assert_int_equal(ntk_wr_err(&w), NTK_ENOSPC);
    assert_int_equal(ntk_wr_len(&w), 7);

    /* A value that does not fit whole is not written in part. */
    uint8_t c[6] = {0};
    ntk_wr_init(&w, c, sizeof c);
    ntk_wr_be16(&w, 0xffff);
    ntk_wr_be64(&w, UINT64_MAX);
    assert_int_equal(ntk_wr_len(&w), 2);
    assert_int_equal(c[2], 0);
    ntk_wr_be16(&w, 1); /* sticky: fits, but the cursor has failed */
    assert_int_equal(ntk_wr_len(&w), 2);
    assert_int_equal(ntk_wr_room(&w), 0);
}

static void reserve_and_patch(void **state)
{
    (void)state;
    uint8_t b[8];
    struct ntk_wr w;
    ntk_wr_init(&w, b, sizeof b);
    size_t at = ntk_wr_len(&w);
    ntk_wr_be16(&w, 0);
    uint8_t *q = ntk_wr_reserve(&w, 3);
    assert_non_null(q);
    ntk_wr_zero(&w, 1);
    ntk_wr_patch_be16(&w, at, 0xabcd);
    assert_int_equal(b[0], 0xab);
    assert_int_equal(b[1], 0xcd);
    ntk_wr_patch_be16(&w, 5, 1); /* 5 + 2 > 6 written */
    assert_int_equal(ntk_wr_err(&w), NTK_EINVAL);
}

static void roundtrip_property(void **state)
{
    (void)state;
    tu_seed();
    for (int i = 0; i < 10000; i++) {
        uint64_t v = tu_rand();
        uint8_t b[15];
        struct ntk_wr w;
        ntk_wr_init(&w, b, sizeof b);
        ntk_wr_u8(&w, (uint8_t)v);
        ntk_wr_be16(&w, (uint16_t)v);
        ntk_wr_be32(&w, (uint32_t)v);
        ntk_wr_be64(&w, v);
        assert_int_equal(ntk_wr_err(&w), 0);
        struct ntk_rd r;
        ntk_rd_init(&r, b, sizeof b);
        assert_int_equal(ntk_rd_u8(&r), (uint8_t)v);
        assert_int_equal(ntk_rd_be16(&r), (uint16_t)v);
        assert_int_equal(ntk_rd_be32(&r), (uint32_t)v);
        assert_true(ntk_rd_be64(&r) == v);
        /* Every truncation fails with NTK_ETRUNC. */
        size_t cut = (size_t)(tu_rand() % sizeof b);
        ntk_rd_init(&r, b, cut);
        ntk_rd_u8(&r);
        ntk_rd_be16(&r);
        ntk_rd_be32(&r);
        ntk_rd_be64(&r);
        assert_int_equal(ntk_rd_err(&r), NTK_ETRUNC);
    }
}

static void strerror_total(void **state)
{
    (void)state;
    for (int e = -20; e <= 1; e++) {
        assert_non_null(ntk_strerror(e));
    }
    assert_string_equal(ntk_strerror(NTK_ETRUNC), "truncated input");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(read_big_endian),          cmocka_unit_test(short_read_poisons),
        cmocka_unit_test(huge_lengths_do_not_wrap), cmocka_unit_test(sub_cursor_is_confined),
        cmocka_unit_test(fail_keeps_first_error),   cmocka_unit_test(write_and_overflow),
        cmocka_unit_test(reserve_and_patch),        cmocka_unit_test(roundtrip_property),
        cmocka_unit_test(strerror_total),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
