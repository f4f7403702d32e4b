/* SPDX-License-Identifier: BSD-2-Clause */
/* NTP time types and their conversions (ARCHITECTURE.md "Time types", STYLE.md §3.4).
 *
 * ntk_ts is a wire timestamp: 32.32 fixed point, seconds since the start of some NTP era
 * (era 0 began 1900-01-01 00:00:00 UTC, era 1 begins 2036-02-07 06:28:16 UTC). It carries no
 * era, so it is only turned into a date through an era pivot. ntk_dur is a signed 32.32
 * duration, the result of wrapping subtraction of two timestamps, which is right whatever
 * era either lies in as long as they are less than 68 years apart. ntk_short is the 16.16
 * unsigned format of root delay and root dispersion on the wire. The one-member structs make
 * the compiler reject ts + dur or ts1 < ts2.
 */
#ifndef NTK_NTIME_H
#define NTK_NTIME_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "ntk/sb.h"
#include "ntk/tok.h"

/* A wire timestamp, 32.32 fixed point, era-less. */
typedef struct {
    uint64_t v; /* seconds in the high 32 bits, fraction (units of 2^-32 s) in the low 32 */
} ntk_ts;

/* A signed duration in 32.32 fixed point (range about ±68 years, resolution 2^-32 s). */
typedef struct {
    int64_t v; /* units of 2^-32 s */
} ntk_dur;

/* Root delay / root dispersion as on the wire: unsigned 16.16 seconds. */
typedef uint32_t ntk_short;

/* Seconds from the NTP prime epoch (1900-01-01) to the Unix epoch (1970-01-01). */
#define NTK_NTP_UNIX_OFFSET_S 2208988800LL

/* Seconds in one NTP era (2^32). */
#define NTK_ERA_S 4294967296LL

/* Room for any text ntk_time_format_iso or ntk_ts_format_pretty writes, NUL included. */
#define NTK_TIMESTR_MAX 64

/* The largest |year| ntk_civil_to_unix accepts; every int64_t Unix time lies well inside. */
#define NTK_CIVIL_YEAR_MAX 999999999999LL

/* Builds a timestamp from its 32-bit seconds and fraction words. */
ntk_ts ntk_ts_make(uint32_t sec, uint32_t frac);

/* Returns the seconds word (high 32 bits) / the fraction word (low 32 bits). */
uint32_t ntk_ts_sec(ntk_ts ts);
uint32_t ntk_ts_frac(ntk_ts ts);

/* True if every bit is zero: RFC 5905 uses the zero timestamp for "unknown". */
bool ntk_ts_is_zero(ntk_ts ts);

/* True if a and b are the same timestamp. */
bool ntk_ts_eq(ntk_ts a, ntk_ts b);

/* a - b as a duration, by wrapping 64-bit subtraction: correct across an era rollover when
 * the true difference is within ±2^31 s. */
ntk_dur ntk_ts_diff(ntk_ts a, ntk_ts b);

/* ts + d, wrapping at the era boundary. */
ntk_ts ntk_ts_add(ntk_ts ts, ntk_dur d);

/* Converts a CLOCK_REALTIME reading (Unix seconds, any era, negative allowed) to a timestamp:
 * the seconds are taken modulo 2^32 (RFC 5905 §6: the era number is dropped on the wire).
 * The fraction is rounded to the nearest 2^-32 s; this never carries into the seconds
 * (999999999 ns gives 0xfffffffc). tv_nsec should be in 0..999999999; a value outside is
 * clamped into that range. */
ntk_ts ntk_ts_from_timespec(const struct timespec *t);

/* Converts ts to Unix time, choosing the era so that the seconds lie in
 * [pivot_unix_s, pivot_unix_s + 2^32) (chrony's NTP_ERA_SPLIT idea; pivot_unix_s must be at
 * most INT64_MAX - 2^32). The nanoseconds are rounded to nearest, so the two fractions
 * 0xfffffffe and 0xffffffff round up to a whole second: tv_sec is then one more than the
 * window gave and tv_nsec is 0. A timespec in the window survives timespec -> ts -> timespec
 * exactly. With a 32-bit time_t, seconds past 2038 do not fit and wrap. Always writes *out. */
void ntk_ts_to_timespec(ntk_ts ts, int64_t pivot_unix_s, struct timespec *out);

/* Converts ts to Unix time, choosing the era that puts the result closest to near: the
 * seconds lie in [near - 2^31, near + 2^31) (NTPsec's ntpcal_ntp_to_time). The conversion
 * for a timestamp that was sent or received recently. Rounding as ntk_ts_to_timespec. */
void ntk_ts_to_timespec_near(ntk_ts ts, const struct timespec *near, struct timespec *out);

/* Seconds since the start of ts's own era, as a double (about 1 µs resolution: never use it
 * to store dates, only to show or compute with them). */
double ntk_ts_to_s(ntk_ts ts);

