/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for lib/ctlvars.c: the variable-list parser on arbitrary text stays in
 * bounds and terminates; every item's value goes through the unit readers; and parse ->
 * format -> parse gives back the same items (names, kinds and decoded values), for the items
 * before the first parse error. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ntk/ctlvars.h"
#include "ntk/err.h"
#include "ntk/ntime.h"
#include "fuzz.h"

#include "poison.h"

/* Every reader on one item: no crash, and the results are consistent. */
static void read_units(const struct ntk_cvar_item *it)
{
    FUZZ_CHECK(it->name.len >= 1 && it->name.len <= NTK_CVAR_NAME_MAX);
    FUZZ_CHECK(it->value.len <= NTK_CVAR_VALUE_MAX);
    int decimals;
    enum ntk_cvar_unit unit = ntk_cvar_unit_of(it->name, &decimals);
    FUZZ_CHECK(decimals >= 0 && decimals <= 6);
    double v;
    int rc = ntk_cvar_get(it, &v);
    FUZZ_CHECK(rc <= 0);
    ntk_ts ts;
    if (ntk_cvar_parse_ts(it->value, &ts) == NTK_OK) {
        FUZZ_CHECK(it->value.len >= 3);
    }
    double list[16];
    rc = ntk_cvar_parse_ms_list(it->value, list, 16);
    FUZZ_CHECK(rc <= 16);
    uint64_t u;
    int64_t i;
    (void)ntk_cvar_parse_u64(it->value, &u, UINT64_MAX);
    (void)ntk_cvar_parse_i64(it->value, &i, INT64_MIN, INT64_MAX);
    (void)unit;
}

/* Appends item as the formatter would write it back. */
static void put_back(struct ntk_cvar_wr *w, const struct ntk_cvar_item *it, char *value)
{
    char name[NTK_CVAR_NAME_MAX + 1];
    FUZZ_CHECK(ntk_span_cstr(it->name, name, sizeof name) == NTK_OK);
    int n = ntk_cvar_unquote(it, value, NTK_CVAR_VALUE_MAX + 1);
    FUZZ_CHECK(n >= 0);
    if (!it->has_value) {
        ntk_cvar_put_name(w, name);
    } else if (it->quoted) {
        ntk_cvar_put_str(w, name, value, (size_t)n);
    } else {
        ntk_cvar_put_raw(w, name, value, (size_t)n);
    }
    FUZZ_CHECK(ntk_cvar_wr_err(w) == NTK_OK);
}

static bool same_item(const struct ntk_cvar_item *a, const struct ntk_cvar_item *b, char *va,
                      char *vb)
{
    int na = ntk_cvar_unquote(a, va, NTK_CVAR_VALUE_MAX + 1);
    int nb = ntk_cvar_unquote(b, vb, NTK_CVAR_VALUE_MAX + 1);
    return a->name.len == b->name.len && memcmp(a->name.p, b->name.p, a->name.len) == 0 &&
           a->has_value == b->has_value && a->quoted == b->quoted && na == nb &&
           memcmp(va, vb, (size_t)na) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char va[NTK_CVAR_VALUE_MAX + 1], vb[NTK_CVAR_VALUE_MAX + 1];
    const char *text = (const char *)data;
    size_t cap = 4 * size + 64;
    char *out = malloc(cap);
    FUZZ_CHECK(out != NULL);
    struct ntk_sb sb;
    struct ntk_cvar_wr w;
    ntk_sb_init(&sb, out, cap);
    ntk_cvar_wr_init(&w, &sb);

    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    size_t n = 0;
    int rc;
    ntk_cvar_init(&it, text, size);
    while ((rc = ntk_cvar_next(&it, &item)) == 1) {
        FUZZ_CHECK(item.name.p >= text && item.name.p + item.name.len <= text + size);
        FUZZ_CHECK(item.value.p >= text && item.value.p + item.value.len <= text + size);
        read_units(&item);
        put_back(&w, &item, va);
        n++;
        FUZZ_CHECK(n <= size);
    }
    FUZZ_CHECK(rc == 0 || rc == NTK_EFORMAT || rc == NTK_ETRUNC || rc == NTK_ERANGE);
    FUZZ_CHECK(ntk_cvar_next(&it, &item) == rc);
    FUZZ_CHECK(ntk_cvar_finish(&w) == NTK_OK);

    /* The re-formatted list parses to the same items, in full. */
    struct ntk_cvar_it a, b;
    struct ntk_cvar_item ia, ib;
    ntk_cvar_init(&a, text, size);
    ntk_cvar_init(&b, ntk_sb_str(&sb), ntk_sb_len(&sb));
    for (size_t k = 0; k < n; k++) {
        FUZZ_CHECK(ntk_cvar_next(&a, &ia) == 1);
        FUZZ_CHECK(ntk_cvar_next(&b, &ib) == 1);
        FUZZ_CHECK(same_item(&ia, &ib, va, vb));
    }
    FUZZ_CHECK(ntk_cvar_next(&b, &ib) == 0);

    /* Skipping malformed items (ntk_cvar_resync) moves forward and ends, reading at least
     * the items read before the first error. */
    size_t steps = 0, items = 0;
    ntk_cvar_init(&a, text, size);
    while ((rc = ntk_cvar_next(&a, &ia)) != 0) {
        if (rc < 0) {
            ntk_cvar_resync(&a);
        } else {
            items++;
        }
        FUZZ_CHECK(++steps <= size + 1);
    }
    FUZZ_CHECK(items >= n);

    /* The whole input as one number of each kind. */
    struct ntk_span all = {text, size};
    double d;
    (void)ntk_cvar_parse_double(all, &d);
    free(out);
    return 0;
}
