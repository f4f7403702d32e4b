/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for lib/ntime.c: era pivots across 2036 and 2106, fraction rounding, saturating
 * float conversions, the hex / ISO / ntpq text forms and civil calendar arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <float.h>

#include <cmocka.h>

#include "ntk/err.h"
#include "ntk/ntime.h"
#include "ntk/sb.h"
#include "ntk/tok.h"
#include "testutil.h"

#include "poison.h"

#define ERA1_UNIX 2085978496LL /* 2036-02-07T06:28:16Z, NTP era 1 second 0 */
#define TWO32     4294967296LL
#define TWO31     2147483648LL

/* True when time_t can hold dates after 2038 (not on an -m32 build without _TIME_BITS=64). */
static bool wide_time_t(void)
{
    return sizeof(time_t) >= 8;
}

static struct ntk_span span_of(const char *s)
{
    struct ntk_span sp = {s, strlen(s)};
    return sp;
}

static struct timespec tspec(int64_t s, long ns)
{
    struct timespec t;
    t.tv_sec = (time_t)s;
    t.tv_nsec = ns;
    return t;
}

static void ts_basics(void **state)
{
    (void)state;
    ntk_ts a = ntk_ts_make(0xe3a5f0c1, 0x2b3c4d5e);
    assert_true(a.v == 0xe3a5f0c12b3c4d5eULL);
    assert_int_equal(ntk_ts_sec(a), 0xe3a5f0c1);
    assert_int_equal(ntk_ts_frac(a), 0x2b3c4d5e);
    assert_false(ntk_ts_is_zero(a));
    assert_true(ntk_ts_is_zero(ntk_ts_make(0, 0)));
    assert_false(ntk_ts_is_zero(ntk_ts_make(0, 1)));
    assert_true(ntk_ts_eq(a, ntk_ts_make(0xe3a5f0c1, 0x2b3c4d5e)));
    assert_false(ntk_ts_eq(a, ntk_ts_make(0xe3a5f0c1, 0x2b3c4d5f)));

    /* 5 s into era 1 minus 5 s before its end: 10 s, across the rollover. */
    ntk_ts e1 = ntk_ts_make(5, 0), e0 = ntk_ts_make(0xfffffffb, 0);
    assert_true(ntk_ts_diff(e1, e0).v == 10LL << 32);
    assert_true(ntk_ts_diff(e0, e1).v == -(10LL << 32));
    assert_true(ntk_ts_eq(ntk_ts_add(e0, ntk_ts_diff(e1, e0)), e1));
    ntk_dur half = {-(1LL << 31)};
    assert_true(ntk_ts_add(ntk_ts_make(0, 0), half).v == 0xffffffff80000000ULL);
    ntk_dur most = {INT64_MIN};
    assert_true(ntk_ts_diff(ntk_ts_make(0x80000000, 0), ntk_ts_make(0, 0)).v == most.v);
}

/* A date, its timestamp words, and its era. */
struct date_case {
    const char *name;
    int64_t unix_s;
    long ns;
    uint32_t sec, frac;
    int era;
};

static const struct date_case dates[] = {
    {"1900 era 0 start", -2208988800LL, 0, 0, 0, 0},
    {"1968-01-01", -63158400LL, 0, 0x7fe6c600, 0, 0},
    {"1968-01-20 MSB", -61505152LL, 0, 0x80000000, 0, 0},
    {"1970 Unix epoch", 0, 500000000, 0x83aa7e80, 0x80000000, 0},
    {"2036 last second", ERA1_UNIX - 1, 999999999, 0xffffffff, 0xfffffffc, 0},
    {"2036 era 1 start", ERA1_UNIX, 0, 0, 0, 1},
    {"2036 era 1 +1ns", ERA1_UNIX, 1, 0, 4, 1},
    {"2106 Unix u32 rollover", TWO32, 123456789, 0x83aa7e80, 0x1f9add37, 1},
};

