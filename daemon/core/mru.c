/* SPDX-License-Identifier: BSD-2-Clause */
/* The MRU client table and rate limiter: fixed array, keyed hash, LRU list (see mru.h). */
#include "mru.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "restrict.h"

#include "poison.h"

#define NIL      UINT32_MAX
#define NS_PER_S 1000000000.0

struct ent {
    uint8_t ip[16];
    uint8_t family, mode, version;
    bool kod_sent; /* last_kod_mono_ns is meaningful */
    uint16_t port;
    uint32_t rflags;
    uint32_t hnext, prev, next; /* hash chain; LRU list (prev = newer) */
    int64_t first_ns, last_ns, drop_ns, kod_ns;
    uint64_t count, drops;
    double score;
};

struct mru {
    struct mru_cfg cfg;
    uint64_t k0, k1; /* SipHash key */
    struct ent *ents;
    uint32_t *buckets;
    uint32_t cap, used, nbuckets; /* nbuckets is a power of two */
    uint32_t head, tail;          /* newest, oldest */
    struct ent ovf;               /* the shared bucket of untracked clients */
    struct mru_stats st;
};

void mru_cfg_default(struct mru_cfg *c)
{
    *c = (struct mru_cfg){.maxmem_kib = 1024,
                          .maxdepth = 0,
                          .minage_s = 64,
                          .maxage_s = 3600,
                          .average_pps = 1.0,
                          .burst = 20,
                          .minimum_s = 2,
                          .kod_interval_s = 2};
}

static uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static void sipround(uint64_t v[4])
{
    v[0] += v[1], v[1] = rotl(v[1], 13), v[1] ^= v[0], v[0] = rotl(v[0], 32);
    v[2] += v[3], v[3] = rotl(v[3], 16), v[3] ^= v[2];
    v[0] += v[3], v[3] = rotl(v[3], 21), v[3] ^= v[0];
    v[2] += v[1], v[1] = rotl(v[1], 17), v[1] ^= v[2], v[2] = rotl(v[2], 32);
}

