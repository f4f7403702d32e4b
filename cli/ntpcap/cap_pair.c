/* SPDX-License-Identifier: BSD-2-Clause */
/* The pending-request table: a chained hash over a pool of entries grown on demand up to a
 * bound, with the entries also linked in arrival order for expiry and eviction. */
#include <stdlib.h>
#include <string.h>

#include "cap_pair.h"

#include "cap_table.h"
#include "ntk/err.h"

#include "poison.h"

/* An address folded into one mixed word (bytes, port, family). */
static uint64_t addr_word(const struct ntk_addr *a)
{
    uint64_t w[2];
    memcpy(w, a->ip, sizeof w);
    return cap_mix(w[0] ^ cap_mix(w[1] ^ ((uint64_t)a->port << 32 | (uint64_t)a->family)));
}

uint32_t cap_pairs_hash(const struct ntk_addr *c, const struct ntk_addr *s,
                        enum cap_xkind kind, uint64_t id)
{
    return (uint32_t)cap_mix(addr_word(c) ^ cap_mix(addr_word(s) + (uint64_t)kind) ^
                             cap_mix(id));
}

int cap_pairs_init(struct cap_pairs *t, size_t max)
{
    memset(t, 0, sizeof *t);
    t->max = max ? max : 1;
    if (t->max > UINT32_MAX / 2) {
        t->max = UINT32_MAX / 2;
    }
    t->nbucket = cap_buckets(t->max);
    t->bucket = calloc(t->nbucket, sizeof *t->bucket);
    return t->bucket ? 0 : NTK_ENOMEM;
}

static void drop_reasm(struct cap_pairs *t, struct cap_pend *e)
{
    if (e->ra == NULL && e->ra_buf == NULL) {
        return; /* all but mode 6: no call to free on every answer */
    }
    if (e->ra) {
        t->n_reasm--;
    }
    free(e->ra);
    free(e->ra_buf);
    e->ra = NULL;
    e->ra_buf = NULL;
}

void cap_pairs_free(struct cap_pairs *t)
{
    for (size_t i = 0; i < t->alloc; i++) {
        drop_reasm(t, &t->ent[i]);
    }
    free(t->ent);
    free(t->bucket);
    memset(t, 0, sizeof *t);
}

static struct cap_pend *at(struct cap_pairs *t, uint32_t i1)
{
    return i1 ? &t->ent[i1 - 1] : NULL;
}

static uint32_t idx1(const struct cap_pairs *t, const struct cap_pend *e)
{
    return (uint32_t)(e - t->ent) + 1;
}

void cap_pairs_remove(struct cap_pairs *t, struct cap_pend *e)
{
    uint32_t me = idx1(t, e);
    uint32_t *pp = &t->bucket[e->hash & (t->nbucket - 1)];
    while (*pp && *pp != me) {
        pp = &t->ent[*pp - 1].hnext;
    }
    if (*pp) {
        *pp = e->hnext;
    }
    if (e->newer) {
        t->ent[e->newer - 1].older = e->older;
    } else {
        t->newest = e->older;
    }
    if (e->older) {
        t->ent[e->older - 1].newer = e->newer;
    } else {
        t->oldest = e->newer;
    }
    drop_reasm(t, e);
    /* Not the whole entry cleared (a kilobyte, on every answer): cap_pairs_add sets every
     * field but the response copy, which is read only once resp_frags says it is there. */
    e->used = false;
    e->hnext = t->free_head;
    t->free_head = me;
    t->n--;
}

void cap_pairs_prefetch(const struct cap_pairs *t, uint32_t h, int stage)
{
    const uint32_t *b = &t->bucket[h & (t->nbucket - 1)];
    if (stage == 0) {
        __builtin_prefetch(b);
    } else if (*b != 0) {
        /* What the lookup compares: the request's addresses, then kind, id and hash. */
        const struct cap_pend *e = &t->ent[*b - 1];
        __builtin_prefetch(&e->req.src);
        __builtin_prefetch(&e->kind);
        __builtin_prefetch(&e->hash);
    }
}

