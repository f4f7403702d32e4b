/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/leapfile.c: the real IERS/IETF leap-seconds.list (tzdata 2025b), the
 * queries at known dates, the NIST hash, every diagnostic with its line and column, and
 * property loops (prefixes, random mutations, write/parse round trips). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ntk/err.h"
#include "ntk/leapfile.h"
#include "ntk/ntime.h"
#include "ntk/sb.h"
#include "testutil.h"

#include "poison.h"

enum { MAXE = 64, MAXD = 16 };

/* Unix times of the dates the tests use. */
#define T_1972_01_01 63072000LL
#define T_1972_07_01 78796800LL
#define T_1999_01_01 915148800LL
#define T_2015_07_01 1435708800LL
#define T_2016_06_01 1464739200LL
#define T_2017_01_01 1483228800LL
#define T_2020_01_01 1577836800LL
#define T_EXPIRES    1782604800LL /* #@ 3991593600 = 2026-06-28 */

/* Lines of the real file (tests/data/leap-seconds.list). */
enum {
    L_UPDATED = 63,
    L_EXPIRES = 71,
    L_FIRST = 86,
    L_1999 = 108,
    L_LAST = 113,
    L_HASH = 120
};

/* A parse with room for MAXE entries and MAXD diagnostics. */
struct run {
    struct ntk_leap_entry entries[MAXE];
    struct ntk_leapfile_diag diags[MAXD];
    struct ntk_leapfile lf;
    int rc;
};

static char *real_text(size_t *len)
{
    return tu_read_data("leap-seconds.list", len);
}

static void parse_n(struct run *r, const char *text, size_t len, unsigned flags)
{
    ntk_leapfile_init(&r->lf, r->entries, MAXE, r->diags, MAXD);
    r->rc = ntk_leapfile_parse(&r->lf, text, len, flags);
}

static void parse_str(struct run *r, const char *text, unsigned flags)
{
    parse_n(r, text, strlen(text), flags);
}

/* Replaces line `line` (1-based) of text by repl (no newline); NULL repl deletes it.
 * Returns a malloc'd NUL-terminated text. */
static char *edit_line(const char *text, uint32_t line, const char *repl)
{
    size_t len = strlen(text);
    char *out = malloc(len + (repl ? strlen(repl) : 0) + 2);
    assert_non_null(out);
    const char *bol = text;
    for (uint32_t l = 1; l < line; l++) {
        bol = strchr(bol, '\n');
        assert_non_null(bol);
        bol++;
    }
    const char *eol = strchr(bol, '\n');
    size_t head = (size_t)(bol - text);
    memcpy(out, text, head);
    size_t n = head;
    if (repl) {
        memcpy(out + n, repl, strlen(repl));
        n += strlen(repl);
        out[n++] = '\n';
    }
    const char *rest = eol ? eol + 1 : text + len;
    memcpy(out + n, rest, strlen(rest) + 1);
    return out;
}

static void real_file_parses(void **state)
{
    (void)state;
    size_t len;
    char *text = real_text(&len);
    struct run r;
    parse_n(&r, text, len, 0);
    assert_int_equal(r.rc, NTK_OK);
    assert_int_equal(r.lf.ndiags, 0);
    assert_int_equal(r.lf.nerrors + r.lf.nwarnings, 0);
    const struct ntk_leap_table *tab = &r.lf.table;
    assert_true(tab->has_hash);
    assert_true(tab->hash_ok);
    assert_int_equal(tab->n, 28);
    assert_true(tab->updated_ntp_s == 3960835200ULL);
    assert_true(tab->expires_ntp_s == 3991593600ULL);
    assert_true(tab->entries[0].ntp_s == 2272060800ULL);
    assert_true(tab->entries[0].unix_s == T_1972_01_01);
    assert_int_equal(tab->entries[0].tai_utc_s, 10);
    assert_int_equal(tab->entries[0].line, L_FIRST);
    assert_true(tab->entries[27].ntp_s == 3692217600ULL);
    assert_true(tab->entries[27].unix_s == T_2017_01_01);
    assert_int_equal(tab->entries[27].tai_utc_s, 37);
    assert_int_equal(tab->entries[27].line, L_LAST);
    for (size_t i = 0; i < tab->n; i++) {
        assert_int_equal(tab->entries[i].tai_utc_s, 10 + (int)i); /* no negative leap yet */
    }
    assert_int_equal(ntk_leap_table_check(tab), NTK_OK);
    free(text);
}

