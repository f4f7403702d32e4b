/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for daemon/core/select.c: every stage on hand-built tables, edge cases, and
 * seeded properties (falsetickers never selected under a majority, a brute-force oracle for
 * the intersection, a drifting source). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "select.h"
#include "testutil.h"

#include "poison.h"

/* cmocka 1.1 has no assert_double_equal. */
#define assert_near(got, want, tol)                                                           \
    do {                                                                                      \
        double got_ = (got), want_ = (want);                                                  \
        if (!(fabs(got_ - want_) <= (tol)))                                                   \
            fail_msg("%s = %.17g, want %.17g +/- %g", #got, got_, want_, (double)(tol));      \
    } while (0)

#define EXACT 1e-15

/* NTPsec's tos defaults. */
static struct eng_tos tos_default(void)
{
    return (struct eng_tos){.minclock = 3,
                            .maxclock = 10,
                            .minsane = 1,
                            .mindist_s = 0.001,
                            .maxdist_s = 1.5,
                            .orphan = 16,
                            .orphanwait_s = 300};
}

static struct sel_cand cand(uint32_t id, double off, double dist, uint8_t stratum, double jit)
{
    return (struct sel_cand){
        .id = id, .offset_s = off, .root_dist_s = dist, .jitter_s = jit, .stratum = stratum};
}

static int count_fate(const struct sel_result *r, size_t n, enum sel_fate f)
{
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        k += r->fate[i] == f;
    }
    return k;
}

/* The fates partition the input and agree with the counters. */
static void check_partition(const struct sel_result *r, size_t n)
{
    int ft = count_fate(r, n, SEL_FALSETICKER), ex = count_fate(r, n, SEL_EXCESS);
    int out = count_fate(r, n, SEL_OUTLIER), sv = count_fate(r, n, SEL_SURVIVOR);
    int sp = count_fate(r, n, SEL_SYSPEER);
    assert_int_equal(ft + ex + out + sv + sp, (int)n);
    assert_int_equal(ft, r->falsetickers);
    assert_int_equal(r->truechimers + r->falsetickers, (int)n);
    assert_int_equal(sv + sp, r->survivors);
    assert_int_equal(sp, r->ok ? 1 : 0);
    if (r->ok) {
        assert_int_equal(r->fate[r->sys_peer], SEL_SYSPEER);
    } else {
        assert_int_equal(r->sys_peer, -1);
    }
}

/* ==== Edge cases ==== */

static void empty_input(void **state)
{
    (void)state;
    struct eng_tos t = tos_default();
    struct sel_result r;
    memset(&r, 0xa5, sizeof r);
    select_run(NULL, 0, &t, 7, &r);
    assert_false(r.ok);
    assert_int_equal(r.sys_peer, -1);
    assert_int_equal(r.truechimers, 0);
    assert_int_equal(r.falsetickers, 0);
    assert_int_equal(r.survivors, 0);
    assert_int_equal(r.allow, -1);
    assert_true(r.offset_s == 0 && r.jitter_s == 0 && r.low_s == 0 && r.high_s == 0);
}

static void single_source(void **state)
{
    (void)state;
    struct eng_tos t = tos_default();
    struct sel_cand c = cand(9, 0.005, 0.02, 2, 0.0004);
    struct sel_result r;
    select_run(&c, 1, &t, 0, &r);
    assert_true(r.ok);
    assert_int_equal(r.allow, 0);
    assert_near(r.low_s, 0.005 - 0.02, EXACT);
    assert_near(r.high_s, 0.005 + 0.02, EXACT);
    assert_int_equal(r.sys_peer, 0);
    assert_int_equal(r.fate[0], SEL_SYSPEER);
    assert_int_equal(r.survivors, 1);
    assert_near(r.offset_s, 0.005, EXACT);
    assert_near(r.sel_jitter_s, 0, 0);
    assert_near(r.sys_sel_jitter_s, 0, 0);
    assert_near(r.jitter_s, 0.0004, EXACT);
    check_partition(&r, 1);
}

/* λ = max(root_dist, mindist); with mindist 0 a zero-width interval still selects. */
static void single_source_mindist(void **state)
{
    (void)state;
    struct eng_tos t = tos_default();
    struct sel_cand c = cand(1, 0.25, 0, 1, 0);
    struct sel_result r;
    select_run(&c, 1, &t, 0, &r);
    assert_true(r.ok);
    assert_near(r.dist_s[0], 0.001, 0);
    assert_near(r.low_s, 0.249, EXACT);
    assert_near(r.high_s, 0.251, EXACT);
    t.mindist_s = 0;
    select_run(&c, 1, &t, 0, &r);
    assert_true(r.ok);
    assert_true(r.low_s == 0.25 && r.high_s == 0.25);
    assert_near(r.offset_s, 0.25, 0);
    assert_near(r.jitter_s, 0, 0);
}

