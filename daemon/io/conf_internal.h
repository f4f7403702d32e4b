/* SPDX-License-Identifier: BSD-2-Clause */
/* Shared between the conf_*.c files: one line split into tokens, the parse context, and the
 * helpers that take typed arguments from a line and report errors at the right column. */
#ifndef NTK_CONF_INTERNAL_H
#define NTK_CONF_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "ntk/tok.h"

/* One token of a line. */
struct ctok {
    struct ntk_span s; /* the text (without the quotes of a quoted string) */
    uint32_t col;      /* 1-based column of its first byte (the quote, if quoted) */
    bool quoted;       /* written as "..." */
};

/* A chain of the files being read, innermost first, for the cycle check. */
struct conf_frame {
    const char *real;            /* canonical path of the file */
    const struct conf_frame *up; /* the file that included it, NULL at the top */
};

/* What the parse of one text needs. */
struct conf_pctx {
    struct conf *c;                 /* the configuration being filled */
    struct conf_diags *d;           /* where problems go */
    const char *name;               /* the file name for messages */
    unsigned depth;                 /* include nesting, 0 for the top file */
    const struct conf_frame *stack; /* the files being read (NULL: conf_parse_text) */
    bool oom;                       /* memory ran out */
};

/* One line being parsed. */
struct cline {
    struct conf_pctx *px;           /* the parse */
    struct conf *c;                 /* px->c */
    uint32_t line;                  /* 1-based line number */
    uint32_t end_col;               /* column just after the last byte of the line */
    struct ctok t[CONF_TOKENS_MAX]; /* the tokens */
    size_t n;                       /* how many */
    size_t i;                       /* next token to take */
};

/* Adds a diagnostic for file name at line:col. */
void conf_diag_add(struct conf_diags *d, enum conf_sev sev, const char *name, uint32_t line,
                   uint32_t col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Reports an error at token k of the line (k == l->n: just after the end of the line).
 * Returns -1 so handlers can `return cl_err(...)`. */
int cl_err(struct cline *l, size_t k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A warning at token k. */
void cl_warn(struct cline *l, size_t k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* True when tokens are left. */
bool cl_more(const struct cline *l);

/* Takes the next token as an unquoted keyword-like word and returns its index, or reports
 * "<what>: missing ..." and returns -1. */
int cl_take(struct cline *l, const char *what);

/* Takes an unsigned integer in [lo, hi]. Returns 0 or -1 (reported). */
int cl_u32(struct cline *l, const char *what, uint32_t lo, uint32_t hi, uint32_t *out);

/* Takes a signed integer in [lo, hi]. */
int cl_int(struct cline *l, const char *what, int lo, int hi, int *out);

/* Takes a decimal number (optionally signed, with a fraction and an exponent) in [lo, hi]. */
int cl_double(struct cline *l, const char *what, double lo, double hi, double *out);

/* Takes a string (a file name, a list) into dst[cap]. */
int cl_str(struct cline *l, const char *what, char *dst, size_t cap);

/* Reports anything left on the line. Returns 0 or -1. */
int cl_end(struct cline *l);

/* The token k as a NUL-terminated string, cut to fit buf[64] and with unprintables as '?'
 * (for messages). */
const char *cl_show(const struct cline *l, size_t k, char buf[64]);

/* True when token k is exactly lit (unquoted). */
bool cl_is(const struct cline *l, size_t k, const char *lit);

/* Parses text into px (the body of conf_parse_text). */
void conf_parse_lines(struct conf_pctx *px, const char *text, size_t len);

/* Directive handlers: each gets the line with the keyword taken and returns 0 or -1. */
int conf_do_server(struct cline *l);
int conf_do_restrict(struct cline *l);
int conf_do_discard(struct cline *l);
int conf_do_limit(struct cline *l);
int conf_do_mru(struct cline *l);
int conf_do_tos(struct cline *l);
int conf_do_tinker(struct cline *l);
int conf_do_path(struct cline *l);
int conf_do_statistics(struct cline *l);
int conf_do_filegen(struct cline *l);
int conf_do_logconfig(struct cline *l);
int conf_do_trustedkey(struct cline *l);
int conf_do_controlkey(struct cline *l);
int conf_do_interface(struct cline *l);
int conf_do_setvar(struct cline *l);
int conf_do_enable(struct cline *l);
int conf_do_nts(struct cline *l);
int conf_do_leapsmear(struct cline *l);
int conf_do_rlimit(struct cline *l);
int conf_do_include(struct cline *l);
int conf_do_refclock(struct cline *l);
int conf_do_fudge(struct cline *l);
int conf_do_unpeer(struct cline *l);
int conf_do_nonvolatile(struct cline *l);
int conf_do_dscp(struct cline *l);
int conf_do_mdnstries(struct cline *l);
int conf_do_reset(struct cline *l);
int conf_do_tick(struct cline *l);
int conf_do_phone(struct cline *l);

/* True for an IPv4 address 127.127.x.y: NTP Classic's name of a reference clock. */
bool conf_is_refclock_addr(const struct ntk_addr *a);

/* `server 127.127.TYPE.UNIT [options]` (token k is the address, the cursor after it): the
 * refclock of that driver and unit with the refclock line's options. Returns 0 or -1. */
int conf_refclock_server(struct cline *l, size_t k, const struct ntk_addr *a);

/* The type number of a driver named as in `refclock NAME` (NTPsec's numbers; sock 47), or
 * -1 for an unknown name. */
int conf_clock_type(const char *name);

/* Stores a fudge or unpeer line (its file, line and token k's column) for conf_later_apply.
 * Returns 0 or -1 (reported). */
int conf_later_add(struct cline *l, size_t k, const struct conf_later *item);

/* Ends a conf_parse_* call (parse_depth was raised at its start): the outermost one applies
 * the fudge and unpeer lines, warning about those that match nothing. */
void conf_parse_done(struct conf *c, struct conf_diags *d);

/* Applies a fudge to the refclocks with its type and unit; false when there is none. */
bool conf_fudge_apply(struct conf *c, const struct conf_later *f);

/* Removes the server lines (by address or name) or refclocks an unpeer names; false when
 * nothing matched. */
bool conf_unpeer_apply(struct conf *c, const struct conf_later *u);

/* Removes the refclocks of type and unit; false when there was none. */
bool conf_unpeer_clock(struct conf *c, uint8_t type, uint8_t unit);

/* includefile of path (NUL-terminated, as written) from a file being read: a file or a
 * directory's *.conf files. Reports problems at token k of l. Returns 0 or -1. */
int conf_include_path(struct cline *l, size_t k, const char *path);

/* Grows *arr (elements of size sz) so one more fits below max. Returns 0 or -1. */
int conf_grow(void **arr, size_t *cap, size_t n, size_t sz, size_t max);

#endif /* NTK_CONF_INTERNAL_H */