static void offsets_at_known_dates(void **state)
{
    (void)state;
    size_t len;
    char *text = real_text(&len);
    struct run r;
    parse_n(&r, text, len, 0);
    assert_int_equal(r.rc, NTK_OK);
    const struct ntk_leap_table *tab = &r.lf.table;
    static const struct {
        int64_t unix_s;
        int tai_utc_s;
    } cases[] = {
        {INT64_MIN, 0},
        {0, 0},
        {T_1972_01_01 - 1, 0},
        {T_1972_01_01, 10},
        {T_1972_07_01 - 1, 10},
        {T_1972_07_01, 11},
        {T_1999_01_01 - 1, 31},
        {T_1999_01_01, 32},
        {T_2015_07_01, 36},
        {T_2017_01_01 - 1, 36},
        {T_2017_01_01, 37},
        {T_2020_01_01, 37},
        {T_EXPIRES + 86400 * 365, 37},
        {INT64_MAX, 37},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (ntk_leap_tai_offset(tab, cases[i].unix_s) != cases[i].tai_utc_s) {
            fail_msg("case %zu: %lld gives %d, want %d", i, (long long)cases[i].unix_s,
                     ntk_leap_tai_offset(tab, cases[i].unix_s), cases[i].tai_utc_s);
        }
    }
    free(text);
}

static void next_leap_and_expiry(void **state)
{
    (void)state;
    size_t len;
    char *text = real_text(&len);
    struct run r;
    parse_n(&r, text, len, 0);
    assert_int_equal(r.rc, NTK_OK);
    const struct ntk_leap_table *tab = &r.lf.table;
    int64_t when = 0;
    int delta = 0;
    assert_int_equal(ntk_leap_next(tab, T_2016_06_01, &when, &delta), NTK_OK);
    assert_true(when == T_2017_01_01);
    assert_int_equal(delta, 1);
    /* The leap is the last second of 2016-12-31: strictly after, so at that instant the
     * next one is no longer it. */
    assert_int_equal(ntk_leap_next(tab, T_2017_01_01 - 1, &when, &delta), NTK_OK);
    assert_true(when == T_2017_01_01);
    when = 123;
    delta = 5;
    assert_int_equal(ntk_leap_next(tab, T_2017_01_01, &when, &delta), NTK_ENOTFOUND);
    assert_true(when == 123 && delta == 5); /* untouched */
    assert_int_equal(ntk_leap_next(tab, T_2020_01_01, &when, &delta), NTK_ENOTFOUND);
    /* Before 1972 the first leap is 1972-06-30 23:59:60, not the 1972 base entry. */
    assert_int_equal(ntk_leap_next(tab, 0, &when, &delta), NTK_OK);
    assert_true(when == T_1972_07_01);
    assert_int_equal(delta, 1);
    assert_int_equal(ntk_leap_next(tab, T_2015_07_01, &when, &delta), NTK_OK);
    assert_true(when == T_2017_01_01);
    assert_int_equal(ntk_leap_next(tab, T_2015_07_01 - 1, &when, &delta), NTK_OK);
    assert_true(when == T_2015_07_01);

    assert_false(ntk_leap_expired(tab, T_2020_01_01));
    assert_false(ntk_leap_expired(tab, T_EXPIRES - 1));
    assert_true(ntk_leap_expired(tab, T_EXPIRES));
    assert_true(ntk_leap_expired(tab, INT64_MAX));

    struct ntk_leap_table empty = {0};
    assert_true(ntk_leap_expired(&empty, T_2020_01_01));
    assert_int_equal(ntk_leap_tai_offset(&empty, T_2020_01_01), 0);
    assert_int_equal(ntk_leap_next(&empty, 0, &when, &delta), NTK_ENOTFOUND);
    free(text);
}

/* A deletion (-1) is reported as such. */
static void negative_leap(void **state)
{
    (void)state;
    struct ntk_leap_entry e[3] = {
        {2272060800ULL, T_1972_01_01, 10, 0},
        {2287785600ULL, T_1972_07_01, 11, 0},
        {2303683200ULL, 94694400LL, 10, 0}, /* 1973-01-01, one second deleted */
    };
    struct ntk_leap_table tab = {e, 3, 3, 2287785600ULL, 2303683200ULL + 86400, false, false};
    assert_int_equal(ntk_leap_table_check(&tab), NTK_OK);
    int64_t when;
    int delta;
    assert_int_equal(ntk_leap_next(&tab, T_1972_07_01, &when, &delta), NTK_OK);
    assert_true(when == 94694400LL);
    assert_int_equal(delta, -1);
    assert_int_equal(ntk_leap_tai_offset(&tab, 94694400LL), 10);

    /* The writer's text carries it back with a good hash. */
    char buf[1024];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    assert_int_equal(ntk_leapfile_write(&sb, &tab), NTK_OK);
    struct run r;
    parse_str(&r, ntk_sb_str(&sb), 0);
    assert_int_equal(r.rc, NTK_OK);
    assert_true(r.lf.table.hash_ok);
    assert_int_equal(r.lf.table.n, 3);
    assert_int_equal(r.entries[2].tai_utc_s, 10);
}

