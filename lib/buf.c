/* SPDX-License-Identifier: BSD-2-Clause */
/* Bounded read/write cursors with sticky errors (ntk/buf.h). */
#include "ntk/buf.h"
#include "ntk/err.h"

#include <string.h>

#include "poison.h"

void ntk_rd_init(struct ntk_rd *r, const void *p, size_t len)
{
    r->p = p;
    r->len = p ? len : 0;
    r->off = 0;
    r->err = NTK_OK;
}

/* Written as len - off >= n so that a huge n cannot overflow the check. */
static bool have(const struct ntk_rd *r, size_t n)
{
    return r->err == NTK_OK && r->len - r->off >= n;
}

void ntk_rd_fail(struct ntk_rd *r, int err)
{
    if (r->err == NTK_OK) {
        r->err = err;
    }
    r->off = r->len; /* poison: nothing more can be read (ntpd-rs does the same) */
}

/* Returns a pointer to n bytes and advances, or NULL after poisoning. */
static const uint8_t *take(struct ntk_rd *r, size_t n)
{
    if (!have(r, n)) {
        ntk_rd_fail(r, NTK_ETRUNC);
        return NULL;
    }
    const uint8_t *q = r->p + r->off;
    r->off += n;
    return q;
}

/* The external definitions of buf.h's inline readers. */
extern inline uint8_t ntk_rd_u8(struct ntk_rd *r);
extern inline uint16_t ntk_rd_be16(struct ntk_rd *r);
extern inline uint32_t ntk_rd_be32(struct ntk_rd *r);
extern inline uint64_t ntk_rd_be64(struct ntk_rd *r);

void ntk_rd_bytes(struct ntk_rd *r, void *dst, size_t n)
{
    const uint8_t *q = take(r, n);
    if (q) {
        memcpy(dst, q, n);
    } else if (n > 0) {
        memset(dst, 0, n);
    }
}

const uint8_t *ntk_rd_ptr(struct ntk_rd *r, size_t n)
{
    return take(r, n);
}

void ntk_rd_skip(struct ntk_rd *r, size_t n)
{
    (void)take(r, n);
}

int ntk_rd_sub(struct ntk_rd *r, size_t n, struct ntk_rd *child)
{
    const uint8_t *q = take(r, n);
    ntk_rd_init(child, q, q ? n : 0);
    if (!q) {
        ntk_rd_fail(child, NTK_ETRUNC);
        return NTK_ETRUNC;
    }
    return NTK_OK;
}

size_t ntk_rd_left(const struct ntk_rd *r)
{
    return r->err ? 0 : r->len - r->off;
}

size_t ntk_rd_pos(const struct ntk_rd *r)
{
    return r->off;
}

const uint8_t *ntk_rd_peek(const struct ntk_rd *r)
{
    return ntk_rd_left(r) > 0 ? r->p + r->off : NULL;
}

int ntk_rd_err(const struct ntk_rd *r)
{
    return r->err;
}

void ntk_wr_init(struct ntk_wr *w, void *p, size_t cap)
{
    w->p = p;
    w->cap = p ? cap : 0;
    w->off = 0;
    w->err = NTK_OK;
}

uint8_t *ntk_wr_reserve(struct ntk_wr *w, size_t n)
{
    if (w->err != NTK_OK || w->cap - w->off < n) {
        w->err = NTK_ENOSPC;
        return NULL;
    }
    uint8_t *q = w->p + w->off;
    w->off += n;
    return q;
}

void ntk_wr_u8(struct ntk_wr *w, uint8_t v)
{
    uint8_t *q = ntk_wr_reserve(w, 1);
    if (q) {
        q[0] = v;
    }
}

void ntk_wr_be16(struct ntk_wr *w, uint16_t v)
{
    uint8_t *q = ntk_wr_reserve(w, 2);
    if (q) {
        q[0] = (uint8_t)(v >> 8);
        q[1] = (uint8_t)v;
    }
}

void ntk_wr_be32(struct ntk_wr *w, uint32_t v)
{
    uint8_t *q = ntk_wr_reserve(w, 4);
    if (q) {
        q[0] = (uint8_t)(v >> 24);
        q[1] = (uint8_t)(v >> 16);
        q[2] = (uint8_t)(v >> 8);
        q[3] = (uint8_t)v;
    }
}

void ntk_wr_be64(struct ntk_wr *w, uint64_t v)
{
    /* Reserve all 8 first so a failure never leaves half a value written. */
    uint8_t *q = ntk_wr_reserve(w, 8);
    for (int i = 0; q && i < 8; i++) {
        q[i] = (uint8_t)(v >> (56 - 8 * i));
    }
}

void ntk_wr_bytes(struct ntk_wr *w, const void *src, size_t n)
{
    uint8_t *q = ntk_wr_reserve(w, n);
    if (q && n > 0) {
        memcpy(q, src, n);
    }
}

void ntk_wr_zero(struct ntk_wr *w, size_t n)
{
    uint8_t *q = ntk_wr_reserve(w, n);
    if (q && n > 0) {
        memset(q, 0, n);
    }
}

void ntk_wr_patch_be16(struct ntk_wr *w, size_t pos, uint16_t v)
{
    if (w->err != NTK_OK) {
        return;
    }
    if (pos > w->off || w->off - pos < 2) {
        w->err = NTK_EINVAL;
        return;
    }
    w->p[pos] = (uint8_t)(v >> 8);
    w->p[pos + 1] = (uint8_t)v;
}

size_t ntk_wr_len(const struct ntk_wr *w)
{
    return w->off;
}

size_t ntk_wr_room(const struct ntk_wr *w)
{
    return w->err ? 0 : w->cap - w->off;
}

int ntk_wr_err(const struct ntk_wr *w)
{
    return w->err;
}
