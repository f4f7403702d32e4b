/* SPDX-License-Identifier: BSD-2-Clause */
/* ntp.conf lines: splitting into tokens, typed arguments with range checks and columns, and
 * the directive table (including what NTPsec removed, refused with the reason). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_internal.h"
#include "ntk/err.h"
#include "ntk/sb.h"

#include "poison.h"

__attribute__((format(printf, 6, 0))) static void
diag_vadd(struct conf_diags *d, enum conf_sev sev, const char *name, uint32_t line,
          uint32_t col, const char *fmt, va_list ap)
{
    if (sev == CONF_SEV_ERROR) {
        d->errors++;
    } else {
        d->warnings++;
    }
    if (d->n >= CONF_DIAGS_MAX) {
        return;
    }
    struct conf_diag *g = &d->d[d->n++];
    g->sev = sev;
    g->line = line;
    g->col = col;
    size_t nl = strlen(name);
    const char *tail = nl >= sizeof g->file ? name + nl - (sizeof g->file - 1) : name;
    struct ntk_sb sb;
    ntk_sb_init(&sb, g->file, sizeof g->file);
    ntk_sb_puts(&sb, tail);
    ntk_sb_init(&sb, g->msg, sizeof g->msg);
    ntk_sb_vprintf(&sb, fmt, ap);
}

void conf_diag_add(struct conf_diags *d, enum conf_sev sev, const char *name, uint32_t line,
                   uint32_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(d, sev, name, line, col, fmt, ap);
    va_end(ap);
}

static uint32_t col_of(const struct cline *l, size_t k)
{
    return k < l->n ? l->t[k].col : l->end_col;
}

int cl_err(struct cline *l, size_t k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(l->px->d, CONF_SEV_ERROR, l->px->name, l->line, col_of(l, k), fmt, ap);
    va_end(ap);
    return -1;
}

void cl_warn(struct cline *l, size_t k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_vadd(l->px->d, CONF_SEV_WARNING, l->px->name, l->line, col_of(l, k), fmt, ap);
    va_end(ap);
}

const char *cl_show(const struct cline *l, size_t k, char buf[64])
{
    size_t n = 0;
    if (k < l->n) {
        struct ntk_span s = l->t[k].s;
        for (; n < s.len && n < 40; n++) {
            unsigned char ch = (unsigned char)s.p[n];
            buf[n] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
        }
        if (n < s.len) {
            memcpy(buf + n, "...", 3);
            n += 3;
        }
    }
    buf[n] = '\0';
    return buf;
}

bool cl_is(const struct cline *l, size_t k, const char *lit)
{
    return k < l->n && !l->t[k].quoted && ntk_span_eq(l->t[k].s, lit);
}

bool cl_more(const struct cline *l)
{
    return l->i < l->n;
}

int cl_take(struct cline *l, const char *what)
{
    if (!cl_more(l)) {
        return cl_err(l, l->n, "%s: missing argument", what);
    }
    return (int)l->i++;
}

int cl_end(struct cline *l)
{
    char b[64];
    if (cl_more(l)) {
        return cl_err(l, l->i, "unexpected '%s'", cl_show(l, l->i, b));
    }
    return 0;
}

/* Reads an optionally signed decimal integer that fills the whole span. */
static bool span_i64(struct ntk_span s, int64_t *out)
{
    bool neg = false;
    if (s.len > 0 && (s.p[0] == '-' || s.p[0] == '+')) {
        neg = s.p[0] == '-';
        s.p++;
        s.len--;
    }
    uint64_t v;
    if (ntk_span_u64(s, &v, (uint64_t)INT64_MAX) != NTK_OK) {
        return false;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

static int take_i64(struct cline *l, const char *what, int64_t lo, int64_t hi, int64_t *out)
{
    char b[64];
    int k = cl_take(l, what);
    if (k < 0) {
        return -1;
    }
    int64_t v;
    if (l->t[k].quoted || !span_i64(l->t[k].s, &v)) {
        return cl_err(l, (size_t)k, "%s: expected an integer, got '%s'", what,
                      cl_show(l, (size_t)k, b));
    }
    if (v < lo || v > hi) {
        return cl_err(l, (size_t)k, "%s: %lld is out of range %lld..%lld", what, (long long)v,
                      (long long)lo, (long long)hi);
    }
    *out = v;
    return 0;
}

int cl_u32(struct cline *l, const char *what, uint32_t lo, uint32_t hi, uint32_t *out)
{
    int64_t v;
    if (take_i64(l, what, lo, hi, &v) < 0) {
        return -1;
    }
    /* take_i64 sets v whenever it returns 0; its errors come from cl_err, whose -1 the
     * analyzer cannot see. */
    *out = (uint32_t)v; /* NOLINT(clang-analyzer-core.uninitialized.Assign) */
    return 0;
}

int cl_int(struct cline *l, const char *what, int lo, int hi, int *out)
{
    int64_t v;
    if (take_i64(l, what, lo, hi, &v) < 0) {
        return -1;
    }
    *out = (int)v; /* NOLINT(clang-analyzer-core.uninitialized.Assign): as in cl_u32 */
    return 0;
}

static size_t digits(const char *p, size_t i, size_t n)
{
    size_t j = i;
    while (j < n && p[j] >= '0' && p[j] <= '9') {
        j++;
    }
    return j - i;
}

/* Checks the grammar [+-]digits[.digits][e[+-]digits] (or .digits) so that strtod sees only
 * plain decimal numbers: no hex floats, "inf" or "nan". */
static bool is_decimal(struct ntk_span s)
{
    size_t i = 0, n = s.len;
    if (i < n && (s.p[i] == '-' || s.p[i] == '+')) {
        i++;
    }
    size_t int_d = digits(s.p, i, n);
    i += int_d;
    size_t frac_d = 0;
    if (i < n && s.p[i] == '.') {
        i++;
        frac_d = digits(s.p, i, n);
        i += frac_d;
    }
    if (int_d + frac_d == 0) {
        return false;
    }
    if (i < n && (s.p[i] == 'e' || s.p[i] == 'E')) {
        i++;
        if (i < n && (s.p[i] == '-' || s.p[i] == '+')) {
            i++;
        }
        size_t e = digits(s.p, i, n);
        if (e == 0 || e > 3) {
            return false;
        }
        i += e;
    }
    return i == n && n < 64;
}

int cl_double(struct cline *l, const char *what, double lo, double hi, double *out)
{
    char b[64];
    int k = cl_take(l, what);
    if (k < 0) {
        return -1;
    }
    struct ntk_span s = l->t[k].s;
    if (l->t[k].quoted || !is_decimal(s)) {
        return cl_err(l, (size_t)k, "%s: expected a number, got '%s'", what,
                      cl_show(l, (size_t)k, b));
    }
    char num[64];
    memcpy(num, s.p, s.len);
    num[s.len] = '\0';
    double v = strtod(num, NULL);
    if (!isfinite(v) || v < lo || v > hi) {
        return cl_err(l, (size_t)k, "%s: %s is out of range %g..%g", what, num, lo, hi);
    }
    *out = v;
    return 0;
}

int cl_str(struct cline *l, const char *what, char *dst, size_t cap)
{
    int k = cl_take(l, what);
    if (k < 0) {
        return -1;
    }
    int rc = ntk_span_cstr(l->t[k].s, dst, cap);
    if (rc == NTK_EFORMAT) {
        return cl_err(l, (size_t)k, "%s: contains a NUL byte", what);
    }
    if (rc != NTK_OK) {
        return cl_err(l, (size_t)k, "%s: longer than %zu bytes", what, cap - 1);
    }
    if (cap > 0 && dst[0] == '\0') {
        return cl_err(l, (size_t)k, "%s: empty", what);
    }
    return 0;
}

/* Takes one token at the cursor: a "quoted string" or a run of non-blank bytes. A '#' where
 * a token would start ends the line (a comment). Returns 1 for a token, 0 at the end of the
 * line, -1 after reporting an error. */
static int next_token(struct cline *l, struct ntk_tok *t)
{
    /* Blanks: space and tab as ntk_tok_skip_ws, and a stray '\r', '\v' or '\f' too. */
    while (ntk_tok_accept(t, ' ') || ntk_tok_accept(t, '\t') || ntk_tok_accept(t, '\r') ||
           ntk_tok_accept(t, '\v') || ntk_tok_accept(t, '\f')) {
    }
    if (ntk_tok_eof(t) || ntk_tok_peek(t) == '#') {
        return 0;
    }
    uint32_t col = (uint32_t)ntk_tok_pos(t) + 1;
    if (l->n >= CONF_TOKENS_MAX) {
        l->i = l->n;
        return cl_err(l, l->n, "more than %d tokens on a line", CONF_TOKENS_MAX);
    }
    struct ctok *k = &l->t[l->n];
    k->col = col;
    k->quoted = ntk_tok_accept(t, '"');
    int rc = k->quoted ? ntk_tok_until(t, "\"", &k->s, CONF_TOKEN_MAX)
                       : ntk_tok_until(t, " \t\r\v\f", &k->s, CONF_TOKEN_MAX);
    if (rc == NTK_OK && k->quoted && !ntk_tok_accept(t, '"')) {
        l->i = l->n;
        l->end_col = col;
        return cl_err(l, l->n, "unterminated quoted string");
    }
    if (rc != NTK_OK) {
        l->i = l->n;
        l->end_col = col;
        return cl_err(l, l->n, "token longer than %d bytes", CONF_TOKEN_MAX);
    }
    if (k->quoted) {
        int c = ntk_tok_peek(t);
        if (c != -1 && !strchr(" \t\r\v\f", c)) {
            l->end_col = (uint32_t)ntk_tok_pos(t) + 1;
            return cl_err(l, l->n, "a quoted string must be followed by a blank");
        }
    }
    l->n++;
    return 1;
}

static int split_line(struct cline *l, struct ntk_span text)
{
    struct ntk_tok t;
    ntk_tok_init_span(&t, text);
    l->n = 0;
    l->i = 0;
    l->end_col = (uint32_t)text.len + 1;
    int rc;
    while ((rc = next_token(l, &t)) == 1) {
    }
    return rc;
}

typedef int (*conf_handler)(struct cline *l);

/* The directives: NTPsec 1.2.2's, plus `port` on server lines, `discard` (NTP Classic's
 * name of `limit`) and the few tests/data/conf/ntpsec-diff.tsv lists as ours. */
static const struct {
    const char *word;
    conf_handler fn;
} directives[] = {
    {"server", conf_do_server},
    {"pool", conf_do_server},
    {"peer", conf_do_server},
    {"restrict", conf_do_restrict},
    {"unrestrict", conf_do_restrict},
    {"discard", conf_do_discard},
    {"limit", conf_do_limit},
    {"mru", conf_do_mru},
    {"tos", conf_do_tos},
    {"tinker", conf_do_tinker},
    {"driftfile", conf_do_path},
    {"leapfile", conf_do_path},
    {"statsdir", conf_do_path},
    {"logfile", conf_do_path},
    {"keys", conf_do_path},
    {"ntpsigndsocket", conf_do_path},
    {"statistics", conf_do_statistics},
    {"filegen", conf_do_filegen},
    {"logconfig", conf_do_logconfig},
    {"trustedkey", conf_do_trustedkey},
    {"controlkey", conf_do_controlkey},
    {"interface", conf_do_interface},
    {"nic", conf_do_interface},
    {"setvar", conf_do_setvar},
    {"enable", conf_do_enable},
    {"disable", conf_do_enable},
    {"nts", conf_do_nts},
    {"leapsmearinterval", conf_do_leapsmear},
    {"rlimit", conf_do_rlimit},
    {"includefile", conf_do_include},
    {"refclock", conf_do_refclock},
    {"fudge", conf_do_fudge},
    {"unpeer", conf_do_unpeer},
    {"unconfig", conf_do_unpeer},
    {"pidfile", conf_do_path},
    {"nonvolatile", conf_do_nonvolatile},
    {"dscp", conf_do_dscp},
    {"mdnstries", conf_do_mdnstries},
    {"reset", conf_do_reset},
    {"tick", conf_do_tick},
    {"phone", conf_do_phone},
};

#define AUTOKEY_WHY                                                                           \
    "Autokey was removed from NTPsec (RFC 5906 is broken); use NTS (server ... nts) or "      \
    "symmetric keys (keys, trustedkey, server ... key N)"
#define BCAST_WHY "broadcast mode was removed from NTPsec (0.9.5, 1.1.0); use server or pool"
#define MCAST_WHY "manycast was removed from NTPsec; use pool"

/* What NTPsec (or this ntpd) no longer accepts, with the reason given to the user. */
static const struct {
    const char *word;
    const char *why;
} refused[] = {
    {"crypto", AUTOKEY_WHY},
    {"revoke", AUTOKEY_WHY},
    {"automax", AUTOKEY_WHY},
    {"keysdir", AUTOKEY_WHY},
    {"requestkey", "mode 7 (ntpdc) was removed from NTPsec; ntpq uses controlkey"},
    {"broadcast", BCAST_WHY},
    {"broadcastclient", BCAST_WHY},
    {"broadcastdelay", BCAST_WHY},
    {"multicastclient", BCAST_WHY},
    {"manycastclient", MCAST_WHY},
    {"manycastserver", MCAST_WHY},
    {"trap", "traps were removed from NTPsec"},
    {"calldelay", "the modem reference clock is not supported"},
    {"saveconfigdir", "saveconfig was removed from NTPsec"},
};

static void dispatch(struct cline *l)
{
    char b[64];
    if (l->t[0].quoted) {
        cl_err(l, 0, "expected a directive, got a quoted string");
        return;
    }
    for (size_t i = 0; i < sizeof directives / sizeof directives[0]; i++) {
        if (ntk_span_eq(l->t[0].s, directives[i].word)) {
            l->i = 1;
            (void)directives[i].fn(l);
            return;
        }
    }
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        if (ntk_span_eq(l->t[0].s, refused[i].word)) {
            cl_err(l, 0, "%s: %s", refused[i].word, refused[i].why);
            return;
        }
    }
    cl_err(l, 0, "unknown directive '%s'", cl_show(l, 0, b));
}

void conf_parse_lines(struct conf_pctx *px, const char *text, size_t len)
{
    struct ntk_tok t;
    ntk_tok_init(&t, text, len);
    struct cline *l = calloc(1, sizeof *l);
    if (!l) {
        px->oom = true;
        return;
    }
    l->px = px;
    l->c = px->c;
    struct ntk_span line;
    int rc;
    while (!px->oom && (rc = ntk_tok_line(&t, &line, CONF_LINE_MAX)) != NTK_ETRUNC) {
        l->line++;
        if (rc != NTK_OK) {
            conf_diag_add(px->d, CONF_SEV_ERROR, px->name, l->line, 1,
                          "line longer than %d bytes", CONF_LINE_MAX);
            ntk_tok_skip_line(&t);
            continue;
        }
        if (memchr(line.p, '\0', line.len)) {
            conf_diag_add(px->d, CONF_SEV_ERROR, px->name, l->line,
                          (uint32_t)((const char *)memchr(line.p, '\0', line.len) - line.p) +
                              1,
                          "NUL byte in the line");
            continue;
        }
        if (split_line(l, line) == 0 && l->n > 0) {
            dispatch(l);
        }
    }
    free(l);
}
