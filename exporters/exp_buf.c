/* SPDX-License-Identifier: BSD-2-Clause */
/* The exporter's growable output buffer (exp.h): printf-style appends, doubling growth. */
#include "exp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "poison.h"

/* Makes room for need more bytes plus the NUL; false (and oom set) when it cannot. */
static bool reserve(struct exp_buf *b, size_t need)
{
    if (b->oom) {
        return false;
    }
    if (need > SIZE_MAX / 2 - b->len - 1) {
        b->oom = true;
        return false;
    }
    size_t want = b->len + need + 1;
    if (b->p != NULL && want <= b->cap) {
        return true;
    }
    size_t cap = b->cap < 256 ? 256 : b->cap;
    while (cap < want) {
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (p == NULL) {
        b->oom = true;
        return false;
    }
    if (b->p == NULL) {
        p[0] = '\0';
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void exp_buf_printf(struct exp_buf *b, const char *fmt, ...)
{
    if (!reserve(b, 0)) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->p[b->len] = '\0';
        b->oom = true;
        return;
    }
    if ((size_t)n >= b->cap - b->len) {
        /* Too short: grow and format again (the first try wrote a truncated copy). */
        b->p[b->len] = '\0';
        if (!reserve(b, (size_t)n)) {
            return;
        }
        va_start(ap, fmt);
        n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= b->cap - b->len) {
            b->p[b->len] = '\0';
            b->oom = true;
            return;
        }
    }
    b->len += (size_t)n;
}

void exp_buf_free(struct exp_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}