static void check_date(const struct date_case *d)
{
    struct timespec t = tspec(d->unix_s, d->ns), out;
    ntk_ts ts = ntk_ts_from_timespec(&t);
    print_message("# %s\n", d->name);
    assert_int_equal(ntk_ts_sec(ts), d->sec);
    assert_int_equal(ntk_ts_frac(ts), d->frac);
    /* The era is the floor of NTP seconds / 2^32 (RFC 5905 §6). */
    assert_true((d->unix_s + NTK_NTP_UNIX_OFFSET_S) >> 32 == d->era);

    /* Pivot windows that hold the date: starting at it, ending at it, centred on it. */
    int64_t pivots[] = {d->unix_s, d->unix_s - TWO32 + 1, d->unix_s - TWO31};
    for (size_t i = 0; i < sizeof pivots / sizeof pivots[0]; i++) {
        ntk_ts_to_timespec(ts, pivots[i], &out);
        assert_true((int64_t)out.tv_sec == d->unix_s);
        assert_int_equal(out.tv_nsec, d->ns);
    }
    /* A pivot one era later gives the same words 2^32 s later. */
    ntk_ts_to_timespec(ts, d->unix_s + 1, &out);
    assert_true((int64_t)out.tv_sec == d->unix_s + TWO32);

    /* near: anything within [-2^31, 2^31) of the date. */
    int64_t nears[] = {d->unix_s, d->unix_s + TWO31, d->unix_s - TWO31 + 1, d->unix_s + 1000};
    for (size_t i = 0; i < sizeof nears / sizeof nears[0]; i++) {
        struct timespec n = tspec(nears[i], 999999999);
        ntk_ts_to_timespec_near(ts, &n, &out);
        assert_true((int64_t)out.tv_sec == d->unix_s);
        assert_int_equal(out.tv_nsec, d->ns);
    }
}

static void timespec_dates(void **state)
{
    (void)state;
    if (!wide_time_t()) {
        skip(); /* every case checks the same words one era later */
    }
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
        check_date(&dates[i]);
    }
}

static void era_choice(void **state)
{
    (void)state;
    if (!wide_time_t()) {
        skip();
    }
    struct timespec out;
    /* NTP second 0 is 1900 or 2036 depending on the window. */
    ntk_ts_to_timespec(ntk_ts_make(0, 0), -NTK_NTP_UNIX_OFFSET_S, &out);
    assert_true((int64_t)out.tv_sec == -NTK_NTP_UNIX_OFFSET_S);
    ntk_ts_to_timespec(ntk_ts_make(0, 0), -NTK_NTP_UNIX_OFFSET_S + 1, &out);
    assert_true((int64_t)out.tv_sec == ERA1_UNIX);
    /* A pivot of 2000: 2036's last era-0 second and era 1's first are adjacent. */
    ntk_ts_to_timespec(ntk_ts_make(0xffffffff, 0), 946684800, &out);
    assert_true((int64_t)out.tv_sec == ERA1_UNIX - 1);
    ntk_ts_to_timespec(ntk_ts_make(0, 0), 946684800, &out);
    assert_true((int64_t)out.tv_sec == ERA1_UNIX);
    /* near 2036-02-07: both sides of the rollover. */
    struct timespec n = tspec(ERA1_UNIX, 0);
    ntk_ts_to_timespec_near(ntk_ts_make(0xfffffff0, 0), &n, &out);
    assert_true((int64_t)out.tv_sec == ERA1_UNIX - 16);
    ntk_ts_to_timespec_near(ntk_ts_make(16, 0), &n, &out);
    assert_true((int64_t)out.tv_sec == ERA1_UNIX + 16);
    /* Negative pivots and times before 1900 (era -1). */
    ntk_ts_to_timespec(ntk_ts_make(0xffffffff, 0), -NTK_NTP_UNIX_OFFSET_S - TWO32, &out);
    assert_true((int64_t)out.tv_sec == -NTK_NTP_UNIX_OFFSET_S - 1);
}

static void fraction_rounding(void **state)
{
    (void)state;
    struct timespec out;
    struct {
        long ns;
        uint32_t frac;
    } to_frac[] = {
        {0, 0},
        {1, 4},
        {2, 9},
        {500000000, 0x80000000},
        {999999999, 0xfffffffc},
        {-5, 0},
        /* clamped */ {1000000000, 0xfffffffc}, /* clamped */
    };
    for (size_t i = 0; i < sizeof to_frac / sizeof to_frac[0]; i++) {
        struct timespec t = tspec(0, to_frac[i].ns);
        assert_int_equal(ntk_ts_frac(ntk_ts_from_timespec(&t)), to_frac[i].frac);
    }
    struct {
        uint32_t frac;
        long ns;
        int64_t carry;
    } to_ns[] = {
        {0, 0, 0},
        {1, 0, 0},
        {2, 0, 0},
        {3, 1, 0},
        {4, 1, 0},
        {0x80000000, 500000000, 0},
        {0xfffffffc, 999999999, 0},
        {0xfffffffd, 999999999, 0},
        {0xfffffffe, 0, 1},
        {0xffffffff, 0, 1},
    };
    for (size_t i = 0; i < sizeof to_ns / sizeof to_ns[0]; i++) {
        ntk_ts_to_timespec(ntk_ts_make(0x83aa7e80, to_ns[i].frac), 0, &out);
        assert_true((int64_t)out.tv_sec == to_ns[i].carry);
        assert_int_equal(out.tv_nsec, to_ns[i].ns);
    }
    /* The carry crosses the era boundary into 2036-02-07T06:28:16Z. */
    if (wide_time_t()) {
        ntk_ts_to_timespec(ntk_ts_make(0xffffffff, 0xffffffff), 0, &out);
        assert_true((int64_t)out.tv_sec == ERA1_UNIX);
        assert_int_equal(out.tv_nsec, 0);
    }
}