static void corrupted_digits_fail_the_hash(void **state)
{
    (void)state;
    size_t len;
    char *text = real_text(&len);
    /* Changing the update or expiry time, still consistent, is caught by the hash alone. */
    static const struct {
        uint32_t line;
        const char *repl;
    } cases[] = {
        {L_UPDATED, "#$\t3960835201"},
        {L_EXPIRES, "#@\t3991593601"},
        {L_HASH, "#h\t49db2447 571e5e1b 2f002a53 9c8da8e4 39b8e49f"},
        {L_HASH, "#h\t49db2447 571e5e1b 2f002a53 9c8da8e4 39b8e49"},
        {L_HASH, "#h\t59db2447 571e5e1b 2f002a53 9c8da8e4 39b8e49e"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *bad = edit_line(text, cases[i].line, cases[i].repl);
        struct run r;
        parse_str(&r, bad, 0);
        assert_int_equal(r.rc, NTK_EAUTH);
        assert_int_equal(r.lf.nerrors, 1);
        assert_int_equal(r.diags[0].line, L_HASH);
        assert_int_equal(r.diags[0].err, NTK_EAUTH);
        assert_non_null(strstr(r.diags[0].msg, "mismatch"));
        assert_int_equal(r.lf.table.n, 0); /* a refused file leaves an empty table */
        assert_false(r.lf.table.hash_ok);
        assert_true(ntk_leap_expired(&r.lf.table, T_2020_01_01));
        free(bad);
    }
    /* Every single digit of the hashed data, changed: always refused. */
    size_t hashed = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9') {
            continue;
        }
        size_t bol = i;
        while (bol > 0 && text[bol - 1] != '\n') {
            bol--;
        }
        bool data =
            text[bol] >= '0' && text[bol] <= '9' && memchr(text + bol, '#', i - bol) == NULL;
        bool special = text[bol] == '#' && (text[bol + 1] == '$' || text[bol + 1] == '@');
        if (!data && !special) {
            continue;
        }
        hashed++;
        char saved = text[i];
        text[i] = (char)(saved == '9' ? '0' : saved + 1);
        struct run r;
        parse_n(&r, text, len, 0);
        assert_int_not_equal(r.rc, NTK_OK);
        assert_false(r.lf.table.hash_ok);
        text[i] = saved;
    }
    assert_int_equal(hashed, 10 + 10 + 28 * 12);
    free(text);
}

static void missing_hash_and_the_flag(void **state)
{
    (void)state;
    size_t len;
    char *text = real_text(&len);
    char *nohash = edit_line(text, L_HASH, NULL);
    struct run r;
    parse_str(&r, nohash, 0);
    assert_int_equal(r.rc, NTK_EAUTH);
    assert_int_equal(r.lf.ndiags, 1);
    assert_int_equal(r.diags[0].line, L_HASH); /* the text now ends where #h was */
    assert_int_equal(r.diags[0].col, 1);
    assert_false(r.diags[0].warning);
    assert_int_equal(r.lf.table.n, 0);

    parse_str(&r, nohash, NTK_LEAPFILE_ALLOW_NOHASH);
    assert_int_equal(r.rc, NTK_OK);
    assert_int_equal(r.lf.nwarnings, 1);
    assert_int_equal(r.lf.nerrors, 0);
    assert_true(r.diags[0].warning);
    assert_int_equal(r.diags[0].err, NTK_EAUTH);
    assert_int_equal(r.lf.table.n, 28);
    assert_false(r.lf.table.has_hash);
    assert_false(r.lf.table.hash_ok);
    assert_int_equal(ntk_leap_table_check(&r.lf.table), NTK_OK);

    /* The flag does not excuse a wrong hash. */
    char *wrong = edit_line(text, L_HASH, "#h 0 0 0 0 0");
    parse_str(&r, wrong, NTK_LEAPFILE_ALLOW_NOHASH);
    assert_int_equal(r.rc, NTK_EAUTH);
    assert_int_equal(r.lf.table.n, 0);
    free(wrong);
    free(nohash);
    free(text);
}

