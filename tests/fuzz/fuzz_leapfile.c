/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for lib/leapfile.c: arbitrary text into the leap-seconds.list parser, with and
 * without NTK_LEAPFILE_ALLOW_NOHASH. Diagnostics must point inside the text; an accepted
 * table must pass ntk_leap_table_check, answer the queries consistently and survive
 * write -> parse unchanged with a good hash; the strict and lenient parses must agree.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntk/err.h"
#include "ntk/leapfile.h"
#include "ntk/sb.h"
#include "fuzz.h"

#include "poison.h"

enum { MAXE = NTK_LEAPFILE_ENTRIES_MAX, MAXD = 16 };

/* One parse with its own arrays. */
struct run {
    struct ntk_leap_entry entries[MAXE];
    struct ntk_leapfile_diag diags[MAXD];
    struct ntk_leapfile lf;
    int rc;
};

static void parse(struct run *r, const char *text, size_t len, unsigned flags)
{
    ntk_leapfile_init(&r->lf, r->entries, MAXE, r->diags, MAXD);
    r->rc = ntk_leapfile_parse(&r->lf, text, len, flags);
}

static void check_diags(const struct run *r, const char *text, size_t len)
{
    uint32_t lines = 1;
    for (size_t i = 0; i < len; i++) {
        lines += text[i] == '\n';
    }
    FUZZ_CHECK(r->rc <= 0);
    FUZZ_CHECK((r->rc == NTK_OK) == (r->lf.nerrors == 0));
    size_t total = r->lf.nerrors + r->lf.nwarnings;
    FUZZ_CHECK(r->lf.ndiags == (total < MAXD ? total : MAXD));
    for (size_t i = 0; i < r->lf.ndiags; i++) {
        const struct ntk_leapfile_diag *d = &r->diags[i];
        FUZZ_CHECK(d->line >= 1 && d->line <= lines && d->col >= 1);
        FUZZ_CHECK(d->err < 0 && d->msg != NULL);
        FUZZ_CHECK(d->ref_line < d->line || (d->ref_line > d->line && d->ref_line <= lines));
    }
    if (r->rc != NTK_OK) {
        FUZZ_CHECK(r->lf.table.n == 0 && !r->lf.table.hash_ok);
    }
}

/* The queries agree with the entries around every entry's instant. */
static void check_queries(const struct ntk_leap_table *tab)
{
    for (size_t i = 0; i < tab->n; i++) {
        const struct ntk_leap_entry *e = &tab->entries[i];
        FUZZ_CHECK(ntk_leap_tai_offset(tab, e->unix_s) == e->tai_utc_s);
        FUZZ_CHECK(!ntk_leap_expired(tab, e->unix_s));
        int64_t when = 0;
        int delta = 0;
        int rc = ntk_leap_next(tab, e->unix_s, &when, &delta);
        if (i + 1 < tab->n) {
            FUZZ_CHECK(rc == NTK_OK && when == tab->entries[i + 1].unix_s);
            FUZZ_CHECK(delta == 1 || delta == -1);
            FUZZ_CHECK(ntk_leap_tai_offset(tab, when - 1) == e->tai_utc_s);
        } else {
            FUZZ_CHECK(rc == NTK_ENOTFOUND);
        }
    }
    FUZZ_CHECK(ntk_leap_tai_offset(tab, tab->entries[0].unix_s - 1) == 0);
}

/* write -> parse gives the same table back, hash verified. */
static void check_round_trip(const struct ntk_leap_table *tab)
{
    static char text[MAXE * 48 + 256];
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    FUZZ_CHECK(ntk_leapfile_write(&sb, tab) == NTK_OK);
    static struct run again;
    parse(&again, ntk_sb_str(&sb), ntk_sb_len(&sb), 0);
    FUZZ_CHECK(again.rc == NTK_OK && again.lf.ndiags == 0);
    const struct ntk_leap_table *t2 = &again.lf.table;
    FUZZ_CHECK(t2->hash_ok && t2->n == tab->n);
    FUZZ_CHECK(t2->updated_ntp_s == tab->updated_ntp_s);
    FUZZ_CHECK(t2->expires_ntp_s == tab->expires_ntp_s);
    for (size_t i = 0; i < tab->n; i++) {
        FUZZ_CHECK(t2->entries[i].ntp_s == tab->entries[i].ntp_s);
        FUZZ_CHECK(t2->entries[i].unix_s == tab->entries[i].unix_s);
        FUZZ_CHECK(t2->entries[i].tai_utc_s == tab->entries[i].tai_utc_s);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct run strict, lenient;
    const char *text = (const char *)data;
    parse(&strict, text, size, 0);
    parse(&lenient, text, size, NTK_LEAPFILE_ALLOW_NOHASH);
    check_diags(&strict, text, size);
    check_diags(&lenient, text, size);
    /* The flag only turns a missing #h into a warning. */
    FUZZ_CHECK(strict.lf.nerrors == lenient.lf.nerrors + lenient.lf.nwarnings);
    FUZZ_CHECK(strict.rc != NTK_OK || lenient.rc == NTK_OK);
    if (lenient.rc != NTK_OK) {
        return 0;
    }
    const struct ntk_leap_table *tab = &lenient.lf.table;
    FUZZ_CHECK(ntk_leap_table_check(tab) == NTK_OK);
    FUZZ_CHECK(tab->hash_ok == tab->has_hash);
    FUZZ_CHECK((strict.rc == NTK_OK) == tab->has_hash);
    if (strict.rc == NTK_OK) {
        FUZZ_CHECK(strict.lf.table.hash_ok && strict.lf.table.n == tab->n);
    }
    check_queries(tab);
    check_round_trip(tab);
    return 0;
}