/* |frac - ns * 2^32 / 10^9| <= 1/2, in integers. */
static bool frac_is_nearest(long ns, uint32_t frac)
{
    int64_t err = (int64_t)((uint64_t)frac * 1000000000u) - (int64_t)((uint64_t)ns << 32);
    return 2 * (err < 0 ? -err : err) <= 1000000000;
}

static void fraction_property(void **state)
{
    (void)state;
    tu_seed();
    struct timespec out;
    for (int i = 0; i < 300000; i++) {
        long ns = i == 0 ? 0 : i == 1 ? 999999999 : (long)(tu_rand() % 1000000000u);
        struct timespec t = tspec(1795665178, ns);
        ntk_ts ts = ntk_ts_from_timespec(&t);
        assert_true(frac_is_nearest(ns, ntk_ts_frac(ts)));
        ntk_ts_to_timespec(ts, 0, &out);
        assert_true((int64_t)out.tv_sec == 1795665178);
        assert_int_equal(out.tv_nsec, ns);

        /* frac -> ns is nearest too (a result of 10^9 carries). */
        uint32_t frac = (uint32_t)tu_rand();
        ntk_ts_to_timespec(ntk_ts_make(0x83aa7e80, frac), 0, &out);
        uint64_t got_ns = (uint64_t)out.tv_nsec + (uint64_t)out.tv_sec * 1000000000u;
        int64_t err = (int64_t)(got_ns << 32) - (int64_t)((uint64_t)frac * 1000000000u);
        assert_true(err <= (1LL << 31) && err >= -(1LL << 31));
    }
}

/* A random Unix time that the build's time_t can hold: ±2^40 s (±34,800 years). */
static int64_t rand_unix(void)
{
    int64_t range = wide_time_t() ? (1LL << 40) : (1LL << 30);
    return (int64_t)(tu_rand() % (uint64_t)(2 * range)) - range;
}

static void pivot_property(void **state)
{
    (void)state;
    tu_seed();
    struct timespec out;
    for (int i = 0; i < 100000; i++) {
        int64_t pivot = rand_unix();
        int64_t off = (int64_t)(tu_rand() % (uint64_t)TWO32);
        if (!wide_time_t()) {
            off %= 1 << 20;
        }
        long ns = (long)(tu_rand() % 1000000000u);
        struct timespec t = tspec(pivot + off, ns);
        ntk_ts ts = ntk_ts_from_timespec(&t);
        ntk_ts_to_timespec(ts, pivot, &out);
        assert_true((int64_t)out.tv_sec == pivot + off);
        assert_int_equal(out.tv_nsec, ns);

        int64_t delta = (int64_t)(tu_rand() % (uint64_t)TWO32) - TWO31; /* [-2^31, 2^31) */
        if (!wide_time_t()) {
            delta %= 1 << 20;
        }
        struct timespec near = tspec(pivot + off - delta, (long)(tu_rand() % 1000000000u));
        ntk_ts_to_timespec_near(ts, &near, &out);
        assert_true((int64_t)out.tv_sec == pivot + off);
        assert_int_equal(out.tv_nsec, ns);
    }
}