/* One line of the real file replaced: the first diagnostic's line, column and error. */
static void every_bad_line_has_its_diagnostic(void **state)
{
    (void)state;
    static const struct {
        uint32_t line;
        const char *repl;
        uint32_t diag_line;
        uint32_t col;
        int err;
        const char *msg; /* a word of the message */
    } cases[] = {
        {L_FIRST, "2272060801\t10", L_FIRST, 1, NTK_EFORMAT, "first day of a month"},
        {L_FIRST, "2272060800\t11", L_FIRST, 12, NTK_EFORMAT, "must be 10"},
        {L_FIRST, "2287785600\t10", L_FIRST, 1, NTK_EFORMAT, "1972-01-01"},
        {L_FIRST + 1, "2287785600 13", L_FIRST + 1, 12, NTK_EFORMAT, "exactly 1 s"},
        {L_FIRST + 1, "2287785600 11 x", L_FIRST + 1, 15, NTK_EFORMAT, "unexpected text"},
        {L_FIRST + 1, "2287785600", L_FIRST + 1, 11, NTK_EFORMAT, "expected TAI-UTC"},
        {L_FIRST + 1, "2287785600 -11", L_FIRST + 1, 12, NTK_EFORMAT, "expected TAI-UTC"},
        {L_FIRST + 1, "2287785600 99999", L_FIRST + 1, 12, NTK_ERANGE, "too large"},
        {L_FIRST + 1, "  99999999999999999999999 11", L_FIRST + 1, 3, NTK_ERANGE, "too large"},
        {L_FIRST + 1, "2272060800 11", L_FIRST + 1, 1, NTK_EFORMAT, "not after"},
        {L_FIRST + 1, "x", L_FIRST + 1, 1, NTK_EFORMAT, "expected a data line"},
        {L_FIRST + 1, "\t @", L_FIRST + 1, 3, NTK_EFORMAT, "expected a data line"},
        {L_1999, "3124137601 32", L_1999, 1, NTK_EFORMAT, "first day of a month"},
        {L_EXPIRES, "#@", L_EXPIRES, 3, NTK_EFORMAT, "decimal number"},
        {L_EXPIRES, "#@ abc", L_EXPIRES, 4, NTK_EFORMAT, "decimal number"},
        {L_EXPIRES, "#@\t3991593600 x", L_EXPIRES, 15, NTK_EFORMAT, "unexpected text"},
        {L_EXPIRES, "#@ 99999999999999", L_EXPIRES, 4, NTK_ERANGE, "too large"},
        {L_EXPIRES, "#@ 3692217600", L_EXPIRES, 4, NTK_EFORMAT, "not after the last"},
        {L_UPDATED, "#$ 3991593601", L_EXPIRES, 4, NTK_EFORMAT, "before the update"},
        {L_UPDATED, "#$", L_UPDATED, 3, NTK_EFORMAT, "decimal number"},
        {L_UPDATED + 1, "#@ 3991593600", L_EXPIRES, 1, NTK_EFORMAT, "duplicate"},
        {L_LAST + 1, "#$ 3960835200", L_LAST + 1, 1, NTK_EFORMAT, "duplicate"},
        {L_HASH, "#h", L_HASH, 3, NTK_EFORMAT, "five hex words"},
        {L_HASH, "#h 1 2 3 4", L_HASH, 11, NTK_EFORMAT, "five hex words"},
        {L_HASH, "#h 123456789 2 3 4 5", L_HASH, 4, NTK_ERANGE, "8 hex digits"},
        {L_HASH, "#h 1 2 3 4 5g", L_HASH, 13, NTK_EFORMAT, "hex digit"},
        {L_HASH, "#h 1 2 3 4 5 6", L_HASH, 14, NTK_EFORMAT, "unexpected text"},
        {L_UPDATED, NULL, L_HASH, 1, NTK_EFORMAT, "no #$"},
        {L_EXPIRES, NULL, L_HASH, 1, NTK_EFORMAT, "no #@"},
    };
    size_t len;
    char *text = real_text(&len);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *bad = edit_line(text, cases[i].line, cases[i].repl);
        struct run r;
        parse_str(&r, bad, 0);
        if (r.rc == NTK_OK || r.lf.ndiags == 0 || r.diags[0].line != cases[i].diag_line ||
            r.diags[0].col != cases[i].col || r.diags[0].err != cases[i].err ||
            strstr(r.diags[0].msg, cases[i].msg) == NULL || r.diags[0].warning) {
            fail_msg("case %zu (\"%s\"): rc %d, %zu diags, first %u:%u err %d \"%s\"", i,
                     cases[i].repl ? cases[i].repl : "(deleted)", r.rc, r.lf.ndiags,
                     r.lf.ndiags ? r.diags[0].line : 0, r.lf.ndiags ? r.diags[0].col : 0,
                     r.lf.ndiags ? r.diags[0].err : 0, r.lf.ndiags ? r.diags[0].msg : "-");
        }
        assert_int_equal(r.rc, r.diags[0].err);
        assert_int_equal(r.lf.table.n, 0);
        free(bad);
    }
    free(text);
}