/* SipHash-1-3 of the 24-byte key block (family, address). */
static uint64_t siphash(uint64_t k0, uint64_t k1, const uint8_t in[24])
{
    uint64_t v[4] = {k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
                     k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL};
    for (int w = 0; w < 3; w++) {
        uint64_t m = 0;
        for (int i = 0; i < 8; i++) {
            m |= (uint64_t)in[w * 8 + i] << (8 * i);
        }
        v[3] ^= m;
        sipround(v);
        v[0] ^= m;
    }
    uint64_t b = (uint64_t)24 << 56;
    v[3] ^= b;
    sipround(v);
    v[0] ^= b;
    v[2] ^= 0xff;
    sipround(v);
    sipround(v);
    sipround(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static uint32_t bucket_of(const struct mru *m, uint8_t family, const uint8_t ip[16])
{
    uint8_t blk[24] = {0};
    blk[0] = family;
    memcpy(blk + 8, ip, 16);
    return (uint32_t)(siphash(m->k0, m->k1, blk) & (m->nbuckets - 1u));
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

struct mru *mru_new(const struct mru_cfg *cfg, const uint8_t seed[16])
{
    size_t per = sizeof(struct ent) + 2 * sizeof(uint32_t);
    size_t cap = cfg->maxmem_kib * 1024u / per;
    if (cfg->maxdepth > 0 && cfg->maxdepth < cap) {
        cap = cfg->maxdepth;
    }
    if (cap == 0 || cap >= NIL / 2) {
        return NULL;
    }
    struct mru *m = calloc(1, sizeof *m);
    if (!m) {
        return NULL;
    }
    m->cfg = *cfg;
    m->k0 = load64(seed);
    m->k1 = load64(seed + 8);
    m->cap = (uint32_t)cap;
    m->nbuckets = 1;
    while (m->nbuckets < m->cap) {
        m->nbuckets <<= 1;
    }
    m->ents = calloc(cap, sizeof *m->ents);
    m->buckets = malloc(m->nbuckets * sizeof *m->buckets);
    if (!m->ents || !m->buckets) {
        mru_free(m);
        return NULL;
    }
    memset(m->buckets, 0xff, m->nbuckets * sizeof *m->buckets);
    m->head = m->tail = NIL;
    return m;
}

void mru_free(struct mru *m)
{
    if (m) {
        free(m->ents);
        free(m->buckets);
        free(m);
    }
}

static void addr_key(const struct ntk_addr *src, uint8_t *family, uint8_t ip[16])
{
    struct ntk_addr a = *src;
    ntk_addr_unmap(&a);
    *family = (uint8_t)a.family;
    memcpy(ip, a.ip, 16);
}

static uint32_t find(const struct mru *m, uint8_t family, const uint8_t ip[16])
{
    for (uint32_t i = m->buckets[bucket_of(m, family, ip)]; i != NIL; i = m->ents[i].hnext) {
        if (m->ents[i].family == family && memcmp(m->ents[i].ip, ip, 16) == 0) {
            return i;
        }
    }
    return NIL;
}

static void lru_unlink(struct mru *m, uint32_t i)
{
    struct ent *e = &m->ents[i];
    if (e->prev != NIL) {
        m->ents[e->prev].next = e->next;
    } else {
        m->head = e->next;
    }
    if (e->next != NIL) {
        m->ents[e->next].prev = e->prev;
    } else {
        m->tail = e->prev;
    }
}

static void lru_push_head(struct mru *m, uint32_t i)
{
    struct ent *e = &m->ents[i];
    e->prev = NIL;
    e->next = m->head;
    if (m->head != NIL) {
        m->ents[m->head].prev = i;
    }
    m->head = i;
    if (m->tail == NIL) {
        m->tail = i;
    }
}

static void hash_unlink(struct mru *m, uint32_t i)
{
    uint32_t *p = &m->buckets[bucket_of(m, m->ents[i].family, m->ents[i].ip)];
    while (*p != i) {
        p = &m->ents[*p].hnext;
    }
    *p = m->ents[i].hnext;
}

/* A slot for a new client, or NIL when the policy in mru.h refuses one. */
static uint32_t take_slot(struct mru *m, int64_t now)
{
    if (m->tail != NIL) {
        double age_s = (double)(now - m->ents[m->tail].last_ns) / NS_PER_S;
        bool stale = age_s > m->cfg.maxage_s;
        if (stale || (m->used == m->cap && age_s >= m->cfg.minage_s)) {
            uint32_t i = m->tail;
            lru_unlink(m, i);
            hash_unlink(m, i);
            m->st.evictions++;
            return i;
        }
    }
    return m->used < m->cap ? m->used++ : NIL;
}

static struct ent *lookup_or_add(struct mru *m, const struct ntk_addr *src, int64_t now,
                                 bool *tracked)
{
    uint8_t family, ip[16];
    addr_key(src, &family, ip);
    uint32_t i = find(m, family, ip);
    *tracked = true;
    if (i != NIL) {
        lru_unlink(m, i);
        lru_push_head(m, i);
        m->st.exists++;
        return &m->ents[i];
    }
    i = take_slot(m, now);
    if (i == NIL) {
        *tracked = false;
        m->st.untracked++;
        return &m->ovf;
    }
    struct ent *e = &m->ents[i];
    memset(e, 0, sizeof *e);
    e->family = family;
    memcpy(e->ip, ip, 16);
    e->first_ns = now;
    uint32_t b = bucket_of(m, family, ip);
    e->hnext = m->buckets[b];
    m->buckets[b] = i;
    lru_push_head(m, i);
    m->st.inserts++;
    return e;
}

/* Updates the score (NTPsec's: packets per second, decaying with a time constant of
 * `burst` seconds, bumped by 1/burst per packet) and the counters. Returns the interval
 * since the previous packet in seconds, or -1 for the first one. */
static double account(const struct mru *m, struct ent *e, int64_t now)
{
    double dt_s = -1, decayed = 0;
    if (e->count > 0) {
        dt_s = (double)(now - e->last_ns) / NS_PER_S;
        decayed = e->score * exp(-(dt_s > 0 ? dt_s : 0) / m->cfg.burst);
    } else {
        e->first_ns = now;
    }
    e->score = decayed + 1.0 / m->cfg.burst;
    e->last_ns = now;
    e->count++;
    return dt_s;
}

/* Excess when too soon after the previous packet, or when the score exceeds average_pps
 * (mru.h). */
static enum mru_verdict limit(struct mru *m, struct ent *e, bool tracked, double dt_s,
                              int64_t now)
{
    bool too_soon =
        tracked && dt_s >= 0 && m->cfg.minimum_s > 0 && dt_s + 1.0 < m->cfg.minimum_s;
    /* the relative slack absorbs rounding: B packets at once score exactly 1 */
    if (!too_soon && e->score <= m->cfg.average_pps * (1 + 1e-9)) {
        return MRU_ALLOW;
    }
    e->drops++;
    e->drop_ns = now;
    m->st.limited++;
    if (tracked && (e->rflags & RST_KOD) &&
        (!e->kod_sent || (double)(now - e->kod_ns) / NS_PER_S >= m->cfg.kod_interval_s)) {
        e->kod_sent = true;
        e->kod_ns = now;
        m->st.kod++;
        return MRU_KOD;
    }
    return MRU_DROP;
}

enum mru_verdict mru_observe(struct mru *m, const struct ntk_addr *src, int64_t now_mono_ns,
                             uint8_t mode, uint8_t version, uint32_t rflags)
{
    bool tracked;
    struct ent *e = lookup_or_add(m, src, now_mono_ns, &tracked);
    double dt_s = account(m, e, now_mono_ns);
    e->port = src->port;
    e->mode = mode;
    e->version = version;
    e->rflags = rflags;
    if (!(rflags & RST_LIMITED)) {
        return MRU_ALLOW;
    }
    return limit(m, e, tracked, dt_s, now_mono_ns);
}

static void export(const struct ent *e, struct mru_client *out)
{
    memset(out, 0, sizeof *out);
    out->addr.family = (enum ntk_addr_family)e->family;
    memcpy(out->addr.ip, e->ip, 16);
    out->addr.port = e->port;
    out->first_mono_ns = e->first_ns;
    out->last_mono_ns = e->last_ns;
    out->last_drop_mono_ns = e->drop_ns;
    out->count = e->count;
    out->drops = e->drops;
    out->score = e->score;
    out->avgint_s =
        e->count > 1 ? (double)(e->last_ns - e->first_ns) / NS_PER_S / (double)(e->count - 1)
                     : 0.0;
    out->mode = e->mode;
    out->version = e->version;
    out->rflags = e->rflags;
}

bool mru_get(const struct mru *m, const struct ntk_addr *src, struct mru_client *out)
{
    uint8_t family, ip[16];
    addr_key(src, &family, ip);
    uint32_t i = find(m, family, ip);
    if (i == NIL) {
        return false;
    }
    export(&m->ents[i], out);
    return true;
}

size_t mru_list(const struct mru *m, struct mru_client *out, size_t cap)
{
    size_t n = 0;
    for (uint32_t i = m->head; i != NIL && n < cap; i = m->ents[i].next) {
        export(&m->ents[i], &out[n++]);
    }
    return n;
}

size_t mru_count(const struct mru *m)
{
    return m->used;
}

size_t mru_capacity(const struct mru *m)
{
    return m->cap;
}

void mru_get_stats(const struct mru *m, struct mru_stats *out)
{
    *out = m->st;
}
