/* SPDX-License-Identifier: BSD-2-Clause */
/* NIST/IETF leap-seconds.list parser, checker, writer and queries (ntk/leapfile.h). */
#include "ntk/leapfile.h"
#include "ntk/err.h"
#include "ntk/ntime.h"
#include "ntk/tok.h"

#include <inttypes.h>
#include <string.h>

#include <openssl/evp.h>

#include "poison.h"

/* SHA-1 output; the #h line writes it as five 32-bit words of at most 8 hex digits. */
enum { SHA1_LEN = 20, HASH_WORDS = 5, HASH_WORD_DIGITS = 8 };

/* Digits handed to SHA-1 at a time. */
enum { DIGIT_CHUNK = 64 };

/* Bounds TAI - UTC as read (it is 37 s in 2017): keeps the values small and int32_t. */
enum { TAI_UTC_MAX = 9999 };

/* A SHA-1 over decimal digits fed one at a time, buffered. */
struct digest {
    EVP_MD_CTX *ctx;
    char buf[DIGIT_CHUNK];
    size_t n;
    bool ok; /* false once OpenSSL has failed */
};

/* One of the #$, #@ and #h lines. */
struct special {
    uint32_t seen;          /* line of the first such line, 0 if none */
    bool valid;             /* that line parsed */
    uint32_t col;           /* column of its value */
    struct ntk_span digits; /* #$ / #@: the value as written (for the hash) */
    uint64_t v;             /* #$ / #@: the value */
};

/* State of one parse call. */
struct parser {
    struct ntk_leapfile *lf;
    unsigned flags;
    uint32_t line;          /* current line number, 1-based */
    const char *bol;        /* start of the current line, for columns */
    int first_err;          /* first error, 0 if none */
    bool have_last;         /* a data line was read (its syntax at least) */
    uint64_t last_ntp_s;    /* ... its time */
    int32_t last_tai_s;     /* ... its TAI - UTC */
    uint32_t last_line;     /* ... its line */
    struct special upd;     /* #$ */
    struct special exp;     /* #@ */
    struct special hash;    /* #h */
    uint8_t want[SHA1_LEN]; /* the #h value */
    uint32_t end_line;      /* where the text ends, for "missing ..." diagnostics */
    uint32_t end_col;
};

/* ---- SHA-1 over digits (NIST's hash definition) ---- */

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static void digest_start(struct digest *d)
{
    d->n = 0;
    d->ctx = EVP_MD_CTX_new();
    d->ok = d->ctx != NULL && EVP_DigestInit_ex(d->ctx, EVP_sha1(), NULL) == 1;
}

static void digest_flush(struct digest *d)
{
    if (d->ok && d->n > 0 && EVP_DigestUpdate(d->ctx, d->buf, d->n) != 1) {
        d->ok = false;
    }
    d->n = 0;
}

static void digest_digit(struct digest *d, char c)
{
    d->buf[d->n++] = c;
    if (d->n == sizeof d->buf) {
        digest_flush(d);
    }
}

/* Feeds the digits of s up to its first '#' (a data line's comment is not hashed). */
static void digest_text(struct digest *d, struct ntk_span s)
{
    for (size_t i = 0; i < s.len && s.p[i] != '#'; i++) {
        if (is_digit(s.p[i])) {
            digest_digit(d, s.p[i]);
        }
    }
}

/* Feeds v in decimal, as the writer prints it. */
static void digest_u64(struct digest *d, uint64_t v)
{
    char tmp[20];
    size_t k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (k > 0) {
        digest_digit(d, tmp[--k]);
    }
}

/* Ends the digest into out and frees the context. 0 or NTK_ECRYPTO. */
static int digest_finish(struct digest *d, uint8_t out[SHA1_LEN])
{
    digest_flush(d);
    unsigned len = 0;
    uint8_t md[EVP_MAX_MD_SIZE];
    if (d->ok && (EVP_DigestFinal_ex(d->ctx, md, &len) != 1 || len != SHA1_LEN)) {
        d->ok = false;
    }
    EVP_MD_CTX_free(d->ctx);
    d->ctx = NULL;
    if (!d->ok) {
        return NTK_ECRYPTO;
    }
    memcpy(out, md, SHA1_LEN);
    return NTK_OK;
}

/* ---- time helpers ---- */

static int64_t unix_of(uint64_t ntp_s)
{
    return (int64_t)ntp_s - NTK_NTP_UNIX_OFFSET_S;
}