static void duplicate_points_to_the_first(void **state)
{
    (void)state;
    size_t len;
    char *text = real_text(&len);
    char *bad = edit_line(text, L_UPDATED + 1, "#@ 3991593600");
    struct run r;
    parse_str(&r, bad, 0);
    assert_int_equal(r.diags[0].line, L_EXPIRES);
    assert_int_equal(r.diags[0].ref_line, L_UPDATED + 1);
    char buf[200];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    assert_int_equal(ntk_leapfile_diag_format(&sb, "leap-seconds.list", &r.diags[0]), NTK_OK);
    assert_string_equal(ntk_sb_str(&sb), "leap-seconds.list:71:1: error: duplicate #@ line: "
                                         "line ignored (see line 64)");
    ntk_sb_init(&sb, buf, sizeof buf);
    struct ntk_leapfile_diag w = {120, 1, NTK_EAUTH, true, 0, "no hash"};
    assert_int_equal(ntk_leapfile_diag_format(&sb, NULL, &w), NTK_OK);
    assert_string_equal(ntk_sb_str(&sb), "120:1: warning: no hash");
    ntk_sb_init(&sb, buf, 8);
    assert_int_equal(ntk_leapfile_diag_format(&sb, NULL, &w), NTK_ENOSPC);
    free(bad);
    free(text);
}

static void swapped_and_too_long_lines(void **state)
{
    (void)state;
    size_t len;
    char *text = real_text(&len);
    /* 1 Jul 1972 and 1 Jan 1973 swapped: the second is not after the first. */
    char *a = edit_line(text, L_FIRST + 1, "2303683200      12      # 1 Jan 1973");
    char *b = edit_line(a, L_FIRST + 2, "2287785600      11      # 1 Jul 1972");
    struct run r;
    parse_str(&r, b, 0);
    assert_int_not_equal(r.rc, NTK_OK);
    assert_int_equal(r.diags[0].line, L_FIRST + 1);
    assert_int_equal(r.diags[0].col, 17); /* 10 -> 12 */
    assert_int_equal(r.diags[1].line, L_FIRST + 2);
    assert_int_equal(r.diags[1].col, 1); /* not after */
    free(a);
    free(b);

    char long_line[NTK_LEAPFILE_LINE_MAX + 2];
    memset(long_line, 'x', sizeof long_line - 1);
    long_line[0] = '#';
    long_line[sizeof long_line - 1] = '\0';
    char *c = edit_line(text, 5, long_line);
    parse_str(&r, c, 0);
    assert_int_equal(r.rc, NTK_ERANGE);
    assert_int_equal(r.lf.nerrors, 1);
    assert_int_equal(r.diags[0].line, 5);
    assert_int_equal(r.diags[0].col, NTK_LEAPFILE_LINE_MAX + 1);
    long_line[NTK_LEAPFILE_LINE_MAX] = '\0'; /* exactly the maximum: fine */
    char *d = edit_line(text, 5, long_line);
    parse_str(&r, d, 0);
    assert_int_equal(r.rc, NTK_OK);
    free(c);
    free(d);
    free(text);
}

/* CRLF line ends, trailing blanks and comments after values are accepted, hash unchanged. */
static void crlf_and_comments(void **state)
{
    (void)state;
    size_t len;
    char *text = real_text(&len);
    char *crlf = malloc(2 * len + 1);
    assert_non_null(crlf);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            crlf[n++] = '\r';
        }
        crlf[n++] = text[i];
    }
    struct run r;
    parse_n(&r, crlf, n, 0);
    assert_int_equal(r.rc, NTK_OK);
    assert_true(r.lf.table.hash_ok);
    assert_int_equal(r.lf.table.n, 28);

    char *a = edit_line(text, L_EXPIRES, "#@3991593600 # expires 28 June 2026  ");
    char *b = edit_line(a, L_FIRST, "   2272060800 10# 1 Jan 1972");
    char *c = edit_line(b, L_HASH, "#h 49db2447 571e5e1b 2f002a53 9c8da8e4 39B8E49E # sha-1");
    parse_str(&r, c, 0);
    assert_int_equal(r.rc, NTK_OK);
    assert_true(r.lf.table.hash_ok);
    assert_int_equal(r.entries[0].line, L_FIRST);
    free(a);
    free(b);
    free(c);
    free(crlf);
    free(text);
}

