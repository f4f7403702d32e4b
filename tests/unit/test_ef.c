/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/ef.c: walking real NTS fields, every malformed-length case, sticky
 * errors, the n/4 step bound, padding by the builder and build -> walk round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ntk/buf.h"
#include "ntk/ef.h"
#include "ntk/err.h"
#include "testutil.h"

#include "poison.h"

/* The fields after the header of nts.tsv frame 20 (chronyd's NTS request): Unique
 * Identifier (36), Cookie (104), Authenticator (40). */
static const char nts_request_efs[] =
    "0104002496aa194cbdc4bc309e74aedf312cc57b63cb1f4256b1f4465fe822f01e122673"
    "02040068318fe46302791484b3db6015bfc82b89b70c991d2fc399f6c52889074d614b7c"
    "a153e6b8a2e32f12a8272cba9107c98de627c9fe2bfe80528f60919a0918a5876893c379"
    "0bbf3bb99e50c6378eebc04094a707f61808e1a350128f42f9dd03dcb85e8e23"
    "0404002800100010be368b1d0339b156e49b78272a46811d40c8f3191f20f4cb27ca2cae"
    "0995d051";

/* Walks n bytes at p with min_len; stores up to max types/lengths; returns the count of
 * fields, and the final return of ntk_ef_next in *last. */
static int walk(const uint8_t *p, size_t n, size_t min_len, uint16_t *types, size_t *lens,
                int max, int *last)
{
    struct ntk_rd r;
    struct ntk_ef_iter it;
    struct ntk_ef ef;
    int count = 0, rc;
    ntk_rd_init(&r, p, n);
    ntk_ef_iter_init(&it, &r, min_len);
    while ((rc = ntk_ef_next(&it, &ef)) == 1) {
        if (count < max) {
            types[count] = ef.type;
            lens[count] = ef.len;
        }
        count++;
        assert_true((size_t)count <= n / 4);
    }
    *last = rc;
    return count;
}

static void walk_nts_request(void **state)
{
    (void)state;
    uint8_t buf[256];
    int n = tu_unhex(nts_request_efs, buf, sizeof buf);
    assert_int_equal(n, 180);
    struct ntk_rd r;
    ntk_rd_init(&r, buf, (size_t)n);
    struct ntk_ef_iter it;
    struct ntk_ef ef;
    ntk_ef_iter_init(&it, &r, NTK_EF_MIN_LEN);

    assert_int_equal(ntk_ef_next(&it, &ef), 1);
    assert_int_equal(ef.type, NTK_EF_NTS_UID);
    assert_int_equal(ef.len, 36);
    assert_int_equal(ef.off, 0);
    assert_int_equal(ntk_rd_left(&ef.body), 32);
    assert_int_equal(ntk_rd_u8(&ef.body), 0x96);

    assert_int_equal(ntk_ef_next(&it, &ef), 1);
    assert_int_equal(ef.type, NTK_EF_NTS_COOKIE);
    assert_int_equal(ef.len, 104);
    assert_int_equal(ef.off, 36);
    assert_int_equal(ntk_rd_left(&ef.body), 100);

    assert_int_equal(ntk_ef_next(&it, &ef), 1);
    assert_int_equal(ef.type, NTK_EF_NTS_AUTH);
    assert_int_equal(ef.len, 40);
    assert_int_equal(ef.off, 140);
    /* RFC 8915 §5.6: nonce length 16, ciphertext length 16. */
    assert_int_equal(ntk_rd_be16(&ef.body), 16);
    assert_int_equal(ntk_rd_be16(&ef.body), 16);
    assert_int_equal(ntk_rd_left(&ef.body), 32);
    /* The body cursor is confined: it cannot read past its field. */
    ntk_rd_skip(&ef.body, 33);
    assert_int_equal(ntk_rd_err(&ef.body), NTK_ETRUNC);

    assert_int_equal(ntk_ef_next(&it, &ef), 0);
    assert_int_equal(ntk_ef_next(&it, &ef), 0);
    assert_int_equal(ntk_ef_iter_err(&it), 0);
    assert_int_equal(ntk_ef_iter_left(&it), 0);
}

/* The walk starts wherever the given cursor stands, and offsets count like its position. */
static void walk_from_cursor_position(void **state)
{
    (void)state;
    uint8_t buf[256] = {0};
    int n = tu_unhex(nts_request_efs, buf + 48, sizeof buf - 48);
    struct ntk_rd r;
    ntk_rd_init(&r, buf, 48 + (size_t)n);
    ntk_rd_skip(&r, 48);
    struct ntk_ef_iter it;
    struct ntk_ef ef;
    ntk_ef_iter_init(&it, &r, NTK_EF_MIN_LEN);
    assert_int_equal(ntk_ef_next(&it, &ef), 1);
    assert_int_equal(ef.off, 48);
    assert_int_equal(ntk_ef_next(&it, &ef), 1);
    assert_int_equal(ef.off, 84);
    assert_int_equal(ntk_rd_pos(&r), 48); /* the caller's cursor is not advanced */

    /* A failed cursor gives a failed walk. */
    ntk_rd_skip(&r, 10000);
    ntk_ef_iter_init(&it, &r, NTK_EF_MIN_LEN);
    assert_int_equal(ntk_ef_next(&it, &ef), NTK_ETRUNC);
}