static void all_agree(void **state)
{
    (void)state;
    struct eng_tos t = tos_default();
    struct sel_cand c[5];
    for (int i = 0; i < 5; i++) {
        c[i] = cand((uint32_t)i + 1, -0.002, 0.01 + 0.005 * i, (uint8_t)(3 - i % 2), 1e-4);
    }
    struct sel_result r;
    select_run(c, 5, &t, 0, &r);
    assert_true(r.ok);
    assert_int_equal(r.allow, 0);
    assert_int_equal(r.falsetickers, 0);
    assert_int_equal(r.truechimers, 5);
    assert_near(r.low_s, -0.012, EXACT);
    assert_near(r.high_s, 0.008, EXACT);
    /* Every selection jitter is 0 <= φ_min: nothing pruned although 5 > minclock. */
    assert_int_equal(r.survivors, 5);
    assert_near(r.sel_jitter_s, 0, 0);
    assert_near(r.peer_jitter_min_s, 1e-4, 0);
    /* Stratum 2 (odd indexes) beats 3; among those the shortest distance, index 1. */
    assert_int_equal(r.sys_peer, 1);
    assert_near(r.offset_s, -0.002, EXACT);
    assert_near(r.jitter_s, 1e-4, EXACT);
    check_partition(&r, 5);
}

/* No majority (two disjoint cliques of two): nothing is selected, all are falsetickers. */
static void disjoint_cliques(void **state)
{
    (void)state;
    struct eng_tos t = tos_default();
    struct sel_cand c[4] = {cand(1, 0, 0.5, 1, 0), cand(2, 10, 0.5, 1, 0),
                            cand(3, 0.1, 0.5, 1, 0), cand(4, 10.1, 0.5, 1, 0)};
    struct sel_result r;
    select_run(c, 4, &t, 1, &r);
    assert_false(r.ok);
    assert_int_equal(r.allow, -1);
    assert_int_equal(r.falsetickers, 4);
    assert_int_equal(r.truechimers, 0);
    assert_int_equal(r.survivors, 0);
    assert_int_equal(r.sys_peer, -1);
    assert_true(r.low_s == 0 && r.high_s == 0 && r.offset_s == 0);
    check_partition(&r, 4);
}

/* RFC 5905's refinement: intervals that overlap are not enough; the intersection must hold
 * the truechimers' midpoints. */
static void midpoint_refinement(void **state)
{
    (void)state;
    struct eng_tos t = tos_default();
    struct sel_cand c[3] = {cand(1, 0, 1, 1, 0), cand(2, 0, 1, 1, 0), cand(3, 1.5, 1, 1, 0)};
    struct sel_result r;
    select_run(c, 3, &t, 0, &r);
    /* All three overlap on [0.5, 1], but only C's midpoint is in it. */
    assert_true(r.ok);
    assert_int_equal(r.allow, 1);
    assert_near(r.low_s, -1, 0);
    assert_near(r.high_s, 1, 0);
    assert_int_equal(r.fate[2], SEL_FALSETICKER);
    assert_int_equal(r.truechimers, 2);
    /* Two overlapping sources neither of whose midpoint is in the other: no majority. */
    select_run(&c[1], 2, &t, 0, &r);
    assert_false(r.ok);
    assert_int_equal(r.allow, -1);
    assert_int_equal(r.falsetickers, 2);
    /* With f = 1 the scan finds [0, 2], which holds all three midpoints. */
    struct sel_cand d[3] = {cand(1, 0, 1, 1, 0), cand(2, 1, 1, 1, 0), cand(3, 2, 1, 1, 0)};
    select_run(d, 3, &t, 0, &r);
    assert_int_equal(r.allow, 1);
    assert_near(r.low_s, 0, 0);
    assert_near(r.high_s, 2, 0);
    assert_int_equal(r.truechimers, 3);
    /* Intervals are closed: a zero-width interval on another's midpoint agrees with it. */
    t.mindist_s = 0;
    struct sel_cand e[2] = {cand(1, 1, 1, 1, 0), cand(2, 1, 0, 1, 0)};
    select_run(e, 2, &t, 0, &r);
    assert_int_equal(r.allow, 0);
    assert_true(r.low_s == 1 && r.high_s == 1);
    assert_int_equal(r.truechimers, 2);
    assert_near(r.offset_s, 1, 0);
}

static void minsane(void **state)
{
    (void)state;
    struct eng_tos t = tos_default();
    t.minsane = 2;
    struct sel_cand c[3] = {cand(1, 0, 0.01, 1, 0), cand(2, 0.001, 0.01, 1, 0),
                            cand(3, 0.2, 0.01, 1, 0)};
    struct sel_result r;
    select_run(c, 1, &t, 0, &r); /* one truechimer */
    assert_int_equal(r.truechimers, 1);
    assert_false(r.ok);
    assert_int_equal(r.sys_peer, -1);
    assert_true(r.offset_s == 0 && r.jitter_s == 0);
    check_partition(&r, 1);
    select_run(c, 3, &t, 0, &r); /* two of three agree */
    assert_int_equal(r.truechimers, 2);
    assert_true(r.ok);
    assert_int_equal(r.fate[2], SEL_FALSETICKER);
    t.minsane = 3;
    select_run(c, 3, &t, 0, &r);
    assert_false(r.ok);
    assert_int_equal(r.fate[2], SEL_FALSETICKER);
    check_partition(&r, 3);
}

/* ==== One table through every stage ==== */

/* A..E; D is off by 50 ms. Only f = 2 succeeds: with f = 1 the interval [-2, 5] ms leaves
 * C's midpoint (-3 ms) outside too. */
