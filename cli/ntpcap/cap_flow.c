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

/* The hash of client c (address and family: its port is not part of the key) and server s
 * (address, family and port). */
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
    free(t->lk);
    free(t->bucket);
    memset(t, 0, sizeof *t);
}

static void lru_unlink(struct cap_flows *t, uint32_t me)
{
    struct cap_flow_link *l = &t->lk[me - 1];
    if (l->newer) {
        t->lk[l->newer - 1].older = l->older;
    } else {
        t->newest = l->older;
    }
    if (l->older) {
        t->lk[l->older - 1].newer = l->newer;
    } else {
        t->oldest = l->newer;
    }
    l->newer = l->older = 0;
}

static void lru_front(struct cap_flows *t, uint32_t me)
{
    struct cap_flow_link *l = &t->lk[me - 1];
    l->older = t->newest;
    l->newer = 0;
    if (t->newest) {
        t->lk[t->newest - 1].newer = me;
    } else {
        t->oldest = me;
    }
    t->newest = me;
}

static void unhash(struct cap_flows *t, uint32_t me)
{
    uint32_t *pp = &t->bucket[t->lk[me - 1].hash & (t->nbucket - 1)];
    while (*pp && *pp != me) {
        pp = &t->lk[*pp - 1].hnext;
    }
    if (*pp) {
        *pp = t->lk[me - 1].hnext;
    }
}

/* Grows the pool (entries and links together) toward max. Returns false when it cannot. */
static bool grow(struct cap_flows *t)
{
    if (t->alloc == t->max) {
        return false;
    }
    size_t na = t->alloc ? t->alloc * 2 : 64;
    na = na > t->max ? t->max : na;
    struct cap_flow_ent *ne = realloc(t->ent, na * sizeof *ne);
    if (!ne) {
        return false;
    }
    t->ent = ne;
    struct cap_flow_link *nl = realloc(t->lk, na * sizeof *nl);
    if (!nl) {
        return false; /* ent is larger but alloc unchanged: consistent */
    }
    t->lk = nl;
    for (size_t i = na; i > t->alloc; i--) {
        nl[i - 1].hnext = t->free_head;
        t->free_head = (uint32_t)i;
    }
    t->alloc = na;
    return true;
}

/* A free entry's index + 1 (the pool grown when needed), or 0 when the table is at its
 * bound or out of memory. */
static uint32_t take(struct cap_flows *t)
{
    if (!t->free_head && !grow(t)) {
        return 0;
    }
    uint32_t i = t->free_head;
    t->free_head = t->lk[i - 1].hnext;
    return i;
}

/* The index + 1 of the flow of client (its port ignored) and server with hash h, or 0. The
 * client is compared in place, not through a copy with port 0: reading the copy back right
 * after writing it stalled on store forwarding, a sixth of this function's time. */
static uint32_t lookup(const struct cap_flows *t, const struct ntk_addr *client,
                       const struct ntk_addr *server, uint32_t h)
{
    for (uint32_t i = t->bucket[h & (t->nbucket - 1)]; i; i = t->lk[i - 1].hnext) {
        if (t->lk[i - 1].hash == h) {
            const struct cap_flow_ent *e = &t->ent[i - 1];
            if (e->f.client.family == client->family &&
                memcmp(e->f.client.ip, client->ip, sizeof client->ip) == 0 &&
                cap_addr_same(&e->f.server, server)) {
                return i;
            }
        }
    }
    return 0;
}

uint32_t cap_flows_hash(const struct ntk_addr *client, const struct ntk_addr *server)
{
    return key_hash(client, server); /* which reads no client port */
}

void cap_flows_prefetch(const struct cap_flows *t, uint32_t h, int stage)
{
    const uint32_t *b = &t->bucket[h & (t->nbucket - 1)];
    if (stage == 0) {
        __builtin_prefetch(b);
        return;
    }
    uint32_t i = *b;
    if (i == 0) {
        return;
    }
    __builtin_prefetch(&t->lk[i - 1]);
    const char *e = (const char *)&t->ent[i - 1];
    for (size_t off = 0; off < offsetof(struct cap_flow_ent, lim); off += 64) {
        __builtin_prefetch(e + off, 1);
    }
}

