/* SPDX-License-Identifier: BSD-2-Clause */
/* Source selection (RFC 5905 §11.2): the intersection algorithm that rejects falsetickers,
 * then the cluster algorithm that prunes outliers, then the combine step that averages the
 * survivors weighted by their distance. Staged functions, each writing its intermediate
 * results into struct sel_result, so tests (and ntpq's tally column) see every stage. */
#ifndef NTK_SELECT_H
#define NTK_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

/* Most candidates one selection handles (a pool grows to tos maxclock, at most this). */
#define SEL_MAX 64

/* One selectable association, as the engine hands it over. */
struct sel_cand {
    uint32_t id;        /* association id */
    double offset_s;    /* its filter offset */
    double root_dist_s; /* its synchronisation distance λ (assoc_root_dist) */
    double jitter_s;    /* its filter jitter */
    uint8_t stratum;    /* the server's stratum (the candidate's is one more) */
    bool prefer;        /* `prefer` */
    bool true_;         /* `true`: never a falseticker */
};

/* Where each candidate ended (the tally in enum snap_tally's terms). */
enum sel_fate {
    SEL_FALSETICKER = 0, /* outside the intersection */
    SEL_EXCESS,          /* a truechimer beyond maxclock survivors */
    SEL_OUTLIER,         /* pruned by the cluster algorithm */
    SEL_SURVIVOR,        /* combined */
    SEL_SYSPEER,         /* the system peer (a survivor) */
};

/* Every stage's result. λ below is a candidate's distance max(root_dist_s, tos mindist_s):
 * the half-width of its correctness interval, its weight's inverse and its rank. */
struct sel_result {
    /* intersection (RFC 5905 §11.2.1) */
    double low_s, high_s;   /* the intersection interval (valid when truechimers > 0; when no
                               majority was found, the hull of the `true_` candidates) */
    int falsetickers;       /* how many candidates are outside it */
    int truechimers;        /* how many are inside (plus the `true_` ones) */
    int allow;              /* falsetickers the successful round allowed (-1: no majority) */
    double dist_s[SEL_MAX]; /* λ of each candidate (NAN for an unusable one) */
    /* cluster (RFC 5905 §11.2.2) */
    int survivors;       /* after pruning (>= minclock or all truechimers) */
    double sel_jitter_s; /* the selection jitter of the worst survivor when pruning stopped
                            (0 for a single survivor) */
    int disagreeing;     /* survivors select_agree then took out of the combine */
    double peer_jitter_min_s; /* the smallest peer jitter among the survivors (φ_min) */
    double seljit_s[SEL_MAX]; /* each truechimer's selection jitter in
                                 the last round it took part in (0 for
                                 falsetickers and excess) */
    /* combine (RFC 5905 §11.2.3) */
    double offset_s; /* combined offset */
    /* selection jitter around the system peer, weighted by 1 / λ */
    double sys_sel_jitter_s;
    /* combined jitter: sqrt(system peer jitter² + sys_sel_jitter_s²)
     */
    double jitter_s;
    int sys_peer;                /* index into the candidate array, -1 if none */
    enum sel_fate fate[SEL_MAX]; /* per candidate, same order as the input */
    bool ok;                     /* a system peer was chosen: at least minsane truechimers
                                  */
};

/* Runs all stages (intersect, cluster, agree, combine) over c[0..n) (candidates beyond SEL_MAX
 * are ignored) with the tos knobs. prev_sys_peer is the association id of the current system
 * peer (0 if none): it is kept when it survives, to avoid clockhopping (NTPsec's hysteresis).
 * With fewer than minsane truechimers ok is false and nothing is combined (offset 0, sys_peer
 * -1); the fates still show what intersection and cluster found. Always writes *r. */
void select_run(const struct sel_cand *c, size_t n, const struct eng_tos *tos,
                uint32_t prev_sys_peer, struct sel_result *r);

/* The stages one by one (select_run calls them in order; exposed for the tests). */

/* Finds the intersection of the candidates' correctness intervals [offset - λ, offset + λ]
 * that a majority agrees on: Marzullo's algorithm as RFC 5905 §11.2.1 refines it. For f = 0,
 * 1, ... while 2f < m (m usable candidates): scan the sorted endpoints up for the lowest point
 * covered by m - f intervals (low) and down for the highest (high); succeed when low <= high
 * and at most f midpoints lie outside [low, high]. Intervals are closed (touching ones
 * overlap; the RFC's l < u becomes low <= high, so a lone source with λ = 0 is still usable).
 * Candidates whose midpoint is outside, or all of them when no f succeeds, are
 * SEL_FALSETICKER, except `true_` candidates; the others get SEL_SURVIVOR until select_cluster
 * refines it. A candidate with a non-finite or negative offset / distance / jitter takes no
 * part and is a falseticker. Zeroes *r first (sys_peer -1), so the later stages start clean.
 */
void select_intersect(const struct sel_cand *c, size_t n, const struct eng_tos *tos,
                      struct sel_result *r);

/* Ranks the truechimers by NTPsec's metric stratum * maxdist + λ (`prefer` and `true_`
 * first) and marks those beyond maxclock SEL_EXCESS. Then, among the rest, RFC 5905 §11.2.2:
 * each one's selection jitter φ_S is the RMS of its offset differences to the n - 1 others;
 * the worst is the largest φ_S * λ (the weighting of the RFC's cluster algorithm, as NTPsec's
 * clock_select); it is discarded (SEL_OUTLIER) while more than minclock remain and its φ_S
 * exceeds the smallest peer jitter φ_min, unless it is `prefer` or `true_` (which ends the
 * pruning, as in NTPsec). The rest become SEL_SURVIVOR. */
void select_cluster(const struct sel_cand *c, size_t n, const struct eng_tos *tos,
                    struct sel_result *r);

/* Survivors needed before select_agree judges them against their median, how many of its
 * own jitters a survivor may lie from that median, and the least tolerance (s). */
#define SEL_AGREE_MIN     3
#define SEL_AGREE_K       4.0
#define SEL_AGREE_FLOOR_S 0.001

/* A combine limit (chrony's combinelimit has the same aim; RFC 5905 has none): with at least
 * SEL_AGREE_MIN survivors, one whose offset lies more than max(SEL_AGREE_K * the jitter of
 * the median survivor, SEL_AGREE_FLOOR_S) from that median survivor's offset is not combined
 * (SEL_OUTLIER), unless it is `prefer` or `true`. The cluster algorithm never prunes below
 * minclock (3), so without this a source drifting away from the others keeps pulling the
 * combined offset until the intersection finally drops it, which with wide-area distances
 * takes tens of ms. */
void select_agree(const struct sel_cand *c, size_t n, struct sel_result *r);

/* Picks the system peer among the survivors: the `prefer` ones if any survived, and among
 * those considered the previous system peer if it is one (no clockhopping), else the lowest
 * (stratum, λ), then index. Combines the survivors' offsets weighted by 1 / λ (RFC 5905
 * §11.2.3, NTPsec clock_combine) and marks the system peer SEL_SYSPEER. ok is true when a
 * system peer was chosen. select_run calls it only with at least minsane truechimers. */
void select_combine(const struct sel_cand *c, size_t n, uint32_t prev_sys_peer,
                    struct sel_result *r);

#endif /* NTK_SELECT_H */
