/* SPDX-License-Identifier: BSD-2-Clause */
/* Mode 6 variable lists: parser, formatter, and the one table of wire units (ms, ppm, hex). */
#include <float.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ntk/ctlvars.h"
#include "ntk/err.h"
#include "ntk/ntime.h"
#include "ntk/sb.h"
#include "ntk/tok.h"

#include "poison.h"

/* ---- parsing ------------------------------------------------------------------------ */

/* Whitespace between items; NUL too, as ntpq drops NULs (NTPsec leaves some in responses). */
static bool is_ws(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0';
}

static void skip_ws(struct ntk_tok *t)
{
    while (!ntk_tok_eof(t) && is_ws(ntk_tok_peek(t))) {
        ntk_tok_accept(t, (char)ntk_tok_peek(t));
    }
}

static struct ntk_span trim(struct ntk_span s)
{
    while (s.len > 0 && is_ws((unsigned char)s.p[0])) {
        s.p++;
        s.len--;
    }
    while (s.len > 0 && is_ws((unsigned char)s.p[s.len - 1])) {
        s.len--;
    }
    return s;
}

/* Takes bytes up to (not including) the first stop1/stop2 or the end; NTK_ERANGE (cursor
 * unchanged) when that is more than max bytes. */
static int take_run(struct ntk_cvar_it *it, char stop1, char stop2, size_t max,
                    struct ntk_span *run)
{
    struct ntk_tok probe = it->t;
    size_t start = ntk_tok_pos(&probe);
    while (!ntk_tok_eof(&probe)) {
        int c = ntk_tok_peek(&probe);
        if (c == stop1 || c == stop2) {
            break;
        }
        if (ntk_tok_pos(&probe) - start == max) {
            return NTK_ERANGE;
        }
        ntk_tok_accept(&probe, (char)c);
    }
    run->p = it->text + start;
    run->len = ntk_tok_pos(&probe) - start;
    it->t = probe;
    return NTK_OK;
}

/* A name: 1..NAME_MAX bytes, none of them whitespace, NUL, '"' (',' and '=' end it). */
static int check_name(struct ntk_span name)
{
    if (name.len == 0) {
        return NTK_EFORMAT;
    }
    if (name.len > NTK_CVAR_NAME_MAX) {
        return NTK_ERANGE;
    }
    for (size_t i = 0; i < name.len; i++) {
        if (is_ws((unsigned char)name.p[i]) || name.p[i] == '"') {
            return NTK_EFORMAT;
        }
    }
    return NTK_OK;
}

/* After the opening quote: bytes up to the closing one, '\' escaping the next byte. */
static int take_quoted(struct ntk_cvar_it *it, struct ntk_span *value)
{
    size_t start = ntk_tok_pos(&it->t);
    for (;;) {
        if (ntk_tok_eof(&it->t)) {
            return NTK_ETRUNC;
        }
        int c = ntk_tok_peek(&it->t);
        ntk_tok_accept(&it->t, (char)c);
        if (c == '"') {
            break;
        }
        if (c == '\\') {
            if (ntk_tok_eof(&it->t)) {
                return NTK_ETRUNC;
            }
            ntk_tok_accept(&it->t, (char)ntk_tok_peek(&it->t));
        }
        if (ntk_tok_pos(&it->t) - start > NTK_CVAR_VALUE_MAX) {
            return NTK_ERANGE;
        }
    }
    value->p = it->text + start;
    value->len = ntk_tok_pos(&it->t) - start - 1;
    /* Only whitespace may stand between the closing quote and the next ','. */
    skip_ws(&it->t);
    return ntk_tok_eof(&it->t) || ntk_tok_peek(&it->t) == ',' ? NTK_OK : NTK_EFORMAT;
}

static int take_value(struct ntk_cvar_it *it, struct ntk_cvar_item *item)
{
    skip_ws(&it->t);
    if (ntk_tok_accept(&it->t, '"')) {
        item->quoted = true;
        return take_quoted(it, &item->value);
    }
    struct ntk_span run;
    /* Room for the whitespace around a value of the longest length. */
    int rc = take_run(it, ',', ',', 2 * NTK_CVAR_VALUE_MAX, &run);
    if (rc != NTK_OK) {
        return rc;
    }
    run = trim(run);
    if (run.len > NTK_CVAR_VALUE_MAX) {
        return NTK_ERANGE;
    }
    if (run.len > 0 && memchr(run.p, '"', run.len) != NULL) {
        return NTK_EFORMAT;
    }
    item->value = run;
    return NTK_OK;
}