struct cap_flow_ent *cap_flows_get(struct cap_flows *t, const struct ntk_addr *client,
                                   const struct ntk_addr *server, uint32_t h, bool *created,
                                   cap_flow_cb evict, void *ctx, uint64_t *evicted)
{
    uint32_t i = lookup(t, client, server, h);
    if (i) {
        if (t->newest != i) {
            lru_unlink(t, i);
            lru_front(t, i);
        }
        *created = false;
        return &t->ent[i - 1];
    }
    if (t->n == t->max) {
        i = t->oldest;
        struct cap_flow_ent *old = &t->ent[i - 1];
        old->f.evicted = true;
        evict(ctx, old);
        (*evicted)++;
        unhash(t, i);
        lru_unlink(t, i);
        t->n--;
    } else {
        i = take(t);
        if (!i) {
            return NULL;
        }
    }
    struct cap_flow_ent *e = &t->ent[i - 1];
    memset(e, 0, sizeof *e);
    e->f.client = *client;
    e->f.client.port = 0;
    e->f.server = *server;
    struct cap_flow_link *l = &t->lk[i - 1];
    l->hash = h;
    uint32_t *b = &t->bucket[h & (t->nbucket - 1)];
    l->hnext = *b;
    *b = i;
    lru_front(t, i);
    t->n++;
    *created = true;
    return e;
}

struct cap_flow_ent *cap_flows_find(struct cap_flows *t, const struct ntk_addr *client,
                                    const struct ntk_addr *server)
{
    uint32_t i = lookup(t, client, server, key_hash(client, server));
    return i ? &t->ent[i - 1] : NULL;
}

/* Hints the whole of the entry of index + 1 i (when there is one) into the cache. */
static void prefetch_entry(const struct cap_flows *t, uint32_t i)
{
    if (i != 0) {
        const char *e = (const char *)&t->ent[i - 1];
        for (size_t off = 0; off < sizeof t->ent[0]; off += 64) {
            __builtin_prefetch(e + off);
        }
    }
}

void cap_flows_each(struct cap_flows *t, cap_flow_cb cb, void *ctx)
{
    /* LRU order is scattered over the pool, and the report of a flow reads all of its
     * entry (the rings for the medians): the entry two ahead is loaded meanwhile. */
    uint32_t ahead = t->oldest ? t->lk[t->oldest - 1].newer : 0;
    prefetch_entry(t, ahead);
    for (uint32_t i = t->oldest; i;) {
        struct cap_flow_ent *e = &t->ent[i - 1];
        i = t->lk[i - 1].newer;
        if (ahead != 0) {
            ahead = t->lk[ahead - 1].newer;
            prefetch_entry(t, ahead);
        }
        cb(ctx, e);
    }
}

void cap_flow_push_exchange(struct cap_flow_ent *e, double delay_s, double offset_s)
{
    float *slot = e->exch[e->n_exch % CAP_FLOW_RING];
    slot[0] = (float)delay_s;
    slot[1] = (float)offset_s;
    e->n_exch++;
}

void cap_flow_push_poll(struct cap_flow_ent *e, double interval_s)
{
    e->poll[e->n_poll % CAP_FLOW_RING] = (float)interval_s;
    e->n_poll++;
}

/* The k-th smallest (0-based) of v[0..n), n > k, partially reordering v: Hoare's selection,
 * linear on average; the medians of 20,000 flows' rings took 5 % of a capture's analysis
 * with qsort. The values are finite (the callers push only finite numbers). */
static float select_kth(float *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        float pivot = v[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        for (;;) {
            while (v[i] < pivot) {
                i++;
            }
            while (v[j] > pivot) {
                j--;
            }
            if (i >= j) {
                break;
            }
            float t = v[i];
            v[i] = v[j];
            v[j] = t;
            i++;
            j--;
        }
        /* v[lo..j] <= pivot <= v[j+1..hi] (Hoare's partition, j < hi). */
        if (k <= j) {
            hi = j;
        } else {
            lo = j + 1;
        }
    }
    return v[k];
}

double cap_ring_median(const float *ring, size_t stride, uint32_t pushed)
{
    size_t n = pushed < CAP_FLOW_RING ? pushed : CAP_FLOW_RING;
    if (n == 0) {
        return NAN;
    }
    /* Zeroed only for clang's analyzer, which loses track of the strided copy below. */
    float v[CAP_FLOW_RING] = {0};
    for (size_t i = 0; i < n; i++) {
        v[i] = ring[i * stride];
    }
    float hi = select_kth(v, n, n / 2);
    if (n % 2) {
        return (double)hi;
    }
    /* The lower middle is the largest of what selection left below n / 2. */
    float lo = v[0];
    for (size_t i = 1; i < n / 2; i++) {
        lo = v[i] > lo ? v[i] : lo;
    }
    return ((double)lo + (double)hi) / 2;
}

void cap_flow_finalize(struct cap_flow_ent *e)
{
    static const char *const auth[] = {"none", "none",  "mac",   "mixed",
                                       "nts",  "mixed", "mixed", "mixed"};
    e->f.delay_med_s = cap_ring_median(&e->exch[0][0], 2, e->n_exch);
    e->f.offset_med_s = cap_ring_median(&e->exch[0][1], 2, e->n_exch);
    /* The poll interval needs at least 2 intervals (3 requests) to mean anything. */
    e->f.poll_s = e->n_poll >= 2 ? cap_ring_median(e->poll, 1, e->n_poll) : NAN;
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