struct bad_case {
    const char *hex;
    size_t min_len;
    int fields_before; /* good fields before the error */
    int err;
};

static void malformed_lengths(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"01", 16, 0, NTK_ETRUNC},                                   /* 1-3 bytes: no header */
        {"010400", 16, 0, NTK_ETRUNC},                               /* */
        {"12340000", 16, 0, NTK_EFORMAT},                            /* Length 0 */
        {"12340004", 16, 0, NTK_EFORMAT},                            /* 4 < 16 */
        {"1234000c0000000000000000", 16, 0, NTK_EFORMAT},            /* 12 < 16 */
        {"123400110000000000000000000000000000", 4, 0, NTK_EFORMAT}, /* 17: not x4 */
        {"12340014000000000000000000000000", 16, 0, NTK_ETRUNC},     /* 20 > 16 left */
        {"0204fffc00000000", 16, 0, NTK_ETRUNC},                     /* 65532 > 8 left */
        {"1234001000000000000000000000000001", 16, 1, NTK_ETRUNC},   /* 1 byte after */
        {"12340010000000000000000000000000abcd0008", 16, 1, NTK_EFORMAT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t buf[64];
        int n = tu_unhex(cases[i].hex, buf, sizeof buf);
        assert_true(n > 0);
        uint16_t types[4];
        size_t lens[4];
        int last;
        int count = walk(buf, (size_t)n, cases[i].min_len, types, lens, 4, &last);
        assert_int_equal(count, cases[i].fields_before);
        assert_int_equal(last, cases[i].err);
    }
}

static void nested_minimum(void **state)
{
    (void)state;
    /* A 4-byte field (empty value) and an 8-byte one: fine nested, refused in a packet. */
    const uint8_t b[] = {0x00, 0x01, 0x00, 0x04, 0x00, 0x02, 0x00, 0x08, 1, 2, 3, 4};
    uint16_t types[4];
    size_t lens[4];
    int last;
    assert_int_equal(walk(b, sizeof b, 4, types, lens, 4, &last), 2);
    assert_int_equal(last, 0);
    assert_int_equal(types[0], 1);
    assert_int_equal(lens[0], 4);
    assert_int_equal(types[1], 2);
    assert_int_equal(lens[1], 8);
    /* A min_len below the header size is raised to it. */
    assert_int_equal(walk(b, sizeof b, 0, types, lens, 4, &last), 2);
    assert_int_equal(walk(b, sizeof b, NTK_EF_MIN_LEN, types, lens, 4, &last), 0);
    assert_int_equal(last, NTK_EFORMAT);
}

static void errors_are_sticky(void **state)
{
    (void)state;
    const uint8_t b[] = {0x12, 0x34, 0x00, 0x04, 0x12, 0x34, 0x00, 0x10, 0, 0,
                         0,    0,    0,    0,    0,    0,    0,    0,    0, 0};
    struct ntk_rd r;
    struct ntk_ef_iter it;
    struct ntk_ef ef = {.type = 0xbeef};
    ntk_rd_init(&r, b, sizeof b);
    ntk_ef_iter_init(&it, &r, NTK_EF_MIN_LEN);
    assert_int_equal(ntk_ef_next(&it, &ef), NTK_EFORMAT);
    assert_int_equal(ef.type, 0xbeef); /* out untouched on error */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ntk_ef_next(&it, &ef), NTK_EFORMAT);
    }
    assert_int_equal(ntk_ef_iter_err(&it), NTK_EFORMAT);
    assert_int_equal(ntk_ef_iter_left(&it), 0);
}

/* Random bytes: the walk always ends, within n / min_len fields, without reading outside. */
static void random_walks_terminate(void **state)
{
    (void)state;
    tu_seed();
    for (int i = 0; i < 20000; i++) {
        uint8_t buf[96];
        size_t n = (size_t)(tu_rand() % (sizeof buf + 1));
        tu_fill(buf, n);
        /* Bias some lengths towards plausible values so that walks get further. */
        for (size_t k = 2; k + 1 < n; k += 16) {
            if (tu_rand() % 2) {
                buf[k] = 0;
                buf[k + 1] = (uint8_t)(4 * (tu_rand() % 8));
            }
        }
        size_t min_len = (tu_rand() % 2) ? 4 : NTK_EF_MIN_LEN;
        uint16_t types[1];
        size_t lens[1];
        int last;
        int count = walk(buf, n, min_len, types, lens, 1, &last);
        assert_true((size_t)count <= n / min_len);
        assert_true(last == 0 || last == NTK_ETRUNC || last == NTK_EFORMAT);
    }
}