static void table5(struct sel_cand *c)
{
    c[0] = cand(1, 0.000, 0.010, 1, 0.0010);
    c[1] = cand(2, 0.002, 0.010, 2, 0.0005);
    c[2] = cand(3, -0.003, 0.008, 2, 0.0020);
    c[3] = cand(4, 0.050, 0.010, 1, 0.0010);
    c[4] = cand(5, 0.004, 0.006, 1, 0.0008);
}

static void table_intersect(void **state)
{
    (void)state;
    struct eng_tos t = tos_default();
    struct sel_cand c[5];
    table5(c);
    struct sel_result r;
    select_intersect(c, 5, &t, &r);
    assert_int_equal(r.allow, 2);
    assert_near(r.low_s, -0.008, EXACT);
    assert_near(r.high_s, 0.010, EXACT);
    assert_int_equal(r.falsetickers, 1);
    assert_int_equal(r.truechimers, 4);
    const enum sel_fate want[5] = {SEL_SURVIVOR, SEL_SURVIVOR, SEL_SURVIVOR, SEL_FALSETICKER,
                                   SEL_SURVIVOR};
    assert_memory_equal(r.fate, want, sizeof want);
    assert_int_equal(r.sys_peer, -1);
    assert_false(r.ok);
}

static void table_cluster(void **state)
{
    (void)state;
    struct eng_tos t = tos_default();
    struct sel_cand c[5];
    table5(c);
    struct sel_result r;
    select_intersect(c, 5, &t, &r);
    select_cluster(c, 5, &t, &r);
    /* Round 1 (A, B, C, E): φ_S * λ is largest for C (sqrt(83e-6 / 3) * 8 ms); its φ_S
     * exceeds φ_min = 0.5 ms (B), 4 > minclock: C goes. Round 2: 3 = minclock, stop. */
    const enum sel_fate want[5] = {SEL_SURVIVOR, SEL_SURVIVOR, SEL_OUTLIER, SEL_FALSETICKER,
                                   SEL_SURVIVOR};
    assert_memory_equal(r.fate, want, sizeof want);
    assert_int_equal(r.survivors, 3);
    assert_near(r.seljit_s[2], sqrt(83e-6 / 3), 1e-15);
    assert_near(r.seljit_s[0], sqrt(10e-6), 1e-15);
    assert_near(r.seljit_s[1], 0.002, 1e-15);
    assert_near(r.seljit_s[4], sqrt(10e-6), 1e-15);
    assert_near(r.seljit_s[3], 0, 0);
    /* The worst of the last round is A (φ_S * λ = 3.16e-3 * 10 ms). */
    assert_near(r.sel_jitter_s, sqrt(10e-6), 1e-15);
    assert_near(r.peer_jitter_min_s, 0.0005, 0);
    /* minclock 5: no pruning at all. */
    t.minclock = 5;
    select_intersect(c, 5, &t, &r);
    select_cluster(c, 5, &t, &r);
    assert_int_equal(r.survivors, 4);
    assert_int_equal(r.fate[2], SEL_SURVIVOR);
    assert_near(r.sel_jitter_s, sqrt(83e-6 / 3), 1e-15);
    /* Weighted by λ: D (φ_S 5.4 ms, λ 30 ms) goes, not C (φ_S 5.9 ms, λ 2 ms). */
    t.minclock = 3;
    struct sel_cand d[4] = {cand(1, 0, 0.01, 1, 1e-4), cand(2, 0.001, 0.01, 1, 1e-4),
                            cand(3, 0.005, 0.002, 1, 1e-4), cand(4, -0.003, 0.03, 1, 1e-4)};
    select_intersect(d, 4, &t, &r);
    select_cluster(d, 4, &t, &r);
    const enum sel_fate want2[4] = {SEL_SURVIVOR, SEL_SURVIVOR, SEL_SURVIVOR, SEL_OUTLIER};
    assert_memory_equal(r.fate, want2, sizeof want2);
    assert_near(r.seljit_s[3], sqrt(89e-6 / 3), 1e-15);
    assert_near(r.seljit_s[2], sqrt(41e-6 / 2), 1e-15);
}

static void table_combine(void **state)
{
    (void)state;
    struct eng_tos t = tos_default();
    struct sel_cand c[5];
    table5(c);
    struct sel_result r, staged;
    select_run(c, 5, &t, 0, &r);
    /* A and E are stratum 1; E's λ (6 ms) is shorter. */
    assert_true(r.ok);
    assert_int_equal(r.sys_peer, 4);
    assert_int_equal(r.fate[4], SEL_SYSPEER);
    /* (0 / 10 + 2 / 10 + 4 / 6) / (1 / 10 + 1 / 10 + 1 / 6), in ms. */
    assert_near(r.offset_s, 0.0026 / 1.1, 1e-15);
    assert_near(r.sys_sel_jitter_s, sqrt((16e-6 / 10 + 4e-6 / 10) / (2.0 / 10 + 1.0 / 6)),
                1e-15);
    assert_near(r.jitter_s, hypot(0.0008, r.sys_sel_jitter_s), 1e-15);
    check_partition(&r, 5);
    /* The stages one by one give exactly select_run's result. */
    select_intersect(c, 5, &t, &staged);
    select_cluster(c, 5, &t, &staged);
    select_combine(c, 5, 0, &staged);
    assert_memory_equal(&staged, &r, sizeof r);
    /* Combining again (another prev) re-picks: the old SYSPEER is a survivor again. */
    select_combine(c, 5, 2, &staged);
    assert_int_equal(staged.sys_peer, 1);
    assert_int_equal(staged.fate[4], SEL_SURVIVOR);
    assert_near(staged.offset_s, r.offset_s, 0);
    check_partition(&staged, 5);
}

