/* SPDX-License-Identifier: BSD-2-Clause */
/* Name resolution off the time path (ARCHITECTURE.md "The daemon's shape"): one helper
 * thread, started on the first request (a configuration of numeric addresses never starts
 * it), runs getaddrinfo and hands answers back through a pipe the event loop watches. */
#ifndef NTK_RESOLVE_H
#define NTK_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "ntk/addr.h"

/* Most addresses kept from one answer, and most requests waiting. */
#define RESOLVE_ADDRS_MAX 16
#define RESOLVE_QUEUE_MAX 64

/* One finished lookup. */
struct resolve_answer {
    char name[256];                           /* the name asked for */
    struct ntk_addr addrs[RESOLVE_ADDRS_MAX]; /* its addresses, port set */
    size_t n;                                 /* how many (0 when it failed) */
    int gai_err;                              /* 0, or the EAI_* code (gai_strerror) */
    uint32_t tag;                             /* the asker's tag (resolver_ask_tag; 0) */
};

/* A failed lookup is retried after RESOLVE_RETRY_MIN_S, the delay doubling at every failure
 * up to RESOLVE_RETRY_MAX_S (the engine's pools use the same figures: ENG_RESOLVE_MIN_S). */
#define RESOLVE_RETRY_MIN_S 16
#define RESOLVE_RETRY_MAX_S 3600

/* The retry schedule of one name. */
struct resolve_retry {
    int delay_s; /* the wait before the next try (RESOLVE_RETRY_MIN_S..MAX) */
};

/* Starts (or, after a success, restarts) the schedule at RESOLVE_RETRY_MIN_S. */
void resolve_retry_reset(struct resolve_retry *r);

/* After a failure: returns how long to wait before the next try, in seconds, and doubles
 * the delay for the failure after it (at most RESOLVE_RETRY_MAX_S). */
int resolve_retry_next_s(struct resolve_retry *r);

struct resolver;

/* Creates a resolver (no thread yet). Returns NULL when out of memory or pipes. */
struct resolver *resolver_new(void);

/* Stops the thread (waiting for a lookup in progress) and frees everything. NULL is fine. */
void resolver_free(struct resolver *r);

/* The descriptor that becomes readable when answers are waiting (for loop_add_fd). */
int resolver_fd(const struct resolver *r);

/* Queues a lookup of name for UDP port, restricted to family (AF_UNSPEC / AF_INET /
 * AF_INET6), starting the thread if needed. Returns 0, -ENOSPC (queue full), -EINVAL (name
 * too long or empty) or a negative errno from pthread_create. */
int resolver_ask(struct resolver *r, const char *name, int family, uint16_t port);

/* resolver_ask with a tag the answer carries back (resolver_ask is tag 0). */
int resolver_ask_tag(struct resolver *r, const char *name, int family, uint16_t port,
                     uint32_t tag);

/* Takes one finished answer, if any. Returns 1 and writes *out, or 0 when none is waiting. */
int resolver_take(struct resolver *r, struct resolve_answer *out);

#endif /* NTK_RESOLVE_H */