static void capacity_and_empty_input(void **state)
{
    (void)state;
    size_t len;
    char *text = real_text(&len);
    struct ntk_leap_entry e[28];
    struct ntk_leapfile_diag d[4];
    struct ntk_leapfile lf;
    ntk_leapfile_init(&lf, e, 27, d, 4);
    assert_int_equal(ntk_leapfile_parse(&lf, text, len, 0), NTK_ENOSPC);
    assert_int_equal(lf.ndiags, 1);
    assert_int_equal(d[0].line, L_LAST);
    assert_int_equal(d[0].err, NTK_ENOSPC);
    ntk_leapfile_init(&lf, e, 28, d, 4);
    assert_int_equal(ntk_leapfile_parse(&lf, text, len, 0), NTK_OK);
    ntk_leapfile_init(&lf, e, 100000, NULL, 4);
    assert_int_equal(lf.table.cap, NTK_LEAPFILE_ENTRIES_MAX);
    assert_int_equal(lf.diags_cap, 0);

    ntk_leapfile_init(&lf, e, 28, d, 4);
    assert_int_equal(ntk_leapfile_parse(&lf, NULL, 0, 0), NTK_EFORMAT);
    assert_int_equal(lf.nerrors, 4); /* no #$, no #@, no data, no #h */
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(d[i].line, 1);
        assert_int_equal(d[i].col, 1);
    }
    assert_int_equal(d[3].err, NTK_EAUTH);
    assert_int_equal(ntk_leapfile_parse(&lf, "# c\n#", 5, NTK_LEAPFILE_ALLOW_NOHASH),
                     NTK_EFORMAT);
    assert_int_equal(d[0].line, 2);
    assert_int_equal(d[0].col, 2);
    assert_int_equal(lf.nwarnings, 1);
    free(text);
}

static void table_check_rules(void **state)
{
    (void)state;
    size_t len;
    char *text = real_text(&len);
    struct run r;
    parse_n(&r, text, len, 0);
    struct ntk_leap_table t = r.lf.table;
    assert_int_equal(ntk_leap_table_check(&t), NTK_OK);
    assert_int_equal(ntk_leap_table_check(NULL), NTK_EINVAL);
    struct ntk_leap_table bad = t;
    bad.n = bad.cap + 1;
    assert_int_equal(ntk_leap_table_check(&bad), NTK_EINVAL);
    bad = t;
    bad.n = 0;
    assert_int_equal(ntk_leap_table_check(&bad), NTK_EFORMAT);
    bad = t;
    bad.expires_ntp_s = t.entries[27].ntp_s;
    assert_int_equal(ntk_leap_table_check(&bad), NTK_EFORMAT);
    bad = t;
    bad.updated_ntp_s = t.expires_ntp_s + 1;
    assert_int_equal(ntk_leap_table_check(&bad), NTK_EFORMAT);
    struct {
        size_t i;
        int field; /* 0 ntp_s += 86400 (unix too), 1 unix_s += 1, 2 tai += 2 */
    } edits[] = {{0, 0}, {5, 0}, {3, 1}, {0, 2}, {7, 2}, {27, 2}};
    for (size_t k = 0; k < sizeof edits / sizeof edits[0]; k++) {
        struct ntk_leap_entry saved = t.entries[edits[k].i];
        struct ntk_leap_entry *e = &t.entries[edits[k].i];
        if (edits[k].field == 0) {
            e->ntp_s += 86400;
            e->unix_s += 86400;
        } else if (edits[k].field == 1) {
            e->unix_s += 1;
        } else {
            e->tai_utc_s += 2;
        }
        assert_int_equal(ntk_leap_table_check(&t), NTK_EFORMAT);
        *e = saved;
    }
    assert_int_equal(ntk_leap_table_check(&t), NTK_OK);
    free(text);
}

