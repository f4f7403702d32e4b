/* SPDX-License-Identifier: BSD-2-Clause */
/* Bounded read and write cursors: the only way lib/ touches bytes from outside.
 *
 * Every read checks its own bounds. On the first failure the cursor is poisoned: err is set,
 * the read position jumps to the end, and every later read returns zeros. Decode a whole
 * header straight-line and test ntk_rd_err() once (STYLE.md §3.3). Multi-byte values are
 * big-endian on the wire and host-order in the results.
 *
 * Write cursors are the mirror image: a write that does not fit sets err = NTK_ENOSPC, leaves
 * the position unchanged, and every later write does nothing. Never send a buffer whose
 * cursor has err set.
 *
 * Callers never touch the fields directly; they are public only so cursors live on the stack.
 */
#ifndef NTK_BUF_H
#define NTK_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntk/err.h"

/* A read cursor over len bytes at p. */
struct ntk_rd {
    const uint8_t *p; /* first byte (borrowed, not owned) */
    size_t len;       /* number of readable bytes at p */
    size_t off;       /* next byte to read, 0..len */
    int err;          /* 0 or the first enum ntk_err that occurred (sticky) */
};

/* A write cursor over cap bytes at p. */
struct ntk_wr {
    uint8_t *p; /* first byte (borrowed, not owned) */
    size_t cap; /* capacity in bytes */
    size_t off; /* bytes written so far, 0..cap */
    int err;    /* 0 or NTK_ENOSPC (sticky) */
};

/* Starts a read cursor over the len bytes at p (p may be NULL when len is 0). */
void ntk_rd_init(struct ntk_rd *r, const void *p, size_t len);

/* Poisons the cursor with err (a negative enum ntk_err) unless it already failed: for a
 * caller that found a semantic error in what it read. */
void ntk_rd_fail(struct ntk_rd *r, int err);

/* Reads one unsigned 8/16/32/64-bit big-endian value and advances. Returns 0 and poisons the
 * cursor with NTK_ETRUNC when fewer bytes are left.
 * These four are C99 inline definitions (buf.c holds the external ones): a decoder calls
 * them for every field of every packet, and a call per byte was a tenth of ntpcap's time. */
inline uint8_t ntk_rd_u8(struct ntk_rd *r)
{
    if (r->err == NTK_OK && r->len - r->off >= 1) {
        return r->p[r->off++];
    }
    ntk_rd_fail(r, NTK_ETRUNC);
    return 0;
}

inline uint16_t ntk_rd_be16(struct ntk_rd *r)
{
    if (r->err == NTK_OK && r->len - r->off >= 2) {
        const uint8_t *q = r->p + r->off;
        r->off += 2;
        return (uint16_t)((unsigned)q[0] << 8 | q[1]);
    }
    ntk_rd_fail(r, NTK_ETRUNC);
    return 0;
}

inline uint32_t ntk_rd_be32(struct ntk_rd *r)
{
    if (r->err == NTK_OK && r->len - r->off >= 4) {
        const uint8_t *q = r->p + r->off;
        r->off += 4;
        return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
    }
    ntk_rd_fail(r, NTK_ETRUNC);
    return 0;
}

inline uint64_t ntk_rd_be64(struct ntk_rd *r)
{
    if (r->err == NTK_OK && r->len - r->off >= 8) {
        const uint8_t *q = r->p + r->off;
        r->off += 8;
        uint64_t v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | q[i];
        }
        return v;
    }
    ntk_rd_fail(r, NTK_ETRUNC);
    return 0;
}

/* Copies the next n bytes to dst and advances. On a short read dst is zero-filled and the
 * cursor poisoned with NTK_ETRUNC. */
void ntk_rd_bytes(struct ntk_rd *r, void *dst, size_t n);

/* Borrows the next n bytes in place and advances past them. Returns NULL (and poisons with
 * NTK_ETRUNC) when fewer than n are left; a pointer into the cursor's buffer otherwise. */
const uint8_t *ntk_rd_ptr(struct ntk_rd *r, size_t n);

/* Skips n bytes; poisons with NTK_ETRUNC if fewer are left. */
void ntk_rd_skip(struct ntk_rd *r, size_t n);

/* Hands out a child cursor confined to the next n bytes and advances the parent past them.
 * Returns 0, or NTK_ETRUNC (parent poisoned, child empty and poisoned too) when fewer than n
 * bytes are left. The child can never read into what follows in the parent. */
int ntk_rd_sub(struct ntk_rd *r, size_t n, struct ntk_rd *child);

/* Returns the bytes left to read (0 once poisoned). */
size_t ntk_rd_left(const struct ntk_rd *r);

/* Returns the current read position: bytes consumed since the start. */
size_t ntk_rd_pos(const struct ntk_rd *r);

/* Returns a pointer to the next unread byte without consuming it (valid for ntk_rd_left()
 * bytes); NULL when nothing is left. */
const uint8_t *ntk_rd_peek(const struct ntk_rd *r);

/* Returns 0 or the first error the cursor met. */
int ntk_rd_err(const struct ntk_rd *r);

/* Starts a write cursor over cap bytes at p. */
void ntk_wr_init(struct ntk_wr *w, void *p, size_t cap);

/* Appends one 8/16/32/64-bit value big-endian; on overflow sets NTK_ENOSPC, writes nothing. */
void ntk_wr_u8(struct ntk_wr *w, uint8_t v);
void ntk_wr_be16(struct ntk_wr *w, uint16_t v);
void ntk_wr_be32(struct ntk_wr *w, uint32_t v);
void ntk_wr_be64(struct ntk_wr *w, uint64_t v);

/* Appends n bytes from src (src may be NULL when n is 0). */
void ntk_wr_bytes(struct ntk_wr *w, const void *src, size_t n);

/* Appends n zero bytes. */
void ntk_wr_zero(struct ntk_wr *w, size_t n);

/* Reserves the next n bytes for the caller to fill later and advances past them. Returns a
 * pointer to them, or NULL (NTK_ENOSPC set) when they do not fit. */
uint8_t *ntk_wr_reserve(struct ntk_wr *w, size_t n);

/* Overwrites 2 already-written bytes at position pos with v big-endian (for back-patching a
 * length field). Sets NTK_EINVAL if pos + 2 is beyond what was written. */
void ntk_wr_patch_be16(struct ntk_wr *w, size_t pos, uint16_t v);

/* Returns the number of bytes written. */
size_t ntk_wr_len(const struct ntk_wr *w);

/* Returns the bytes of room left (0 once failed). */
size_t ntk_wr_room(const struct ntk_wr *w);

/* Returns 0 or the first error the cursor met. */
int ntk_wr_err(const struct ntk_wr *w);

#endif /* NTK_BUF_H */
