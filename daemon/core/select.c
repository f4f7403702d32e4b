/* SPDX-License-Identifier: BSD-2-Clause */
/* Source selection (RFC 5905 §11.2): intersection, cluster and combine as staged functions. */
#include "select.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "poison.h"

/* Weights are 1 / λ: this floor keeps a zero distance (tos mindist 0) finite. */
#define DIST_FLOOR_S 1e-9

/* One endpoint tuple of a correctness interval (RFC 5905 §11.2.1). */
struct edge {
    double v; /* where */
    int type; /* -1 lower end, 0 midpoint, +1 upper end */
};

static size_t clamp_n(size_t n)
{
    return n > SEL_MAX ? SEL_MAX : n;
}

/* A candidate the engine could not have measured properly takes no part in the vote. */
static bool usable(const struct sel_cand *c)
{
    return isfinite(c->offset_s) && isfinite(c->root_dist_s) && isfinite(c->jitter_s) &&
           c->root_dist_s >= 0 && c->jitter_s >= 0;
}

static bool is_truechimer(enum sel_fate f)
{
    return f != SEL_FALSETICKER;
}

static bool immune(const struct sel_cand *c)
{
    return c->prefer || c->true_;
}

/* Ascending by value; at one value lower ends, then midpoints, then upper ends, so the
 * intervals are closed: touching intervals overlap and a midpoint on an end is inside. */
static bool edge_before(const struct edge *a, const struct edge *b)
{
    return a->v < b->v || (a->v == b->v && a->type < b->type);
}

/* Insertion sort: stable, at most 3 * SEL_MAX items, and safe whatever the values. */
static void sort_edges(struct edge *e, int ne)
{
    for (int i = 1; i < ne; i++) {
        struct edge x = e[i];
        int j = i;
        while (j > 0 && edge_before(&x, &e[j - 1])) {
            e[j] = e[j - 1];
            j--;
        }
        e[j] = x;
    }
}

/* Writes λ for every candidate and the three tuples of each usable one; returns how many
 * candidates vote. */
static int build_edges(const struct sel_cand *c, size_t n, double mindist_s,
                       struct sel_result *r, struct edge *e)
{
    int m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!usable(&c[i])) {
            r->dist_s[i] = (double)NAN;
            continue;
        }
        double d = fmax(c[i].root_dist_s, mindist_s);
        r->dist_s[i] = d;
        e[3 * m] = (struct edge){c[i].offset_s - d, -1};
        e[3 * m + 1] = (struct edge){c[i].offset_s, 0};
        e[3 * m + 2] = (struct edge){c[i].offset_s + d, +1};
        m++;
    }
    sort_edges(e, 3 * m);
    return m;
}

/* The lowest point covered by at least `need` intervals (RFC 5905 §11.2.1 step 4). */
static bool scan_up(const struct edge *e, int ne, int need, double *low)
{
    int cnt = 0;
    for (int i = 0; i < ne; i++) {
        cnt -= e[i].type;
        if (cnt >= need) {
            *low = e[i].v;
            return true;
        }
    }
    return false;
}

/* The highest point covered by at least `need` intervals (step 5). */
static bool scan_down(const struct edge *e, int ne, int need, double *high)
{
    int cnt = 0;
    for (int i = ne - 1; i >= 0; i--) {
        cnt += e[i].type;
        if (cnt >= need) {
            *high = e[i].v;
            return true;
        }
    }
    return false;
}

static int mids_outside(const struct edge *e, int ne, double low, double high)
{
    int d = 0;
    for (int i = 0; i < ne; i++) {
        d += e[i].type == 0 && (e[i].v < low || e[i].v > high);
    }
    return d;
}

/* One round with f falsetickers allowed out of m (steps 4-6). */
static bool try_allow(const struct edge *e, int m, int f, double *low, double *high)
{
    int ne = 3 * m;
    if (!scan_up(e, ne, m - f, low) || !scan_down(e, ne, m - f, high) || *low > *high) {
        return false;
    }
    return mids_outside(e, ne, *low, *high) <= f;
}

/* With no majority, the interval shown is the hull of the `true_` candidates. */
static void hull_of_true(const struct sel_cand *c, size_t n, struct sel_result *r)
{
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        if (!c[i].true_ || isnan(r->dist_s[i])) {
            continue;
        }
        double lo = c[i].offset_s - r->dist_s[i], hi = c[i].offset_s + r->dist_s[i];
        r->low_s = any ? fmin(r->low_s, lo) : lo;
        r->high_s = any ? fmax(r->high_s, hi) : hi;
        any = true;
    }
}

static void mark_fates(const struct sel_cand *c, size_t n, bool found, struct sel_result *r)
{
    for (size_t i = 0; i < n; i++) {
        bool inside = found && c[i].offset_s >= r->low_s && c[i].offset_s <= r->high_s;
        bool keep = !isnan(r->dist_s[i]) && (inside || c[i].true_);
        r->fate[i] = keep ? SEL_SURVIVOR : SEL_FALSETICKER;
        r->truechimers += keep;
        r->falsetickers += !keep;
    }
}

