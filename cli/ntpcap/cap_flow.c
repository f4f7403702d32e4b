/* SPDX-License-Identifier: BSD-2-Clause */
/* The flow table: a chained hash over a pool grown on demand up to a bound, with an LRU list
 * for eviction, and the statistics derived from each flow's rings. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cap_flow.h"

#include "cap_table.h"
#include "ntk/err.h"

#include "poison.h"

static uint32_t key_hash(const struct ntk_addr *c, const struct ntk_addr *s)
{
    uint64_t w[4];
    memcpy(w, c->ip, 16);
    memcpy(w + 2, s->ip, 16);
    uint64_t h = cap_mix(w[0] ^ (uint64_t)c->family);
    h = cap_mix(h ^ w[1]);
    h = cap_mix(h ^ w[2] ^ ((uint64_t)s->port << 8 | (uint64_t)s->family));
    return (uint32_t)cap_mix(h ^ w[3]);
}

int cap_flows_init(struct cap_flows *t, size_t max)
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

void cap_flows_free(struct cap_flows *t)
{
    free(t->ent);
    free(t->bucket);
    memset(t, 0, sizeof *t);
}

static struct cap_flow_ent *at(struct cap_flows *t, uint32_t i1)
{
    return i1 ? &t->ent[i1 - 1] : NULL;
}

static uint32_t idx1(const struct cap_flows *t, const struct cap_flow_ent *e)
{
    return (uint32_t)(e - t->ent) + 1;
}

static void lru_unlink(struct cap_flows *t, struct cap_flow_ent *e)
{
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
    e->newer = e->older = 0;
}

static void lru_front(struct cap_flows *t, struct cap_flow_ent *e)
{
    uint32_t me = idx1(t, e);
    e->older = t->newest;
    e->newer = 0;
    if (t->newest) {
        t->ent[t->newest - 1].newer = me;
    } else {
        t->oldest = me;
    }
    t->newest = me;
}

static void unhash(struct cap_flows *t, struct cap_flow_ent *e)
{
    uint32_t me = idx1(t, e);
    uint32_t *pp = &t->bucket[e->hash & (t->nbucket - 1)];
    while (*pp && *pp != me) {
        pp = &t->ent[*pp - 1].hnext;
    }
    if (*pp) {
        *pp = e->hnext;
    }
}

/* A free entry: grown pool, or NULL when the table is at its bound. */
static struct cap_flow_ent *take(struct cap_flows *t)
{
    if (t->free_head) {
        struct cap_flow_ent *e = at(t, t->free_head);
        t->free_head = e->hnext;
        return e;
    }
    if (t->alloc == t->max) {
        return NULL;
    }
    size_t na = t->alloc ? t->alloc * 2 : 64;
    na = na > t->max ? t->max : na;
    struct cap_flow_ent *ne = realloc(t->ent, na * sizeof *ne);
    if (!ne) {
        return NULL;
    }
    t->ent = ne;
    for (size_t i = na; i > t->alloc + 1; i--) {
        ne[i - 1].hnext = t->free_head;
        t->free_head = (uint32_t)i;
    }
    struct cap_flow_ent *e = &ne[t->alloc];
    t->alloc = na;
    return e;
}

struct cap_flow_ent *cap_flows_get(struct cap_flows *t, const struct ntk_addr *client,
                                   const struct ntk_addr *server, bool *created,
                                   cap_flow_cb evict, void *ctx, uint64_t *evicted)
{
    struct ntk_addr c = *client;
    c.port = 0;
    uint32_t h = key_hash(&c, server);
    for (uint32_t i = t->bucket[h & (t->nbucket - 1)]; i;) {
        struct cap_flow_ent *e = at(t, i);
        if (e->hash == h && cap_addr_same(&e->f.client, &c) &&
            cap_addr_same(&e->f.server, server)) {
            if (t->newest != i) {
                lru_unlink(t, e);
                lru_front(t, e);
            }
            *created = false;
            return e;
        }
        i = e->hnext;
    }
    struct cap_flow_ent *e = NULL;
    if (t->n == t->max) {
        e = &t->ent[t->oldest - 1];
        e->f.evicted = true;
        evict(ctx, e);
        (*evicted)++;
        unhash(t, e);
        lru_unlink(t, e);
        t->n--;
    } else {
        e = take(t);
        if (!e) {
            return NULL;
        }
    }
    memset(e, 0, sizeof *e);
    e->f.client = c;
    e->f.server = *server;
    e->hash = h;
    uint32_t *b = &t->bucket[h & (t->nbucket - 1)];
    e->hnext = *b;
    *b = idx1(t, e);
    lru_front(t, e);
    t->n++;
    *created = true;
    return e;
}

struct cap_flow_ent *cap_flows_find(struct cap_flows *t, const struct ntk_addr *client,
                                    const struct ntk_addr *server)
{
    struct ntk_addr c = *client;
    c.port = 0;
    uint32_t h = key_hash(&c, server);
    for (uint32_t i = t->bucket[h & (t->nbucket - 1)]; i;) {
        struct cap_flow_ent *e = &t->ent[i - 1];
        if (e->hash == h && cap_addr_same(&e->f.client, &c) &&
            cap_addr_same(&e->f.server, server)) {
            return e;
        }
        i = e->hnext;
    }
    return NULL;
}

void cap_flows_each(struct cap_flows *t, cap_flow_cb cb, void *ctx)
{
    for (uint32_t i = t->oldest; i;) {
        struct cap_flow_ent *e = at(t, i);
        i = e->newer;
        cb(ctx, e);
    }
}

void cap_ring_push(struct cap_ring *r, double v)
{
    r->v[r->n % CAP_FLOW_RING] = (float)v;
    r->n++;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

double cap_ring_median(const struct cap_ring *r)
{
    size_t n = r->n < CAP_FLOW_RING ? r->n : CAP_FLOW_RING;
    if (n == 0) {
        return NAN;
    }
    float v[CAP_FLOW_RING];
    memcpy(v, r->v, n * sizeof v[0]);
    qsort(v, n, sizeof v[0], cmp_float);
    return n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
}

void cap_flow_finalize(struct cap_flow_ent *e)
{
    static const char *const auth[] = {"none", "none",  "mac",   "mixed",
                                       "nts",  "mixed", "mixed", "mixed"};
    e->f.delay_med_s = cap_ring_median(&e->delay);
    e->f.offset_med_s = cap_ring_median(&e->offset);
    /* The poll interval needs at least 2 intervals (3 requests) to mean anything. */
    e->f.poll_s = e->poll.n >= 2 ? cap_ring_median(&e->poll) : NAN;
    e->f.amplification =
        e->f.bytes_c2s ? (double)e->f.bytes_s2c / (double)e->f.bytes_c2s : NAN;
    e->f.auth = auth[e->auth_seen & 7];
    e->f.loss = e->f.requests ? (double)e->f.unmatched_req / (double)e->f.requests : NAN;
    e->f.jitter_s = e->jit_n ? sqrt(e->jit_sum2 / (double)e->jit_n) : NAN;
}

void cap_flow_offset(struct cap_flow_ent *e, double offset_s)
{
    if (e->have_off) {
        double d = offset_s - e->last_off;
        e->jit_sum2 += d * d;
        e->jit_n++;
    }
    e->have_off = true;
    e->last_off = offset_s;
}
