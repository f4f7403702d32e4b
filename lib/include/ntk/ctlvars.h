/* SPDX-License-Identifier: BSD-2-Clause */
/* Mode 6 variable lists (RFC 9327 §3): the `name=value, name="quoted", ...` text that
 * NTPsec's ntpd writes and ntpq parses, and the units that text uses on the wire.
 *
 * This is the only place in ntpkit where mode 6 units are converted (ARCHITECTURE.md, "Time
 * types"): callers hand in and get back seconds, ppm and ntk_ts; the text carries
 * milliseconds, ppm and hex NTP timestamps. The table (ntk_cvar_unit_of), after NTPsec's
 * ntp_control.c ctl_putsys / ctl_putpeer / read_mru_list:
 *
 *   name (".N" index suffix ignored)                     text unit   decimals  caller unit
 *   rootdelay rootdisp leapsmearoffset                   ms          3         s
 *   offset sys_jitter clk_jitter delay jitter dispersion ms          6         s
 *   filtdelay filtoffset filtdisp (space-separated list) ms          2         s
 *   frequency clk_wander                                 ppm         6         ppm
 *   reftime clock rec xmt org first last now             hex NTP     -         ntk_ts
 *     last.newest last.older                             timestamp
 *   anything else                                        as written  -         -
 *
 * Syntax accepted by the parser (NTPsec ctl_putdata and ntpq's __parse_varlist):
 * - items are separated by ',' followed by any whitespace (' ', '\t', CR, LF; NTPsec breaks
 *   lines with "\r\n" before 72 columns); whitespace and NUL bytes around items are skipped,
 *   and one trailing ',' is allowed;
 * - an item is `name` (READVAR requests) or `name=value`; names are 1..NTK_CVAR_NAME_MAX
 *   bytes without whitespace, ',', '=' or '"' ("addr.0", "last.12");
 * - a value is either unquoted (everything up to the next ',', surrounding whitespace
 *   trimmed, possibly empty, never containing '"'; bytes are passed through, NTPsec
 *   sometimes leaves binary garbage in filtdelay lists) or quoted ("..." with ',' allowed
 *   inside and '\' escaping the next byte; NTPsec writes no escapes, so a value it quotes
 *   that contains '\' would differ; our formatter escapes '"' and '\' only).
 * Nothing here allocates: items are spans into the caller's text.
 */
#ifndef NTK_CTLVARS_H
#define NTK_CTLVARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntk/ntime.h"
#include "ntk/sb.h"
#include "ntk/tok.h"

/* Longest variable name in bytes. */
#define NTK_CVAR_NAME_MAX 64

/* Longest value in bytes as it appears in the text (quotes and escapes excluded/included
 * respectively: the raw span between the quotes may be this long). */
#define NTK_CVAR_VALUE_MAX 1024

/* NTPsec's line length: a "\r\n" replaces the ' ' after ',' before a line reaches it. */
#define NTK_CVAR_LINE_MAX 72

/* One parsed item; spans borrow from the parsed text. */
struct ntk_cvar_item {
    struct ntk_span name;  /* never empty */
    struct ntk_span value; /* quoted: the bytes between the quotes, escapes not decoded
                            * (see ntk_cvar_unquote); unquoted: trimmed, may be empty */
    bool has_value;        /* an '=' was present (false for a bare name) */
    bool quoted;           /* the value was in double quotes */
};

/* A parse cursor over a variable list. Fields are private. */
struct ntk_cvar_it {
    const char *text; /* the text (borrowed), for building spans */
    struct ntk_tok t; /* cursor over it */
    int err;          /* first error met (sticky) */
};

/* Starts parsing len bytes of text at p (not NUL-terminated; may be NULL when len is 0). */
void ntk_cvar_init(struct ntk_cvar_it *it, const char *p, size_t len);

/* Takes the next item. Returns 1 and writes *out; 0 at the end of the list; or a negative
 * error, after which every call returns it again: NTK_EFORMAT for an empty name, a name
 * with whitespace or '"', a '"' in an unquoted value, text after a closing quote other than
 * ',' or the end; NTK_ETRUNC for a quote or an escape that is not closed before the end;
 * NTK_ERANGE for a name over NTK_CVAR_NAME_MAX or a value over NTK_CVAR_VALUE_MAX bytes. */
int ntk_cvar_next(struct ntk_cvar_it *it, struct ntk_cvar_item *out);