void ntk_cvar_init(struct ntk_cvar_it *it, const char *p, size_t len)
{
    it->text = p;
    ntk_tok_init(&it->t, p, len);
    it->err = NTK_OK;
}

static int parse_item(struct ntk_cvar_it *it, struct ntk_cvar_item *out)
{
    struct ntk_cvar_item item = {{NULL, 0}, {NULL, 0}, false, false};
    struct ntk_span run;
    int rc = take_run(it, '=', ',', 2 * NTK_CVAR_NAME_MAX, &run);
    if (rc != NTK_OK) {
        return rc;
    }
    item.name = trim(run);
    rc = check_name(item.name);
    if (rc != NTK_OK) {
        return rc;
    }
    item.value.p = item.name.p + item.name.len;
    if (ntk_tok_accept(&it->t, '=')) {
        item.has_value = true;
        rc = take_value(it, &item);
        if (rc != NTK_OK) {
            return rc;
        }
    }
    ntk_tok_accept(&it->t, ',');
    *out = item;
    return 1;
}

int ntk_cvar_next(struct ntk_cvar_it *it, struct ntk_cvar_item *out)
{
    if (it->err != NTK_OK) {
        return it->err;
    }
    skip_ws(&it->t);
    if (ntk_tok_eof(&it->t)) {
        return 0;
    }
    int rc = parse_item(it, out);
    if (rc < 0) {
        it->err = rc;
    }
    return rc;
}

void ntk_cvar_resync(struct ntk_cvar_it *it)
{
    while (!ntk_tok_eof(&it->t)) {
        int c = ntk_tok_peek(&it->t);
        ntk_tok_accept(&it->t, (char)c);
        if (c == ',') {
            break;
        }
    }
    it->err = NTK_OK;
}

int ntk_cvar_find(const char *p, size_t len, const char *name, struct ntk_cvar_item *out)
{
    struct ntk_cvar_it it;
    struct ntk_cvar_item item;
    int rc;
    ntk_cvar_init(&it, p, len);
    while ((rc = ntk_cvar_next(&it, &item)) == 1) {
        /* ntk_cvar_next returns 1 only after filling item (parse_item's last step). */
        /* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage) */
        if (ntk_span_eq(item.name, name)) {
            *out = item;
            return NTK_OK;
        }
    }
    return rc == 0 ? NTK_ENOTFOUND : rc;
}

int ntk_cvar_unquote(const struct ntk_cvar_item *item, char *dst, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < item->value.len; i++) {
        char c = item->value.p[i];
        if (item->quoted && c == '\\' && i + 1 < item->value.len) {
            c = item->value.p[++i];
        }
        if (n + 1 >= cap) {
            if (cap > 0) {
                dst[0] = '\0';
            }
            return NTK_ENOSPC;
        }
        dst[n++] = c;
    }
    if (cap == 0) {
        return NTK_ENOSPC;
    }
    dst[n] = '\0';
    return (int)n;
}

/* ---- units -------------------------------------------------------------------------- */

/* The table of ctlvars.h: NTPsec's ctl_putsys/ctl_putpeer/read_mru_list output units. */
static const struct unit_row {
    const char *name;
    enum ntk_cvar_unit unit;
    int decimals;
} unit_table[] = {
    {"rootdelay", NTK_CVAR_MS, 3},
    {"rootdisp", NTK_CVAR_MS, 3},
    {"leapsmearoffset", NTK_CVAR_MS, 3},
    {"offset", NTK_CVAR_MS, 6},
    {"sys_jitter", NTK_CVAR_MS, 6},
    {"clk_jitter", NTK_CVAR_MS, 6},
    {"delay", NTK_CVAR_MS, 6},
    {"jitter", NTK_CVAR_MS, 6},
    {"dispersion", NTK_CVAR_MS, 6},
    {"filtdelay", NTK_CVAR_MS_LIST, 2},
    {"filtoffset", NTK_CVAR_MS_LIST, 2},
    {"filtdisp", NTK_CVAR_MS_LIST, 2},
    {"frequency", NTK_CVAR_PPM, 6},
    {"clk_wander", NTK_CVAR_PPM, 6},
    {"reftime", NTK_CVAR_TS, 0},
    {"clock", NTK_CVAR_TS, 0},
    {"rec", NTK_CVAR_TS, 0},
    {"xmt", NTK_CVAR_TS, 0},
    {"org", NTK_CVAR_TS, 0},
    {"first", NTK_CVAR_TS, 0},
    {"last", NTK_CVAR_TS, 0},
    {"now", NTK_CVAR_TS, 0},
    {"last.newest", NTK_CVAR_TS, 0},
    {"last.older", NTK_CVAR_TS, 0},
};

