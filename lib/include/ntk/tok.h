/* SPDX-License-Identifier: BSD-2-Clause */
/* A text tokenizer with a maximum on every token: the way lib/ reads config lines, key files,
 * leap files and mode-6 variable lists (STYLE.md §3.3 rule 7; curl's STRPARSE).
 *
 * A struct ntk_tok is a cursor over text that need not be NUL-terminated. Every ntk_tok_*
 * call that takes a token advances the cursor only on success: on failure it returns a
 * negative enum ntk_err and the position is unchanged, so the caller can report the column.
 * A struct ntk_span is a borrowed (pointer, length) view of part of the text; spans are not
 * NUL-terminated.
 */
#ifndef NTK_TOK_H
#define NTK_TOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A borrowed slice of text. */
struct ntk_span {
    const char *p; /* first character (not NUL-terminated) */
    size_t len;    /* length in bytes */
};

/* Tokenizer cursor; callers use the functions, not the fields. */
struct ntk_tok {
    const char *p; /* text (borrowed) */
    size_t len;    /* its length in bytes */
    size_t off;    /* next unread byte, 0..len */
};

/* Starts a tokenizer over len bytes of text at p. */
void ntk_tok_init(struct ntk_tok *t, const char *p, size_t len);

/* Starts a tokenizer over a span. */
void ntk_tok_init_span(struct ntk_tok *t, struct ntk_span s);

/* True when no text is left. */
bool ntk_tok_eof(const struct ntk_tok *t);

/* Returns the byte offset of the cursor from the start of the text (for column numbers). */
size_t ntk_tok_pos(const struct ntk_tok *t);

/* Returns the next character without consuming it, or -1 at the end. */
int ntk_tok_peek(const struct ntk_tok *t);

/* Takes the next line: the text up to '\n' (not included, nor a '\r' before it) and
 * advances past the '\n'. The last line need not end in '\n'. Returns 0; NTK_ETRUNC when no
 * text is left; NTK_ERANGE when the line is longer than max bytes (cursor unchanged: use
 * ntk_tok_skip_line to go on). */
int ntk_tok_line(struct ntk_tok *t, struct ntk_span *line, size_t max);

/* Advances past the rest of the current line and its '\n'. */
void ntk_tok_skip_line(struct ntk_tok *t);

/* Skips spaces and tabs (not line ends). */
void ntk_tok_skip_ws(struct ntk_tok *t);

/* Takes a word: a non-empty run of characters other than space, tab, '\r' and '\n'.
 * Returns 0; NTK_EFORMAT when none is there; NTK_ERANGE when longer than max. */
int ntk_tok_word(struct ntk_tok *t, struct ntk_span *word, size_t max);

/* Takes a run (possibly empty) of characters none of which is in stops (a NUL-terminated
 * set). Returns 0, or NTK_ERANGE when the run is longer than max. */
int ntk_tok_until(struct ntk_tok *t, const char *stops, struct ntk_span *run, size_t max);

/* Consumes c if it is the next character; returns whether it did. */
bool ntk_tok_accept(struct ntk_tok *t, char c);

/* Takes an unsigned decimal number of at most 20 digits and value <= max.
 * Returns 0; NTK_EFORMAT when no digit is there; NTK_ERANGE when it exceeds max. */
int ntk_tok_u64(struct ntk_tok *t, uint64_t *out, uint64_t max);

/* The value 0..15 of the hex digit c (either case), or -1 if c is not one. Takes an int so
 * that ntk_tok_peek's -1 (end of text) can be passed straight in. */
int ntk_tok_hexdigit(int c);

/* True if s is exactly the NUL-terminated lit (case-sensitive / ASCII case-insensitive). */
bool ntk_span_eq(struct ntk_span s, const char *lit);
bool ntk_span_caseeq(struct ntk_span s, const char *lit);

/* Returns s without leading and trailing spaces, tabs, '\r' and '\n'. */
struct ntk_span ntk_span_trim(struct ntk_span s);

/* Copies s into dst[cap] NUL-terminated. Returns 0, or NTK_ENOSPC (dst holds "") when s and
 * the NUL do not fit, or NTK_EFORMAT when s contains a NUL byte. */
int ntk_span_cstr(struct ntk_span s, char *dst, size_t cap);

/* Parses the whole span as an unsigned decimal number <= max (no sign, no spaces).
 * Returns 0 and writes *out; NTK_EFORMAT or NTK_ERANGE otherwise (*out untouched). */
int ntk_span_u64(struct ntk_span s, uint64_t *out, uint64_t max);

/* Decodes the whole span as hex digits (either case, even count) into dst[cap]. Returns the
 * byte count (>= 0); NTK_EFORMAT for an odd count or a non-hex digit; NTK_ENOSPC when the
 * result does not fit. */
int ntk_span_hex(struct ntk_span s, uint8_t *dst, size_t cap);

#endif /* NTK_TOK_H */