/* Pruning goes on down to minclock while the selection jitter dominates. */
static void cluster_to_minclock(void **state)
{
    (void)state;
    struct eng_tos t = tos_default();
    t.minclock = 2;
    struct sel_cand c[5] = {cand(1, 0.000, 0.01, 1, 1e-4), cand(2, 0.001, 0.01, 1, 1e-4),
                            cand(3, 0.003, 0.01, 1, 1e-4), cand(4, -0.004, 0.01, 1, 1e-4),
                            cand(5, 0.008, 0.02, 1, 1e-4)};
    struct sel_result r;
    select_run(c, 5, &t, 0, &r);
    assert_int_equal(r.allow, 1);
    assert_int_equal(r.falsetickers, 0);
    const enum sel_fate want[5] = {SEL_SYSPEER, SEL_SURVIVOR, SEL_OUTLIER, SEL_OUTLIER,
                                   SEL_OUTLIER};
    assert_memory_equal(r.fate, want, sizeof want);
    assert_near(r.seljit_s[4], sqrt(282e-6 / 4), 1e-15); /* pruned first */
    assert_near(r.seljit_s[3], sqrt(90e-6 / 3), 1e-15);
    assert_near(r.seljit_s[2], sqrt(13e-6 / 2), 1e-15);
    assert_near(r.sel_jitter_s, 0.001, 1e-15);
    assert_near(r.offset_s, 0.0005, 1e-15);
    assert_near(r.sys_sel_jitter_s, sqrt(0.5e-6), 1e-15);
    assert_near(r.jitter_s, sqrt(0.5e-6 + 1e-8), 1e-15);
}

/* A `true_` source is never a falseticker, and the cluster algorithm does not prune it. */
static void true_outside(void **state)
{
    (void)state;
    struct eng_tos t = tos_default();
    t.minclock = 1;
    struct sel_cand c[4] = {cand(1, 0.001, 0.01, 1, 2e-4), cand(2, -0.001, 0.01, 1, 2e-4),
                            cand(3, 0.000, 0.01, 2, 3e-4), cand(4, 0.5, 0.01, 1, 2e-4)};
    c[3].true_ = true;
    struct sel_result r;
    select_run(c, 4, &t, 0, &r);
    assert_int_equal(r.allow, 1);
    assert_near(r.low_s, -0.009, EXACT);
    assert_near(r.high_s, 0.009, EXACT);
    assert_int_equal(r.falsetickers, 0);
    assert_int_equal(r.truechimers, 4);
    /* D is the worst but immune: pruning stops at once. */
    assert_int_equal(r.survivors, 4);
    assert_near(r.sel_jitter_s, sqrt((0.499 * 0.499 + 0.501 * 0.501 + 0.25) / 3), 1e-12);
    assert_int_equal(r.sys_peer, 0);
    assert_near(r.offset_s, 0.125, EXACT);
    /* Without `true` it is the falseticker. */
    c[3].true_ = false;
    t.minclock = 3;
    select_run(c, 4, &t, 0, &r);
    assert_int_equal(r.fate[3], SEL_FALSETICKER);
    assert_near(r.offset_s, 0, 1e-15);
    /* With no majority at all, a `true_` source alone is selected, and the interval shown is
     * its own. */
    struct sel_cand d[4] = {cand(1, 0, 0.5, 1, 0), cand(2, 10, 0.5, 1, 0),
                            cand(3, 0.1, 0.5, 1, 0), cand(4, 10.1, 0.5, 1, 0)};
    d[1].true_ = true;
    select_run(d, 4, &t, 0, &r);
    assert_int_equal(r.allow, -1);
    assert_int_equal(r.truechimers, 1);
    assert_true(r.ok);
    assert_int_equal(r.sys_peer, 1);
    assert_near(r.low_s, 9.5, 0);
    assert_near(r.high_s, 10.5, 0);
    assert_near(r.offset_s, 10, 0);
    check_partition(&r, 4);
}

/* Truechimers beyond maxclock, ranked by stratum * maxdist + λ, are SEL_EXCESS. */
static void excess_by_metric(void **state)
{
    (void)state;
    struct eng_tos t = tos_default();
    t.maxclock = 3;
    struct sel_cand c[5] = {cand(1, 0, 0.01, 2, 1), cand(2, 0, 0.05, 1, 1),
                            cand(3, 0, 0.02, 1, 1), cand(4, 0, 0.001, 3, 1),
                            cand(5, 0, 0.03, 1, 1)};
    struct sel_result r;
    select_run(c, 5, &t, 0, &r);
    /* Metrics 3.01, 1.55, 1.52, 4.501, 1.53. */
    const enum sel_fate want[5] = {SEL_EXCESS, SEL_SURVIVOR, SEL_SYSPEER, SEL_EXCESS,
                                   SEL_SURVIVOR};
    assert_memory_equal(r.fate, want, sizeof want);
    assert_int_equal(r.truechimers, 5);
    assert_int_equal(r.survivors, 3);
    /* A `prefer` source ranks first whatever its metric. */
    c[3].prefer = true;
    select_run(c, 5, &t, 0, &r);
    const enum sel_fate want2[5] = {SEL_EXCESS, SEL_EXCESS, SEL_SURVIVOR, SEL_SYSPEER,
                                    SEL_SURVIVOR};
    assert_memory_equal(r.fate, want2, sizeof want2);
    check_partition(&r, 5);
}

