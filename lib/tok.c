/* SPDX-License-Identifier: BSD-2-Clause */
/* Bounded text tokenizer (ntk/tok.h). */
#include "ntk/tok.h"
#include "ntk/err.h"

#include <string.h>

#include "poison.h"

/* 2^64 - 1 has 20 digits. Leading zeros are accepted, but only within these 20: a longer run
 * is NTK_ERANGE whatever its value, which bounds the work on hostile input. */
enum { U64_MAX_DIGITS = 20 };

void ntk_tok_init(struct ntk_tok *t, const char *p, size_t len)
{
    /* Never keep a NULL text: spans are formed as p + off, and NULL + 0 is undefined
     * behaviour in C (UBSan pointer-overflow), while {NULL, 0} is a legal empty span. */
    t->p = p ? p : "";
    t->len = p ? len : 0;
    t->off = 0;
}

void ntk_tok_init_span(struct ntk_tok *t, struct ntk_span s)
{
    ntk_tok_init(t, s.p, s.len);
}

bool ntk_tok_eof(const struct ntk_tok *t)
{
    return t->off >= t->len;
}

size_t ntk_tok_pos(const struct ntk_tok *t)
{
    return t->off;
}

int ntk_tok_peek(const struct ntk_tok *t)
{
    return ntk_tok_eof(t) ? -1 : (unsigned char)t->p[t->off];
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_space(char c)
{
    return is_ws(c) || c == '\r' || c == '\n';
}

static size_t line_end(const struct ntk_tok *t)
{
    const char *nl = memchr(t->p + t->off, '\n', t->len - t->off);
    return nl ? (size_t)(nl - t->p) : t->len;
}

int ntk_tok_line(struct ntk_tok *t, struct ntk_span *line, size_t max)
{
    if (ntk_tok_eof(t)) {
        return NTK_ETRUNC;
    }
    size_t end = line_end(t);
    size_t n = end - t->off;
    if (n > 0 && t->p[end - 1] == '\r') {
        n--;
    }
    if (n > max) {
        return NTK_ERANGE;
    }
    line->p = t->p + t->off;
    line->len = n;
    t->off = end < t->len ? end + 1 : end;
    return NTK_OK;
}

void ntk_tok_skip_line(struct ntk_tok *t)
{
    if (!ntk_tok_eof(t)) {
        size_t end = line_end(t);
        t->off = end < t->len ? end + 1 : end;
    }
}

void ntk_tok_skip_ws(struct ntk_tok *t)
{
    while (!ntk_tok_eof(t) && is_ws(t->p[t->off])) {
        t->off++;
    }
}

int ntk_tok_word(struct ntk_tok *t, struct ntk_span *word, size_t max)
{
    size_t end = t->off;
    while (end < t->len && !is_space(t->p[end])) {
        end++;
    }
    if (end == t->off) {
        return NTK_EFORMAT;
    }
    if (end - t->off > max) {
        return NTK_ERANGE;
    }
    word->p = t->p + t->off;
    word->len = end - t->off;
    t->off = end;
    return NTK_OK;
}

int ntk_tok_until(struct ntk_tok *t, const char *stops, struct ntk_span *run, size_t max)
{
    size_t end = t->off;
    while (end < t->len && t->p[end] != '\0' && !strchr(stops, t->p[end])) {
        end++;
    }
    if (end - t->off > max) {
        return NTK_ERANGE;
    }
    run->p = t->p + t->off;
    run->len = end - t->off;
    t->off = end;
    return NTK_OK;
}

bool ntk_tok_accept(struct ntk_tok *t, char c)
{
    if (!ntk_tok_eof(t) && t->p[t->off] == c) {
        t->off++;
        return true;
    }
    return false;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Accumulates decimal digits with an overflow check; 0 or an enum ntk_err. */
static int parse_u64(const char *p, size_t n, uint64_t *out, uint64_t max)
{
    if (n == 0) {
        return NTK_EFORMAT;
    }
    if (n > U64_MAX_DIGITS) {
        return NTK_ERANGE;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i])) {
            return NTK_EFORMAT;
        }
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return NTK_ERANGE;
        }
        v = v * 10 + d;
    }
    if (v > max) {
        return NTK_ERANGE;
    }
    *out = v;
    return NTK_OK;
}

int ntk_tok_u64(struct ntk_tok *t, uint64_t *out, uint64_t max)
{
    size_t end = t->off;
    while (end < t->len && is_digit(t->p[end])) {
        end++;
    }
    int rc = parse_u64(t->p + t->off, end - t->off, out, max);
    if (rc == NTK_OK) {
        t->off = end;
    }
    return rc;
}

bool ntk_span_eq(struct ntk_span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && (n == 0 || memcmp(s.p, lit, n) == 0);
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool ntk_span_caseeq(struct ntk_span s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.len != n) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (lower(s.p[i]) != lower(lit[i])) {
            return false;
        }
    }
    return true;
}

struct ntk_span ntk_span_trim(struct ntk_span s)
{
    while (s.len > 0 && is_space(s.p[0])) {
        s.p++;
        s.len--;
    }
    while (s.len > 0 && is_space(s.p[s.len - 1])) {
        s.len--;
    }
    return s;
}

int ntk_span_cstr(struct ntk_span s, char *dst, size_t cap)
{
    if (cap == 0) {
        return NTK_ENOSPC;
    }
    dst[0] = '\0';
    if (s.len >= cap) {
        return NTK_ENOSPC;
    }
    if (s.len > 0 && memchr(s.p, '\0', s.len)) {
        return NTK_EFORMAT;
    }
    if (s.len > 0) {
        memcpy(dst, s.p, s.len);
    }
    dst[s.len] = '\0';
    return NTK_OK;
}

int ntk_span_u64(struct ntk_span s, uint64_t *out, uint64_t max)
{
    return parse_u64(s.p, s.len, out, max);
}

int ntk_tok_hexdigit(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int ntk_span_hex(struct ntk_span s, uint8_t *dst, size_t cap)
{
    if (s.len % 2 != 0) {
        return NTK_EFORMAT;
    }
    size_t n = s.len / 2;
    if (n > cap || n > (size_t)INT32_MAX) {
        return NTK_ENOSPC;
    }
    /* Validate everything first: dst is an out-parameter, written only on success. */
    for (size_t i = 0; i < s.len; i++) {
        if (ntk_tok_hexdigit(s.p[i]) < 0) {
            return NTK_EFORMAT;
        }
    }
    for (size_t i = 0; i < n; i++) {
        int hi = ntk_tok_hexdigit(s.p[2 * i]), lo = ntk_tok_hexdigit(s.p[2 * i + 1]);
        /* Every digit passed the loop above, so hi is not negative (the analyzer does not
         * carry that from one loop to the other). */
        /* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
        dst[i] = (uint8_t)(hi << 4 | lo);
    }
    return (int)n;
}
