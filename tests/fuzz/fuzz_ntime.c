/* SPDX-License-Identifier: BSD-2-Clause */
/* Fuzz harness for lib/ntime.c (the ts_math target): the first 32 bytes are read as four
 * 64-bit words and fed as timestamps, seconds, doubles and civil fields into every
 * conversion; the whole input is also fed as text to the hex and ISO parsers. Round trips
 * are checked with FUZZ_CHECK, and the build's UBSan catches float-cast and shift UB. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntk/buf.h"
#include "ntk/err.h"
#include "ntk/ntime.h"
#include "ntk/sb.h"
#include "ntk/tok.h"
#include "fuzz.h"

#include "poison.h"

#define TWO31 2147483648LL
#define TWO32 4294967296LL

static bool fits_time_t(int64_t s)
{
    return (int64_t)(time_t)s == s;
}

static struct ntk_span text_of(const char *s)
{
    struct ntk_span sp = {s, strlen(s)};
    return sp;
}

/* hex format -> parse is the identity; the ntpq form always fits its buffer. */
static void check_hex(ntk_ts ts, int64_t pivot)
{
    char buf[NTK_TIMESTR_MAX];
    struct ntk_sb sb;
    ntk_ts back = {~ts.v};
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_ts_format_hex(ts, &sb);
    FUZZ_CHECK(ntk_sb_len(&sb) == 17);
    FUZZ_CHECK(ntk_ts_parse_hex(text_of(buf), &back) == NTK_OK && ntk_ts_eq(back, ts));
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_ts_format_pretty(ts, pivot, &sb);
    FUZZ_CHECK(ntk_sb_err(&sb) == NTK_OK);
}

/* timespec -> ts -> timespec is the identity inside the pivot window and near window;
 * ts -> timespec -> ts moves the fraction by at most 2 units (two roundings). */
static void check_timespec(int64_t sec, uint64_t c, uint64_t d)
{
    sec /= 4; /* keep the windows below inside int64_t */
    if (!fits_time_t(sec)) {
        return;
    }
    struct timespec t = {(time_t)sec, (long)(d % 1000000000u)}, out;
    ntk_ts ts = ntk_ts_from_timespec(&t);
    int64_t pivot = sec - (int64_t)(c % (uint64_t)TWO32);
    ntk_ts_to_timespec(ts, pivot, &out);
    FUZZ_CHECK(out.tv_sec == t.tv_sec && out.tv_nsec == t.tv_nsec);

    int64_t delta = (int64_t)((c >> 32) % (uint64_t)TWO32) - TWO31; /* [-2^31, 2^31) */
    if (fits_time_t(sec - delta)) {
        struct timespec near = {(time_t)(sec - delta), (long)(c % 1000000000u)};
        ntk_ts_to_timespec_near(ts, &near, &out);
        FUZZ_CHECK(out.tv_sec == t.tv_sec && out.tv_nsec == t.tv_nsec);
    }

    ntk_ts raw = {d};
    ntk_ts_to_timespec(raw, pivot, &out);
    FUZZ_CHECK(out.tv_nsec >= 0 && out.tv_nsec < 1000000000);
    int64_t moved = ntk_ts_diff(ntk_ts_from_timespec(&out), raw).v;
    FUZZ_CHECK(moved >= -2 && moved <= 2);
}

/* Saturating conversions: no UB for any bit pattern, exact round trips where the value is
 * representable, monotonic for ordered inputs. */
static void check_doubles(uint64_t a, uint64_t b)
{
    double x, y;
    memcpy(&x, &a, sizeof x);
    memcpy(&y, &b, sizeof y);
    ntk_dur dx = ntk_dur_from_s(x), dy = ntk_dur_from_s(y);
    ntk_short sx = ntk_short_from_s(x), sy = ntk_short_from_s(y);
    if (x != x) {
        FUZZ_CHECK(dx.v == 0 && sx == 0);
    }
    if (x <= y) {
        FUZZ_CHECK(dx.v <= dy.v && sx <= sy);
    }
    (void)ntk_ts_to_s((ntk_ts){a});
    ntk_dur exact = {(int64_t)(a >> 11) - (1LL << 52)}; /* |v| <= 2^52: a double holds it */
    FUZZ_CHECK(ntk_dur_from_s(ntk_dur_to_s(exact)).v == exact.v);
    ntk_short sv = (ntk_short)b;
    FUZZ_CHECK(ntk_short_from_s(ntk_short_to_s(sv)) == sv);
}