static void doubles(void **state)
{
    (void)state;
    assert_true(ntk_ts_to_s(ntk_ts_make(1, 0x80000000)) == 1.5);
    assert_true(ntk_ts_to_s(ntk_ts_make(0xffffffff, 0)) == 4294967295.0);
    ntk_dur d = {-(3LL << 31)};
    assert_true(ntk_dur_to_s(d) == -1.5);

    struct {
        double s;
        int64_t v;
    } dur[] = {
        {0.0, 0},
        {-0.0, 0},
        {1.0, 1LL << 32},
        {-1.5, -(3LL << 31)},
        {0.5 / 4294967296.0, 1},   /* a half unit rounds away from zero */
        {-0.5 / 4294967296.0, -1}, /* ... both ways */
        {0.49 / 4294967296.0, 0},
        {(4503599627370496.0 + 1.0) / 4294967296.0, 4503599627370497LL}, /* odd 2^52+1 */
        {2147483647.0, 2147483647LL << 32},
        {2147483648.0, INT64_MAX}, /* 2^31 s is one unit past the range */
        {-2147483648.0, INT64_MIN},
        {-2147483649.0, INT64_MIN},
        {1e300, INT64_MAX},
        {-1e300, INT64_MIN},
        {(double)INFINITY, INT64_MAX},
        {-(double)INFINITY, INT64_MIN},
        {(double)NAN, 0},
        {-(double)NAN, 0},
        {DBL_MIN, 0},
        {DBL_MAX, INT64_MAX},
    };
    for (size_t i = 0; i < sizeof dur / sizeof dur[0]; i++) {
        print_message("# dur %zu\n", i);
        assert_true(ntk_dur_from_s(dur[i].s).v == dur[i].v);
    }

    assert_true(ntk_short_to_s(0x00018000) == 1.5);
    assert_true(ntk_short_to_s(0xffffffff) == 65535.0 + 65535.0 / 65536.0);
    struct {
        double s;
        ntk_short v;
    } sh[] = {
        {0.0, 0},
        {-0.0, 0},
        {1.0, 0x10000},
        {0.5 / 65536.0, 1}, /* halves up */
        {0.49 / 65536.0, 0},
        {-1e-9, 0},
        {-1.0, 0},
        {65535.0, 0xffff0000},
        {65535.0 + 65534.5 / 65536.0, 0xffffffff},
        {65536.0, 0xffffffff},
        {1e300, 0xffffffff},
        {(double)INFINITY, 0xffffffff},
        {-(double)INFINITY, 0},
        {(double)NAN, 0},
        {DBL_MAX, 0xffffffff},
    };
    for (size_t i = 0; i < sizeof sh / sizeof sh[0]; i++) {
        print_message("# short %zu\n", i);
        assert_int_equal(ntk_short_from_s(sh[i].s), sh[i].v);
    }

    tu_seed();
    for (int i = 0; i < 100000; i++) {
        ntk_short v = (ntk_short)tu_rand();
        assert_int_equal(ntk_short_from_s(ntk_short_to_s(v)), v);
        ntk_dur x = {(int64_t)(tu_rand() % (1ULL << 53)) - (1LL << 52)};
        assert_true(ntk_dur_from_s(ntk_dur_to_s(x)).v == x.v);
    }
}

