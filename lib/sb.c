/* SPDX-License-Identifier: BSD-2-Clause */
/* Bounded string builder (ntk/sb.h). */
#include "ntk/sb.h"
#include "ntk/err.h"

#include <stdio.h>
#include <string.h>

#include "poison.h"

void ntk_sb_init(struct ntk_sb *sb, char *buf, size_t cap)
{
    sb->p = buf;
    sb->cap = buf ? cap : 0;
    sb->len = 0;
    sb->overflow = sb->cap == 0;
    if (sb->cap > 0) {
        buf[0] = '\0';
    }
}

void ntk_sb_putn_slow(struct ntk_sb *sb, const char *s, size_t n)
{
    /* n == 0 returns first: an empty span may carry a NULL pointer, and memcpy(dst, NULL, 0)
     * is undefined behaviour (UBSan nonnull-attribute). */
    if (sb->overflow || n == 0) {
        return;
    }
    size_t room = sb->cap - 1 - sb->len;
    if (n > room) {
        n = room;
        sb->overflow = true;
    }
    memcpy(sb->p + sb->len, s, n);
    sb->len += n;
    sb->p[sb->len] = '\0';
}

/* The external definitions of sb.h's inline appenders. */
extern inline void ntk_sb_putn(struct ntk_sb *sb, const char *s, size_t n);
extern inline void ntk_sb_putc(struct ntk_sb *sb, char c);
extern inline void ntk_sb_puts(struct ntk_sb *sb, const char *s);

void ntk_sb_vprintf(struct ntk_sb *sb, const char *fmt, va_list ap)
{
    if (sb->overflow) {
        return;
    }
    size_t room = sb->cap - sb->len; /* includes the NUL's byte */
    int n = vsnprintf(sb->p + sb->len, room, fmt, ap);
    if (n < 0) {
        sb->p[sb->len] = '\0';
        sb->overflow = true;
        return;
    }
    if ((size_t)n >= room) {
        sb->len = sb->cap - 1; /* vsnprintf wrote what fits and the NUL */
        sb->overflow = true;
        return;
    }
    sb->len += (size_t)n;
}

void ntk_sb_printf(struct ntk_sb *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ntk_sb_vprintf(sb, fmt, ap);
    va_end(ap);
}

void ntk_sb_hex(struct ntk_sb *sb, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n && !sb->overflow; i++) {
        char two[2] = {digits[p[i] >> 4], digits[p[i] & 15]};
        ntk_sb_putn(sb, two, 2);
    }
}

int ntk_fit8_decimals(double v, int max_dec)
{
    /* d decimals fit when the integer part has at most 7 - d digits (6 - d with a sign). */
    double lim = v >= 0 ? 1e7 : -1e6;
    for (int d = 0; d < max_dec; d++)
        lim /= 10;
    for (int d = max_dec; d >= 1; d--, lim *= 10)
        if (v >= 0 ? v < lim : v > lim)
            return d;
    return -1;
}

const char *ntk_sb_str(const struct ntk_sb *sb)
{
    return sb->cap > 0 ? sb->p : "";
}

size_t ntk_sb_len(const struct ntk_sb *sb)
{
    return sb->len;
}

int ntk_sb_err(const struct ntk_sb *sb)
{
    return sb->overflow ? NTK_ENOSPC : NTK_OK;
}