void select_intersect(const struct sel_cand *c, size_t n, const struct eng_tos *tos,
                      struct sel_result *r)
{
    struct edge e[3 * SEL_MAX];
    n = clamp_n(n);
    memset(r, 0, sizeof *r);
    r->sys_peer = -1;
    r->allow = -1;
    int m = build_edges(c, n, tos->mindist_s, r, e);
    double low = 0, high = 0;
    for (int f = 0; 2 * f < m; f++) {
        if (try_allow(e, m, f, &low, &high)) {
            r->allow = f;
            break;
        }
    }
    bool found = r->allow >= 0;
    if (found) {
        r->low_s = low;
        r->high_s = high;
    } else {
        hull_of_true(c, n, r);
    }
    mark_fates(c, n, found, r);
}

/* NTPsec's selection metric: stratum first, then distance. */
static double metric(const struct sel_cand *c, const struct sel_result *r, int i,
                     double maxdist_s)
{
    return (double)c[i].stratum * maxdist_s + r->dist_s[i];
}

/* Whether candidate a ranks before b for the maxclock cut: immune ones first, then metric. */
static bool ranks_before(const struct sel_cand *c, const struct sel_result *r, int a, int b,
                         double maxdist_s)
{
    if (immune(&c[a]) != immune(&c[b])) {
        return immune(&c[a]);
    }
    return metric(c, r, a, maxdist_s) < metric(c, r, b, maxdist_s);
}

/* Lists the truechimers best first into list and marks those beyond maxclock SEL_EXCESS;
 * returns how many remain for the cluster algorithm. */
static int rank_truechimers(const struct sel_cand *c, size_t n, const struct eng_tos *tos,
                            struct sel_result *r, int *list)
{
    int nl = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_truechimer(r->fate[i])) {
            continue;
        }
        int j = nl++;
        while (j > 0 && ranks_before(c, r, (int)i, list[j - 1], tos->maxdist_s)) {
            list[j] = list[j - 1];
            j--;
        }
        list[j] = (int)i;
    }
    int maxclock = tos->maxclock < 1 ? 1 : tos->maxclock;
    for (int k = maxclock; k < nl; k++) {
        r->fate[list[k]] = SEL_EXCESS;
    }
    return nl < maxclock ? nl : maxclock;
}

/* φ_S of list[k]: RMS of its offset differences to the other nl - 1 (RFC 5905 §11.2.2). */
static double sel_jitter(const struct sel_cand *c, const int *list, int nl, int k)
{
    if (nl < 2) {
        return 0;
    }
    double sum = 0, o = c[list[k]].offset_s;
    for (int j = 0; j < nl; j++) {
        double d = c[list[j]].offset_s - o;
        sum += d * d;
    }
    return sqrt(sum / (nl - 1));
}

/* One round: every φ_S, φ_min, and the position of the worst (largest φ_S * λ; on a tie the
 * later one, the worse ranked). Writes sel_jitter_s (the worst one's φ_S). */
static int find_worst(const struct sel_cand *c, struct sel_result *r, const int *list, int nl)
{
    int worst = 0;
    double wmax = -1;
    r->peer_jitter_min_s = HUGE_VAL;
    for (int k = 0; k < nl; k++) {
        int i = list[k];
        r->seljit_s[i] = sel_jitter(c, list, nl, k);
        r->peer_jitter_min_s = fmin(r->peer_jitter_min_s, c[i].jitter_s);
        if (r->seljit_s[i] * r->dist_s[i] >= wmax) {
            wmax = r->seljit_s[i] * r->dist_s[i];
            worst = k;
        }
    }
    r->sel_jitter_s = r->seljit_s[list[worst]];
    return worst;
}

/* Prunes outliers from list[0..nl) and returns how many survive. */
static int prune(const struct sel_cand *c, const struct eng_tos *tos, struct sel_result *r,
                 int *list, int nl)
{
    int keep = tos->minclock < 1 ? 1 : tos->minclock;
    while (nl > 0) {
        int k = find_worst(c, r, list, nl);
        if (nl <= keep || r->sel_jitter_s <= r->peer_jitter_min_s || immune(&c[list[k]])) {
            break;
        }
        r->fate[list[k]] = SEL_OUTLIER;
        memmove(&list[k], &list[k + 1], (size_t)(nl - k - 1) * sizeof list[0]);
        nl--;
    }
    return nl;
}

void select_cluster(const struct sel_cand *c, size_t n, const struct eng_tos *tos,
                    struct sel_result *r)
{
    int list[SEL_MAX];
    n = clamp_n(n);
    r->sel_jitter_s = 0;
    r->peer_jitter_min_s = 0;
    int nl = prune(c, tos, r, list, rank_truechimers(c, n, tos, r, list));
    for (int k = 0; k < nl; k++) {
        r->fate[list[k]] = SEL_SURVIVOR;
    }
    r->survivors = nl;
}

