/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for ntpleapfetch's decisions (cli/ntpleapfetch/lf_core.c) on the real file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lf.h"
#include "ntk/leapfile.h"
#include "testutil.h"

#include "poison.h"

/* The real file's #@ (tests/data/leap-seconds.list: 2026-06-28). */
#define REAL_EXPIRES_NTP 3991593600ULL
#define NTP_UNIX         2208988800LL
#define DAY              86400LL

static char text[8192];

/* The real file rewritten by lib/'s writer with expiry exp (hash recomputed). */
static size_t with_expiry(uint64_t exp)
{
    size_t len = 0;
    char *real = tu_read_data("leap-seconds.list", &len);
    struct ntk_leap_entry e[NTK_LEAPFILE_ENTRIES_MAX];
    struct ntk_leapfile lf;
    ntk_leapfile_init(&lf, e, NTK_LEAPFILE_ENTRIES_MAX, NULL, 0);
    assert_int_equal(ntk_leapfile_parse(&lf, real, len, 0), 0);
    free(real);
    lf.table.expires_ntp_s = exp;
    struct ntk_sb sb;
    ntk_sb_init(&sb, text, sizeof text);
    assert_int_equal(ntk_leapfile_write(&sb, &lf.table), 0);
    return strlen(text);
}

static void test_real_file(void **state)
{
    (void)state;
    size_t len = 0;
    char *real = tu_read_data("leap-seconds.list", &len);
    uint64_t exp = 0;
    assert_int_equal(lf_check(real, len, 0, &exp, NULL), LF_INSTALL);
    assert_int_equal(exp, REAL_EXPIRES_NTP);
    assert_int_equal(lf_check(real, len, REAL_EXPIRES_NTP, &exp, NULL), LF_SAME);
    assert_int_equal(lf_check(real, len, REAL_EXPIRES_NTP + 1, &exp, NULL), LF_OLDER);
    free(real);
}

static void test_decide_window(void **state)
{
    (void)state;
    int64_t exp_unix = (int64_t)REAL_EXPIRES_NTP - NTP_UNIX;
    /* 61 days before the expiry: fresh with the default 60-day window. */
    assert_int_equal(lf_decide(REAL_EXPIRES_NTP, exp_unix - 61 * DAY, 60, false), LF_FRESH);
    assert_int_equal(lf_decide(REAL_EXPIRES_NTP, exp_unix - 60 * DAY - 1, 60, false),
                     LF_FRESH);
    assert_int_equal(lf_decide(REAL_EXPIRES_NTP, exp_unix - 60 * DAY, 60, false), LF_FETCH);
    assert_int_equal(lf_decide(REAL_EXPIRES_NTP, exp_unix - 59 * DAY, 60, false), LF_FETCH);
    assert_int_equal(lf_decide(REAL_EXPIRES_NTP, exp_unix + DAY, 60, false), LF_FETCH);
    assert_int_equal(lf_decide(REAL_EXPIRES_NTP, exp_unix - 1, 0, false), LF_FRESH);
    assert_int_equal(lf_decide(REAL_EXPIRES_NTP, exp_unix, 0, false), LF_FETCH);
    /* Forced, or no valid current file: always. */
    assert_int_equal(lf_decide(REAL_EXPIRES_NTP, exp_unix - 3000 * DAY, 60, true), LF_FETCH);
    assert_int_equal(lf_decide(0, exp_unix - 3000 * DAY, 60, false), LF_FETCH);
}

static void test_newer_older(void **state)
{
    (void)state;
    uint64_t exp = 0;
    size_t len = with_expiry(REAL_EXPIRES_NTP + 180 * DAY);
    assert_int_equal(lf_check(text, len, REAL_EXPIRES_NTP, &exp, NULL), LF_INSTALL);
    assert_int_equal(exp, REAL_EXPIRES_NTP + 180 * DAY);
    len = with_expiry(REAL_EXPIRES_NTP - 180 * DAY);
    assert_int_equal(lf_check(text, len, REAL_EXPIRES_NTP, &exp, NULL), LF_OLDER);
    assert_int_equal(exp, REAL_EXPIRES_NTP - 180 * DAY);
}

static void test_bad_hash(void **state)
{
    (void)state;
    size_t len = with_expiry(REAL_EXPIRES_NTP + 180 * DAY);
    char *h = strstr(text, "#h");
    assert_non_null(h);
    /* The last hex digit of the first word, changed. */
    char *d = h + 3 + 7;
    *d = (char)(*d == '0' ? '1' : '0');
    char why[256];
    struct ntk_sb sb;
    ntk_sb_init(&sb, why, sizeof why);
    uint64_t exp = 1;
    assert_int_equal(lf_check(text, len, 0, &exp, &sb), LF_BAD);
    assert_int_equal(exp, 0);
    assert_non_null(strstr(why, "hash"));
    /* No #h line at all: refused too (the downloader does not allow it). */
    len = with_expiry(REAL_EXPIRES_NTP + 180 * DAY);
    h = strstr(text, "#h");
    *h = '\0';
    assert_int_equal(lf_check(text, (size_t)(h - text), 0, &exp, NULL), LF_BAD);
}

static void test_truncation(void **state)
{
    (void)state;
    size_t len = with_expiry(REAL_EXPIRES_NTP + 180 * DAY);
    assert_int_equal(text[len - 1], '\n');
    uint64_t exp = 0;
    /* Every prefix that loses more than the final newline is refused. */
    for (size_t cut = 0; cut + 1 < len; cut++)
        assert_int_equal(lf_check(text, cut, 0, &exp, NULL), LF_BAD);
    assert_int_equal(lf_check(text, len - 1, 0, &exp, NULL), LF_INSTALL);
}

static void test_random_corruption(void **state)
{
    (void)state;
    tu_seed();
    size_t len = with_expiry(REAL_EXPIRES_NTP + 180 * DAY);
    char copy[8192];
    memcpy(copy, text, len);
    /* A changed digit anywhere in a data, #$, #@ or #h value is refused. */
    for (int i = 0; i < 500; i++) {
        memcpy(text, copy, len);
        size_t at = (size_t)(tu_rand() % len);
        if (text[at] < '0' || text[at] > '9')
            continue;
        size_t bol = at;
        while (bol > 0 && text[bol - 1] != '\n')
            bol--;
        if (text[bol] == '#' && text[bol + 1] != '$' && text[bol + 1] != '@' &&
            text[bol + 1] != 'h')
            continue; /* a comment */
        if (text[bol] != '#' && memchr(text + bol, '#', at - bol) != NULL)
            continue; /* a data line's comment */
        text[at] = (char)('0' + (text[at] - '0' + 1 + (int)(tu_rand() % 9)) % 10);
        uint64_t exp = 0;
        assert_int_equal(lf_check(text, len, 0, &exp, NULL), LF_BAD);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_file),   cmocka_unit_test(test_decide_window),
        cmocka_unit_test(test_newer_older), cmocka_unit_test(test_bad_hash),
        cmocka_unit_test(test_truncation),  cmocka_unit_test(test_random_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