/* name without a ".<digits>" index suffix. */
static struct ntk_span strip_index(struct ntk_span name)
{
    size_t i = name.len;
    while (i > 0 && name.p[i - 1] >= '0' && name.p[i - 1] <= '9') {
        i--;
    }
    if (i < name.len && i > 1 && name.p[i - 1] == '.') {
        name.len = i - 1;
    }
    return name;
}

enum ntk_cvar_unit ntk_cvar_unit_of(struct ntk_span name, int *decimals)
{
    struct ntk_span base = strip_index(name);
    for (size_t i = 0; i < sizeof unit_table / sizeof unit_table[0]; i++) {
        if (ntk_span_eq(base, unit_table[i].name)) {
            if (decimals != NULL) {
                *decimals = unit_table[i].decimals;
            }
            return unit_table[i].unit;
        }
    }
    if (decimals != NULL) {
        *decimals = 0;
    }
    return NTK_CVAR_RAW;
}

/* 10^e for 0 <= e <= 22: exact in a double, so one multiplication or division by it rounds
 * correctly when the mantissa is below 2^53. */
static double pow10_small(int e)
{
    static const double p[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    return p[e];
}

static double scale10(double v, int e)
{
    while (e > 22) {
        v *= 1e22;
        e -= 22;
    }
    while (e < -22) {
        v /= 1e22;
        e += 22;
    }
    return e >= 0 ? v * pow10_small(e) : v / pow10_small(-e);
}

/* Accumulates digits into a mantissa of at most 19 digits: *kept counts the digits taken
 * into it, *dropped those beyond. Returns the number of digits seen. */
static size_t take_digits(struct ntk_tok *t, uint64_t *mant, int *kept, int *dropped)
{
    size_t n = 0;
    while (!ntk_tok_eof(t) && ntk_tok_peek(t) >= '0' && ntk_tok_peek(t) <= '9') {
        int d = ntk_tok_peek(t) - '0';
        ntk_tok_accept(t, (char)ntk_tok_peek(t));
        if (*mant < 1000000000000000000ULL) {
            *mant = *mant * 10 + (uint64_t)d;
            (*kept)++;
        } else {
            (*dropped)++;
        }
        n++;
    }
    return n;
}

static int take_exponent(struct ntk_tok *t, int *e)
{
    bool neg = ntk_tok_accept(t, '-');
    if (!neg) {
        ntk_tok_accept(t, '+');
    }
    uint64_t v;
    int rc = ntk_tok_u64(t, &v, 100000);
    if (rc != NTK_OK) {
        return rc == NTK_ERANGE ? NTK_ERANGE : NTK_EFORMAT;
    }
    *e = neg ? -(int)v : (int)v;
    return NTK_OK;
}

int ntk_cvar_parse_double(struct ntk_span v, double *out)
{
    struct ntk_tok t;
    ntk_tok_init_span(&t, v);
    bool neg = ntk_tok_accept(&t, '-');
    if (!neg) {
        ntk_tok_accept(&t, '+');
    }
    uint64_t mant = 0;
    int kept = 0, dropped = 0, frac_kept = 0, frac_dropped = 0, e = 0;
    size_t digits = take_digits(&t, &mant, &kept, &dropped);
    if (ntk_tok_accept(&t, '.')) {
        digits += take_digits(&t, &mant, &frac_kept, &frac_dropped);
    }
    if (digits == 0) {
        return NTK_EFORMAT;
    }
    if (ntk_tok_accept(&t, 'e') || ntk_tok_accept(&t, 'E')) {
        int rc = take_exponent(&t, &e);
        if (rc != NTK_OK) {
            return rc;
        }
    }
    if (!ntk_tok_eof(&t)) {
        return NTK_EFORMAT;
    }
    int e10 = e + dropped - frac_kept;
    if (mant != 0 && (e10 > 400 || e10 < -400)) {
        return NTK_ERANGE;
    }
    double d = mant == 0 ? 0.0 : scale10((double)mant, e10);
    if (d > DBL_MAX) {
        return NTK_ERANGE;
    }
    *out = neg ? -d : d;
    return NTK_OK;
}

static int parse_hex_u64(struct ntk_span v, uint64_t *out, uint64_t max)
{
    if (v.len == 0 || v.len > 16) {
        return v.len == 0 ? NTK_EFORMAT : NTK_ERANGE;
    }
    uint64_t x = 0;
    for (size_t i = 0; i < v.len; i++) {
        int d = ntk_tok_hexdigit((unsigned char)v.p[i]);
        if (d < 0) {
            return NTK_EFORMAT;
        }
        x = x << 4 | (uint64_t)d;
    }
    if (x > max) {
        return NTK_ERANGE;
    }
    *out = x;
    return NTK_OK;
}

int ntk_cvar_parse_u64(struct ntk_span v, uint64_t *out, uint64_t max)
{
    if (v.len >= 2 && v.p[0] == '0' && (v.p[1] == 'x' || v.p[1] == 'X')) {
        struct ntk_span hex = {v.p + 2, v.len - 2};
        return parse_hex_u64(hex, out, max);
    }
    return ntk_span_u64(v, out, max);
}

int ntk_cvar_parse_i64(struct ntk_span v, int64_t *out, int64_t min, int64_t max)
{
    if (v.len == 0) {
        return NTK_EFORMAT;
    }
    bool neg = v.p[0] == '-';
    struct ntk_span digits = {v.p + neg, v.len - neg};
    uint64_t mag;
    int rc = ntk_span_u64(digits, &mag, (uint64_t)INT64_MAX + 1);
    if (rc != NTK_OK) {
        return rc;
    }
    int64_t x;
    if (neg) {
        x = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    } else if (mag > (uint64_t)INT64_MAX) {
        return NTK_ERANGE;
    } else {
        x = (int64_t)mag;
    }
    if (x < min || x > max) {
        return NTK_ERANGE;
    }
    *out = x;
    return NTK_OK;
}

int ntk_cvar_parse_ms(struct ntk_span v, double *out_s)
{
    double ms;
    int rc = ntk_cvar_parse_double(v, &ms);
    if (rc == NTK_OK) {
        *out_s = ms / 1e3;
    }
    return rc;
}

int ntk_cvar_parse_ppm(struct ntk_span v, double *out_ppm)
{
    return ntk_cvar_parse_double(v, out_ppm);
}

int ntk_cvar_parse_ms_list(struct ntk_span v, double *out_s, size_t max)
{
    struct ntk_tok t;
    size_t n = 0;
    ntk_tok_init_span(&t, v);
    for (;;) {
        ntk_tok_skip_ws(&t);
        if (ntk_tok_eof(&t)) {
            return (int)n;
        }
        struct ntk_span word;
        if (ntk_tok_word(&t, &word, 64) != NTK_OK) {
            return NTK_EFORMAT;
        }
        if (n == max || n == (size_t)INT32_MAX) {
            return NTK_ERANGE;
        }
        int rc = ntk_cvar_parse_ms(word, &out_s[n]);
        if (rc != NTK_OK) {
            return rc;
        }
        n++;
    }
}

int ntk_cvar_parse_ts(struct ntk_span v, ntk_ts *out)
{
    if (v.len < 3 || v.p[0] != '0' || (v.p[1] != 'x' && v.p[1] != 'X')) {
        return NTK_EFORMAT;
    }
    return ntk_ts_parse_hex(v, out);
}

int ntk_cvar_get(const struct ntk_cvar_item *item, double *out)
{
    if (!item->has_value || item->quoted) {
        return NTK_EINVAL;
    }
    switch (ntk_cvar_unit_of(item->name, NULL)) {
    case NTK_CVAR_MS:
        return ntk_cvar_parse_ms(item->value, out);
    case NTK_CVAR_PPM:
        return ntk_cvar_parse_ppm(item->value, out);
    case NTK_CVAR_RAW:
        break;
    case NTK_CVAR_MS_LIST:
    case NTK_CVAR_TS:
        return NTK_EINVAL;
    }
    uint64_t u;
    const struct ntk_span v = item->value;
    if (v.len >= 2 && v.p[0] == '0' && (v.p[1] == 'x' || v.p[1] == 'X')) {
        int rc = ntk_cvar_parse_u64(v, &u, UINT64_MAX);
        if (rc == NTK_OK) {
            *out = (double)u;
        }
        return rc;
    }
    return ntk_cvar_parse_double(v, out);
}

/* ---- formatting --------------------------------------------------------------------- */

void ntk_cvar_wr_init(struct ntk_cvar_wr *w, struct ntk_sb *sb)
{
    w->sb = sb;
    w->line_len = 0;
    w->any = false;
    w->err = NTK_OK;
}

static bool name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > NTK_CVAR_NAME_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (is_ws((unsigned char)name[i]) || name[i] == ',' || name[i] == '=' ||
            name[i] == '"') {
            return false;
        }
    }
    return true;
}