/* ==== System peer choice ==== */

static void prefer_beats_distance(void **state)
{
    (void)state;
    struct eng_tos t = tos_default();
    struct sel_cand c[3] = {cand(1, 0, 0.01, 1, 0), cand(2, 0.001, 0.05, 2, 0),
                            cand(3, 0.0005, 0.02, 1, 0)};
    struct sel_result r;
    select_run(c, 3, &t, 0, &r);
    assert_int_equal(r.sys_peer, 0);
    c[1].prefer = true;
    select_run(c, 3, &t, 1, &r); /* prefer wins over the previous system peer too */
    assert_int_equal(r.sys_peer, 1);
    assert_int_equal(r.fate[0], SEL_SURVIVOR);
    /* The offset is still the weighted combination of all survivors. */
    assert_near(r.offset_s, (0.001 / 0.05 + 0.0005 / 0.02) / (1 / 0.01 + 1 / 0.05 + 1 / 0.02),
                1e-15);
    assert_near(r.sys_sel_jitter_s,
                sqrt((1e-6 / 0.01 + 0.25e-6 / 0.02) / (1 / 0.01 + 1 / 0.05 + 1 / 0.02)),
                1e-15);
    /* Among several `prefer`, the previous one is kept, else the best. */
    c[2].prefer = true;
    select_run(c, 3, &t, 0, &r);
    assert_int_equal(r.sys_peer, 2);
    select_run(c, 3, &t, 2, &r);
    assert_int_equal(r.sys_peer, 1);
    /* A `prefer` falseticker is still a falseticker. */
    struct sel_cand d[3] = {cand(1, 0, 0.01, 1, 0), cand(2, 0.001, 0.01, 1, 0),
                            cand(3, 1, 0.01, 1, 0)};
    d[2].prefer = true;
    select_run(d, 3, &t, 3, &r);
    assert_int_equal(r.fate[2], SEL_FALSETICKER);
    assert_int_equal(r.sys_peer, 0);
}

static void hysteresis(void **state)
{
    (void)state;
    struct eng_tos t = tos_default();
    struct sel_cand c[4] = {cand(11, 0, 0.01, 1, 0), cand(12, 0.001, 0.05, 3, 0),
                            cand(13, 0.0005, 0.02, 2, 0), cand(14, 0.9, 0.01, 1, 0)};
    struct sel_result r;
    select_run(c, 4, &t, 0, &r);
    assert_int_equal(r.sys_peer, 0);
    select_run(c, 4, &t, 12, &r); /* the previous peer survived: kept */
    assert_int_equal(r.sys_peer, 1);
    assert_int_equal(r.fate[0], SEL_SURVIVOR);
    select_run(c, 4, &t, 14, &r); /* the previous peer is a falseticker now */
    assert_int_equal(r.fate[3], SEL_FALSETICKER);
    assert_int_equal(r.sys_peer, 0);
    select_run(c, 4, &t, 99, &r); /* gone */
    assert_int_equal(r.sys_peer, 0);
    /* An outlier is not kept either. */
    t.minclock = 1;
    struct sel_cand d[3] = {cand(1, 0, 0.1, 1, 1e-5), cand(2, 0.00001, 0.1, 1, 1e-5),
                            cand(3, 0.05, 0.1, 1, 1e-5)};
    select_run(d, 3, &t, 3, &r);
    assert_int_equal(r.fate[2], SEL_OUTLIER);
    assert_int_equal(r.sys_peer, 0);
}

/* Unmeasurable candidates take no part; more than SEL_MAX are cut. */
static void bad_inputs(void **state)
{
    (void)state;
    struct eng_tos t = tos_default();
    struct sel_cand c[4] = {cand(1, 0, 0.01, 1, 0), cand(2, (double)NAN, 0.01, 1, 0),
                            cand(3, 0.001, (double)INFINITY, 1, 0), cand(4, 0.001, -1, 1, 0)};
    c[1].true_ = true;
    struct sel_result r;
    select_run(c, 4, &t, 2, &r);
    assert_true(r.ok);
    assert_int_equal(r.allow, 0);
    assert_int_equal(r.truechimers, 1);
    assert_int_equal(r.falsetickers, 3);
    assert_int_equal(r.sys_peer, 0);
    assert_true(isnan(r.dist_s[1]) && isnan(r.dist_s[2]) && isnan(r.dist_s[3]));
    assert_near(r.offset_s, 0, 0);
    static struct sel_cand many[SEL_MAX + 10];
    for (int i = 0; i < SEL_MAX + 10; i++) {
        many[i] = cand((uint32_t)i + 1, i < SEL_MAX ? 0 : 100, 0.01, 1, 0);
    }
    select_run(many, SEL_MAX + 10, &t, 0, &r);
    assert_int_equal(r.truechimers, SEL_MAX);
    assert_int_equal(r.falsetickers, 0);
    assert_int_equal(r.survivors, t.maxclock);
    check_partition(&r, SEL_MAX);
}