static void writer_round_trip_real(void **state)
{
    (void)state;
    size_t len;
    char *text = real_text(&len);
    struct run r;
    parse_n(&r, text, len, 0);
    char out[4096];
    struct ntk_sb sb;
    ntk_sb_init(&sb, out, sizeof out);
    assert_int_equal(ntk_leapfile_write(&sb, &r.lf.table), NTK_OK);
    /* The same data gives the same hash as IERS's file. */
    assert_non_null(
        strstr(ntk_sb_str(&sb), "#h\t49db2447 571e5e1b 2f002a53 9c8da8e4 39b8e49e\n"));
    assert_non_null(strstr(ntk_sb_str(&sb), "3692217600\t37\t# 2017-01-01\n"));
    struct run again;
    parse_str(&again, ntk_sb_str(&sb), 0);
    assert_int_equal(again.rc, NTK_OK);
    assert_true(again.lf.table.hash_ok);
    assert_int_equal(again.lf.table.n, 28);
    for (size_t i = 0; i < 28; i++) {
        assert_true(again.entries[i].ntp_s == r.entries[i].ntp_s);
        assert_int_equal(again.entries[i].tai_utc_s, r.entries[i].tai_utc_s);
        assert_int_equal(again.entries[i].line, 4 + i);
    }
    ntk_sb_init(&sb, out, 100);
    assert_int_equal(ntk_leapfile_write(&sb, &r.lf.table), NTK_ENOSPC);
    struct ntk_leap_table empty = {0};
    ntk_sb_init(&sb, out, sizeof out);
    assert_int_equal(ntk_leapfile_write(&sb, &empty), NTK_EINVAL);
    free(text);
}

/* Unix time of 00:00:00 UTC on the first of the month `months` after January 1972. */
static int64_t month_start(int64_t months)
{
    struct ntk_civil c = {
        .year = 1972 + months / 12, .mon = (int)(months % 12) + 1, .mday = 1};
    int64_t u = 0;
    assert_int_equal(ntk_civil_to_unix(&c, &u), NTK_OK);
    return u;
}

/* A random valid table of n entries into e[]. */
static struct ntk_leap_table random_table(struct ntk_leap_entry *e, size_t n)
{
    int64_t m = 0;
    int tai = 10;
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            m += 1 + (int64_t)(tu_rand() % 60);
            tai += tu_rand() % 4 == 0 && tai > 0 ? -1 : 1;
        }
        int64_t u = month_start(m);
        e[i] = (struct ntk_leap_entry){(uint64_t)(u + NTK_NTP_UNIX_OFFSET_S), u, tai, 0};
    }
    uint64_t expires = e[n - 1].ntp_s + 1 + tu_rand() % 100000000;
    uint64_t updated = tu_rand() % 2 ? expires : tu_rand() % expires;
    return (struct ntk_leap_table){e, n, n, updated, expires, false, false};
}

static void property_random_tables(void **state)
{
    (void)state;
    tu_seed();
    for (int iter = 0; iter < 300; iter++) {
        struct ntk_leap_entry e[MAXE];
        size_t n = 1 + tu_rand() % MAXE;
        struct ntk_leap_table tab = random_table(e, n);
        assert_int_equal(ntk_leap_table_check(&tab), NTK_OK);
        static char text[MAXE * 64 + 256];
        struct ntk_sb sb;
        ntk_sb_init(&sb, text, sizeof text);
        assert_int_equal(ntk_leapfile_write(&sb, &tab), NTK_OK);
        struct run r;
        parse_str(&r, text, 0);
        assert_int_equal(r.rc, NTK_OK);
        assert_true(r.lf.table.hash_ok);
        assert_int_equal(r.lf.table.n, n);
        assert_true(r.lf.table.expires_ntp_s == tab.expires_ntp_s);
        assert_true(r.lf.table.updated_ntp_s == tab.updated_ntp_s);
        for (size_t i = 0; i < n; i++) {
            assert_true(r.entries[i].ntp_s == e[i].ntp_s &&
                        r.entries[i].unix_s == e[i].unix_s);
            assert_int_equal(r.entries[i].tai_utc_s, e[i].tai_utc_s);
            /* Queries around every entry. */
            assert_int_equal(ntk_leap_tai_offset(&tab, e[i].unix_s), e[i].tai_utc_s);
            if (i > 0) {
                assert_int_equal(ntk_leap_tai_offset(&tab, e[i].unix_s - 1),
                                 e[i - 1].tai_utc_s);
                int64_t when;
                int delta;
                assert_int_equal(ntk_leap_next(&tab, e[i].unix_s - 1, &when, &delta), NTK_OK);
                assert_true(when == e[i].unix_s);
                assert_int_equal(delta, e[i].tai_utc_s - e[i - 1].tai_utc_s);
            }
        }
    }
}

/* Every proper prefix of the real file is refused, unless only its final newline is cut,
 * and every diagnostic points at the line where the text now ends. */