/* Validates and writes the separator before an item of item_len bytes (NTPsec
 * ctl_putdata: ',' then CRLF when the line would reach MAXDATALINELEN, else ' ').
 * Returns false when nothing may be written. */
static bool begin_item(struct ntk_cvar_wr *w, const char *name, size_t item_len)
{
    if (w->err != NTK_OK) {
        return false;
    }
    if (!name_ok(name)) {
        w->err = NTK_EINVAL;
        return false;
    }
    if (w->any) {
        ntk_sb_putc(w->sb, ',');
        w->line_len++;
        if (item_len + w->line_len + 1 >= NTK_CVAR_LINE_MAX) {
            ntk_sb_puts(w->sb, "\r\n");
            w->line_len = 0;
        } else {
            ntk_sb_putc(w->sb, ' ');
            w->line_len++;
        }
    }
    w->any = true;
    w->line_len += item_len;
    return true;
}

void ntk_cvar_put_name(struct ntk_cvar_wr *w, const char *name)
{
    if (begin_item(w, name, strlen(name))) {
        ntk_sb_puts(w->sb, name);
    }
}

static bool raw_ok(const char *v, size_t n)
{
    if (n > 0 && (is_ws((unsigned char)v[0]) || is_ws((unsigned char)v[n - 1]))) {
        return false;
    }
    return memchr(v, ',', n) == NULL && memchr(v, '"', n) == NULL;
}