/* Leap seconds take effect at 00:00:00 UTC on the first day of a month (IERS Bulletin C;
 * NTPsec leapsec_raw refuses anything else). */
static bool is_month_start(int64_t unix_s)
{
    struct ntk_civil c;
    ntk_civil_from_unix(unix_s, &c);
    return c.mday == 1 && c.hour == 0 && c.min == 0 && c.sec == 0;
}

/* ---- diagnostics ---- */

static uint32_t clamp_u32(size_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void report_at(struct parser *p, uint32_t line, uint32_t col, int err, const char *msg,
                      bool warning, uint32_t ref_line)
{
    struct ntk_leapfile *lf = p->lf;
    if (warning) {
        lf->nwarnings++;
    } else {
        lf->nerrors++;
        if (p->first_err == NTK_OK) {
            p->first_err = err;
        }
    }
    if (lf->ndiags < lf->diags_cap) {
        lf->diags[lf->ndiags++] = (struct ntk_leapfile_diag){
            .line = line,
            .col = col,
            .err = err,
            .warning = warning,
            .ref_line = ref_line,
            .msg = msg,
        };
    }
}

/* An error at position at of the current line. */
static void fail(struct parser *p, const char *at, int err, const char *msg)
{
    report_at(p, p->line, clamp_u32((size_t)(at - p->bol)) + 1, err, msg, false, 0);
}

/* An error where the text ends (something is missing). */
static void fail_end(struct parser *p, int err, const char *msg)
{
    report_at(p, p->end_line, p->end_col, err, msg, false, 0);
}

static const char *here(const struct parser *p, const struct ntk_tok *t)
{
    return p->bol + ntk_tok_pos(t);
}

/* True when only blanks, or blanks and a '#' comment, are left. */
static bool at_end(struct ntk_tok *t)
{
    ntk_tok_skip_ws(t);
    return ntk_tok_eof(t) || ntk_tok_peek(t) == '#';
}

/* ---- the lines ---- */

/* Records that a special line was seen; false (after an error) when it is a repeat. */
static bool first_special(struct parser *p, struct special *s, const char *msg)
{
    if (s->seen != 0) {
        report_at(p, p->line, 1, NTK_EFORMAT, msg, false, s->seen);
        return false;
    }
    s->seen = p->line;
    return true;
}

/* "#$ N" or "#@ N": one decimal NTP-seconds value. */
static void take_time_line(struct parser *p, struct ntk_span line, struct special *s)
{
    bool upd = s == &p->upd;
    if (!first_special(p, s,
                       upd ? "duplicate #$ line: line ignored"
                           : "duplicate #@ line: line ignored")) {
        return;
    }
    struct ntk_tok t;
    ntk_tok_init_span(&t, line);
    ntk_tok_accept(&t, '#');
    (void)(ntk_tok_accept(&t, '$') || ntk_tok_accept(&t, '@'));
    ntk_tok_skip_ws(&t);
    const char *at = here(p, &t);
    uint64_t v = 0;
    int rc = ntk_tok_u64(&t, &v, NTK_LEAPFILE_NTP_MAX);
    if (rc == NTK_EFORMAT) {
        fail(p, at, rc, "expected a decimal number of NTP seconds");
        return;
    }
    if (rc != NTK_OK) {
        fail(p, at, NTK_ERANGE, "NTP seconds too large (over 2^40 - 1)");
        return;
    }
    struct ntk_span digits = {at, (size_t)(here(p, &t) - at)};
    if (!at_end(&t)) {
        fail(p, here(p, &t), NTK_EFORMAT, "unexpected text after the value");
        return;
    }
    s->valid = true;
    s->col = (uint32_t)(at - p->bol) + 1;
    s->digits = digits;
    s->v = v;
}

/* One word of the #h line: 1-8 hex digits, most significant first. */
static bool take_hash_word(struct parser *p, struct ntk_tok *t, uint32_t *word)
{
    struct ntk_span w;
    ntk_tok_skip_ws(t);
    const char *at = here(p, t);
    int rc = ntk_tok_word(t, &w, HASH_WORD_DIGITS);
    if (rc == NTK_EFORMAT) {
        fail(p, at, rc, "#h needs five hex words");
        return false;
    }
    if (rc != NTK_OK) {
        fail(p, at, NTK_ERANGE, "hash word longer than 8 hex digits");
        return false;
    }
    uint32_t v = 0;
    for (size_t i = 0; i < w.len; i++) {
        int d = ntk_tok_hexdigit((unsigned char)w.p[i]);
        if (d < 0) {
            fail(p, w.p + i, NTK_EFORMAT, "invalid hex digit in the hash");
            return false;
        }
        v = v << 4 | (uint32_t)d;
    }
    *word = v;
    return true;
}

/* "#h W W W W W". */
static void take_hash_line(struct parser *p, struct ntk_span line)
{
    if (!first_special(p, &p->hash, "duplicate #h line: line ignored")) {
        return;
    }
    struct ntk_tok t;
    ntk_tok_init_span(&t, line);
    ntk_tok_accept(&t, '#');
    ntk_tok_accept(&t, 'h');
    uint8_t h[SHA1_LEN];
    for (size_t i = 0; i < HASH_WORDS; i++) {
        uint32_t w = 0;
        if (!take_hash_word(p, &t, &w)) {
            return;
        }
        h[4 * i] = (uint8_t)(w >> 24);
        h[4 * i + 1] = (uint8_t)(w >> 16);
        h[4 * i + 2] = (uint8_t)(w >> 8);
        h[4 * i + 3] = (uint8_t)w;
    }
    if (!at_end(&t)) {
        fail(p, here(p, &t), NTK_EFORMAT, "unexpected text after the five hash words");
        return;
    }
    memcpy(p->want, h, sizeof h);
    p->hash.valid = true;
    p->hash.col = 1;
}

/* The time rules of a data line; true if it passes them. */
static bool check_entry_time(struct parser *p, uint64_t ntp_s, const char *at)
{
    const char *msg = NULL;
    if (!is_month_start(unix_of(ntp_s))) {
        msg = "not 00:00:00 UTC on the first day of a month";
    } else if (!p->have_last && ntp_s != NTK_LEAPFILE_FIRST_NTP_S) {
        msg = "the first entry must be 1972-01-01 (NTP 2272060800)";
    } else if (p->have_last && ntp_s <= p->last_ntp_s) {
        msg = "time not after the previous entry's";
    }
    if (msg) {
        fail(p, at, NTK_EFORMAT, msg);
    }
    return msg == NULL;
}

/* The TAI - UTC rule of a data line; true if it passes. */
static bool check_entry_tai(struct parser *p, int32_t tai_s, const char *at)
{
    if (!p->have_last && tai_s != NTK_LEAPFILE_FIRST_TAI_UTC_S) {
        fail(p, at, NTK_EFORMAT, "the first entry's TAI-UTC must be 10");
        return false;
    }
    if (p->have_last && tai_s != p->last_tai_s + 1 && tai_s != p->last_tai_s - 1) {
        fail(p, at, NTK_EFORMAT, "TAI-UTC must change by exactly 1 s from the previous entry");
        return false;
    }
    return true;
}

/* Appends a valid entry, or reports that the table is full. */
static void store_entry(struct parser *p, uint64_t ntp_s, int32_t tai_s, const char *at)
{
    struct ntk_leap_table *tab = &p->lf->table;
    if (tab->n >= tab->cap) {
        fail(p, at, NTK_ENOSPC, "more entries than the table holds");
        return;
    }
    tab->entries[tab->n++] = (struct ntk_leap_entry){
        .ntp_s = ntp_s,
        .unix_s = unix_of(ntp_s),
        .tai_utc_s = tai_s,
        .line = p->line,
    };
}

/* "NTP-seconds TAI-UTC [# comment]"; t is at the first digit. */
static void take_entry(struct parser *p, struct ntk_tok *t)
{
    const char *time_at = here(p, t);
    uint64_t ntp_s = 0, tai = 0;
    if (ntk_tok_u64(t, &ntp_s, NTK_LEAPFILE_NTP_MAX) != NTK_OK) {
        fail(p, time_at, NTK_ERANGE, "NTP seconds too large (over 2^40 - 1)");
        return;
    }
    ntk_tok_skip_ws(t);
    const char *tai_at = here(p, t);
    int rc = ntk_tok_u64(t, &tai, TAI_UTC_MAX);
    if (rc != NTK_OK) {
        fail(p, tai_at, rc,
             rc == NTK_EFORMAT ? "expected TAI-UTC seconds after the time"
                               : "TAI-UTC too large");
        return;
    }
    if (!at_end(t)) {
        fail(p, here(p, t), NTK_EFORMAT,
             "unexpected text after TAI-UTC (comments start with #)");
        return;
    }
    bool ok = check_entry_time(p, ntp_s, time_at);
    ok = check_entry_tai(p, (int32_t)tai, tai_at) && ok;
    p->have_last = true;
    p->last_ntp_s = ntp_s;
    p->last_tai_s = (int32_t)tai;
    p->last_line = p->line;
    if (ok) {
        store_entry(p, ntp_s, (int32_t)tai, time_at);
    }
}

static void parse_line(struct parser *p, struct ntk_span line)
{
    if (line.len >= 2 && line.p[0] == '#') {
        switch (line.p[1]) {
        case '$':
            take_time_line(p, line, &p->upd);
            return;
        case '@':
            take_time_line(p, line, &p->exp);
            return;
        case 'h':
            take_hash_line(p, line);
            return;
        default:
            return; /* a comment */
        }
    }
    struct ntk_tok t;
    ntk_tok_init_span(&t, line);
    if (at_end(&t)) {
        return; /* blank, or an indented comment */
    }
    if (is_digit(ntk_tok_peek(&t))) {
        take_entry(p, &t);
        return;
    }
    fail(p, here(p, &t), NTK_EFORMAT,
         "expected a data line \"NTP-seconds TAI-UTC\", a comment or a blank line");
}

/* ---- the end of the file ---- */

/* The SHA-1 of the file as NIST defines it: #$ digits, #@ digits, data lines' digits. */
static int hash_text(const struct parser *p, const char *text, size_t len,
                     uint8_t out[SHA1_LEN])
{
    struct digest d;
    digest_start(&d);
    digest_text(&d, p->upd.digits);
    digest_text(&d, p->exp.digits);
    struct ntk_tok t;
    ntk_tok_init(&t, text, len);
    struct ntk_span line;
    int rc;
    while ((rc = ntk_tok_line(&t, &line, NTK_LEAPFILE_LINE_MAX)) != NTK_ETRUNC) {
        if (rc != NTK_OK) {
            ntk_tok_skip_line(&t); /* too long: already an error */
            continue;
        }
        struct ntk_tok lt;
        ntk_tok_init_span(&lt, line);
        ntk_tok_skip_ws(&lt);
        if (is_digit(ntk_tok_peek(&lt))) {
            digest_text(&d, line);
        }
    }
    return digest_finish(&d, out);
}

static void check_hash(struct parser *p, const char *text, size_t len)
{
    if (p->hash.seen == 0) {
        if (p->flags & NTK_LEAPFILE_ALLOW_NOHASH) {
            report_at(p, p->end_line, p->end_col, NTK_EAUTH,
                      "no #h line: the file's integrity is not verified", true, 0);
        } else {
            fail_end(p, NTK_EAUTH, "no #h line: the file's integrity cannot be verified");
        }
        return;
    }
    if (!p->hash.valid || !p->upd.valid || !p->exp.valid) {
        return; /* already an error; a comparison would mean nothing */
    }
    p->lf->table.has_hash = true;
    uint8_t got[SHA1_LEN];
    if (hash_text(p, text, len, got) != NTK_OK) {
        report_at(p, p->hash.seen, 1, NTK_ECRYPTO, "SHA-1 failed in OpenSSL", false, 0);
    } else if (memcmp(got, p->want, sizeof got) != 0) {
        report_at(p, p->hash.seen, 1, NTK_EAUTH,
                  "hash mismatch: the file is corrupted or was altered", false, 0);
    } else {
        p->lf->table.hash_ok = true;
    }
}

/* The whole-file rules, checked once every line has been read. */
static void finish(struct parser *p, const char *text, size_t len)
{
    if (p->upd.seen == 0) {
        fail_end(p, NTK_EFORMAT, "no #$ line (the update time)");
    }
    if (p->exp.seen == 0) {
        fail_end(p, NTK_EFORMAT, "no #@ line (the expiry time)");
    }
    if (!p->have_last) {
        fail_end(p, NTK_EFORMAT, "no data lines");
    }
    if (p->exp.valid && p->have_last && p->exp.v <= p->last_ntp_s) {
        report_at(p, p->exp.seen, p->exp.col, NTK_EFORMAT,
                  "the expiry is not after the last entry", false, p->last_line);
    }
    if (p->upd.valid && p->exp.valid && p->upd.v > p->exp.v) {
        /* At the later of the two lines: where the conflict became visible. */
        bool at_upd = p->upd.seen > p->exp.seen;
        const struct special *s = at_upd ? &p->upd : &p->exp;
        report_at(p, s->seen, s->col, NTK_EFORMAT,
                  at_upd ? "the update time is after the expiry"
                         : "the expiry is before the update time",
                  false, at_upd ? p->exp.seen : p->upd.seen);
    }
    check_hash(p, text, len);
    if (p->first_err == NTK_OK) {
        p->lf->table.updated_ntp_s = p->upd.v;
        p->lf->table.expires_ntp_s = p->exp.v;
    }
}

/* Where the text ends: after a final '\n', the start of the next line. */
static void note_end(struct parser *p, const char *text, size_t len)
{
    /* A line was read (p->line > 0) only from a non-empty text, so len >= 1 here. */
    /* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
    if (p->line == 0 || text[len - 1] == '\n') {
        p->end_line = p->line < UINT32_MAX ? p->line + 1 : p->line;
        p->end_col = 1;
    } else {
        p->end_line = p->line;
        p->end_col = clamp_u32((size_t)(text + len - p->bol)) + 1;
    }
}

static void reset_table(struct ntk_leap_table *tab)
{
    tab->n = 0;
    tab->updated_ntp_s = 0;
    tab->expires_ntp_s = 0;
    tab->has_hash = false;
    tab->hash_ok = false;
}

void ntk_leapfile_init(struct ntk_leapfile *lf, struct ntk_leap_entry *entries, size_t cap,
                       struct ntk_leapfile_diag *diags, size_t diags_cap)
{
    memset(lf, 0, sizeof *lf);
    lf->table.entries = entries;
    lf->table.cap =
        entries ? (cap < NTK_LEAPFILE_ENTRIES_MAX ? cap : NTK_LEAPFILE_ENTRIES_MAX) : 0;
    lf->diags = diags;
    lf->diags_cap = diags ? diags_cap : 0;
}

int ntk_leapfile_parse(struct ntk_leapfile *lf, const char *text, size_t len, unsigned flags)
{
    if (text == NULL) {
        text = "";
        len = 0;
    }
    reset_table(&lf->table);
    lf->ndiags = lf->nerrors = lf->nwarnings = 0;
    struct parser p;
    memset(&p, 0, sizeof p);
    p.lf = lf;
    p.flags = flags;
    p.bol = text;
    struct ntk_tok t;
    ntk_tok_init(&t, text, len);
    struct ntk_span line;
    for (;;) {
        const char *bol = text + ntk_tok_pos(&t);
        int rc = ntk_tok_line(&t, &line, NTK_LEAPFILE_LINE_MAX);
        if (rc == NTK_ETRUNC) {
            break;
        }
        p.line = p.line < UINT32_MAX ? p.line + 1 : p.line;
        p.bol = bol;
        if (rc != NTK_OK) {
            fail(&p, bol + NTK_LEAPFILE_LINE_MAX, NTK_ERANGE, "line longer than 512 bytes");
            ntk_tok_skip_line(&t);
            continue;
        }
        parse_line(&p, line);
    }
    note_end(&p, text, len);
    finish(&p, text, len);
    if (p.first_err != NTK_OK) {
        reset_table(&lf->table);
    }
    return p.first_err;
}

/* ---- table checks and queries ---- */

static bool entry_ok(const struct ntk_leap_entry *e, const struct ntk_leap_entry *prev)
{
    if (e->ntp_s > NTK_LEAPFILE_NTP_MAX || e->unix_s != unix_of(e->ntp_s) ||
        !is_month_start(e->unix_s) || e->tai_utc_s < 0 || e->tai_utc_s > TAI_UTC_MAX) {
        return false;
    }
    if (prev == NULL) {
        return e->ntp_s == NTK_LEAPFILE_FIRST_NTP_S &&
               e->tai_utc_s == NTK_LEAPFILE_FIRST_TAI_UTC_S;
    }
    int32_t step = e->tai_utc_s - prev->tai_utc_s;
    return e->ntp_s > prev->ntp_s && (step == 1 || step == -1);
}

int ntk_leap_table_check(const struct ntk_leap_table *tab)
{
    if (tab == NULL || tab->n > tab->cap || tab->cap > NTK_LEAPFILE_ENTRIES_MAX ||
        (tab->n > 0 && tab->entries == NULL)) {
        return NTK_EINVAL;
    }
    if (tab->n == 0) {
        return NTK_EFORMAT;
    }
    for (size_t i = 0; i < tab->n; i++) {
        if (!entry_ok(&tab->entries[i], i > 0 ? &tab->entries[i - 1] : NULL)) {
            return NTK_EFORMAT;
        }
    }
    if (tab->expires_ntp_s > NTK_LEAPFILE_NTP_MAX || tab->updated_ntp_s > tab->expires_ntp_s ||
        tab->expires_ntp_s <= tab->entries[tab->n - 1].ntp_s) {
        return NTK_EFORMAT;
    }
    return NTK_OK;
}

int ntk_leap_tai_offset(const struct ntk_leap_table *tab, int64_t unix_s)
{
    int off = 0;
    for (size_t i = 0; i < tab->n && tab->entries[i].unix_s <= unix_s; i++) {
        off = tab->entries[i].tai_utc_s;
    }
    return off;
}

int ntk_leap_next(const struct ntk_leap_table *tab, int64_t unix_s, int64_t *when_unix_s,
                  int *delta_s)
{
    /* Entry 0 is the 1972 base of leap-second UTC, not a leap. */
    for (size_t i = 1; i < tab->n; i++) {
        if (tab->entries[i].unix_s > unix_s) {
            *when_unix_s = tab->entries[i].unix_s;
            *delta_s = tab->entries[i].tai_utc_s - tab->entries[i - 1].tai_utc_s;
            return NTK_OK;
        }
    }
    return NTK_ENOTFOUND;
}

bool ntk_leap_expired(const struct ntk_leap_table *tab, int64_t unix_s)
{
    if (tab->n == 0 || tab->expires_ntp_s > NTK_LEAPFILE_NTP_MAX) {
        return true; /* empty, or not a table that passed ntk_leap_table_check */
    }
    return unix_s >= unix_of(tab->expires_ntp_s);
}

/* ---- writer ---- */

/* NIST's hash over a table's numbers, written as the writer prints them. */
static int hash_table(const struct ntk_leap_table *tab, uint8_t out[SHA1_LEN])
{
    struct digest d;
    digest_start(&d);
    digest_u64(&d, tab->updated_ntp_s);
    digest_u64(&d, tab->expires_ntp_s);
    for (size_t i = 0; i < tab->n; i++) {
        digest_u64(&d, tab->entries[i].ntp_s);
        digest_u64(&d, (uint64_t)tab->entries[i].tai_utc_s);
    }
    return digest_finish(&d, out);
}

int ntk_leapfile_write(struct ntk_sb *sb, const struct ntk_leap_table *tab)
{
    if (ntk_leap_table_check(tab) != NTK_OK) {
        return NTK_EINVAL;
    }
    uint8_t h[SHA1_LEN];
    int rc = hash_table(tab, h);
    if (rc != NTK_OK) {
        return rc;
    }
    ntk_sb_puts(sb, "#\tleap-seconds.list (NIST/IETF format) written by ntpkit\n");
    ntk_sb_printf(sb, "#$\t%" PRIu64 "\n#@\t%" PRIu64 "\n", tab->updated_ntp_s,
                  tab->expires_ntp_s);
    for (size_t i = 0; i < tab->n; i++) {
        const struct ntk_leap_entry *e = &tab->entries[i];
        struct ntk_civil c;
        ntk_civil_from_unix(e->unix_s, &c);
        ntk_sb_printf(sb, "%" PRIu64 "\t%d\t# %04" PRId64 "-%02d-%02d\n", e->ntp_s,
                      (int)e->tai_utc_s, c.year, c.mon, c.mday);
    }
    ntk_sb_puts(sb, "#h\t");
    for (size_t i = 0; i < HASH_WORDS; i++) {
        ntk_sb_printf(sb, "%02x%02x%02x%02x%s", h[4 * i], h[4 * i + 1], h[4 * i + 2],
                      h[4 * i + 3], i + 1 < HASH_WORDS ? " " : "\n");
    }
    return ntk_sb_err(sb);
}

int ntk_leapfile_diag_format(struct ntk_sb *sb, const char *path,
                             const struct ntk_leapfile_diag *d)
{
    if (path) {
        ntk_sb_printf(sb, "%s:", path);
    }
    ntk_sb_printf(sb, "%u:%u: %s: %s", (unsigned)d->line, (unsigned)d->col,
                  d->warning ? "warning" : "error", d->msg);
    if (d->ref_line != 0) {
        ntk_sb_printf(sb, " (see line %u)", (unsigned)d->ref_line);
    }
    return ntk_sb_err(sb);
}