/* A free entry: from the free list, or by growing the pool. */
static struct cap_pend *take(struct cap_pairs *t)
{
    if (t->free_head) {
        struct cap_pend *e = at(t, t->free_head);
        t->free_head = e->hnext;
        e->hnext = 0;
        return e;
    }
    if (t->alloc == t->max) {
        return NULL;
    }
    size_t na = t->alloc ? t->alloc * 2 : 64;
    na = na > t->max ? t->max : na;
    struct cap_pend *ne = realloc(t->ent, na * sizeof *ne);
    if (!ne) {
        return NULL;
    }
    memset(ne + t->alloc, 0, (na - t->alloc) * sizeof *ne);
    t->ent = ne;
    for (size_t i = na; i > t->alloc + 1; i--) {
        ne[i - 1].hnext = t->free_head;
        t->free_head = (uint32_t)i;
    }
    struct cap_pend *e = &ne[t->alloc];
    t->alloc = na;
    return e;
}

struct cap_pend *cap_pairs_add(struct cap_pairs *t, const struct cap_pkt *req,
                               enum cap_xkind kind, uint64_t id, uint32_t h,
                               void (*drop)(void *ctx, struct cap_pend *e, bool full),
                               void *ctx)
{
    struct cap_pend *old = cap_pairs_find(t, &req->src, &req->dst, kind, id, h);
    if (old) {
        drop(ctx, old, false);
        cap_pairs_remove(t, old);
    }
    if (t->n == t->max) {
        struct cap_pend *o = &t->ent[t->oldest - 1];
        drop(ctx, o, true);
        cap_pairs_remove(t, o);
    }
    struct cap_pend *e = take(t);
    if (!e) {
        return NULL;
    }
    e->req = *req;
    e->kind = kind;
    e->id = id;
    e->req_bytes = req->payload_len;
    e->resp_bytes = 0;
    e->resp_frags = 0;
    e->ra = NULL; /* drop_reasm left it so; a new entry is zeroed */
    e->ra_buf = NULL;
    e->line_len = 0;
    e->used = true;
    e->hash = h;
    uint32_t me = idx1(t, e);
    uint32_t *b = &t->bucket[e->hash & (t->nbucket - 1)];
    e->hnext = *b;
    *b = me;
    e->older = t->newest;
    e->newer = 0;
    if (t->newest) {
        t->ent[t->newest - 1].newer = me;
    } else {
        t->oldest = me;
    }
    t->newest = me;
    t->n++;
    return e;
}

struct cap_pend *cap_pairs_find(struct cap_pairs *t, const struct ntk_addr *client,
                                const struct ntk_addr *server, enum cap_xkind kind,
                                uint64_t id, uint32_t h)
{
    for (uint32_t i = t->bucket[h & (t->nbucket - 1)]; i;) {
        struct cap_pend *e = at(t, i);
        if (e->hash == h && e->kind == kind && e->id == id &&
            cap_addr_same(&e->req.src, client) && cap_addr_same(&e->req.dst, server)) {
            return e;
        }
        i = e->hnext;
    }
    return NULL;
}

struct cap_pend *cap_pairs_oldest(struct cap_pairs *t)
{
    return at(t, t->oldest);
}

bool cap_pairs_reasm(struct cap_pairs *t, struct cap_pend *e)
{
    if (e->ra) {
        return true;
    }
    if (t->n_reasm >= CAP_PAIR_REASM_MAX) {
        return false;
    }
    e->ra = malloc(sizeof *e->ra);
    e->ra_buf = malloc(NTK_CTL_REASM_MAX);
    if (!e->ra || !e->ra_buf) {
        free(e->ra);
        free(e->ra_buf);
        e->ra = NULL;
        e->ra_buf = NULL;
        return false;
    }
    t->n_reasm++;
    ntk_ctl_reasm_init(e->ra, e->ra_buf, NTK_CTL_REASM_MAX, e->req.m6_opcode, e->req.m6_seq);
    return true;
}

size_t cap_pairs_count(const struct cap_pairs *t)
{
    return t->n;
}