/* After ntk_cvar_next returned an error: skips the rest of the item that failed, up to and
 * including the next ',' (or to the end), and clears the error, so that the next call reads
 * the item after it. Always moves forward (at least one byte unless at the end), so a loop
 * of ntk_cvar_next and ntk_cvar_resync ends. For readers that show what they can, as
 * NTPsec's ntpq does: NTPsec 1.2.2 sends stray bytes, a '"' among them, in its filter
 * arrays (filtdelay, filtoffset, filtdisp) until a new association's filter has filled. */
void ntk_cvar_resync(struct ntk_cvar_it *it);

/* Finds the first item called name (exact, case-sensitive) in the list. Returns 0 and
 * writes *out; NTK_ENOTFOUND when the whole list parses and has no such item; or the
 * parse error met before finding it. */
int ntk_cvar_find(const char *p, size_t len, const char *name, struct ntk_cvar_item *out);

/* Copies an item's value into dst[cap] NUL-terminated, decoding '\' escapes when it was
 * quoted. Returns the length (>= 0, excluding the NUL); NTK_ENOSPC (dst holds "") when it
 * does not fit. The value may contain NUL bytes; the length tells. */
int ntk_cvar_unquote(const struct ntk_cvar_item *it, char *dst, size_t cap);

/* Unit of a variable on the wire (the table above). */
enum ntk_cvar_unit {
    NTK_CVAR_RAW = 0,     /* no conversion: the value is what the caller wants */
    NTK_CVAR_MS = 1,      /* milliseconds as a decimal; callers use seconds */
    NTK_CVAR_MS_LIST = 2, /* space-separated milliseconds; callers use seconds */
    NTK_CVAR_PPM = 3,     /* ppm as a decimal; callers use ppm */
    NTK_CVAR_TS = 4,      /* "0x" + NTP timestamp in hex (8.8 digits); callers use ntk_ts */
};

/* Looks name up in the table (an ".N" index suffix of digits is ignored, so "last.12" is
 * "last", but "last.newest" is looked up whole). Returns the unit and, when decimals is not
 * NULL, writes the decimals NTPsec prints (0 for TS and RAW). Unknown names are RAW. */
enum ntk_cvar_unit ntk_cvar_unit_of(struct ntk_span name, int *decimals);

/* Parses a decimal number as NTPsec prints them ("-0.001404", "187.526793", "1.5e-05",
 * "16000.00"): optional sign, digits with an optional '.', optional exponent. Leading and
 * trailing spaces are not allowed. Returns 0 and writes *out; NTK_EFORMAT otherwise; an
 * exponent beyond +-400 gives NTK_ERANGE. */
int ntk_cvar_parse_double(struct ntk_span v, double *out);

/* Parses an unsigned integer in decimal or, with a "0x" prefix, hex (NTPsec ctl_puthex),
 * up to max. Returns 0 and writes *out; NTK_EFORMAT; NTK_ERANGE when above max. */
int ntk_cvar_parse_u64(struct ntk_span v, uint64_t *out, uint64_t max);

/* Parses a signed decimal integer in [min, max]. Returns 0 and writes *out; NTK_EFORMAT;
 * NTK_ERANGE when outside. */
int ntk_cvar_parse_i64(struct ntk_span v, int64_t *out, int64_t min, int64_t max);

/* Parses milliseconds text into seconds (*out_s = value / 1000). Errors as
 * ntk_cvar_parse_double. */
int ntk_cvar_parse_ms(struct ntk_span v, double *out_s);

/* Parses ppm text (no scaling; the function exists so every unit has one reader). */
int ntk_cvar_parse_ppm(struct ntk_span v, double *out_ppm);

/* Parses a space-separated list of milliseconds (filtdelay etc.) into at most max seconds
 * values. Returns the count written (>= 0); NTK_EFORMAT for an item that is not a number;
 * NTK_ERANGE when there are more than max. out is written up to the failing item. */
int ntk_cvar_parse_ms_list(struct ntk_span v, double *out_s, size_t max);

/* Parses NTPsec's hex timestamp, "0xeeb22b9a.9ef41b6f" (the "0x" is required). Returns 0 and
 * writes *out; NTK_EFORMAT otherwise. */
int ntk_cvar_parse_ts(struct ntk_span v, ntk_ts *out);