static void property_every_prefix(void **state)
{
    (void)state;
    size_t len;
    char *text = real_text(&len);
    for (size_t cut = 0; cut < len; cut++) {
        struct run r;
        parse_n(&r, text, cut, 0);
        uint32_t end_line = 1;
        for (size_t i = 0; i < cut; i++) {
            end_line += text[i] == '\n';
        }
        if (cut == len - 1) { /* only the last '\n' is gone */
            assert_int_equal(r.rc, NTK_OK);
            continue;
        }
        if (r.rc == NTK_OK || r.lf.ndiags == 0) {
            fail_msg("prefix of %zu bytes accepted", cut);
        }
        for (size_t i = 0; i < r.lf.ndiags; i++) {
            if (r.diags[i].line != end_line) {
                fail_msg("prefix %zu: diag %zu at line %u, want %u: %s", cut, i,
                         r.diags[i].line, end_line, r.diags[i].msg);
            }
        }
        assert_int_equal(r.lf.table.n, 0);
    }
    free(text);
}

/* Random mutations of the real file: never a crash, diagnostics in range, and an accepted
 * table is always consistent and survives write -> parse. */
static void property_random_mutations(void **state)
{
    (void)state;
    tu_seed();
    size_t len;
    char *text = real_text(&len);
    static const char alphabet[] = "0123456789 \t\n\r#@$hx-";
    char *buf = malloc(len + 64);
    assert_non_null(buf);
    size_t accepted = 0;
    for (int iter = 0; iter < 4000; iter++) {
        memcpy(buf, text, len);
        size_t n = len;
        size_t muts = 1 + tu_rand() % 3;
        for (size_t m = 0; m < muts && n > 0; m++) {
            size_t at = tu_rand() % n;
            switch (tu_rand() % 4) {
            case 0: /* replace */
                buf[at] = alphabet[tu_rand() % (sizeof alphabet - 1)];
                break;
            case 1: /* random byte */
                buf[at] = (char)tu_rand();
                break;
            case 2: /* delete */
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
                break;
            default: /* insert */
                memmove(buf + at + 1, buf + at, n - at);
                buf[at] = alphabet[tu_rand() % (sizeof alphabet - 1)];
                n++;
                break;
            }
        }
        unsigned flags = tu_rand() % 2 ? NTK_LEAPFILE_ALLOW_NOHASH : 0;
        struct run r;
        parse_n(&r, buf, n, flags);
        uint32_t lines = 1;
        for (size_t i = 0; i < n; i++) {
            lines += buf[i] == '\n';
        }
        assert_int_equal(r.rc == NTK_OK, r.lf.nerrors == 0);
        for (size_t i = 0; i < r.lf.ndiags; i++) {
            assert_true(r.diags[i].line >= 1 && r.diags[i].line <= lines);
            assert_true(r.diags[i].col >= 1 && r.diags[i].err < 0);
        }
        if (r.rc != NTK_OK) {
            assert_int_equal(r.lf.table.n, 0);
            continue;
        }
        accepted++;
        const struct ntk_leap_table *tab = &r.lf.table;
        assert_int_equal(ntk_leap_table_check(tab), NTK_OK);
        assert_true(tab->hash_ok || (flags && !tab->has_hash));
        char out[4096];
        struct ntk_sb sb;
        ntk_sb_init(&sb, out, sizeof out);
        assert_int_equal(ntk_leapfile_write(&sb, tab), NTK_OK);
        struct run again;
        parse_str(&again, out, 0);
        assert_int_equal(again.rc, NTK_OK);
        assert_int_equal(again.lf.table.n, tab->n);
    }
    /* Mutations of comments leave the file valid: the loop did test accepted tables. */
    assert_true(accepted > 1000);
    free(buf);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_file_parses),
        cmocka_unit_test(offsets_at_known_dates),
        cmocka_unit_test(next_leap_and_expiry),
        cmocka_unit_test(negative_leap),
        cmocka_unit_test(corrupted_digits_fail_the_hash),
        cmocka_unit_test(missing_hash_and_the_flag),
        cmocka_unit_test(every_bad_line_has_its_diagnostic),
        cmocka_unit_test(duplicate_points_to_the_first),
        cmocka_unit_test(swapped_and_too_long_lines),
        cmocka_unit_test(crlf_and_comments),
        cmocka_unit_test(capacity_and_empty_input),
        cmocka_unit_test(table_check_rules),
        cmocka_unit_test(writer_round_trip_real),
        cmocka_unit_test(property_random_tables),
        cmocka_unit_test(property_every_prefix),
        cmocka_unit_test(property_random_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
