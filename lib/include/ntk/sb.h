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

/* Builder state; fields are public only so builders live on the stack. */
struct ntk_sb {
    char *p;       /* caller's array (borrowed) */
    size_t cap;    /* its size in bytes, including room for the NUL */
    size_t len;    /* characters written, excluding the NUL; always < cap */
    bool overflow; /* set once an append did not fit (sticky) */
};

/* Starts an empty builder over buf[cap] (cap >= 1; cap == 0 marks it overflowed at once). */
void ntk_sb_init(struct ntk_sb *sb, char *buf, size_t cap);

/* Appends the NUL-terminated string s. */
void ntk_sb_puts(struct ntk_sb *sb, const char *s);

/* Appends exactly n bytes from s (which need not be NUL-terminated). */
void ntk_sb_putn(struct ntk_sb *sb, const char *s, size_t n);

/* Appends one character. */
void ntk_sb_putc(struct ntk_sb *sb, char c);

/* Appends printf-formatted text (vsnprintf underneath, bounded by the room left). */
void ntk_sb_printf(struct ntk_sb *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Same with a va_list. */
void ntk_sb_vprintf(struct ntk_sb *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Appends n bytes as lowercase hex, two digits a byte, no separators. */
void ntk_sb_hex(struct ntk_sb *sb, const uint8_t *p, size_t n);

/* Returns the NUL-terminated text (the caller's array). */
const char *ntk_sb_str(const struct ntk_sb *sb);

/* Returns the text's length in bytes. */
size_t ntk_sb_len(const struct ntk_sb *sb);

/* Returns 0, or NTK_ENOSPC if anything was truncated. */
int ntk_sb_err(const struct ntk_sb *sb);

#endif /* NTK_SB_H */