/* Converts item's value by its name's unit: MS and PPM to seconds / ppm; RAW parsed as a
 * decimal number (integers included) or "0x" hex integer. Returns 0 and writes *out;
 * NTK_EINVAL for TS and MS_LIST names (use ntk_cvar_parse_ts / _ms_list) and for a bare
 * name or a quoted value; the parser's errors otherwise. */
int ntk_cvar_get(const struct ntk_cvar_item *item, double *out);

/* A formatter appending items to a string builder the way NTPsec's ntpd does: ", " between
 * items, "," + "\r\n" instead when the next item would reach NTK_CVAR_LINE_MAX columns.
 * Splitting into 468-byte datagrams is ntk_ctl_split's job. Fields are private. */
struct ntk_cvar_wr {
    struct ntk_sb *sb; /* where the text goes (borrowed) */
    size_t line_len;   /* columns on the current line */
    bool any;          /* an item has been written */
    int err;           /* first error (sticky): NTK_EINVAL, NTK_ERANGE, NTK_ENOSPC */
};

/* Starts a formatter appending to sb (which may already hold text; the line is taken to
 * start empty). */
void ntk_cvar_wr_init(struct ntk_cvar_wr *w, struct ntk_sb *sb);

/* Appends a bare name (the list of a READVAR request). For this and every put: a name
 * that is empty, longer than NTK_CVAR_NAME_MAX or holds whitespace, ',', '=', '"' or a NUL
 * sets NTK_EINVAL, and after any error nothing more is written. */
void ntk_cvar_put_name(struct ntk_cvar_wr *w, const char *name);

/* Appends name=value unquoted. value (n bytes) must not contain ',' or '"' nor start or end
 * with whitespace or NUL (it would not read back the same): NTK_EINVAL. NTK_ERANGE when
 * longer than NTK_CVAR_VALUE_MAX. */
void ntk_cvar_put_raw(struct ntk_cvar_wr *w, const char *name, const char *value, size_t n);

/* Appends name="value" with '"' and '\' escaped by '\'. NTK_ERANGE when the escaped value
 * is longer than NTK_CVAR_VALUE_MAX. */
void ntk_cvar_put_str(struct ntk_cvar_wr *w, const char *name, const char *value, size_t n);

/* Appends name=v in decimal. */
void ntk_cvar_put_u64(struct ntk_cvar_wr *w, const char *name, uint64_t v);
void ntk_cvar_put_i64(struct ntk_cvar_wr *w, const char *name, int64_t v);

/* Appends name=0x<v in lowercase hex> (NTPsec ctl_puthex: flash, reach, rs.N). */
void ntk_cvar_put_hex(struct ntk_cvar_wr *w, const char *name, uint64_t v);

/* Appends name=<v with decimals digits> (0..9), no conversion. */
void ntk_cvar_put_double(struct ntk_cvar_wr *w, const char *name, double v, int decimals);

/* Appends seconds as milliseconds: name=<s * 1000 with decimals digits> (0..9). */
void ntk_cvar_put_ms(struct ntk_cvar_wr *w, const char *name, double s, int decimals);

/* Appends ppm: name=<ppm with decimals digits>. */
void ntk_cvar_put_ppm(struct ntk_cvar_wr *w, const char *name, double ppm, int decimals);

/* Appends n seconds values as a milliseconds list with 2 decimals, each preceded by a
 * space, as NTPsec writes filtdelay: "filtdelay= 0.04 0.04 ...". n may be 0. */
void ntk_cvar_put_ms_list(struct ntk_cvar_wr *w, const char *name, const double *s, size_t n);

/* Appends name=0x<8 hex>.<8 hex> (NTPsec ctl_putts). */
void ntk_cvar_put_ts(struct ntk_cvar_wr *w, const char *name, ntk_ts ts);

/* Appends a value in its table unit: MS names take seconds, PPM names ppm, both printed
 * with the table's decimals; RAW names the value with 6 decimals. NTK_EINVAL for TS and
 * MS_LIST names. */
void ntk_cvar_put(struct ntk_cvar_wr *w, const char *name, double value);

/* Ends the list with NTPsec's "\r\n" (ctl_flushpkt's trailing CRLF) and returns the first
 * error of the formatter or its builder (NTK_ENOSPC), or 0. */
int ntk_cvar_finish(struct ntk_cvar_wr *w);

/* Returns the first error so far (0 if none), without ending the list. */
int ntk_cvar_wr_err(const struct ntk_cvar_wr *w);

#endif /* NTK_CTLVARS_H */