/* Lower stratum first, then shorter distance. */
static bool better_peer(const struct sel_cand *c, const struct sel_result *r, int a, int b)
{
    if (c[a].stratum != c[b].stratum) {
        return c[a].stratum < c[b].stratum;
    }
    return r->dist_s[a] < r->dist_s[b];
}

/* The system peer among the survivors (only the `prefer` ones if prefer_only): the previous
 * one if it is among them, else the best. -1 if there is none. */
static int pick_sys(const struct sel_cand *c, size_t n, uint32_t prev,
                    const struct sel_result *r, bool prefer_only)
{
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        if (r->fate[i] != SEL_SURVIVOR || (prefer_only && !c[i].prefer)) {
            continue;
        }
        if (prev != 0 && c[i].id == prev) {
            return (int)i;
        }
        if (best < 0 || better_peer(c, r, (int)i, best)) {
            best = (int)i;
        }
    }
    return best;
}

/* RFC 5905 §11.2.3: offset and selection jitter weighted by 1 / λ (NTPsec clock_combine). */
static void combine(const struct sel_cand *c, size_t n, int sys, struct sel_result *r)
{
    double wsum = 0, osum = 0, jsum = 0;
    for (size_t i = 0; i < n; i++) {
        if (r->fate[i] != SEL_SURVIVOR) {
            continue;
        }
        double w = 1 / fmax(r->dist_s[i], DIST_FLOOR_S);
        double d = c[i].offset_s - c[sys].offset_s;
        wsum += w;
        osum += w * c[i].offset_s;
        jsum += w * d * d;
    }
    r->offset_s = osum / wsum;
    r->sys_sel_jitter_s = sqrt(jsum / wsum);
    r->jitter_s = hypot(c[sys].jitter_s, r->sys_sel_jitter_s);
}

void select_combine(const struct sel_cand *c, size_t n, uint32_t prev_sys_peer,
                    struct sel_result *r)
{
    n = clamp_n(n);
    for (size_t i = 0; i < n; i++) {
        r->fate[i] = r->fate[i] == SEL_SYSPEER ? SEL_SURVIVOR : r->fate[i];
    }
    r->offset_s = r->sys_sel_jitter_s = r->jitter_s = 0;
    r->ok = false;
    int sys = pick_sys(c, n, prev_sys_peer, r, true);
    r->sys_peer = sys >= 0 ? sys : pick_sys(c, n, prev_sys_peer, r, false);
    if (r->sys_peer < 0) {
        return;
    }
    combine(c, n, r->sys_peer, r);
    r->fate[r->sys_peer] = SEL_SYSPEER;
    r->ok = true;
}

/* A survivor's offset and index, sorted by offset. */
struct by_offset {
    double off;
    int i;
};

static int cmp_offset(const void *a, const void *b)
{
    double x = ((const struct by_offset *)a)->off, y = ((const struct by_offset *)b)->off;
    return (x > y) - (x < y);
}

/* The survivor (not `true`: a trusted source is kept whatever and must not drag the
 * median) whose offset is the median of theirs (the lower middle for an even count, so it
 * is a real source and at least its owner stays), and how many there are. */
static int survivor_median(const struct sel_cand *c, size_t n, const struct sel_result *r,
                           int *median)
{
    struct by_offset v[SEL_MAX];
    int m = 0;
    for (size_t i = 0; i < n; i++)
        if (r->fate[i] == SEL_SURVIVOR && !immune(&c[i]))
            v[m++] = (struct by_offset){c[i].offset_s, (int)i};
    if (m == 0)
        return 0;
    qsort(v, (size_t)m, sizeof v[0], cmp_offset);
    *median = v[(m - 1) / 2].i;
    return m;
}

void select_agree(const struct sel_cand *c, size_t n, struct sel_result *r)
{
    n = clamp_n(n);
    r->disagreeing = 0;
    int med = -1;
    if (survivor_median(c, n, r, &med) < SEL_AGREE_MIN)
        return;
    /* The yardstick is the median source's jitter: a source drifting away from the others
     * has a large jitter of its own (its stages disagree), so its own would excuse it. */
    double tol = fmax(SEL_AGREE_K * c[med].jitter_s, SEL_AGREE_FLOOR_S);
    for (size_t i = 0; i < n; i++) {
        if (r->fate[i] != SEL_SURVIVOR || immune(&c[i]) || c[i].prefer)
            continue;
        if (fabs(c[i].offset_s - c[med].offset_s) > tol) {
            r->fate[i] = SEL_OUTLIER;
            r->survivors--;
            r->disagreeing++;
        }
    }
}

void select_run(const struct sel_cand *c, size_t n, const struct eng_tos *tos,
                uint32_t prev_sys_peer, struct sel_result *r)
{
    select_intersect(c, n, tos, r);
    select_cluster(c, n, tos, r);
    select_agree(c, n, r);
    int minsane = tos->minsane < 1 ? 1 : tos->minsane;
    if (r->truechimers >= minsane) {
        select_combine(c, n, prev_sys_peer, r);
    }
}
