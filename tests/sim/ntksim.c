/* SPDX-License-Identifier: BSD-2-Clause */
/* ntksim: runs the simulator's scenarios and prints their metrics as a Markdown table;
 * with --check it also asserts each scenario's targets and exits 1 if one is missed. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scenarios.h"
#include "sim.h"

#include "poison.h"

struct opts {
    const char *scenario; /* a name or "all" */
    uint64_t seed;
    double hours;
    const char *csv;
    bool verbose, check, list;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: ntksim [--scenario NAME|all] [--seed N] [--hours H] [--csv FILE] "
               "[--check] [--list] [-v]\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || *s == '-') {
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_hours(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v > 0) || v > 24 * 366) {
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){.scenario = "all", .seed = 1, .hours = 24.0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool val = true;
        if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            o->verbose = true;
            val = false;
        } else if (!strcmp(a, "--check")) {
            o->check = true;
            val = false;
        } else if (!strcmp(a, "--list")) {
            o->list = true;
            val = false;
        } else if (!v) {
            return -1;
        } else if (!strcmp(a, "--scenario")) {
            o->scenario = v;
        } else if (!strcmp(a, "--seed")) {
            if (parse_u64(v, &o->seed)) {
                return -1;
            }
        } else if (!strcmp(a, "--hours")) {
            if (parse_hours(v, &o->hours)) {
                return -1;
            }
        } else if (!strcmp(a, "--csv")) {
            o->csv = v;
        } else {
            return -1;
        }
        i += val;
    }
    return 0;
}

static const char *fmt_settle(double s, char *buf, size_t cap)
{
    if (s < 0) {
        snprintf(buf, cap, "never");
    } else {
        snprintf(buf, cap, "%.0f s", s);
    }
    return buf;
}

