/* SPDX-License-Identifier: BSD-2-Clause */
/* The MRU list (NTPsec's monitor, ntpq mrulist) and the per-client rate limiter behind
 * `restrict limited` / `kod`, `discard` and `limit`.
 *
 * Table. One entry per client ADDRESS: the port is recorded but is not part of the key, as
 * in NTPsec (a client must not escape its limit by changing source port; ntpdig uses a new
 * port per request). Entries live in one array allocated by mru_new (no allocation per
 * packet), found through a hash keyed with a caller-supplied random seed (SipHash-1-3, so
 * an attacker cannot aim addresses at one chain), and kept on an LRU list.
 * Capacity = min(maxdepth, maxmem / bytes per entry).
 *
 * Eviction policy (what a flood can and cannot do). A new client takes a free slot; when
 * there is none it recycles the least recently seen entry ONLY if that entry was last seen
 * at least `minage` seconds ago (or more than `maxage` ago). Otherwise the newcomer is NOT
 * tracked. Property: an entry seen within the last `minage` seconds is never evicted, so a
 * client polling more often than every minage seconds keeps its entry whatever the number
 * of other sources (a flood of spoofed addresses can only replace entries idle for at
 * least minage). NTPsec's ntp_monitor likewise refuses to add when the oldest entry is
 * younger than minage, but then clears limited/kod for the newcomer; here untracked
 * clients share ONE overflow bucket that is limited like a single client, so a flood of
 * new addresses cannot get more than one client's share of `limited` replies, and never a
 * KoD (no per-client state to rate-limit kisses with).
 *
 * Rate limiting (for a packet whose restrict flags include `limited`). Per entry:
 *   - minimum: a packet less than `minimum_s` (discard minimum, default 2 s) after the
 *     previous one from that address is excess, with NTPsec's 1 s grace (interval + 1 s <
 *     minimum), so iburst's 2 s spacing is never hit by jitter;
 *   - score: NTPsec's MRU score (`limit average A burst B`), an estimate of the client's
 *     packets per second: at each packet score = score * exp(-dt / B) + 1 / B, and a packet
 *     that takes the score above A is excess. A quick burst of n packets scores about
 *     n / B, so about A * B packets pass in a burst; a steady rate r scores about r
 *     (slightly more: exactly A is just over the line, as in NTPsec). With NTPsec's
 *     `limit average 1 burst 2` this limits ntpdig's third request 100 ms after the
 *     second, as the capture tests/data/kod.pcap shows. `discard average N` sets
 *     A = 2^-N.
 * Excess packets are counted (drop count, last drop time) and, with `kod`, answered with a
 * KoD RATE at most once every kod_interval_s per client; other excess packets are dropped,
 * so kisses cannot be used for amplification or reflection. (Our choice, stricter than
 * NTPsec 1.2.2, whose `limit ... kod 1` kissed every other request of a 10/s burst in
 * tests/data/kod.pcap; the config layer may map `limit kod K` to 1/K s.)
 * Excess packets still count in the score (a flooding client stays limited).
 */
#ifndef NTK_MRU_H
#define NTK_MRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ntk/addr.h"

/* Configuration (`mru` and `discard`/`limit` lines). mru_cfg_default fills the defaults. */
struct mru_cfg {
    size_t maxmem_kib;     /* mru maxmem: memory for entries, KiB (default 1024) */
    size_t maxdepth;       /* mru maxdepth: entries at most (default 0 = maxmem decides) */
    double minage_s;       /* mru minage: never evict an entry younger (default 64) */
    double maxage_s;       /* mru maxage: recycle entries older even if room (default 3600) */
    double average_pps;    /* limit average: allowed packets/s per client (default 1.0) */
    double burst;          /* limit burst: the score's time constant in s (default 20) */
    double minimum_s;      /* discard minimum: least spacing (default 2 s; 0 = off) */
    double kod_interval_s; /* least seconds between two KoDs to one client (default 2) */
};

/* What to do with a packet after the rate limiter. */
enum mru_verdict {
    MRU_ALLOW = 0, /* within limits (or not `limited`) */
    MRU_DROP = 1,  /* excess: drop */
    MRU_KOD = 2,   /* excess: answer with a KoD RATE (only with `kod`) */
};

/* One client as reported (mrulist). */
struct mru_client {
    struct ntk_addr addr;      /* address and the last source port */
    int64_t first_mono_ns;     /* first packet */
    int64_t last_mono_ns;      /* last packet */
    int64_t last_drop_mono_ns; /* last excess packet (0: none) */
    uint64_t count;            /* packets seen */
    uint64_t drops;            /* excess packets (dropped or kissed) */
    double score;              /* decayed packet count as of the last packet */
    double avgint_s;           /* average interval: (last - first) / (count - 1), 0 if 1 */
    uint8_t mode, version;     /* of the last packet */
    uint32_t rflags;           /* restrict flags of the last packet */
};

/* Counters of the table (ntpq monstats). */
struct mru_stats {
    uint64_t inserts;   /* entries created */
    uint64_t exists;    /* lookups that found their client's entry (NTPsec's mru_exists) */
    uint64_t evictions; /* entries recycled (older than minage / maxage) */
    uint64_t untracked; /* packets from clients refused an entry (table full and young) */
    uint64_t limited;   /* excess packets */
    uint64_t kod;       /* KoD verdicts (the server then still drops a request whose MAC
                           fails, so this can exceed the KoDs sent) */
};

/* An MRU table (opaque). */
struct mru;

/* Fills *c with the defaults listed in struct mru_cfg. */
void mru_cfg_default(struct mru_cfg *c);

/* Allocates a table for cfg (copied) with the hash key seed[16] (random, from the shell).
 * NULL if out of memory or if the capacity would be 0. */
struct mru *mru_new(const struct mru_cfg *cfg, const uint8_t seed[16]);

/* Frees a table (NULL is fine). */
void mru_free(struct mru *m);

/* Records a packet from src at now_mono_ns (monotonic, non-decreasing) with its mode,
 * version and restrict flags, and rate-limits it when rflags has RST_LIMITED (RST_KOD
 * turns a drop into a KoD, subject to kod_interval_s). Returns the verdict. */
enum mru_verdict mru_observe(struct mru *m, const struct ntk_addr *src, int64_t now_mono_ns,
                             uint8_t mode, uint8_t version, uint32_t rflags);

/* Looks up the entry of src's address; writes *out and returns true if it is tracked. */
bool mru_get(const struct mru *m, const struct ntk_addr *src, struct mru_client *out);

/* Copies up to cap entries, most recent first, to out; returns how many were written. */
size_t mru_list(const struct mru *m, struct mru_client *out, size_t cap);

/* Entries in use, and the most there can be. */
size_t mru_count(const struct mru *m);
size_t mru_capacity(const struct mru *m);

/* Copies the counters. */
void mru_get_stats(const struct mru *m, struct mru_stats *out);

#endif /* NTK_MRU_H */
