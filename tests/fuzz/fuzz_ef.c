/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for lib/ef.c. The input is walked as an extension-field area (with the packet
 * minimum of 16 bytes and the nested minimum of 4); the fields found are rebuilt with the
 * builder, which must give back exactly the bytes walked, and re-walked. Then the input is
 * read as a recipe (type, value length, value bytes ...) for the builder, and the walk of
 * what it built must return the same types and values, zero-padded. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntk/buf.h"
#include "ntk/ef.h"
#include "ntk/err.h"
#include "fuzz.h"

#include "poison.h"

enum { MAX_OUT = 1 << 16, MAX_RECIPE_FIELDS = 64 };

static uint8_t out[MAX_OUT];

/* Walks data[0..size) with min_len, rebuilding each field into out. Returns the number of
 * bytes walked cleanly (the fields before any error). */
static size_t walk_and_rebuild(const uint8_t *data, size_t size, size_t min_len, size_t *built,
                               unsigned *count)
{
    struct ntk_rd r;
    struct ntk_ef_iter it;
    struct ntk_ef ef;
    struct ntk_wr w;
    size_t walked = 0;
    int rc;
    ntk_rd_init(&r, data, size);
    ntk_ef_iter_init(&it, &r, min_len);
    ntk_wr_init(&w, out, sizeof out);
    *count = 0;
    while ((rc = ntk_ef_next(&it, &ef)) == 1) {
        FUZZ_CHECK(ef.off == walked && ef.len >= min_len && ef.len % 4 == 0);
        size_t vlen = ntk_rd_left(&ef.body);
        FUZZ_CHECK(vlen == ef.len - NTK_EF_HDR_LEN);
        const uint8_t *v = ntk_rd_ptr(&ef.body, vlen);
        FUZZ_CHECK(vlen == 0 || v == data + ef.off + NTK_EF_HDR_LEN);
        FUZZ_CHECK(ntk_ef_put_min(&w, ef.type, v, vlen, min_len) == 0);
        walked += ef.len;
        FUZZ_CHECK(++*count <= size / min_len);
    }
    FUZZ_CHECK(rc == 0 || rc == NTK_ETRUNC || rc == NTK_EFORMAT);
    FUZZ_CHECK(rc != 0 || walked == size);
    FUZZ_CHECK(ntk_ef_next(&it, &ef) == rc); /* sticky, and 0 stays 0 */
    *built = ntk_wr_len(&w);
    return walked;
}

/* Round trip of the input's own fields: rebuilt bytes equal the walked bytes, and walking
 * the rebuild finds as many fields. */
static void check_walk(const uint8_t *data, size_t size, size_t min_len)
{
    size_t built;
    unsigned count, again;
    size_t walked = walk_and_rebuild(data, size, min_len, &built, &count);
    FUZZ_CHECK(built == walked);
    FUZZ_CHECK(walked == 0 || memcmp(out, data, walked) == 0);
    static uint8_t copy[MAX_OUT];
    memcpy(copy, out, built);
    size_t rewalked = walk_and_rebuild(copy, built, min_len, &built, &again);
    FUZZ_CHECK(rewalked == walked && again == count);
}

/* A field the recipe asks for. */
struct wish {
    uint16_t type;
    const uint8_t *value;
    size_t len;
};

/* Reads the recipe: per field a 2-byte type, a 1-byte value length, then that many bytes
 * (fewer if the input ends). */
static size_t read_recipe(const uint8_t *data, size_t size, struct wish *wishes)
{
    struct ntk_rd r;
    size_t n = 0;
    ntk_rd_init(&r, data, size);
    while (n < MAX_RECIPE_FIELDS && ntk_rd_left(&r) >= 3) {
        wishes[n].type = ntk_rd_be16(&r);
        size_t want = ntk_rd_u8(&r);
        size_t len = want < ntk_rd_left(&r) ? want : ntk_rd_left(&r);
        wishes[n].value = ntk_rd_ptr(&r, len);
        wishes[n].len = len;
        n++;
    }
    return n;
}

static void check_build(const uint8_t *data, size_t size)
{
    struct wish wishes[MAX_RECIPE_FIELDS];
    size_t n = read_recipe(data, size, wishes);
    size_t min_len = (size % 2) ? NTK_EF_MIN_LEN : 4;
    struct ntk_wr w;
    ntk_wr_init(&w, out, sizeof out);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(
            ntk_ef_put_min(&w, wishes[i].type, wishes[i].value, wishes[i].len, min_len) == 0);
    }
    struct ntk_rd r;
    struct ntk_ef_iter it;
    struct ntk_ef ef;
    ntk_rd_init(&r, out, ntk_wr_len(&w));
    ntk_ef_iter_init(&it, &r, min_len);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(ntk_ef_next(&it, &ef) == 1);
        FUZZ_CHECK(ef.type == wishes[i].type);
        FUZZ_CHECK(ef.len == ntk_ef_wire_len(wishes[i].len, min_len));
        size_t vlen = ntk_rd_left(&ef.body);
        const uint8_t *v = ntk_rd_ptr(&ef.body, vlen);
        FUZZ_CHECK(vlen >= wishes[i].len);
        FUZZ_CHECK(wishes[i].len == 0 || memcmp(v, wishes[i].value, wishes[i].len) == 0);
        for (size_t k = wishes[i].len; k < vlen; k++) {
            FUZZ_CHECK(v[k] == 0);
        }
    }
    FUZZ_CHECK(ntk_ef_next(&it, &ef) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_OUT / 2) {
        return 0; /* keeps every rebuild inside out[] */
    }
    check_walk(data, size, NTK_EF_MIN_LEN);
    check_walk(data, size, 4);
    check_build(data, size);
    return 0;
}
