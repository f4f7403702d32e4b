/* SPDX-License-Identifier: BSD-2-Clause */
/* ntpmon's data source: per host, a mode-6 snapshot (m6_fetch) and, when the MRU pane is
 * shown, at most every MON_MRU_EVERY_S seconds, an incremental nonce-based MRU list
 * (ntk_ctlc_mrulist, "recent=" the rows the pane can show), fed into the model. Every call
 * blocks at most the configured timeout per request kind (snapshot, then MRU): the TUI calls
 * these between key reads, so one slow or dead host delays keys by at most that much. */
#ifndef NTK_MON_FETCH_H
#define NTK_MON_FETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "m6snap.h"
#include "mon_model.h"
#include "mon_opts.h"

#define MON_MRU_EVERY_S 10.0 /* the MRU list is read at most this often per host */

/* Per-host fetch state. */
struct mon_fetch_host {
    struct m6_target target; /* where the daemon is (valid when resolved) */
    bool resolved;           /* the name resolved (retried at every fetch until it does) */
    double last_unix_s;      /* when the last snapshot fetch ended (0: never) */
    double next_unix_s;      /* when the next is due (mon_model_next_fetch) */
    double mru_unix_s;       /* when the last MRU fetch ended (0: never) */
    char mru_error[160];     /* why the last MRU fetch failed ("" if it worked); shown in
                                the MRU pane until the next one */
};

/* The fetcher for every host of a model. */
struct mon_fetch {
    struct mon_fetch_host h[MON_HOSTS_MAX];
    size_t n_hosts;
    int family;           /* AF_UNSPEC, AF_INET or AF_INET6 */
    int timeout_ms;       /* one snapshot's (and one MRU list's) deadline */
    struct m6_snap *snap; /* scratch snapshot (heap: about 100 KiB) */
    struct mon_mru *rows; /* scratch MRU rows (heap, MON_MRU_MAX) */
    void *ctlc;           /* struct ntk_ctlc (heap: about 64 KiB) */
};

/* Prepares a fetcher for m's hosts with o's timeout and address family (no I/O yet).
 * Returns 0, or -1 when memory ran out. */
int mon_fetch_init(struct mon_fetch *f, const struct mon_model *m, const struct mon_opts *o);

/* Frees what mon_fetch_init allocated (safe on a zeroed or already freed fetcher). */
void mon_fetch_free(struct mon_fetch *f);

/* Fetches host h now (snapshot, then the MRU list when m->v.mru_on and it is due) and feeds
 * the model (mon_model_snapshot / mon_model_mru) with now_unix_s; a REFUSED answer sets the
 * host REFUSED with the error code in its error text. Blocks at most 2 x timeout_ms.
 * Returns 0 when the daemon answered, -1 otherwise. */
int mon_fetch_host(struct mon_fetch *f, struct mon_model *m, size_t h, double now_unix_s);

/* The TUI's refresh step: unless m->v.paused, fetches the ONE host that is most overdue
 * (next_unix_s <= now), so that keys are read between hosts; else, when the MRU list is
 * shown and the shown host's was read MON_MRU_EVERY_S ago or never, reads just that MRU
 * list. Returns 1 if it fetched, 0 if nothing was due. */
int mon_fetch_tick(struct mon_fetch *f, struct mon_model *m, double now_unix_s);

/* When the next fetch is due (the earliest of the hosts and of the shown host's MRU list;
 * +INFINITY while paused): the TUI waits for a key until then. */
double mon_fetch_next(const struct mon_fetch *f, const struct mon_model *m);

/* The current time as Unix seconds (CLOCK_REALTIME), for callers of the above. */
double mon_fetch_now(void);

#endif /* NTK_MON_FETCH_H */