/* ==== Properties ==== */

static double urand(void)
{
    return (double)(tu_rand() >> 11) * 0x1p-53;
}

static double uniform(double a, double b)
{
    return a + (b - a) * urand();
}

static int irand(int n)
{
    return (int)(tu_rand() % (uint64_t)n);
}

static void shuffle(struct sel_cand *c, bool *is_false, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = irand(i + 1);
        struct sel_cand tc = c[i];
        bool tb = is_false[i];
        c[i] = c[j];
        c[j] = tc;
        is_false[i] = is_false[j];
        is_false[j] = tb;
    }
}

/* m truechimers with |offset| <= a and λ >= 2a: all their intervals hold [-a, a] and each
 * other's midpoints. k < m falsetickers: intervals without 0, pairwise disjoint, midpoints
 * beyond the hull of the truechimers' intervals (though the intervals may overlap it). Then
 * no point is covered by more than m intervals unless f = k, and there every point covered
 * by m lies within the hull: the RFC algorithm must find exactly the k falsetickers. */
static int gen_majority(struct sel_cand *c, bool *is_false, int m, int k)
{
    double a = uniform(1e-5, 0.05), lo = 0, hi = 0;
    for (int i = 0; i < m; i++) {
        double d = uniform(2 * a, 8 * a);
        c[i] = cand(0, uniform(-a, a), d, (uint8_t)(1 + irand(3)), uniform(0, a));
        lo = fmin(lo, c[i].offset_s - d);
        hi = fmax(hi, c[i].offset_s + d);
        c[i].true_ = irand(8) == 0;
        is_false[i] = false;
    }
    double right = hi, left = lo; /* the next falseticker's interval starts beyond these */
    for (int i = m; i < m + k; i++) {
        bool up = irand(2);
        double edge = up ? right : left, mid = edge + (up ? 1 : -1) * uniform(1e-6, 4 * a);
        double d = fmin(uniform(1e-7, 8 * a), fabs(mid) * 0.999);
        if (edge != (up ? hi : lo)) {
            d = fmin(d, fabs(mid - edge) * 0.999); /* disjoint from the previous one */
        }
        c[i] = cand(0, mid, d, (uint8_t)(1 + irand(3)), uniform(0, a));
        *(up ? &right : &left) = mid + (up ? d : -d);
        is_false[i] = true;
    }
    return m + k;
}

static void majority_property(void **state)
{
    (void)state;
    tu_seed();
    struct sel_cand c[SEL_MAX];
    bool is_false[SEL_MAX];
    for (int iter = 0; iter < 30000; iter++) {
        int m = 1 + irand(20), k = irand(m);
        int n = gen_majority(c, is_false, m, k);
        for (int i = 0; i < n; i++) {
            c[i].prefer = irand(6) == 0;
        }
        shuffle(c, is_false, n);
        for (int i = 0; i < n; i++) {
            c[i].id = (uint32_t)i + 1;
        }
        struct eng_tos t = tos_default();
        t.mindist_s = 0;
        t.minclock = 1 + irand(5);
        t.maxclock = 1 + irand(12);
        t.minsane = 1 + irand(m);
        struct sel_result r;
        select_run(c, (size_t)n, &t, (uint32_t)(1 + irand(n)), &r);
        assert_true(r.ok);
        assert_int_equal(r.allow, m >= 2 ? k : 0);
        assert_int_equal(r.falsetickers, k);
        for (int i = 0; i < n; i++) {
            assert_int_equal(r.fate[i] == SEL_FALSETICKER, is_false[i]);
        }
        assert_true(r.low_s <= 0 && 0 <= r.high_s);
        assert_true(r.offset_s >= r.low_s && r.offset_s <= r.high_s);
        assert_false(is_false[r.sys_peer]);
        check_partition(&r, (size_t)n);
    }
}

/* The intersection by brute force: the lowest (highest) endpoint covered by `need` closed
 * intervals, then the midpoint count, for f = 0, 1, ... */
static int cover(const struct sel_cand *c, const double *d, int n, double x)
{
    int k = 0;
    for (int j = 0; j < n; j++) {
        k += !isnan(d[j]) && c[j].offset_s - d[j] <= x && x <= c[j].offset_s + d[j];
    }
    return k;
}

static bool oracle_round(const struct sel_cand *c, const double *d, int n, int m, int f,
                         double *lo, double *hi)
{
    bool have_lo = false, have_hi = false;
    for (int i = 0; i < n; i++) {
        if (isnan(d[i])) {
            continue;
        }
        double l = c[i].offset_s - d[i], u = c[i].offset_s + d[i];
        if (cover(c, d, n, l) >= m - f && (!have_lo || l < *lo)) {
            *lo = l;
            have_lo = true;
        }
        if (cover(c, d, n, u) >= m - f && (!have_hi || u > *hi)) {
            *hi = u;
            have_hi = true;
        }
    }
    if (!have_lo || !have_hi || *lo > *hi) {
        return false;
    }
    int out = 0;
    for (int i = 0; i < n; i++) {
        out += !isnan(d[i]) && (c[i].offset_s < *lo || c[i].offset_s > *hi);
    }
    return out <= f;
}

