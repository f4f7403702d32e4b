/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpcap's flow table: one entry per (client address, server address and port), at most a
 * fixed number, least recently used evicted first. Medians come from the last
 * CAP_FLOW_RING values of each series (a ring, not a random reservoir: recent behaviour is
 * what an operator reads a flow report for). */
#ifndef NTK_CAP_FLOW_H
#define NTK_CAP_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cap.h"
#include "cap_anom.h"

/* Values kept per series for the medians. */
#define CAP_FLOW_RING 64

/* One flow: its public statistics and the state the checks need. */
struct cap_flow_ent {
    struct cap_flow f; /* client (no port) and server (with port) are the key */
    /* What every packet reads or writes comes first, the rings last: each packet then
     * touches a few adjacent cache lines of its flow, not lines scattered over 1.4 KB. */
    double last_req_s;       /* capture time of the last request (Unix s; 0 = none) */
    uint32_t n_exch, n_poll; /* values pushed so far to exch and poll (each holds the last
                                CAP_FLOW_RING) */
    bool have_state;         /* stratum / refid / leap below are set */
    uint8_t stratum, leap;   /* last seen from the server (KoD excluded) */
    bool have_resp;          /* last_xmt is set */
    uint32_t refid;          /* last seen */
    unsigned auth_seen;      /* bits: 1 none, 2 MAC, 4 NTS */
    uint64_t last_xmt;       /* transmit timestamp of the last server packet */
    uint64_t last_xmt_frame; /* its frame */
    /* Interleaved mode (RFC 9769 §2): the client's last two requests and last exchange. */
    uint64_t req_xmt[2];   /* transmit fields of the last two mode-3 requests ([0] newest) */
    uint64_t req_rec;      /* receive field of the newest (its T4 of the previous reply) */
    bool have_prev;        /* prev_* hold the last client exchange */
    bool m6_nonce;         /* the client used a mode-6 nonce: it proved its address */
    bool reflect_reported; /* CAP_A_REFLECTION already reported */
    bool have_off;         /* last_off is set */
    uint64_t prev_t1, prev_t2, prev_c1, prev_c4; /* its T1, T2 and capture times (NTP) */
    /* Jitter: successive offset_cap differences. */
    double last_off;         /* offset_cap of the last exchange, s */
    double jit_sum2;         /* sum of squared differences, s^2 */
    uint64_t jit_n;          /* differences summed */
    struct cap_anom_lim lim; /* rate limit of this flow's anomalies */
    /* Rings, in seconds; an exchange's delay and offset side by side, so that its push
     * writes one cache line. */
    float exch[CAP_FLOW_RING][2]; /* delay_cap [0] and offset_cap [1] of exchanges */
    float poll[CAP_FLOW_RING];    /* intervals between requests */
};

/* Called for a flow leaving the table (eviction) or reported at the end. */
typedef void (*cap_flow_cb)(void *ctx, struct cap_flow_ent *e);

/* The table's links of one entry, kept apart from the 1.4 KB entries in an array of their
 * own: walking a hash chain and moving a flow to the front of the LRU list then touch
 * 16-byte records that stay in cache, not three entries scattered over tens of MB (those
 * cache misses were a quarter of a large capture's analysis). */
struct cap_flow_link {
    uint32_t hash;         /* of the key */
    uint32_t hnext;        /* next in the hash chain (index + 1, 0 = none) */
    uint32_t newer, older; /* LRU neighbours (index + 1, 0 = none) */
};

/* The table. Fields are private. */
struct cap_flows {
    struct cap_flow_ent *ent; /* the pool (owned), grown on demand up to max */
    struct cap_flow_link *lk; /* lk[i] links ent[i] (owned, grown with it) */
    size_t n, alloc, max;     /* flows in use, entries allocated, the bound */
    uint32_t *bucket;         /* nbucket hash heads (index + 1, 0 = empty; owned) */
    size_t nbucket;           /* a power of two */
    uint32_t newest, oldest;  /* LRU ends (index + 1) */
    uint32_t free_head;       /* free entries (chained through hnext) */
};

/* Prepares an empty table of at most max (>= 1) flows. Returns 0 or NTK_ENOMEM. */
int cap_flows_init(struct cap_flows *t, size_t max);

/* Frees the table (not the callbacks' state). */
void cap_flows_free(struct cap_flows *t);

/* The hash of the key client (its port ignored) and server. */
uint32_t cap_flows_hash(const struct ntk_addr *client, const struct ntk_addr *server);

/* The flow of client and server (the ports of client are ignored; h is
 * cap_flows_hash(client, server)), made most recently used; created when absent, after
 * evicting the least recently used one through evict (which sees it still filled; *evicted
 * is incremented) when the table is full. NULL when out of memory. *created tells whether it
 * is new. */
struct cap_flow_ent *cap_flows_get(struct cap_flows *t, const struct ntk_addr *client,
                                   const struct ntk_addr *server, uint32_t h, bool *created,
                                   cap_flow_cb evict, void *ctx, uint64_t *evicted);

/* Cache hints for a cap_flows_get of hash h soon: stage 0 the hash bucket, stage 1 (once the
 * bucket is in cache) the first flow of its chain, links and the fields every packet uses. */
void cap_flows_prefetch(const struct cap_flows *t, uint32_t h, int stage);

/* The flow of client and server if present (not made most recently used), else NULL. */
struct cap_flow_ent *cap_flows_find(struct cap_flows *t, const struct ntk_addr *client,
                                    const struct ntk_addr *server);

/* Calls cb on every flow, oldest first. */
void cap_flows_each(struct cap_flows *t, cap_flow_cb cb, void *ctx);

/* Adds an exchange's delay_cap and offset_cap (s) to e's rings. */
void cap_flow_push_exchange(struct cap_flow_ent *e, double delay_s, double offset_s);

/* Adds an interval between two requests (s) to e's ring. */
void cap_flow_push_poll(struct cap_flow_ent *e, double interval_s);

/* The median of what a ring holds after n pushes: the min(n, CAP_FLOW_RING) values v[0],
 * v[stride], v[2 * stride] ... (NAN when n is 0; the mean of the middle two for an even
 * count). */
double cap_ring_median(const float *v, size_t stride, uint32_t n);

/* Adds an exchange's offset_cap (s) to e's jitter: the RMS of the differences between
 * successive values, over the whole flow. */
void cap_flow_offset(struct cap_flow_ent *e, double offset_s);

/* Fills the derived fields of e->f (medians, poll, amplification, auth, loss = unmatched
 * requests / requests, jitter) from e's state. */
void cap_flow_finalize(struct cap_flow_ent *e);

#endif /* NTK_CAP_FLOW_H */