static void table_header(void)
{
    printf("| scenario | RMS offset | max offset | RMS freq error | settled 1 ms | "
           "settled 100 µs | pkts/day/server | steps | synced | notes |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
}

static void table_row(const struct scn *sc, const struct sim_result *r)
{
    char a[32], b[32], c[32], d[32], note[160];
    const struct sim_metrics *m = &r->m;
    sc->note(r, note, sizeof note);
    char pk[32] = "-";
    if (!isnan(m->pkts_per_day)) {
        snprintf(pk, sizeof pk, "%.0f", m->pkts_per_day);
    }
    printf("| %s | %s | %s | %.4f ppm | %s | %s | %s | %u | %.0f %% | %s |\n", sc->name,
           scn_fmt_s(m->rms_offset_s, a, sizeof a), scn_fmt_s(m->max_offset_s, b, sizeof b),
           m->rms_freq_ppm, fmt_settle(m->settle_1ms_s, c, sizeof c),
           fmt_settle(m->settle_100us_s, d, sizeof d), pk, m->steps, 100.0 * m->synced_frac,
           note);
}

/* The figures for chrony 4.3 in the same models, beside ours. */
enum fig { FIG_RMS, FIG_SETTLE_1MS, FIG_SETTLE_100US, FIG_DRIFTER, FIG_PKTS };

static const struct cmp {
    const char *scn;
    enum fig fig;
    const char *name;
    const char *chrony; /* the figure for chrony 4.3 (and our target) */
    double target;      /* ours must be <= this */
} cmps[] = {
    {"lan", FIG_RMS, "RMS offset", "≤ 11 µs", 11e-6},
    {"lan", FIG_SETTLE_1MS, "settled within 1 ms", "≤ 10 s", 10},
    {"lan", FIG_PKTS, "packets/day/server", "(target ≤ 160)", 160},
    {"wan", FIG_RMS, "RMS offset", "≤ 500 µs", 500e-6},
    {"wan", FIG_PKTS, "packets/day/server", "(target ≤ 160)", 160},
    {"falseticker", FIG_RMS, "RMS offset", "≤ 1.4 ms", 1.4e-3},
    {"falseticker", FIG_DRIFTER, "drifter's offset when last used", "~20 ms (target 15 ms)",
     15e-3},
    {"falseticker", FIG_PKTS, "packets/day/server", "(target ≤ 160)", 160},
    {"coldstart", FIG_RMS, "RMS offset", "≤ 11 µs", 11e-6},
    {"coldstart", FIG_SETTLE_1MS, "settled within 1 ms", "≤ 15 s", 15},
    {"coldstart", FIG_SETTLE_100US, "settled within 100 µs", "< 20 s", 20},
    {"coldstart", FIG_PKTS, "packets/day/server", "(target ≤ 160)", 160},
    {"spiky", FIG_RMS, "RMS offset", "≤ 120 µs", 120e-6},
    {"spiky", FIG_PKTS, "packets/day/server", "(target ≤ 160)", 160},
};

static double fig_value(const struct sim_result *r, enum fig f)
{
    switch (f) {
    case FIG_RMS:
        return r->m.rms_offset_s;
    case FIG_SETTLE_1MS:
        return r->m.settle_1ms_s < 0 ? HUGE_VAL : r->m.settle_1ms_s;
    case FIG_SETTLE_100US:
        return r->m.settle_100us_s < 0 ? HUGE_VAL : r->m.settle_100us_s;
    case FIG_DRIFTER:
        return isnan(r->m.drifter_off_s) ? 0.0 : r->m.drifter_off_s;
    case FIG_PKTS:
        return r->m.pkts_per_day;
    }
    return (double)NAN;
}

static void compare_row(const struct cmp *c, const struct sim_result *r)
{
    double v = fig_value(r, c->fig);
    char buf[32];
    if (c->fig == FIG_PKTS) {
        snprintf(buf, sizeof buf, "%.0f", v);
    } else if (c->fig == FIG_SETTLE_1MS || c->fig == FIG_SETTLE_100US) {
        fmt_settle(isinf(v) ? -1.0 : v, buf, sizeof buf);
    } else {
        scn_fmt_s(v, buf, sizeof buf);
    }
    printf("| %s | %s | %s | %s | %s |\n", c->scn, c->name, buf, c->chrony,
           v <= c->target ? "yes" : "**no**");
}

/* Our figures beside chrony's, for the scenarios that were run. */
static void compare_table(const struct scn **list, const struct sim_result *res, size_t n)
{
    bool header = false;
    for (size_t k = 0; k < sizeof cmps / sizeof cmps[0]; k++) {
        for (size_t i = 0; i < n; i++) {
            if (strcmp(cmps[k].scn, list[i]->name) != 0) {
                continue;
            }
            if (!header) {
                printf("\n| scenario | figure | ntpkit | chrony 4.3 (issue 4) | met |\n");
                printf("|---|---|---:|---:|---|\n");
                header = true;
            }
            compare_row(&cmps[k], &res[i]);
        }
    }
}

/* Runs one scenario; keeps its result for the checks. */
static int run_one(const struct scn *sc, const struct opts *o, FILE *csv, bool first,
                   struct sim_result *r, double *wall_s)
{
    struct sim_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.name = sc->name;
    sc->spec(&spec);
    struct sim_opts so = {
        .seed = o->seed, .hours = o->hours, .log = o->verbose ? stderr : NULL};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = sim_run(&spec, &so, r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *wall_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    if (csv) {
        sim_write_csv(r, sc->name, csv, first);
    }
    return rc;
}

static int run(const struct opts *o, const struct scn **list, size_t n, FILE *csv)
{
    struct sim_result *res = calloc(n, sizeof *res);
    double *wall = calloc(n, sizeof *wall);
    if (!res || !wall) {
        fprintf(stderr, "ntksim: out of memory\n");
        return 2;
    }
    for (size_t i = 0; i < n; i++) {
        run_one(list[i], o, csv, i == 0, &res[i], &wall[i]);
    }
    printf(
        "Simulated %.0f h per scenario, seed %llu; steady state = after the first hour.\n\n",
        o->hours, (unsigned long long)o->seed);
    table_header();
    for (size_t i = 0; i < n; i++) {
        table_row(list[i], &res[i]);
    }
    compare_table(list, res, n);
    int failed = 0;
    printf("\n");
    for (size_t i = 0; i < n; i++) {
        printf("%s (%s):\n", list[i]->name, list[i]->what);
        failed += list[i]->check(&res[i], stdout);
        sim_result_free(&res[i]);
    }
    printf("\n%d check(s) failed\n", failed);
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        total += wall[i];
    }
    /* Real time varies from run to run: stderr, so that stdout is reproducible. */
    fprintf(stderr, "ntksim: %zu scenario(s) of %.0f h in %.2f s of real time\n", n, o->hours,
            total);
    free(res);
    free(wall);
    return o->check && failed ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse_args(argc, argv, &o) != 0) {
        usage(stderr);
        return 2;
    }
    if (o.list) {
        for (size_t i = 0; i < scn_count(); i++) {
            printf("%-12s %s\n", scn_get(i)->name, scn_get(i)->what);
        }
        return 0;
    }
    const struct scn *list[32];
    size_t n = 0;
    for (size_t i = 0; i < scn_count() && n < 32; i++) {
        if (!strcmp(o.scenario, "all") || !strcmp(o.scenario, scn_get(i)->name)) {
            list[n++] = scn_get(i);
        }
    }
    if (n == 0) {
        fprintf(stderr, "ntksim: no scenario %s (--list shows them)\n", o.scenario);
        return 2;
    }
    FILE *csv = NULL;
    if (o.csv && !(csv = fopen(o.csv, "w"))) {
        fprintf(stderr, "ntksim: %s: %s\n", o.csv, strerror(errno));
        return 2;
    }
    int rc = run(&o, list, n, csv);
    if (csv && fclose(csv) != 0) {
        fprintf(stderr, "ntksim: %s: %s\n", o.csv, strerror(errno));
        rc = 2;
    }
    return rc;
}
