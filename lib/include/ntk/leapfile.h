/* SPDX-License-Identifier: BSD-2-Clause */
/* The NIST/IETF leap-seconds.list file (NTPsec's `leapfile` directive): parser, consistency
 * check, writer, and the queries a daemon needs (TAI-UTC now, the next leap, expiry).
 *
 * Format, one item per line (IERS/NIST; tzdata ships it as /usr/share/zoneinfo/...):
 *   #$ N       the time the file was last updated, NTP seconds (since 1900-01-01, counted
 *              on past 2^32: no era wrap), decimal.
 *   #@ N       the time the file expires, NTP seconds.
 *   #h W W W W W  the SHA-1 of the file's data as five 32-bit words in hex (1-8 digits each,
 *              NIST writes them without leading zeros; compared as the 20 bytes big-endian).
 *   N T [# c]  a data line: from NTP second N on, TAI - UTC is T seconds. N is 00:00:00 UTC
 *              on the first day of a month; the leap second itself is the last second of
 *              the day before (23:59:60 for an insertion).
 *   #...       any other line starting with '#' is a comment; blank lines are skipped.
 * The three special lines are recognised only with '#' in column 1 (as NTPsec and NIST do);
 * each may appear once and may end in a '#' comment. A data line may be indented.
 *
 * The hash (NIST's definition, verified against the real file): SHA-1 over the decimal
 * digits, concatenated, of the #$ value, the #@ value, then the first two fields of every
 * data line in file order; nothing else (no spaces, no newlines). #$ comes first wherever
 * the two lines are (NTPsec hashes them in file order; NIST writes #$ first, so both agree
 * on every real file).
 *
 * Validation, each an error with its line and column (NTPsec 1.2 checks only that the times
 * increase and are month starts, in leapsec_raw; we check the rest too):
 *   - data times strictly increasing, each 00:00:00 UTC on the 1st of a month;
 *   - the first entry is 1972-01-01 (NTP 2272060800) with TAI - UTC = 10 s, the start of
 *     leap-second UTC; every later entry changes TAI - UTC by exactly +1 or -1;
 *   - one #$ and one #@ line, the update time at or before the expiry, the expiry after the
 *     last entry; at least one entry; at most the caller's entry capacity;
 *   - a #h line whose hash matches. A file without #h is an error unless the caller passes
 *     NTK_LEAPFILE_ALLOW_NOHASH, then a warning (NTPsec loads it and logs "no hash
 *     signature"); a wrong or malformed hash is always an error (NTPsec refuses the file).
 *   - lines of at most NTK_LEAPFILE_LINE_MAX bytes.
 * The parser goes on after an error so that every problem is listed as line:column, like
 * ntk/keyfile.h. Parsing allocates nothing itself: entries and diagnostics go into caller
 * arrays. Checking the hash uses an OpenSSL EVP SHA-1 context (OpenSSL allocates it).
 */
#ifndef NTK_LEAPFILE_H
#define NTK_LEAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntk/sb.h"

/* The longest line accepted, in bytes without its line end (the real file's is 110). */
#define NTK_LEAPFILE_LINE_MAX 512

/* The most entries any table holds: larger capacities are clamped to this. 28 leap
 * seconds came in 1972-2017 (plus the 1972 base entry), so this lasts centuries. */
#define NTK_LEAPFILE_ENTRIES_MAX 256

/* The largest NTP-seconds value a #$, #@ or data line may hold (2^40 - 1, year ~36800):
 * bounds the arithmetic, keeps every time a valid int64_t Unix time. */
#define NTK_LEAPFILE_NTP_MAX 0xffffffffffULL

/* The first entry of every valid table: 1972-01-01 00:00:00 UTC, TAI - UTC = 10 s. */
#define NTK_LEAPFILE_FIRST_NTP_S 2272060800ULL

/* TAI - UTC of the first entry, seconds. */
#define NTK_LEAPFILE_FIRST_TAI_UTC_S 10

/* Flags for ntk_leapfile_parse. */
enum ntk_leapfile_flags {
    NTK_LEAPFILE_ALLOW_NOHASH = 1u, /* a file without a #h line is accepted, with a warning */
};

/* One data line: the instant a new TAI - UTC offset begins. */
struct ntk_leap_entry {
    uint64_t ntp_s;    /* that instant, NTP seconds since 1900-01-01 (not wrapped at 2^32) */
    int64_t unix_s;    /* the same instant in Unix seconds (ntp_s - 2208988800) */
    int32_t tai_utc_s; /* TAI - UTC from this instant on, seconds */
    uint32_t line;     /* 1-based line of the file it came from; 0 if built otherwise */
};

/* A leap-second table. Filled by ntk_leapfile_parse (through struct ntk_leapfile) or by the
 * caller; the queries below take it read-only and assume it passed ntk_leap_table_check. */
struct ntk_leap_table {
    struct ntk_leap_entry *entries; /* caller's array (borrowed), oldest first */
    size_t cap;                     /* size of entries, at most NTK_LEAPFILE_ENTRIES_MAX */
    size_t n;                       /* entries in use, <= cap */
    uint64_t updated_ntp_s;         /* #$: when the file was last updated, NTP seconds */
    uint64_t expires_ntp_s;         /* #@: when it expires, NTP seconds (0: empty table) */
    bool has_hash;                  /* the file had a #h line */
    bool hash_ok;                   /* ... and it matched the data (false if no #h) */
};

