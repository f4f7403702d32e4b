/* SPDX-License-Identifier: BSD-2-Clause */
/* RFC 7822 extension fields: a sticky-error walker and a padding builder (ntk/ef.h). */
#include "ntk/ef.h"
#include "ntk/err.h"

#include <string.h>

#include "poison.h"

/* Rounds n up to a multiple of 4; n is at most a few times NTK_EF_MAX_LEN here. */
static size_t align4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

void ntk_ef_iter_init(struct ntk_ef_iter *it, const struct ntk_rd *area, size_t min_len)
{
    it->rd = *area;
    it->min_len = min_len < NTK_EF_HDR_LEN ? NTK_EF_HDR_LEN : min_len;
    it->err = ntk_rd_err(area);
}

/* Poisons the walk: the error and an exhausted cursor stay for every later call. */
static int fail(struct ntk_ef_iter *it, int err)
{
    it->err = err;
    ntk_rd_fail(&it->rd, err);
    return err;
}

int ntk_ef_next(struct ntk_ef_iter *it, struct ntk_ef *out)
{
    if (it->err != NTK_OK) {
        return it->err;
    }
    size_t left = ntk_rd_left(&it->rd);
    if (left == 0) {
        return 0;
    }
    if (left < NTK_EF_HDR_LEN) {
        return fail(it, NTK_ETRUNC);
    }
    size_t off = ntk_rd_pos(&it->rd);
    struct ntk_rd peek = it->rd;
    uint16_t type = ntk_rd_be16(&peek);
    size_t len = ntk_rd_be16(&peek);
    /* RFC 7822: a multiple of 4 (the padding rule) and at least the minimum. */
    if (len < it->min_len || len % 4 != 0) {
        return fail(it, NTK_EFORMAT);
    }
    if (len > left) {
        return fail(it, NTK_ETRUNC);
    }
    struct ntk_rd field;
    (void)ntk_rd_sub(&it->rd, len, &field); /* cannot fail: len <= left */
    ntk_rd_skip(&field, NTK_EF_HDR_LEN);
    out->type = type;
    out->len = len;
    out->off = off;
    (void)ntk_rd_sub(&field, len - NTK_EF_HDR_LEN, &out->body);
    return 1;
}

size_t ntk_ef_iter_left(const struct ntk_ef_iter *it)
{
    return it->err ? 0 : ntk_rd_left(&it->rd);
}

int ntk_ef_iter_err(const struct ntk_ef_iter *it)
{
    return it->err;
}

size_t ntk_ef_wire_len(size_t body_len, size_t min_len)
{
    if (body_len > NTK_EF_MAX_LEN || min_len > NTK_EF_MAX_LEN) {
        return 0; /* also keeps the additions below from wrapping */
    }
    size_t len = align4(NTK_EF_HDR_LEN + body_len);
    size_t min = align4(min_len);
    if (len < min) {
        len = min;
    }
    return len <= NTK_EF_MAX_LEN ? len : 0;
}

/* Fails w for good, so that a caller who only tests ntk_wr_err() sees the error too. */
static int fail_wr(struct ntk_wr *w, int err)
{
    (void)ntk_wr_reserve(w, SIZE_MAX);
    return err;
}

int ntk_ef_put(struct ntk_wr *w, uint16_t type, const void *body, size_t len)
{
    return ntk_ef_put_min(w, type, body, len, NTK_EF_MIN_LEN);
}

int ntk_ef_put_min(struct ntk_wr *w, uint16_t type, const void *body, size_t len,
                   size_t min_len)
{
    size_t total = ntk_ef_wire_len(len, min_len);
    if (total == 0) {
        return fail_wr(w, NTK_ERANGE);
    }
    /* Reserve the whole field first: a field that does not fit leaves nothing behind. */
    uint8_t *q = ntk_wr_reserve(w, total);
    if (!q) {
        return NTK_ENOSPC;
    }
    q[0] = (uint8_t)(type >> 8);
    q[1] = (uint8_t)type;
    q[2] = (uint8_t)(total >> 8);
    q[3] = (uint8_t)total;
    if (len > 0) {
        memcpy(q + NTK_EF_HDR_LEN, body, len);
    }
    memset(q + NTK_EF_HDR_LEN + len, 0, total - NTK_EF_HDR_LEN - len);
    return NTK_OK;
}

size_t ntk_ef_begin(struct ntk_wr *w, uint16_t type)
{
    size_t start = ntk_wr_len(w);
    ntk_wr_be16(w, type);
    ntk_wr_be16(w, 0); /* patched by ntk_ef_end */
    return start;
}

int ntk_ef_end(struct ntk_wr *w, size_t start, size_t min_len)
{
    if (ntk_wr_err(w) != NTK_OK) {
        return NTK_ENOSPC;
    }
    size_t written = ntk_wr_len(w);
    if (start > written || written - start < NTK_EF_HDR_LEN) {
        return fail_wr(w, NTK_EINVAL);
    }
    size_t total = ntk_ef_wire_len(written - start - NTK_EF_HDR_LEN, min_len);
    if (total == 0) {
        return fail_wr(w, NTK_ERANGE);
    }
    ntk_wr_zero(w, total - (written - start));
    if (ntk_wr_err(w) != NTK_OK) {
        return NTK_ENOSPC;
    }
    ntk_wr_patch_be16(w, start + 2, (uint16_t)total);
    return NTK_OK;
}