static void hex_forms(void **state)
{
    (void)state;
    char buf[NTK_TIMESTR_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_ts_format_hex(ntk_ts_make(0xe3a5f0c1, 0x2b3c4d5e), &sb);
    assert_string_equal(buf, "e3a5f0c1.2b3c4d5e");
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_ts_format_hex(ntk_ts_make(1, 0), &sb);
    assert_string_equal(buf, "00000001.00000000");

    struct {
        const char *txt;
        uint64_t v;
    } ok[] = {
        {"e3a5f0c1.2b3c4d5e", 0xe3a5f0c12b3c4d5eULL},
        {"E3A5F0C1.2B3C4D5E", 0xe3a5f0c12b3c4d5eULL},
        {"0xe3a5f0c1.2b3c4d5e", 0xe3a5f0c12b3c4d5eULL},
        {"0Xe3A5f0C1.2b3C4d5E", 0xe3a5f0c12b3c4d5eULL},
        {"e3a5f0c12b3c4d5e", 0xe3a5f0c12b3c4d5eULL}, /* NTPsec's undotted form */
        {"1.8", 0x0000000100000008ULL},              /* a short fraction is not scaled */
        {"0x0.0", 0},
        {"ffffffff.ffffffff", UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ntk_ts ts = {0};
        assert_int_equal(ntk_ts_parse_hex(span_of(ok[i].txt), &ts), 0);
        assert_true(ts.v == ok[i].v);
    }
    const char *bad[] = {
        "",
        "0x",
        ".",
        "1.",
        ".1",
        "0x.1",
        "123456789.0",
        "1.123456789",
        "1.2.3",
        "g.0",
        " 1.0",
        "1.0 ",
        "0x0x1.0",
        "-1.0",
        "+1.0",
        "1,0",
        "e3a5f0c12b3c4d5",
        "e3a5f0c12b3c4d5e0",
        "x1.0",
        "0x1.0\n",
        "e3a5f0c1.2b3c4d5g",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ntk_ts ts = {42};
        print_message("# bad hex '%s'\n", bad[i]);
        assert_int_equal(ntk_ts_parse_hex(span_of(bad[i]), &ts), NTK_EFORMAT);
        assert_true(ts.v == 42); /* untouched on failure */
    }
    /* An embedded NUL ends nothing: it is an error. */
    struct ntk_span nul = {"1.0\0"
                           "0",
                           5};
    ntk_ts ts;
    assert_int_equal(ntk_ts_parse_hex(nul, &ts), NTK_EFORMAT);
    struct ntk_span nothing = {NULL, 0};
    assert_int_equal(ntk_ts_parse_hex(nothing, &ts), NTK_EFORMAT);

    tu_seed();
    for (int i = 0; i < 50000; i++) {
        ntk_ts in = {tu_rand()}, back = {0};
        ntk_sb_init(&sb, buf, sizeof buf);
        ntk_ts_format_hex(in, &sb);
        assert_int_equal(ntk_sb_len(&sb), 17);
        assert_int_equal(ntk_ts_parse_hex(span_of(buf), &back), 0);
        assert_true(back.v == in.v);
        for (char *c = buf; *c; c++) {
            *c = (*c >= 'a' && *c <= 'f') ? (char)(*c - 32) : *c;
        }
        back.v = 0;
        assert_int_equal(ntk_ts_parse_hex(span_of(buf), &back), 0);
        assert_true(back.v == in.v);
        /* Every cut that drops all of the fraction, or the dot, fails. */
        struct ntk_span cut = {buf, (size_t)(tu_rand() % 10)};
        assert_int_equal(ntk_ts_parse_hex(cut, &back), NTK_EFORMAT);
    }
}

static void iso_expect(int64_t unix_s, long ns, int digits, const char *want)
{
    char buf[NTK_TIMESTR_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    struct timespec t = tspec(unix_s, ns);
    ntk_time_format_iso(&t, digits, &sb);
    assert_int_equal(ntk_sb_err(&sb), 0);
    assert_string_equal(buf, want);
}

static void iso_format(void **state)
{
    (void)state;
    iso_expect(0, 0, 0, "1970-01-01T00:00:00Z");
    iso_expect(-1, 999999999, 3, "1969-12-31T23:59:59.999Z");
    iso_expect(-63158400, 0, 0, "1968-01-01T00:00:00Z");
    iso_expect(1795665121, 128999999, 3, "2026-11-26T03:52:01.128Z"); /* truncated */
    iso_expect(1795665121, 128999999, 9, "2026-11-26T03:52:01.128999999Z");
    iso_expect(1795665121, 128999999, 1, "2026-11-26T03:52:01.1Z");
    iso_expect(1795665121, 5, 9, "2026-11-26T03:52:01.000000005Z");
    iso_expect(1795665121, 5, 12, "2026-11-26T03:52:01.000000005Z"); /* clamped to 9 */
    iso_expect(1795665121, 5, -3, "2026-11-26T03:52:01Z");
    iso_expect(1795665121, 1234567890, 9, "2026-11-26T03:52:01.999999999Z"); /* clamped */
    iso_expect(951827696, 0, 0, "2000-02-29T12:34:56Z");
    /* NTPsec's leap dates: to the minute, seconds dropped. */
    char buf[NTK_TIMESTR_MAX];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_time_format_minute(1483228800, &sb);
    assert_string_equal(buf, "2017-01-01T00:00Z");
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_time_format_minute(1795665179, &sb);
    assert_string_equal(buf, "2026-11-26T03:52Z");
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_time_format_minute(-62167219201LL, &sb);
    assert_string_equal(buf, "-0001-12-31T23:59Z");
    if (!wide_time_t()) {
        return;
    }
    iso_expect(-2208988800LL, 0, 0, "1900-01-01T00:00:00Z");
    iso_expect(ERA1_UNIX - 1, 0, 0, "2036-02-07T06:28:15Z");
    iso_expect(ERA1_UNIX, 0, 0, "2036-02-07T06:28:16Z");
    iso_expect(4107542400LL, 0, 0, "2100-03-01T00:00:00Z");
    iso_expect(4107542399LL, 0, 0, "2100-02-28T23:59:59Z");
    iso_expect(TWO32, 0, 0, "2106-02-07T06:28:16Z");
    iso_expect(253402300799LL, 0, 0, "9999-12-31T23:59:59Z");
    iso_expect(253402300800LL, 0, 0, "+10000-01-01T00:00:00Z");
    iso_expect(-62167219200LL, 0, 0, "0000-01-01T00:00:00Z");
    iso_expect(-62167219201LL, 0, 0, "-0001-12-31T23:59:59Z");
    iso_expect(INT64_MAX, 999999999, 9, "+292277026596-12-04T15:30:07.999999999Z");
    iso_expect(INT64_MIN, 0, 9, "-292277022657-01-27T08:29:52.000000000Z");
}

static void pretty_expect(const char *hex, int64_t pivot, const char *want)
{
    char buf[NTK_TIMESTR_MAX];
    struct ntk_sb sb;
    ntk_ts ts;
    assert_int_equal(ntk_ts_parse_hex(span_of(hex), &ts), 0);
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_ts_format_pretty(ts, pivot, &sb);
    assert_int_equal(ntk_sb_err(&sb), 0);
    assert_string_equal(buf, want);
}

/* What NTPsec 1.2.2's ntpq printed in tests/data (*.log), and its own pylib test. */
static void ntpq_pretty(void **state)
{
    (void)state;
    /* NTPsec's default pivot 0 is a window [-2^31, 2^31). */
    pretty_expect("eeb22b9a.9ef41b6f", -TWO31, "eeb22b9a.9ef41b6f 2026-11-26T03:52:58.620Z");
    pretty_expect("eeb22b8c.7d549e3c", -TWO31, "eeb22b8c.7d549e3c 2026-11-26T03:52:44.489Z");
    pretty_expect("eeb22b98.6fffeaec", -TWO31, "eeb22b98.6fffeaec 2026-11-26T03:52:56.437Z");
    pretty_expect("eeb22b3f.b2964562", -TWO31, "eeb22b3f.b2964562 2026-11-26T03:51:27.697Z");
    pretty_expect("cfba1ce0.80000000", -TWO31, "cfba1ce0.80000000 2010-06-09T14:00:00.500Z");
    /* prettydate's fraction / 4294967: the last ~69 ns carry into the next second. */
    pretty_expect("cfba1ce0.fffffed7", -TWO31, "cfba1ce0.fffffed7 2010-06-09T14:00:00.999Z");
    pretty_expect("cfba1ce0.fffffed8", -TWO31, "cfba1ce0.fffffed8 2010-06-09T14:00:01.000Z");
    pretty_expect("cfba1ce0.ffffffff", -TWO31, "cfba1ce0.ffffffff 2010-06-09T14:00:01.000Z");
    if (!wide_time_t()) {
        return;
    }
    pretty_expect("00000000.00000000", -TWO31, "00000000.00000000 2036-02-07T06:28:16.000Z");
    pretty_expect("ffffffff.ffffffff", -TWO31, "ffffffff.ffffffff 2036-02-07T06:28:16.000Z");
    pretty_expect("00000000.00000000", -NTK_NTP_UNIX_OFFSET_S,
                  "00000000.00000000 1900-01-01T00:00:00.000Z");
    pretty_expect("83aa7e80.00000000", ERA1_UNIX,
                  "83aa7e80.00000000 2106-02-07T06:28:16.000Z");
}

struct civil_case {
    int64_t unix_s;
    int64_t year;
    int mon, mday, hour, min, sec, yday, wday;
};

static const struct civil_case civils[] = {
    {0, 1970, 1, 1, 0, 0, 0, 0, 4},
    {-1, 1969, 12, 31, 23, 59, 59, 364, 3},
    {-2208988800LL, 1900, 1, 1, 0, 0, 0, 0, 1},
    {-63158400LL, 1968, 1, 1, 0, 0, 0, 0, 1},
    {951827696LL, 2000, 2, 29, 12, 34, 56, 59, 2},
    {4107542400LL, 2100, 3, 1, 0, 0, 0, 59, 1},
    {4107542399LL, 2100, 2, 28, 23, 59, 59, 58, 0},
    {ERA1_UNIX - 1, 2036, 2, 7, 6, 28, 15, 37, 4},
    {TWO32, 2106, 2, 7, 6, 28, 16, 37, 0},
    {-11644560000LL, 1600, 12, 31, 0, 0, 0, 365, 0},
    {-62135596800LL, 1, 1, 1, 0, 0, 0, 0, 1},
    {-62167219200LL, 0, 1, 1, 0, 0, 0, 0, 6},
    {-62198755200LL, -1, 1, 1, 0, 0, 0, 0, 5},
    {253402300799LL, 9999, 12, 31, 23, 59, 59, 364, 5},
    {INT64_MAX, 292277026596LL, 12, 4, 15, 30, 7, 338, 0},
    {INT64_MIN, -292277022657LL, 1, 27, 8, 29, 52, 26, 0},
};

static void civil_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof civils / sizeof civils[0]; i++) {
        const struct civil_case *w = &civils[i];
        struct ntk_civil c;
        print_message("# civil %zu\n", i);
        ntk_civil_from_unix(w->unix_s, &c);
        assert_true(c.year == w->year);
        assert_int_equal(c.mon, w->mon);
        assert_int_equal(c.mday, w->mday);
        assert_int_equal(c.hour, w->hour);
        assert_int_equal(c.min, w->min);
        assert_int_equal(c.sec, w->sec);
        assert_int_equal(c.yday, w->yday);
        assert_int_equal(c.wday, w->wday);
        int64_t back = 0;
        assert_int_equal(ntk_civil_to_unix(&c, &back), 0);
        assert_true(back == w->unix_s);
    }
}

static void civil_errors(void **state)
{
    (void)state;
    struct ntk_civil ok = {2000, 2, 29, 23, 59, 59, 0, 0};
    int64_t u = 7;
    assert_int_equal(ntk_civil_to_unix(&ok, &u), 0);
    assert_true(u == 951868799);
    struct ntk_civil bad[] = {
        {2100, 2, 29, 0, 0, 0, 0, 0},
        {1900, 2, 29, 0, 0, 0, 0, 0},
        {2001, 2, 29, 0, 0, 0, 0, 0},
        {2000, 0, 1, 0, 0, 0, 0, 0},
        {2000, 13, 1, 0, 0, 0, 0, 0},
        {2000, 1, 0, 0, 0, 0, 0, 0},
        {2000, 1, 32, 0, 0, 0, 0, 0},
        {2000, 4, 31, 0, 0, 0, 0, 0},
        {2000, 1, 1, 24, 0, 0, 0, 0},
        {2000, 1, 1, -1, 0, 0, 0, 0},
        {2000, 1, 1, 0, 60, 0, 0, 0},
        {2000, 1, 1, 0, 0, 60, 0, 0},
        {2000, 1, 1, 0, 0, -1, 0, 0},
        {NTK_CIVIL_YEAR_MAX + 1, 1, 1, 0, 0, 0, 0, 0},
        {-NTK_CIVIL_YEAR_MAX - 1, 1, 1, 0, 0, 0, 0, 0},
        {292277026596LL, 12, 4, 15, 30, 8, 0, 0},  /* INT64_MAX + 1 */
        {-292277022657LL, 1, 27, 8, 29, 51, 0, 0}, /* INT64_MIN - 1 */
        {NTK_CIVIL_YEAR_MAX, 12, 31, 23, 59, 59, 0, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        print_message("# bad civil %zu\n", i);
        u = 7;
        assert_int_equal(ntk_civil_to_unix(&bad[i], &u), NTK_ERANGE);
        assert_true(u == 7);
    }
    struct ntk_civil leap0 = {0, 2, 29, 0, 0, 0, 0, 0}, leap400 = {2400, 2, 29, 0, 0, 0, 0, 0};
    assert_int_equal(ntk_civil_to_unix(&leap0, &u), 0);
    assert_int_equal(ntk_civil_to_unix(&leap400, &u), 0);
}

/* Walks day by day from 1899-12-31 to 2200 with a naive calendar and compares. */
static void civil_walk(void **state)
{
    (void)state;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t y = 1899;
    int m = 12, d = 31, wday = 0, yday = 364; /* 1899-12-31 was a Sunday */
    for (int64_t u = -2208988800LL - 86400; y < 2200; u += 86400) {
        struct ntk_civil c;
        int64_t t = u + (int64_t)(tu_rand() % 86400);
        ntk_civil_from_unix(t, &c);
        assert_true(c.year == y);
        assert_int_equal(c.mon, m);
        assert_int_equal(c.mday, d);
        assert_int_equal(c.wday, wday);
        assert_int_equal(c.yday, yday);
        assert_int_equal(c.hour * 3600 + c.min * 60 + c.sec, t - u);
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        int len = mdays[m - 1] + (m == 2 && leap);
        wday = (wday + 1) % 7;
        yday++;
        if (++d > len) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
                yday = 0;
            }
        }
    }
}