/* One problem found in a leap-seconds file. */
struct ntk_leapfile_diag {
    uint32_t line; /* 1-based line number (for "missing ..." problems: where the text ends) */
    uint32_t col;  /* 1-based byte column where the offending token starts */
    int err;       /* enum ntk_err: EFORMAT syntax/consistency, ERANGE too large/long,
                      EAUTH missing or wrong hash, ENOSPC too many entries, ECRYPTO */
    bool warning;  /* true only for a missing #h under NTK_LEAPFILE_ALLOW_NOHASH */
    uint32_t ref_line; /* the other line involved: the first of a duplicate, the #$ line an
                          earlier #@ conflicts with (or the reverse), the last entry an expiry
                          is not after; 0 otherwise */
    const char *msg;   /* static English text, never NULL */
};

/* Parser results: the table and the diagnostics. Initialise with ntk_leapfile_init(); the
 * fields are then read directly. */
struct ntk_leapfile {
    struct ntk_leap_table table;     /* the parsed table (emptied when the parse fails) */
    struct ntk_leapfile_diag *diags; /* caller's array for diagnostics (NULL if diags_cap 0) */
    size_t diags_cap;                /* size of diags */
    size_t ndiags;                   /* diagnostics stored, <= diags_cap (the first ones) */
    size_t nerrors;                  /* errors found, including those not stored */
    size_t nwarnings;                /* warnings found, including those not stored */
};

/* Starts empty results over entries[cap] (cap clamped to NTK_LEAPFILE_ENTRIES_MAX) and
 * diags[diags_cap] (diags may be NULL). */
void ntk_leapfile_init(struct ntk_leapfile *lf, struct ntk_leap_entry *entries, size_t cap,
                       struct ntk_leapfile_diag *diags, size_t diags_cap);

/* Parses len bytes of leap-seconds.list text (need not be NUL-terminated) with flags (enum
 * ntk_leapfile_flags, or 0). Starts afresh: earlier results in lf are discarded. Every
 * problem goes to lf->diags in line order, then those found at the end (missing lines,
 * expiry, hash). Returns 0 when no error was found (warnings allowed): lf->table then holds
 * a table that passes ntk_leap_table_check. Otherwise returns the err of the first error and
 * lf->table is empty (n = 0, times 0, flags false; the entries array holds scratch data). */
int ntk_leapfile_parse(struct ntk_leapfile *lf, const char *text, size_t len, unsigned flags);

/* Checks a table's consistency as the parser does: at least one entry, the first one
 * 1972-01-01 with 10 s, times strictly increasing month starts within NTK_LEAPFILE_NTP_MAX
 * with unix_s matching ntp_s, steps of exactly +1/-1 s, updated <= expires, expires after the
 * last entry, n <= cap. Returns 0 or NTK_EFORMAT (NTK_EINVAL for a NULL or overfull table).
 * The hash flags are not looked at. */
int ntk_leap_table_check(const struct ntk_leap_table *tab);

/* TAI - UTC in seconds at Unix time unix_s: the offset of the last entry at or before it
 * (an entry's offset holds from its own instant on). 0 before 1972-01-01 (leap-second UTC
 * did not exist) and for an empty table. After the expiry it keeps giving the last offset:
 * ask ntk_leap_expired whether that can still be trusted. */
int ntk_leap_tai_offset(const struct ntk_leap_table *tab, int64_t unix_s);

/* Finds the first leap second after unix_s: the first entry other than the 1972 base whose
 * instant is later than unix_s. Writes *when_unix_s (the instant the new offset begins,
 * 00:00:00 UTC; the leap is the last second of the day before, so arm the kernel during that
 * day) and *delta_s (+1: insert, -1: delete; the value clk_ops.set_leap takes), and returns
 * 0. Returns NTK_ENOTFOUND (nothing written) when there is none in the table: with an
 * unexpired table that means none before the expiry. */
int ntk_leap_next(const struct ntk_leap_table *tab, int64_t unix_s, int64_t *when_unix_s,
                  int *delta_s);

/* True when the table must no longer be trusted at Unix time unix_s: unix_s is at or after
 * its expiry (always true for an empty table, whose expiry is 0). */
bool ntk_leap_expired(const struct ntk_leap_table *tab, int64_t unix_s);

/* Appends tab as a leap-seconds.list text that ntk_leapfile_parse accepts with hash_ok: a
 * comment line, #$, #@, one "ntp_s<TAB>tai_utc_s<TAB># YYYY-MM-DD" line per entry and a #h
 * line with the SHA-1 of that data (8 hex digits a word). Returns 0; NTK_EINVAL when tab
 * fails ntk_leap_table_check; NTK_ECRYPTO if OpenSSL fails; NTK_ENOSPC if sb overflowed. */
int ntk_leapfile_write(struct ntk_sb *sb, const struct ntk_leap_table *tab);

/* Appends d as "path:line:col: error: msg" (or "warning:"), plus " (see line M)" when
 * ref_line is set, without a newline. path may be NULL (omitted). Returns 0 or NTK_ENOSPC. */
int ntk_leapfile_diag_format(struct ntk_sb *sb, const char *path,
                             const struct ntk_leapfile_diag *d);

#endif /* NTK_LEAPFILE_H */