static void wire_len(void **state)
{
    (void)state;
    assert_int_equal(ntk_ef_wire_len(0, NTK_EF_MIN_LEN), 16);
    assert_int_equal(ntk_ef_wire_len(12, NTK_EF_MIN_LEN), 16);
    assert_int_equal(ntk_ef_wire_len(13, NTK_EF_MIN_LEN), 20);
    assert_int_equal(ntk_ef_wire_len(32, NTK_EF_MIN_LEN), 36);
    assert_int_equal(ntk_ef_wire_len(0, NTK_EF_MIN_LAST_LEN), 28);
    assert_int_equal(ntk_ef_wire_len(25, NTK_EF_MIN_LAST_LEN), 32);
    assert_int_equal(ntk_ef_wire_len(0, 0), 4);
    assert_int_equal(ntk_ef_wire_len(1, 0), 8);
    assert_int_equal(ntk_ef_wire_len(0, 17), 20);
    assert_int_equal(ntk_ef_wire_len(NTK_EF_MAX_LEN - 4, 16), NTK_EF_MAX_LEN);
    assert_int_equal(ntk_ef_wire_len(NTK_EF_MAX_LEN - 3, 16), 0);
    assert_int_equal(ntk_ef_wire_len(SIZE_MAX, 16), 0);
    assert_int_equal(ntk_ef_wire_len(0, SIZE_MAX), 0);
}

static void put_pads(void **state)
{
    (void)state;
    const uint8_t body[5] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5};
    uint8_t buf[64];
    memset(buf, 0xee, sizeof buf);
    struct ntk_wr w;
    ntk_wr_init(&w, buf, sizeof buf);
    assert_int_equal(ntk_ef_put(&w, 0x0104, body, sizeof body), 0);
    assert_int_equal(ntk_wr_len(&w), 16);
    const uint8_t want[16] = {0x01, 0x04, 0x00, 0x10, 0xa1, 0xa2, 0xa3, 0xa4,
                              0xa5, 0,    0,    0,    0,    0,    0,    0};
    assert_memory_equal(buf, want, 16);
    assert_int_equal(ntk_ef_put_min(&w, 0x0304, NULL, 0, NTK_EF_MIN_LAST_LEN), 0);
    assert_int_equal(ntk_wr_len(&w), 44);
    assert_int_equal(buf[16], 0x03);
    assert_int_equal(buf[19], 28);
    for (size_t i = 20; i < 44; i++) {
        assert_int_equal(buf[i], 0);
    }
    assert_int_equal(buf[44], 0xee);
}

static void put_overflow(void **state)
{
    (void)state;
    uint8_t buf[40];
    struct ntk_wr w;
    ntk_wr_init(&w, buf, sizeof buf);
    assert_int_equal(ntk_ef_put(&w, 1, "abcdefghijklmnopqrst", 20), 0); /* 24 bytes */
    /* 20 more do not fit in the 16 left: nothing written, writer failed. */
    assert_int_equal(ntk_ef_put(&w, 2, "0123456789abcdef", 16), NTK_ENOSPC);
    assert_int_equal(ntk_wr_len(&w), 24);
    assert_int_equal(ntk_wr_err(&w), NTK_ENOSPC);
    assert_int_equal(ntk_ef_put(&w, 3, NULL, 0), NTK_ENOSPC); /* sticky */

    /* A value too long for the 16-bit Length: NTK_ERANGE, and the writer fails too. */
    static uint8_t big[NTK_EF_MAX_LEN];
    static uint8_t out[NTK_EF_MAX_LEN + 8];
    ntk_wr_init(&w, out, sizeof out);
    assert_int_equal(ntk_ef_put(&w, 4, big, NTK_EF_MAX_LEN - 3), NTK_ERANGE);
    assert_int_equal(ntk_wr_len(&w), 0);
    assert_int_equal(ntk_wr_err(&w), NTK_ENOSPC);
    ntk_wr_init(&w, out, sizeof out);
    assert_int_equal(ntk_ef_put(&w, 4, big, NTK_EF_MAX_LEN - 4), 0);
    assert_int_equal(ntk_wr_len(&w), NTK_EF_MAX_LEN);
    assert_int_equal(out[2], 0xff);
    assert_int_equal(out[3], 0xfc);
}