void ntk_cvar_put_raw(struct ntk_cvar_wr *w, const char *name, const char *value, size_t n)
{
    if (w->err == NTK_OK && n > NTK_CVAR_VALUE_MAX) {
        w->err = NTK_ERANGE;
    }
    if (w->err == NTK_OK && !raw_ok(value, n)) {
        w->err = NTK_EINVAL;
    }
    if (begin_item(w, name, strlen(name) + 1 + n)) {
        ntk_sb_puts(w->sb, name);
        ntk_sb_putc(w->sb, '=');
        ntk_sb_putn(w->sb, value, n);
    }
}

void ntk_cvar_put_str(struct ntk_cvar_wr *w, const char *name, const char *value, size_t n)
{
    size_t escaped = n;
    for (size_t i = 0; i < n; i++) {
        escaped += value[i] == '"' || value[i] == '\\';
    }
    if (w->err == NTK_OK && escaped > NTK_CVAR_VALUE_MAX) {
        w->err = NTK_ERANGE;
    }
    if (!begin_item(w, name, strlen(name) + 3 + escaped)) {
        return;
    }
    ntk_sb_puts(w->sb, name);
    ntk_sb_puts(w->sb, "=\"");
    for (size_t i = 0; i < n; i++) {
        if (value[i] == '"' || value[i] == '\\') {
            ntk_sb_putc(w->sb, '\\');
        }
        ntk_sb_putc(w->sb, value[i]);
    }
    ntk_sb_putc(w->sb, '"');
}