static void gen_random(struct sel_cand *c, int n)
{
    bool coarse = irand(2); /* on a grid, to make ties */
    for (int i = 0; i < n; i++) {
        double off = coarse ? (irand(21) - 10) * 0.001 : uniform(-0.02, 0.02);
        double dist = coarse ? irand(8) * 0.001 : uniform(0, 0.015);
        c[i] = cand((uint32_t)i + 1, off, dist, (uint8_t)(1 + irand(4)),
                    coarse ? irand(4) * 0.0005 : uniform(0, 0.002));
        c[i].prefer = irand(10) == 0;
        c[i].true_ = irand(20) == 0;
        if (irand(50) == 0) {
            c[i].offset_s = (double)NAN;
        }
    }
}

static bool survived(enum sel_fate f)
{
    return f == SEL_SURVIVOR || f == SEL_SYSPEER;
}

/* The system peer rule, restated: `prefer` survivors if any; among them the previous one,
 * else the lowest (stratum, λ, index). */
static int oracle_sys(const struct sel_cand *c, int n, const struct sel_result *r,
                      uint32_t prev)
{
    for (int pass = 0; pass < 2; pass++) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            if (!survived(r->fate[i]) || (pass == 0 && !c[i].prefer)) {
                continue;
            }
            if (prev != 0 && c[i].id == prev) {
                return i;
            }
            if (best < 0 || c[i].stratum < c[best].stratum ||
                (c[i].stratum == c[best].stratum && r->dist_s[i] < r->dist_s[best])) {
                best = i;
            }
        }
        if (best >= 0) {
            return best;
        }
    }
    return -1;
}

/* Invariants of a result over any input. */
static void check_invariants(const struct sel_cand *c, int n, const struct eng_tos *t,
                             uint32_t prev, const struct sel_result *r)
{
    check_partition(r, (size_t)n);
    int usable = 0;
    bool any_true = false;
    for (int i = 0; i < n; i++) {
        usable += !isnan(r->dist_s[i]);
        if (c[i].true_ && !isnan(r->dist_s[i])) {
            any_true = true;
            assert_int_not_equal(r->fate[i], SEL_FALSETICKER);
        }
    }
    int fresh = r->truechimers - count_fate(r, (size_t)n, SEL_EXCESS);
    /* The cluster keeps minclock; select_agree may then take some out of the combine. */
    assert_true(r->survivors + r->disagreeing >= (fresh < t->minclock ? fresh : t->minclock));
    assert_true(r->disagreeing == 0 || r->survivors + r->disagreeing >= SEL_AGREE_MIN);
    assert_true(r->survivors <= t->maxclock);
    assert_true(r->ok == (r->truechimers >= t->minsane));
    if (r->allow >= 0 && !any_true) {
        assert_true(2 * r->truechimers > usable); /* a majority */
    }
    if (!r->ok) {
        return;
    }
    assert_int_equal(r->sys_peer, oracle_sys(c, n, r, prev));
    double omin = HUGE_VAL, omax = -HUGE_VAL;
    for (int i = 0; i < n; i++) {
        if (survived(r->fate[i])) {
            omin = fmin(omin, c[i].offset_s);
            omax = fmax(omax, c[i].offset_s);
        }
    }
    assert_true(r->offset_s >= omin - 1e-15 && r->offset_s <= omax + 1e-15);
    assert_true(r->sys_sel_jitter_s <=
                fmax(omax - c[r->sys_peer].offset_s, c[r->sys_peer].offset_s - omin) + 1e-15);
    assert_true(r->jitter_s >= c[r->sys_peer].jitter_s);
    if (!any_true) {
        assert_true(r->offset_s >= r->low_s - 1e-15 && r->offset_s <= r->high_s + 1e-15);
    }
}

static void oracle_property(void **state)
{
    (void)state;
    tu_seed();
    struct sel_cand c[SEL_MAX];
    for (int iter = 0; iter < 30000; iter++) {
        int n = 1 + irand(iter % 10 == 0 ? SEL_MAX : 12);
        gen_random(c, n);
        struct eng_tos t = tos_default();
        t.mindist_s = irand(2) ? 0.001 : 0;
        t.minclock = 1 + irand(4);
        t.maxclock = 1 + irand(10);
        t.minsane = 1 + irand(3);
        struct sel_result r;
        uint32_t prev = (uint32_t)irand(n + 1);
        select_run(c, (size_t)n, &t, prev, &r);
        int m = 0, allow = -1;
        double lo = 0, hi = 0;
        for (int i = 0; i < n; i++) {
            m += !isnan(r.dist_s[i]);
        }
        for (int f = 0; 2 * f < m && allow < 0; f++) {
            allow = oracle_round(c, r.dist_s, n, m, f, &lo, &hi) ? f : -1;
        }
        assert_int_equal(r.allow, allow);
        if (allow >= 0) {
            assert_true(r.low_s == lo && r.high_s == hi);
            for (int i = 0; i < n; i++) {
                bool in = !isnan(r.dist_s[i]) &&
                          ((c[i].offset_s >= lo && c[i].offset_s <= hi) || c[i].true_);
                assert_int_equal(r.fate[i] != SEL_FALSETICKER, in);
            }
        }
        check_invariants(c, n, &t, prev, &r);
    }
}

