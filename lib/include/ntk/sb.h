/* SPDX-License-Identifier: BSD-2-Clause */
/* A bounded string builder over a caller's char array.
 *
 * The text is always NUL-terminated. An append that does not fit writes what fits, sets the
 * sticky overflow flag and makes every later append a no-op, so truncation is never silent
 * (the lesson of NTPsec's BufCtl writers, STYLE.md §3.3). All formatting in ntpkit goes
 * through this instead of sprintf/strcat.
 */
#ifndef NTK_SB_H
#define NTK_SB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Builder state; fields are public only so builders live on the stack. */
struct ntk_sb {
    char *p;       /* caller's array (borrowed) */
    size_t cap;    /* its size in bytes, including room for the NUL */
    size_t len;    /* characters written, excluding the NUL; always < cap */
    bool overflow; /* set once an append did not fit (sticky) */
};

/* Starts an empty builder over buf[cap] (cap >= 1; cap == 0 marks it overflowed at once). */
void ntk_sb_init(struct ntk_sb *sb, char *buf, size_t cap);

/* What ntk_sb_putn does when n bytes do not fit (or the builder already overflowed):
 * writes what fits and sets the overflow flag. Internal to the inline functions below. */
void ntk_sb_putn_slow(struct ntk_sb *sb, const char *s, size_t n);

/* Appends exactly n bytes from s (which need not be NUL-terminated).
 * This and ntk_sb_putc are C99 inline definitions (sb.c holds the external ones): report
 * writers call them for every field of every line. */
inline void ntk_sb_putn(struct ntk_sb *sb, const char *s, size_t n)
{
    if (!sb->overflow && n < sb->cap - sb->len) {
        char *d = sb->p + sb->len;
        if (n <= 16) {
            for (size_t i = 0; i < n; i++) {
                d[i] = s[i];
            }
        } else {
            memcpy(d, s, n);
        }
        sb->len += n;
        sb->p[sb->len] = '\0';
        return;
    }
    ntk_sb_putn_slow(sb, s, n);
}

/* Appends the NUL-terminated string s (inline too: a literal's length is then known when
 * compiling). */
inline void ntk_sb_puts(struct ntk_sb *sb, const char *s)
{
    ntk_sb_putn(sb, s, strlen(s));
}

/* Appends one character. */
inline void ntk_sb_putc(struct ntk_sb *sb, char c)
{
    if (!sb->overflow && sb->cap - sb->len > 1) {
        sb->p[sb->len++] = c;
        sb->p[sb->len] = '\0';
        return;
    }
    ntk_sb_putn_slow(sb, &c, 1);
}

/* Appends printf-formatted text (vsnprintf underneath, bounded by the room left). */
void ntk_sb_printf(struct ntk_sb *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Same with a va_list. */
void ntk_sb_vprintf(struct ntk_sb *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Appends n bytes as lowercase hex, two digits a byte, no separators. */
void ntk_sb_hex(struct ntk_sb *sb, const uint8_t *p, size_t n);

/* How many decimals (max_dec down to 1) keep v within 8 columns, sign included: NTPsec's
 * f8dot4 (max_dec 4) and f8dot3 (3) tables, used by every peers table (ntpq, ntpmon, ntpd's
 * foreground status). -1 when even one does not fit (the caller prints an integer). */
int ntk_fit8_decimals(double v, int max_dec);

/* Returns the NUL-terminated text (the caller's array). */
const char *ntk_sb_str(const struct ntk_sb *sb);

/* Returns the text's length in bytes. */
size_t ntk_sb_len(const struct ntk_sb *sb);

/* Returns 0, or NTK_ENOSPC if anything was truncated. */
int ntk_sb_err(const struct ntk_sb *sb);

#endif /* NTK_SB_H */