static void civil_property(void **state)
{
    (void)state;
    tu_seed();
    for (int i = 0; i < 200000; i++) {
        int64_t x =
            i % 2 ? (int64_t)(tu_rand() % (1ULL << 41)) - (1LL << 40) : (int64_t)tu_rand();
        struct ntk_civil c;
        ntk_civil_from_unix(x, &c);
        assert_true(c.mon >= 1 && c.mon <= 12 && c.mday >= 1 && c.mday <= 31);
        assert_true(c.hour >= 0 && c.hour <= 23 && c.min >= 0 && c.min <= 59);
        assert_true(c.sec >= 0 && c.sec <= 59 && c.yday >= 0 && c.yday <= 365);
        assert_true(c.wday >= 0 && c.wday <= 6);
        int64_t back = ~x;
        assert_int_equal(ntk_civil_to_unix(&c, &back), 0);
        assert_true(back == x);
    }
}

static void iso_parse(void **state)
{
    (void)state;
    struct {
        const char *txt;
        int64_t s;
        long ns;
    } ok[] = {
        {"2026-11-26T03:52:01.128Z", 1795665121, 128000000},
        {"2026-11-26 03:52:01.128Z", 1795665121, 128000000},
        {"2026-11-26t03:52:01z", 1795665121, 0},
        {"2026-11-26T03:52:01.000000005Z", 1795665121, 5},
        {"2026-11-26T03:52:01.1Z", 1795665121, 100000000},
        {"1970-01-01T00:00:00Z", 0, 0},
        {"1969-12-31T23:59:59.999999999Z", -1, 999999999},
        {"1900-01-01T00:00:00Z", -2208988800LL, 0},
        {"2000-02-29T12:34:56Z", 951827696, 0},
        {"+2000-02-29T12:34:56Z", 951827696, 0},
        {"2036-02-07T06:28:15Z", ERA1_UNIX - 1, 0},
        {"2036-02-07T06:28:16Z", ERA1_UNIX, 0},
        {"2106-02-07T06:28:16Z", TWO32, 0},
        {"-0001-12-31T23:59:59Z", -62167219201LL, 0},
        {"+10000-01-01T00:00:00Z", 253402300800LL, 0},
        {"+292277026596-12-04T15:30:07Z", INT64_MAX, 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct timespec t = {0, 0};
        if (!wide_time_t() && (ok[i].s > INT32_MAX || ok[i].s < INT32_MIN)) {
            assert_int_equal(ntk_time_parse_iso(span_of(ok[i].txt), &t), NTK_EFORMAT);
            continue;
        }
        print_message("# iso '%s'\n", ok[i].txt);
        assert_int_equal(ntk_time_parse_iso(span_of(ok[i].txt), &t), 0);
        assert_true((int64_t)t.tv_sec == ok[i].s);
        assert_int_equal(t.tv_nsec, ok[i].ns);
    }
    const char *bad[] = {
        "",
        "2026-11-26T03:52:01",
        "2026-11-26T03:52:01.Z",
        "2026-11-26T03:52:01.1234567890Z",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2100-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-11-26T24:00:00Z",
        "2026-11-26T23:60:00Z",
        "2016-12-31T23:59:60Z",
        "2026-11-26T03:52:01Z ",
        " 2026-11-26T03:52:01Z",
        "2026-11-26T03:52:01+00:00",
        "2026-11-26X03:52:01Z",
        "20261-11-26T03:52:01Z",
        "226-11-26T03:52:01Z",
        "2026-1-26T03:52:01Z",
        "2026-11-26T3:52:01Z",
        "2026/11/26T03:52:01Z",
        "2026-11-26T03:52:01ZZ",
        "+0001234567890123-01-01T00:00:00Z",
        "+292277026596-12-04T15:30:08Z",
        "-292277022657-01-27T08:29:51Z",
        "--2026-11-26T03:52:01Z",
        "2026-11-26T03:52:01.-1Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct timespec t = {7, 7};
        print_message("# bad iso '%s'\n", bad[i]);
        assert_int_equal(ntk_time_parse_iso(span_of(bad[i]), &t), NTK_EFORMAT);
        assert_true(t.tv_sec == 7 && t.tv_nsec == 7);
    }
    /* Every proper prefix of a valid form is invalid ('Z' is last). */
    const char *full = "2026-11-26T03:52:01.128Z";
    for (size_t n = 0; n < strlen(full); n++) {
        struct timespec t;
        struct ntk_span cut = {full, n};
        assert_int_equal(ntk_time_parse_iso(cut, &t), NTK_EFORMAT);
    }
}

static void iso_roundtrip(void **state)
{
    (void)state;
    tu_seed();
    char buf[NTK_TIMESTR_MAX];
    struct ntk_sb sb;
    for (int i = 0; i < 100000; i++) {
        struct timespec t = tspec(rand_unix(), (long)(tu_rand() % 1000000000u)), back;
        int digits = (int)(tu_rand() % 10);
        ntk_sb_init(&sb, buf, sizeof buf);
        ntk_time_format_iso(&t, digits, &sb);
        assert_int_equal(ntk_sb_err(&sb), 0);
        assert_int_equal(ntk_time_parse_iso(span_of(buf), &back), 0);
        assert_true(back.tv_sec == t.tv_sec);
        long div = 1;
        for (int k = digits; k < 9; k++) {
            div *= 10;
        }
        assert_int_equal(back.tv_nsec, t.tv_nsec / div * div);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ts_basics),         cmocka_unit_test(timespec_dates),
        cmocka_unit_test(era_choice),        cmocka_unit_test(fraction_rounding),
        cmocka_unit_test(fraction_property), cmocka_unit_test(pivot_property),
        cmocka_unit_test(doubles),           cmocka_unit_test(hex_forms),
        cmocka_unit_test(iso_format),        cmocka_unit_test(ntpq_pretty),
        cmocka_unit_test(civil_table),       cmocka_unit_test(civil_errors),
        cmocka_unit_test(civil_walk),        cmocka_unit_test(civil_property),
        cmocka_unit_test(iso_parse),         cmocka_unit_test(iso_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