/* civil_from_unix is total and civil_to_unix inverts it; ISO format -> parse too. */
static void check_civil(int64_t x, uint64_t d)
{
    struct ntk_civil c;
    int64_t back = ~x;
    ntk_civil_from_unix(x, &c);
    FUZZ_CHECK(c.mon >= 1 && c.mon <= 12 && c.mday >= 1 && c.mday <= 31);
    FUZZ_CHECK(c.hour >= 0 && c.hour < 24 && c.min >= 0 && c.min < 60);
    FUZZ_CHECK(c.sec >= 0 && c.sec < 60 && c.yday >= 0 && c.yday <= 365);
    FUZZ_CHECK(c.wday >= 0 && c.wday < 7);
    FUZZ_CHECK(ntk_civil_to_unix(&c, &back) == NTK_OK && back == x);

    if (!fits_time_t(x)) {
        return;
    }
    char buf[NTK_TIMESTR_MAX];
    struct ntk_sb sb;
    struct timespec t = {(time_t)x, (long)(d % 1000000000u)}, parsed;
    int digits = (int)((d >> 32) % 12) - 1; /* -1..10: clamped values too */
    ntk_sb_init(&sb, buf, sizeof buf);
    ntk_time_format_iso(&t, digits, &sb);
    FUZZ_CHECK(ntk_sb_err(&sb) == NTK_OK);
    FUZZ_CHECK(ntk_time_parse_iso(text_of(buf), &parsed) == NTK_OK);
    long div = 1;
    for (int k = digits < 0 ? 0 : digits; k < 9; k++) {
        div *= 10;
    }
    FUZZ_CHECK(parsed.tv_sec == t.tv_sec && parsed.tv_nsec == t.tv_nsec / div * div);
}

/* Civil fields straight from bytes: whatever civil_to_unix accepts comes back unchanged. */
static void check_fields(uint64_t a, uint64_t b)
{
    struct ntk_civil c = {
        .year = (int64_t)a >> (b % 64),
        .mon = (int8_t)(b >> 8),
        .mday = (int8_t)(b >> 16),
        .hour = (int8_t)(b >> 24),
        .min = (int8_t)(b >> 32),
        .sec = (int8_t)(b >> 40),
    };
    int64_t u;
    if (ntk_civil_to_unix(&c, &u) != NTK_OK) {
        return;
    }
    struct ntk_civil back;
    ntk_civil_from_unix(u, &back);
    FUZZ_CHECK(back.year == c.year && back.mon == c.mon && back.mday == c.mday);
    FUZZ_CHECK(back.hour == c.hour && back.min == c.min && back.sec == c.sec);
}

/* The whole input as text: whatever parses survives format -> parse. */
static void check_text(const uint8_t *data, size_t size)
{
    struct ntk_span s = {(const char *)data, size};
    char buf[NTK_TIMESTR_MAX];
    struct ntk_sb sb;
    ntk_ts ts, ts2;
    if (ntk_ts_parse_hex(s, &ts) == NTK_OK) {
        ntk_sb_init(&sb, buf, sizeof buf);
        ntk_ts_format_hex(ts, &sb);
        FUZZ_CHECK(ntk_ts_parse_hex(text_of(buf), &ts2) == NTK_OK && ntk_ts_eq(ts, ts2));
    }
    struct timespec t, t2;
    if (ntk_time_parse_iso(s, &t) == NTK_OK) {
        FUZZ_CHECK(t.tv_nsec >= 0 && t.tv_nsec < 1000000000);
        ntk_sb_init(&sb, buf, sizeof buf);
        ntk_time_format_iso(&t, 9, &sb);
        FUZZ_CHECK(ntk_time_parse_iso(text_of(buf), &t2) == NTK_OK);
        FUZZ_CHECK(t.tv_sec == t2.tv_sec && t.tv_nsec == t2.tv_nsec);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t words[32] = {0};
    memcpy(words, data, size < sizeof words ? size : sizeof words);
    struct ntk_rd r;
    ntk_rd_init(&r, words, sizeof words);
    uint64_t a = ntk_rd_be64(&r), b = ntk_rd_be64(&r);
    uint64_t c = ntk_rd_be64(&r), d = ntk_rd_be64(&r);

    ntk_ts ts = {a};
    FUZZ_CHECK(
        ntk_ts_eq(ntk_ts_add(ntk_ts_make(0, 0), ntk_ts_diff(ts, ntk_ts_make(0, 0))), ts));
    check_hex(ts, (int64_t)b / 4);
    check_timespec((int64_t)b, c, d);
    check_doubles(a, b);
    check_civil((int64_t)c, d);
    check_fields(a, b);
    check_text(data, size);
    return 0;
}