/* Like the simulator's falseticker scenario: A and B agree (each holds the other's
 * midpoint), C drifts away from them. Once C's interval overlaps neither A's nor B's, C is
 * a falseticker and A or B is the system peer. And once C is past both midpoints, a
 * falseticker stays one as it drifts on (at a smaller distance it would have been a
 * falseticker too, by the RFC rule, whatever f succeeded). */
static void drift_property(void **state)
{
    (void)state;
    tu_seed();
    struct eng_tos t = tos_default();
    for (int iter = 0; iter < 3000; iter++) {
        double da = uniform(0.001, 0.05), db = uniform(0.001, 0.05);
        double gap = uniform(0, fmin(da, db)), base = uniform(-0.1, 0.1);
        struct sel_cand c[3] = {cand(1, base, da, 2, uniform(0, 1e-3)),
                                cand(2, base + gap, db, 2, uniform(0, 1e-3)),
                                cand(3, base, uniform(0.001, 0.05), 1, uniform(0, 1e-3))};
        double step = (irand(2) ? 1 : -1) * uniform(1e-5, 2e-3);
        bool was_false = false;
        uint32_t prev = 0;
        for (int s = 0; s < 200; s++) {
            c[2].offset_s = base + step * s;
            struct sel_result r;
            select_run(c, 3, &t, prev, &r);
            check_partition(&r, 3);
            prev = r.ok ? c[r.sys_peer].id : 0;
            bool apart = true, past = true;
            for (int j = 0; j < 2; j++) {
                double d = c[2].offset_s - c[j].offset_s;
                apart &= fabs(d) > c[2].root_dist_s + c[j].root_dist_s;
                past &= step > 0 ? d > 0 : d < 0;
            }
            if (apart) {
                assert_int_equal(r.fate[2], SEL_FALSETICKER);
                assert_true(r.ok && r.sys_peer != 2);
            }
            if (was_false) {
                assert_int_equal(r.fate[2], SEL_FALSETICKER);
            }
            was_false = past && r.fate[2] == SEL_FALSETICKER;
        }
    }
}

/* select_agree: a survivor far from the median survivor (by the median's jitter) is not
 * combined; with two survivors, or when it is `prefer`, nothing is taken out. */
static void agree_combine_limit(void **state)
{
    (void)state;
    struct eng_tos t = tos_default();
    /* Wide distances, so all three are truechimers and survive the cluster (minclock 3). */
    struct sel_cand c[3] = {cand(1, 0.0000, 0.02, 1, 0.001), cand(2, 0.0005, 0.02, 1, 0.001),
                            cand(3, 0.0060, 0.02, 1, 0.004)};
    struct sel_result r;
    select_run(c, 3, &t, 0, &r);
    assert_true(r.ok);
    assert_int_equal(r.truechimers, 3);
    assert_int_equal(r.fate[2], SEL_OUTLIER); /* 5.5 ms from the median, tolerance 4 ms */
    assert_int_equal(r.disagreeing, 1);
    assert_int_equal(r.survivors, 2);
    assert_near(r.offset_s, 0.00025, 1e-12); /* equal weights: the mean of the other two */
    /* 3.9 ms away is within 4 * 1 ms: combined. */
    c[2].offset_s = 0.0044;
    select_run(c, 3, &t, 0, &r);
    assert_int_equal(r.disagreeing, 0);
    assert_int_equal(r.survivors, 3);
    /* `prefer` is never taken out. */
    c[2].offset_s = 0.0060;
    c[2].prefer = true;
    select_run(c, 3, &t, 0, &r);
    assert_int_equal(r.disagreeing, 0);
    assert_int_equal(r.fate[2], SEL_SYSPEER);
    /* Two survivors: no median to judge by. */
    c[2].prefer = false;
    select_run(c + 1, 2, &t, 0, &r);
    assert_int_equal(r.disagreeing, 0);
    assert_int_equal(r.survivors, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_input),
        cmocka_unit_test(single_source),
        cmocka_unit_test(single_source_mindist),
        cmocka_unit_test(all_agree),
        cmocka_unit_test(disjoint_cliques),
        cmocka_unit_test(midpoint_refinement),
        cmocka_unit_test(minsane),
        cmocka_unit_test(table_intersect),
        cmocka_unit_test(table_cluster),
        cmocka_unit_test(table_combine),
        cmocka_unit_test(cluster_to_minclock),
        cmocka_unit_test(true_outside),
        cmocka_unit_test(excess_by_metric),
        cmocka_unit_test(prefer_beats_distance),
        cmocka_unit_test(hysteresis),
        cmocka_unit_test(bad_inputs),
        cmocka_unit_test(majority_property),
        cmocka_unit_test(oracle_property),
        cmocka_unit_test(drift_property),
        cmocka_unit_test(agree_combine_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
