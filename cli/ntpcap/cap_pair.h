/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpcap's pending-request table: requests waiting for their response, found by a hash of
 * the address/port pair, the kind of exchange and an identifier (mode 3 and 1: the transmit
 * timestamp, which the response echoes as origin; mode 6: sequence and opcode; mode 7:
 * implementation and request code, since NTP Classic's requests carry sequence 0 and its
 * response fragments count up from 0). Bounded: the oldest request is dropped when it is
 * full; entries are kept in arrival order, so the expiry scan looks only at the oldest. */
#ifndef NTK_CAP_PAIR_H
#define NTK_CAP_PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cap.h"
#include "ntk/ctl.h"

/* Mode-6 responses reassembled at the same time (each needs a 60 KB buffer); beyond that
 * a response's fragments are counted without reassembly. */
#define CAP_PAIR_REASM_MAX 16

/* One waiting request, and for modes 6 and 7 the response fragments seen so far. */
struct cap_pend {
    struct cap_pkt req;          /* the request */
    struct cap_pkt resp;         /* the last response fragment (when resp_frags > 0) */
    enum cap_xkind kind;         /* what it waits for */
    uint64_t id;                 /* the identifier (see the top of this file) */
    size_t req_bytes;            /* request UDP payload bytes */
    size_t resp_bytes;           /* response payload bytes so far */
    unsigned resp_frags;         /* response datagrams so far */
    struct ntk_ctl_reasm *ra;    /* mode 6 reassembly (owned), or NULL */
    uint8_t *ra_buf;             /* its buffer (owned) */
    uint32_t hash, hnext;        /* hash chain (index + 1) */
    uint32_t newer, older;       /* arrival order (index + 1) */
    bool used;                   /* the entry holds a request */
    size_t line_len;             /* bytes of line (0: none) */
    char line[CAP_REQ_LINE_MAX]; /* the text attached to the request (cap_dec.line) */
};

/* The table. Fields are private. */
struct cap_pairs {
    struct cap_pend *ent;    /* the pool (owned), grown on demand up to max */
    size_t n, alloc, max;    /* entries in use, allocated, the bound */
    uint32_t *bucket;        /* hash heads (index + 1, 0 = empty; owned) */
    size_t nbucket;          /* a power of two */
    uint32_t newest, oldest; /* ends of the arrival order (index + 1) */
    uint32_t free_head;      /* free entries, chained through hnext */
    unsigned n_reasm;        /* live reassemblies */
};

/* Prepares an empty table of at most max (>= 1) requests. Returns 0 or NTK_ENOMEM. */
int cap_pairs_init(struct cap_pairs *t, size_t max);

/* Frees everything. */
void cap_pairs_free(struct cap_pairs *t);

/* The hash of a key: client and server (with ports), kind and id. */
uint32_t cap_pairs_hash(const struct ntk_addr *client, const struct ntk_addr *server,
                        enum cap_xkind kind, uint64_t id);

/* Adds req (whose src is the client) waiting for kind/id (h: the key's cap_pairs_hash). When
 * the table is full the oldest entry is handed to drop first (then removed); an entry with
 * the same key is replaced (handed to drop too). Returns the entry, or NULL when out of
 * memory. */
struct cap_pend *cap_pairs_add(struct cap_pairs *t, const struct cap_pkt *req,
                               enum cap_xkind kind, uint64_t id, uint32_t h,
                               void (*drop)(void *ctx, struct cap_pend *e, bool full),
                               void *ctx);

/* The entry waiting for a response from server to client (with ports) of kind/id (h: the
 * key's cap_pairs_hash), or NULL. */
struct cap_pend *cap_pairs_find(struct cap_pairs *t, const struct ntk_addr *client,
                                const struct ntk_addr *server, enum cap_xkind kind,
                                uint64_t id, uint32_t h);

/* Cache hints for a lookup of hash h soon: stage 0 the bucket, stage 1 (once the bucket is in
 * cache) the first entry of its chain. */
void cap_pairs_prefetch(const struct cap_pairs *t, uint32_t h, int stage);

/* The oldest entry, or NULL. */
struct cap_pend *cap_pairs_oldest(struct cap_pairs *t);

/* Removes e (its reassembly freed). */
void cap_pairs_remove(struct cap_pairs *t, struct cap_pend *e);

/* Starts a mode-6 reassembly for e when fewer than CAP_PAIR_REASM_MAX run; returns whether
 * e->ra is set. */
bool cap_pairs_reasm(struct cap_pairs *t, struct cap_pend *e);

/* Entries waiting. */
size_t cap_pairs_count(const struct cap_pairs *t);

#endif /* NTK_CAP_PAIR_H */
