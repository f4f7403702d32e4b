/* SPDX-License-Identifier: BSD-2-Clause */
/* NTP time types (ntk/ntime.h): era-pivoted conversions, saturating float conversions, the
 * hex and ISO 8601 text forms, and civil calendar arithmetic without the C library. */
#include "ntk/ntime.h"
#include "ntk/err.h"

#include <inttypes.h>

#include "poison.h"

enum {
    NS_PER_S = 1000000000,
    S_PER_DAY = 86400,
    NTPSEC_MS_DIVISOR = 4294967, /* prettydate's 2^32 / 1000, truncated */
};

/* Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar, and the days of
 * one 400-year cycle: the constants of the days-from-civil algorithm (H. Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms"). */
#define DAYS_0000_03_01_TO_UNIX 719468LL
#define DAYS_PER_400Y           146097LL

/* 2^32 and 2^63 as doubles, for the fixed-point conversions. */
#define TWO_POW_32 4294967296.0
#define TWO_POW_63 9223372036854775808.0

/* ---- timestamps and durations ------------------------------------------------------- */

/* Reinterprets u as two's complement without relying on an implementation-defined cast. */
static int64_t to_signed(uint64_t u)
{
    return u <= (uint64_t)INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

ntk_ts ntk_ts_make(uint32_t sec, uint32_t frac)
{
    ntk_ts ts = {(uint64_t)sec << 32 | frac};
    return ts;
}

uint32_t ntk_ts_sec(ntk_ts ts)
{
    return (uint32_t)(ts.v >> 32);
}

uint32_t ntk_ts_frac(ntk_ts ts)
{
    return (uint32_t)ts.v;
}

bool ntk_ts_is_zero(ntk_ts ts)
{
    return ts.v == 0;
}

bool ntk_ts_eq(ntk_ts a, ntk_ts b)
{
    return a.v == b.v;
}

ntk_dur ntk_ts_diff(ntk_ts a, ntk_ts b)
{
    /* RFC 5905 §6: differences are computed modulo 2^64 and read as signed, which is right
     * across an era boundary as long as the true difference is under 68 years. */
    ntk_dur d = {to_signed(a.v - b.v)};
    return d;
}

ntk_ts ntk_ts_add(ntk_ts ts, ntk_dur d)
{
    ts.v += (uint64_t)d.v;
    return ts;
}

/* ---- timespec conversions ----------------------------------------------------------- */

static long clamp_ns(long ns)
{
    if (ns < 0) {
        return 0;
    }
    return ns >= NS_PER_S ? NS_PER_S - 1 : ns;
}

/* ns * 2^32 / 10^9 rounded to nearest. At most 0xfffffffc for 999999999 ns, so it never
 * carries; and as 2^32 / 10^9 > 2, ns_from_frac brings every ns back exactly. */
static uint32_t frac_from_ns(long ns)
{
    return (uint32_t)((((uint64_t)ns << 32) + NS_PER_S / 2) / NS_PER_S);
}

/* frac * 10^9 / 2^32 rounded to nearest: 0..10^9 (10^9 for 0xfffffffe and 0xffffffff). */
static uint32_t ns_from_frac(uint32_t frac)
{
    return (uint32_t)(((uint64_t)frac * NS_PER_S + (1ULL << 31)) >> 32);
}

/* The one Unix second count s, s == ntp_sec - 2208988800 (mod 2^32), that lies in
 * [pivot, pivot + 2^32): RFC 5905 §6 era arithmetic done in unsigned 64-bit. */
static int64_t unfold(uint32_t ntp_sec, int64_t pivot)
{
    uint32_t ahead =
        (uint32_t)((uint64_t)ntp_sec - (uint64_t)NTK_NTP_UNIX_OFFSET_S - (uint64_t)pivot);
    return to_signed((uint64_t)pivot + ahead);
}

static void put_timespec(int64_t unix_s, uint32_t frac, struct timespec *out)
{
    uint32_t ns = ns_from_frac(frac);
    if (ns == NS_PER_S) {
        unix_s = to_signed((uint64_t)unix_s + 1);
        ns = 0;
    }
    out->tv_sec = (time_t)unix_s;
    out->tv_nsec = (long)ns;
}

ntk_ts ntk_ts_from_timespec(const struct timespec *t)
{
    uint64_t ntp_s = (uint64_t)(int64_t)t->tv_sec + (uint64_t)NTK_NTP_UNIX_OFFSET_S;
    return ntk_ts_make((uint32_t)ntp_s, frac_from_ns(clamp_ns(t->tv_nsec)));
}

void ntk_ts_to_timespec(ntk_ts ts, int64_t pivot_unix_s, struct timespec *out)
{
    put_timespec(unfold(ntk_ts_sec(ts), pivot_unix_s), ntk_ts_frac(ts), out);
}

void ntk_ts_to_timespec_near(ntk_ts ts, const struct timespec *near, struct timespec *out)
{
    int64_t pivot = to_signed((uint64_t)(int64_t)near->tv_sec - (1ULL << 31));
    ntk_ts_to_timespec(ts, pivot, out);
}

/* ---- doubles ------------------------------------------------------------------------ */

double ntk_ts_to_s(ntk_ts ts)
{
    return (double)ntk_ts_sec(ts) + (double)ntk_ts_frac(ts) / TWO_POW_32;
}

double ntk_dur_to_s(ntk_dur d)
{
    return (double)d.v / TWO_POW_32;
}

/* Rounds x, known to be in (-2^63, 2^63), to nearest with halves away from zero. Adding 0.5
 * before truncating would be wrong for odd x in [2^52, 2^53), where x + 0.5 is a tie that
 * rounds to even. */
static int64_t round_in_range(double x)
{
    int64_t t = (int64_t)x;
    double rest = x - (double)t; /* exact: |rest| < 1 and it has x's low bits */
    if (rest >= 0.5) {
        t++;
    } else if (rest <= -0.5) {
        t--;
    }
    return t;
}

ntk_dur ntk_dur_from_s(double s)
{
    double x = s * TWO_POW_32;
    ntk_dur d = {0};
    if (x != x) {
        return d; /* NaN */
    }
    if (x >= TWO_POW_63) {
        d.v = INT64_MAX;
    } else if (x <= -TWO_POW_63) {
        d.v = INT64_MIN;
    } else {
        d.v = round_in_range(x);
    }
    return d;
}

double ntk_short_to_s(ntk_short v)
{
    return (double)v / 65536.0;
}

ntk_short ntk_short_from_s(double s)
{
    double x = s * 65536.0;
    if (!(x > 0.0)) {
        return 0; /* negative, zero or NaN */
    }
    if (x >= (double)UINT32_MAX) {
        return UINT32_MAX;
    }
    return (ntk_short)round_in_range(x);
}

/* ---- hex form ----------------------------------------------------------------------- */

void ntk_ts_format_hex(ntk_ts ts, struct ntk_sb *sb)
{
    ntk_sb_printf(sb, "%08" PRIx32 ".%08" PRIx32, ntk_ts_sec(ts), ntk_ts_frac(ts));
}

/* Reads the whole span, 1-8 hex digits, as a 32-bit word; 0 or NTK_EFORMAT. */
static int hex_word(struct ntk_span s, uint32_t *out)
{
    if (s.len < 1 || s.len > 8) {
        return NTK_EFORMAT;
    }
    uint32_t v = 0;
    for (size_t i = 0; i < s.len; i++) {
        int d = ntk_tok_hexdigit(s.p[i]);
        if (d < 0) {
            return NTK_EFORMAT;
        }
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return NTK_OK;
}

/* Splits NTPsec's undotted 16-digit form into its two words. */
static int hex_undotted(struct ntk_span s, uint32_t *sec, uint32_t *frac)
{
    if (s.len != 16) {
        return NTK_EFORMAT;
    }
    struct ntk_span hi = {s.p, 8}, lo = {s.p + 8, 8};
    if (hex_word(hi, sec) != NTK_OK || hex_word(lo, frac) != NTK_OK) {
        return NTK_EFORMAT;
    }
    return NTK_OK;
}

int ntk_ts_parse_hex(struct ntk_span s, ntk_ts *out)
{
    if (s.len >= 2 && s.p[0] == '0' && (s.p[1] == 'x' || s.p[1] == 'X')) {
        s.p += 2;
        s.len -= 2;
    }
    struct ntk_tok t;
    struct ntk_span sec_txt, frac_txt;
    uint32_t sec, frac;
    ntk_tok_init_span(&t, s);
    if (ntk_tok_until(&t, ".", &sec_txt, 16) != NTK_OK) {
        return NTK_EFORMAT;
    }
    if (ntk_tok_eof(&t)) {
        if (hex_undotted(sec_txt, &sec, &frac) != NTK_OK) {
            return NTK_EFORMAT;
        }
    } else if (!ntk_tok_accept(&t, '.') || ntk_tok_until(&t, ".", &frac_txt, 8) != NTK_OK ||
               !ntk_tok_eof(&t) || hex_word(sec_txt, &sec) != NTK_OK ||
               hex_word(frac_txt, &frac) != NTK_OK) {
        return NTK_EFORMAT;
    }
    *out = ntk_ts_make(sec, frac);
    return NTK_OK;
}

/* ---- civil calendar ----------------------------------------------------------------- */

/* Division rounding toward minus infinity (b > 0), for times before 1970. */
static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

/* The remainder that goes with floor_div: 0..b-1. */
static int64_t floor_mod(int64_t a, int64_t b)
{
    int64_t r = a % b;
    return r < 0 ? r + b : r;
}

static bool is_leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int days_in_month(int64_t y, int mon)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return mon == 2 && is_leap(y) ? 29 : days[mon - 1];
}

/* Days since 1970-01-01 of y-mon-mday; the year counts from March so that the leap day is
 * the last of its year. |y| <= NTK_CIVIL_YEAR_MAX keeps every product in range. */
static int64_t days_from_civil(int64_t y, int mon, int mday)
{
    y -= mon <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;                                            /* 0..399 */
    int64_t doy = (153 * (mon > 2 ? mon - 3 : mon + 9) + 2) / 5 + mday - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                    /* 0..146096 */
    return era * DAYS_PER_400Y + doe - DAYS_0000_03_01_TO_UNIX;
}

/* The inverse of days_from_civil; total over the days an int64_t of seconds can name. */
static void civil_from_days(int64_t days, struct ntk_civil *c)
{
    int64_t z = days + DAYS_0000_03_01_TO_UNIX;
    int64_t era = floor_div(z, DAYS_PER_400Y);
    int64_t doe = z - era * DAYS_PER_400Y;                               /* 0..146096 */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* 0..399 */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* 0..365 */
    int64_t mp = (5 * doy + 2) / 153;                                    /* 0 = March */
    c->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    c->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    c->year = yoe + era * 400 + (c->mon <= 2);
}

void ntk_civil_from_unix(int64_t unix_s, struct ntk_civil *out)
{
    /* Not unix_s - days * 86400: that product overflows for the first day before INT64_MIN. */
    int64_t days = floor_div(unix_s, S_PER_DAY);
    int64_t sod = floor_mod(unix_s, S_PER_DAY);
    civil_from_days(days, out);
    out->hour = (int)(sod / 3600);
    out->min = (int)(sod / 60 % 60);
    out->sec = (int)(sod % 60);
    out->yday = (int)(days - days_from_civil(out->year, 1, 1));
    out->wday = (int)floor_mod(days + 4, 7); /* 1970-01-01 was a Thursday */
}

/* days * 86400 + sod (0..86399) with overflow checks; 0 or NTK_ERANGE. */
static int join_seconds(int64_t days, int64_t sod, int64_t *out)
{
    if (days >= 0) {
        if (days > (INT64_MAX - sod) / S_PER_DAY) {
            return NTK_ERANGE;
        }
        *out = days * S_PER_DAY + sod;
        return NTK_OK;
    }
    /* Written as (days + 1) * 86400 - (86400 - sod) so the last partial day before
     * INT64_MIN can still be named. */
    int64_t up = days + 1, back = S_PER_DAY - sod;
    if (up < INT64_MIN / S_PER_DAY || up * S_PER_DAY < INT64_MIN + back) {
        return NTK_ERANGE;
    }
    *out = up * S_PER_DAY - back;
    return NTK_OK;
}

int ntk_civil_to_unix(const struct ntk_civil *c, int64_t *unix_s)
{
    if (c->year > NTK_CIVIL_YEAR_MAX || c->year < -NTK_CIVIL_YEAR_MAX || c->mon < 1 ||
        c->mon > 12 || c->mday < 1 || c->mday > days_in_month(c->year, c->mon) ||
        c->hour < 0 || c->hour > 23 || c->min < 0 || c->min > 59 || c->sec < 0 ||
        c->sec > 59) {
        return NTK_ERANGE;
    }
    int64_t sod = (int64_t)c->hour * 3600 + (int64_t)c->min * 60 + c->sec;
    return join_seconds(days_from_civil(c->year, c->mon, c->mday), sod, unix_s);
}

/* ---- ISO 8601 ----------------------------------------------------------------------- */

/* seconds false: to the minute only, "YYYY-MM-DDTHH:MMZ" (ntk_time_format_minute). */
static void put_iso(int64_t unix_s, long ns, int frac_digits, bool seconds, struct ntk_sb *sb)
{
    struct ntk_civil c;
    ntk_civil_from_unix(unix_s, &c);
    if (c.year >= 0 && c.year <= 9999) {
        ntk_sb_printf(sb, "%04" PRId64, c.year);
    } else {
        ntk_sb_printf(sb, "%+05" PRId64, c.year); /* ISO 8601 §4.1.2.4 expanded year */
    }
    ntk_sb_printf(sb, "-%02d-%02dT%02d:%02d", c.mon, c.mday, c.hour, c.min);
    if (seconds) {
        ntk_sb_printf(sb, ":%02d", c.sec);
    }
    if (seconds && frac_digits > 0) {
        int digits = frac_digits > 9 ? 9 : frac_digits;
        long div = 1;
        for (int i = digits; i < 9; i++) {
            div *= 10;
        }
        ntk_sb_printf(sb, ".%0*ld", digits, clamp_ns(ns) / div);
    }
    ntk_sb_putc(sb, 'Z');
}

void ntk_time_format_iso(const struct timespec *t, int frac_digits, struct ntk_sb *sb)
{
    put_iso((int64_t)t->tv_sec, t->tv_nsec, frac_digits, true, sb);
}

void ntk_time_format_minute(int64_t unix_s, struct ntk_sb *sb)
{
    put_iso(unix_s, 0, 0, false, sb);
}

void ntk_ts_format_pretty(ntk_ts ts, int64_t pivot_unix_s, struct ntk_sb *sb)
{
    uint32_t sec = ntk_ts_sec(ts);
    /* NTPsec divides by 4294967 rather than 2^32 / 1000, so the last ~69 ns of a second
     * show as the next second's .000: reproduce that, ntpq's output is the reference. */
    uint32_t ms = ntk_ts_frac(ts) / NTPSEC_MS_DIVISOR;
    if (ms >= 1000) {
        ms -= 1000;
        sec++;
    }
    ntk_ts_format_hex(ts, sb);
    ntk_sb_putc(sb, ' ');
    put_iso(unfold(sec, pivot_unix_s), (long)ms * 1000000, 3, true, sb);
}

/* Takes a run of min..max decimal digits; 0 or NTK_EFORMAT. *width gets the digit count. */
static int take_digits(struct ntk_tok *t, size_t min, size_t max, uint64_t *v, size_t *width)
{
    size_t start = ntk_tok_pos(t);
    struct ntk_tok probe = *t;
    if (ntk_tok_u64(&probe, v, UINT64_MAX) != NTK_OK) {
        return NTK_EFORMAT;
    }
    size_t n = ntk_tok_pos(&probe) - start;
    if (n < min || n > max) {
        return NTK_EFORMAT;
    }
    *t = probe;
    *width = n;
    return NTK_OK;
}

/* Takes exactly two digits into *field. */
static int take_2(struct ntk_tok *t, int *field)
{
    uint64_t v;
    size_t n;
    if (take_digits(t, 2, 2, &v, &n) != NTK_OK) {
        return NTK_EFORMAT;
    }
    *field = (int)v;
    return NTK_OK;
}

/* "YYYY", "+YYYYY..." or "-YYYY...". */
static int take_year(struct ntk_tok *t, int64_t *year)
{
    bool neg = ntk_tok_accept(t, '-');
    bool signed_year = neg || ntk_tok_accept(t, '+');
    uint64_t v;
    size_t n;
    if (take_digits(t, 4, signed_year ? 12 : 4, &v, &n) != NTK_OK) {
        return NTK_EFORMAT;
    }
    *year = neg ? -(int64_t)v : (int64_t)v; /* v < 10^12 */
    return NTK_OK;
}

static bool accept_one_of(struct ntk_tok *t, const char *set)
{
    for (; *set; set++) {
        if (ntk_tok_accept(t, *set)) {
            return true;
        }
    }
    return false;
}

/* Takes ".d" to ".ddddddddd" if present, as nanoseconds. */
static int take_fraction(struct ntk_tok *t, long *ns)
{
    *ns = 0;
    if (!ntk_tok_accept(t, '.')) {
        return NTK_OK;
    }
    uint64_t v;
    size_t n;
    if (take_digits(t, 1, 9, &v, &n) != NTK_OK) {
        return NTK_EFORMAT;
    }
    for (; n < 9; n++) {
        v *= 10;
    }
    *ns = (long)v;
    return NTK_OK;
}

static int take_iso(struct ntk_tok *t, struct ntk_civil *c, long *ns)
{
    if (take_year(t, &c->year) != NTK_OK || !ntk_tok_accept(t, '-') ||
        take_2(t, &c->mon) != NTK_OK || !ntk_tok_accept(t, '-') ||
        take_2(t, &c->mday) != NTK_OK || !accept_one_of(t, "Tt ") ||
        take_2(t, &c->hour) != NTK_OK || !ntk_tok_accept(t, ':') ||
        take_2(t, &c->min) != NTK_OK || !ntk_tok_accept(t, ':') ||
        take_2(t, &c->sec) != NTK_OK || take_fraction(t, ns) != NTK_OK ||
        !accept_one_of(t, "Zz") || !ntk_tok_eof(t)) {
        return NTK_EFORMAT;
    }
    return NTK_OK;
}

int ntk_time_parse_iso(struct ntk_span s, struct timespec *out)
{
    struct ntk_tok t;
    struct ntk_civil c = {0};
    long ns;
    int64_t unix_s;
    ntk_tok_init_span(&t, s);
    if (take_iso(&t, &c, &ns) != NTK_OK || ntk_civil_to_unix(&c, &unix_s) != NTK_OK) {
        return NTK_EFORMAT;
    }
    time_t sec = (time_t)unix_s;
    if ((int64_t)sec != unix_s) {
        return NTK_EFORMAT; /* a 32-bit time_t */
    }
    out->tv_sec = sec;
    out->tv_nsec = ns;
    return NTK_OK;
}