/* Writes printf-formatted text as an unquoted value. */
static void put_fmt(struct ntk_cvar_wr *w, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void put_fmt(struct ntk_cvar_wr *w, const char *name, const char *fmt, ...)
{
    char buf[512];
    struct ntk_sb sb;
    va_list ap;
    ntk_sb_init(&sb, buf, sizeof buf);
    va_start(ap, fmt);
    ntk_sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    if (ntk_sb_err(&sb) != NTK_OK && w->err == NTK_OK) {
        w->err = NTK_ERANGE;
    }
    ntk_cvar_put_raw(w, name, ntk_sb_str(&sb), ntk_sb_len(&sb));
}

void ntk_cvar_put_u64(struct ntk_cvar_wr *w, const char *name, uint64_t v)
{
    put_fmt(w, name, "%llu", (unsigned long long)v);
}

void ntk_cvar_put_i64(struct ntk_cvar_wr *w, const char *name, int64_t v)
{
    put_fmt(w, name, "%lld", (long long)v);
}

void ntk_cvar_put_hex(struct ntk_cvar_wr *w, const char *name, uint64_t v)
{
    put_fmt(w, name, "0x%llx", (unsigned long long)v);
}

static int clamp_decimals(int decimals)
{
    return decimals < 0 ? 0 : decimals > 9 ? 9 : decimals;
}

void ntk_cvar_put_double(struct ntk_cvar_wr *w, const char *name, double v, int decimals)
{
    put_fmt(w, name, "%.*f", clamp_decimals(decimals), v);
}

void ntk_cvar_put_ms(struct ntk_cvar_wr *w, const char *name, double s, int decimals)
{
    put_fmt(w, name, "%.*f", clamp_decimals(decimals), s * 1e3);
}

void ntk_cvar_put_ppm(struct ntk_cvar_wr *w, const char *name, double ppm, int decimals)
{
    put_fmt(w, name, "%.*f", clamp_decimals(decimals), ppm);
}

void ntk_cvar_put_ms_list(struct ntk_cvar_wr *w, const char *name, const double *s, size_t n)
{
    char buf[NTK_CVAR_VALUE_MAX + 1];
    struct ntk_sb sb;
    ntk_sb_init(&sb, buf, sizeof buf);
    for (size_t i = 0; i < n; i++) {
        ntk_sb_printf(&sb, " %.2f", s[i] * 1e3);
    }
    if (ntk_sb_err(&sb) != NTK_OK && w->err == NTK_OK) {
        w->err = NTK_ERANGE;
    }
    /* NTPsec's leading space: "filtdelay= 0.04 ...". The parser trims it. */
    if (begin_item(w, name, strlen(name) + 1 + ntk_sb_len(&sb))) {
        ntk_sb_puts(w->sb, name);
        ntk_sb_putc(w->sb, '=');
        ntk_sb_putn(w->sb, ntk_sb_str(&sb), ntk_sb_len(&sb));
    }
}

void ntk_cvar_put_ts(struct ntk_cvar_wr *w, const char *name, ntk_ts ts)
{
    put_fmt(w, name, "0x%08lx.%08lx", (unsigned long)ntk_ts_sec(ts),
            (unsigned long)ntk_ts_frac(ts));
}

void ntk_cvar_put(struct ntk_cvar_wr *w, const char *name, double value)
{
    int decimals;
    struct ntk_span n = {name, strlen(name)};
    switch (ntk_cvar_unit_of(n, &decimals)) {
    case NTK_CVAR_MS:
        ntk_cvar_put_ms(w, name, value, decimals);
        return;
    case NTK_CVAR_PPM:
        ntk_cvar_put_ppm(w, name, value, decimals);
        return;
    case NTK_CVAR_RAW:
        ntk_cvar_put_double(w, name, value, 6);
        return;
    case NTK_CVAR_MS_LIST:
    case NTK_CVAR_TS:
        break;
    }
    if (w->err == NTK_OK) {
        w->err = NTK_EINVAL;
    }
}

int ntk_cvar_wr_err(const struct ntk_cvar_wr *w)
{
    return w->err != NTK_OK ? w->err : ntk_sb_err(w->sb);
}

int ntk_cvar_finish(struct ntk_cvar_wr *w)
{
    if (w->err == NTK_OK) {
        ntk_sb_puts(w->sb, "\r\n");
        w->line_len = 0;
    }
    return ntk_cvar_wr_err(w);
}