static void begin_end(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct ntk_wr w;
    ntk_wr_init(&w, buf, sizeof buf);
    ntk_wr_u8(&w, 0x77); /* something before the field */
    size_t start = ntk_ef_begin(&w, NTK_EF_NTS_AUTH);
    assert_int_equal(start, 1);
    ntk_wr_be16(&w, 16);
    ntk_wr_be16(&w, 0);
    ntk_wr_bytes(&w, "nonce", 5);
    assert_int_equal(ntk_ef_end(&w, start, NTK_EF_MIN_LEN), 0);
    assert_int_equal(ntk_wr_len(&w), 1 + 16);
    assert_int_equal(buf[1], 0x04);
    assert_int_equal(buf[2], 0x04);
    assert_int_equal(buf[3], 0);
    assert_int_equal(buf[4], 16);
    assert_memory_equal(buf + 9, "nonce\0\0\0", 8);

    /* Bad start, and padding that does not fit. */
    ntk_wr_init(&w, buf, sizeof buf);
    ntk_wr_zero(&w, 2);
    assert_int_equal(ntk_ef_end(&w, 0, 4), NTK_EINVAL);
    assert_int_equal(ntk_wr_err(&w), NTK_ENOSPC);
    ntk_wr_init(&w, buf, 10);
    start = ntk_ef_begin(&w, 9);
    ntk_wr_u8(&w, 1);
    assert_int_equal(ntk_ef_end(&w, start, NTK_EF_MIN_LEN), NTK_ENOSPC);
    ntk_wr_init(&w, buf, 2);
    start = ntk_ef_begin(&w, 9); /* does not fit */
    assert_int_equal(ntk_ef_end(&w, start, 4), NTK_ENOSPC);
}

/* Build random fields, walk them back: same types, bodies as a prefix of the value, zero
 * padding, and every truncation of the area either ends cleanly on a field boundary with
 * fewer fields or fails with NTK_ETRUNC. */
static void roundtrip_property(void **state)
{
    (void)state;
    tu_seed();
    for (int iter = 0; iter < 3000; iter++) {
        uint8_t area[512];
        uint8_t bodies[6][64];
        size_t blen[6];
        uint16_t btype[6];
        size_t bounds[7] = {0};
        size_t min_len = (iter % 3 == 0) ? 4 : NTK_EF_MIN_LEN;
        int nf = (int)(tu_rand() % 7);
        struct ntk_wr w;
        ntk_wr_init(&w, area, sizeof area);
        for (int i = 0; i < nf; i++) {
            btype[i] = (uint16_t)tu_rand();
            blen[i] = (size_t)(tu_rand() % 65);
            tu_fill(bodies[i], blen[i]);
            assert_int_equal(ntk_ef_put_min(&w, btype[i], bodies[i], blen[i], min_len), 0);
            bounds[i + 1] = ntk_wr_len(&w);
            assert_int_equal(bounds[i + 1] - bounds[i], ntk_ef_wire_len(blen[i], min_len));
        }
        size_t n = ntk_wr_len(&w);

        struct ntk_rd r;
        struct ntk_ef_iter it;
        struct ntk_ef ef;
        ntk_rd_init(&r, area, n);
        ntk_ef_iter_init(&it, &r, min_len);
        for (int i = 0; i < nf; i++) {
            assert_int_equal(ntk_ef_next(&it, &ef), 1);
            assert_int_equal(ef.type, btype[i]);
            assert_int_equal(ef.off, bounds[i]);
            size_t vlen = ntk_rd_left(&ef.body);
            assert_true(vlen >= blen[i] && vlen - blen[i] < 4 + min_len);
            const uint8_t *v = ntk_rd_ptr(&ef.body, vlen);
            if (blen[i] > 0) {
                assert_memory_equal(v, bodies[i], blen[i]);
            }
            for (size_t k = blen[i]; k < vlen; k++) {
                assert_int_equal(v[k], 0);
            }
        }
        assert_int_equal(ntk_ef_next(&it, &ef), 0);

        size_t cut = n ? (size_t)(tu_rand() % n) : 0;
        int boundary = -1;
        for (int i = 0; i <= nf; i++) {
            if (bounds[i] == cut) {
                boundary = i;
            }
        }
        uint16_t types[8];
        size_t lens[8];
        int last;
        int count = walk(area, cut, min_len, types, lens, 8, &last);
        if (boundary >= 0) {
            assert_int_equal(count, boundary);
            assert_int_equal(last, 0);
        } else {
            assert_int_equal(last, NTK_ETRUNC);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(walk_nts_request),   cmocka_unit_test(walk_from_cursor_position),
        cmocka_unit_test(malformed_lengths),  cmocka_unit_test(nested_minimum),
        cmocka_unit_test(errors_are_sticky),  cmocka_unit_test(random_walks_terminate),
        cmocka_unit_test(wire_len),           cmocka_unit_test(put_pads),
        cmocka_unit_test(put_overflow),       cmocka_unit_test(begin_end),
        cmocka_unit_test(roundtrip_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