/* A duration in seconds. */
double ntk_dur_to_s(ntk_dur d);

/* Seconds to a duration, rounded to nearest (halves away from zero); saturates at the 32.32
 * range (INT64_MIN / INT64_MAX units, so ±inf saturate too), NaN gives 0. No float-cast UB. */
ntk_dur ntk_dur_from_s(double s);

/* A 16.16 short value in seconds. */
double ntk_short_to_s(ntk_short v);

/* Seconds to 16.16, rounded to nearest (halves up); negative, -inf and NaN give 0, too large
 * (and +inf) saturates at 0xffffffff (just under 65536 s). */
ntk_short ntk_short_from_s(double s);

/* Appends NTPsec's hex form of ts, "e3a5f0c1.2b3c4d5e" (8 + 1 + 8 lowercase hex digits). */
void ntk_ts_format_hex(ntk_ts ts, struct ntk_sb *sb);

/* Parses the hex form, with or without a "0x"/"0X" prefix, digits in either case: 1-8 hex
 * digits, '.', 1-8 hex digits, or NTPsec's undotted 16 digits. NTPsec's hextolfp wants
 * exactly 8 + 8; a shorter word here is its zero-padded value, so a short fraction is not
 * scaled: "1.8" is 1 s + 8 * 2^-32 s, the same as "00000001.00000008". Nothing else may be
 * in s (no spaces). Returns 0 and writes *out, or NTK_EFORMAT. */
int ntk_ts_parse_hex(struct ntk_span s, ntk_ts *out);

/* Appends t as ISO 8601 / RFC 3339 UTC, "2026-11-26T03:52:01.128Z", with frac_digits (0..9,
 * clamped) digits of fraction, truncated as NTPsec does; 0 also drops the '.'. Years outside
 * 0..9999 are written ISO 8601's expanded way, with their sign and at least 4 digits
 * ("-0001", "+10000"). tv_nsec outside 0..999999999 is clamped. At most NTK_TIMESTR_MAX - 1
 * characters. */
void ntk_time_format_iso(const struct timespec *t, int frac_digits, struct ntk_sb *sb);

/* Appends unix_s to the minute, "2026-12-01T00:00Z" (seconds dropped, not rounded): NTPsec
 * 1.2's form of a leap-second date (its rfc3339time), in mode 6 `leapsec`/`expire`, its
 * TAI event and its leap-file log lines. Years as ntk_time_format_iso. */
void ntk_time_format_minute(int64_t unix_s, struct ntk_sb *sb);

/* Parses "YYYY-MM-DDTHH:MM:SS[.fraction]Z": 'T' may also be 't' or a space, 'Z' also 'z'; the
 * year is 4 digits, or a sign and 4-12 digits (what ntk_time_format_iso writes); the
 * fraction has 1-9 digits (nanoseconds, no rounding). Returns 0 and writes *out, or
 * NTK_EFORMAT for anything else, including out-of-range fields (month 13, Feb 29 of a common
 * year, second 60: Unix time has no leap seconds) and times a time_t cannot hold. */
int ntk_time_parse_iso(struct ntk_span s, struct timespec *out);

/* A broken-down UTC time (proleptic Gregorian), without any use of the C library's tz code. */
struct ntk_civil {
    int64_t year; /* e.g. 2036 */
    int mon;      /* 1..12 */
    int mday;     /* 1..31 */
    int hour;     /* 0..23 */
    int min;      /* 0..59 */
    int sec;      /* 0..59 (leap seconds are not represented in Unix time) */
    int yday;     /* 0..365 */
    int wday;     /* 0..6, 0 = Sunday */
};

/* Splits Unix seconds into a civil UTC date and time, all fields written. Days-from-civil
 * arithmetic (no C library calls), total over int64_t. */
void ntk_civil_from_unix(int64_t unix_s, struct ntk_civil *out);

/* Joins a civil date and time (fields in range, yday/wday ignored) into Unix seconds.
 * Returns 0 and writes *unix_s, or NTK_ERANGE if a field is out of range (|year| over
 * NTK_CIVIL_YEAR_MAX, mday past the month's end, ...) or the result overflows int64_t. */
int ntk_civil_to_unix(const struct ntk_civil *c, int64_t *unix_s);

/* Appends NTPsec ntpq's form of a timestamp, "eeb22b9a.9ef41b6f 2026-11-26T03:52:58.620Z":
 * the hex form, a space, then the UTC date with milliseconds computed as NTPsec's prettydate
 * does (fraction / 4294967, truncated; a result of 1000 carries into the next second), the
 * era chosen as in ntk_ts_to_timespec. NTPsec's pivot p (a window [p - 2^31, p + 2^31))
 * is pivot_unix_s = p - 2^31 here. At most NTK_TIMESTR_MAX - 1 characters. */
void ntk_ts_format_pretty(ntk_ts ts, int64_t pivot_unix_s, struct ntk_sb *sb);

#endif /* NTK_NTIME_H */
